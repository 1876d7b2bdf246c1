using Microsoft.Playwright;
using ResearchAssistant.E2E.Infrastructure;
using ResearchAssistant.Testing;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace ResearchAssistant.E2E.Tests;

/// <summary>An answer asked for in one tab streams in another tab of the same conversation, which says where it came from and can stop it.</summary>
public sealed class GeneratingElsewhereTests(BrowserFixture browser, ITestOutputHelper output) : E2eTest(browser, output)
{
    private const string Note = "An answer asked for on another of your devices is being written.";

    [Fact]
    public Task The_other_tab_streams_the_answer_says_it_was_asked_for_elsewhere_and_can_stop_it() => RunAsync(async () =>
    {
        Fake.Behavior = new FakeBehavior { Tokens = [.. Enumerable.Range(1, 200).Select(i => $"tok{i:D3} ")], TokenDelay = TimeSpan.FromMilliseconds(60) };
        var app = await StartAppAsync();
        var asking = await NewPageAsync(app);
        await asking.RegisterAsync(Ui.NewEmail("elsewhere"));
        await asking.StartNewChatAsync();
        var url = await asking.SendAsync("Which isotopes date ocean sediments?");
        await Expect(Ui.AssistantMessages(asking).Last).ToContainTextAsync("tok002");

        var watching = await asking.Context.NewPageAsync();
        await watching.GotoAsync(url);
        await watching.WaitForInteractiveAsync();
        // Tokens arrive while it streams, not only at the end.
        await Expect(Ui.AssistantMessages(watching).Last).ToContainTextAsync("tok030");
        await Expect(Ui.StopButton(watching)).ToBeVisibleAsync();
        await Expect(watching.GetByRole(AriaRole.Status).Filter(new() { HasText = Note })).ToBeVisibleAsync();
        await Expect(asking.GetByText(Note)).ToHaveCountAsync(0);

        await Ui.StopButton(watching).ClickAsync();
        await Expect(Ui.StopButton(asking)).ToHaveCountAsync(0);
        await Expect(Ui.StopButton(watching)).ToHaveCountAsync(0);
        await Expect(watching.GetByText(Note)).ToHaveCountAsync(0);
        await Expect(Ui.AssistantMessages(asking).Last).Not.ToContainTextAsync("tok200");
    });
}
