using Microsoft.Playwright;
using ResearchAssistant.E2E.Infrastructure;
using ResearchAssistant.Testing;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace ResearchAssistant.E2E.Tests;

/// <summary>The context inspector shows what was sent to the model for an answer, part by part, against the budget.</summary>
public sealed class ContextInspectorTests(BrowserFixture browser, ITestOutputHelper output) : E2eTest(browser, output)
{
    private const string Preferences = "I am a glaciologist; answer briefly and in SI units.";

    [Fact]
    public Task The_Context_dialog_lists_the_parts_sent_with_their_tokens_and_the_total_against_the_budget() => RunAsync(async () =>
    {
        var app = await StartAppAsync();
        var page = await NewPageAsync(app);
        await page.RegisterAsync(Ui.NewEmail("context"));

        await page.GotoAsync(new Uri(app.BaseUrl, "profile").ToString());
        await page.WaitForInteractiveAsync();
        await page.GetByLabel("About me / how to answer").FillAsync(Preferences);
        await page.GetByRole(AriaRole.Button, new() { Name = "Save", Exact = true }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("Saved");

        await page.StartNewChatAsync();
        Fake.Behavior = new FakeBehavior { Tokens = ["Ice ", "flows ", "under ", "its ", "own ", "weight."] };
        await page.SendAsync("Why do glaciers move?");
        await page.WaitForAnswerAsync("Ice flows under its own weight.");
        await page.SendAsync("How fast, typically?");
        await page.WaitForAnswerAsync("Ice flows under its own weight.");
        await Expect(Ui.AssistantMessages(page)).ToHaveCountAsync(2);

        await Ui.AssistantMessages(page).Last.GetByRole(AriaRole.Button, new() { Name = "Context", Exact = true }).ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog, new() { Name = "Context" });
        await Expect(dialog).ToBeVisibleAsync();
        var rows = dialog.GetByRole(AriaRole.Row);
        await Expect(rows.Filter(new() { HasText = "System prompt" })).ToHaveCountAsync(1);
        await Expect(rows.Filter(new() { HasText = "Preferences" })).ToHaveCountAsync(1);
        await Expect(rows.Filter(new() { HasText = "Recent messages" })).ToContainTextAsync("3 newest messages");
        await Expect(dialog).ToContainTextAsync("of 7,000 tokens used");

        // The preferences really went to the model, and the question was the last thing it saw.
        var request = Fake.Requests[^1];
        Assert.Contains(request.Messages, m => m.Role == "system" && m.Content.Contains(Preferences));
        Assert.Equal("How fast, typically?", request.Messages[^1].Content);

        await page.Keyboard.PressAsync("Escape");
        await Expect(dialog).ToBeHiddenAsync();
    });
}
