using System.Text.RegularExpressions;
using ResearchAssistant.E2E.Infrastructure;
using ResearchAssistant.Testing;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace ResearchAssistant.E2E.Tests;

/// <summary>When the model endpoint is down the answer fails visibly, and Retry works once it is back.</summary>
public sealed class ModelFailureTests(BrowserFixture browser, ITestOutputHelper output) : E2eTest(browser, output)
{
    private const string Question = "What is the boiling point of water at altitude?";

    [Fact]
    public Task Model_down_shows_the_reason_and_Retry_completes_once_it_is_back() => RunAsync(async () =>
    {
        var app = await StartAppAsync();
        var page = await NewPageAsync(app);
        await page.RegisterAsync(Ui.NewEmail("retry"));
        await page.StartNewChatAsync();

        // The endpoint goes away: connections to it are refused.
        var port = Fake.Port;
        await Fake.StopAsync();
        await page.SendAsync(Question);

        var failed = Ui.AssistantMessages(page).Last;
        await Expect(Ui.RetryButton(page)).ToBeVisibleAsync(new() { Timeout = 30_000 });
        // The reason, in words: whatever the wording, it says something went wrong.
        await Expect(failed).ToContainTextAsync(
            new Regex("fail|error|could not|couldn't|cannot|can't|unable|unavailable|unreachable|refused|down|reach", RegexOptions.IgnoreCase));

        // The endpoint comes back on the same address.
        await Fake.DisposeAsync();
        Fake = await FakeOpenAiServer.StartAsync(port);
        Fake.Behavior = new FakeBehavior { Tokens = ["About ", "93 ", "°C ", "at ", "2,000 ", "metres."] };
        await Ui.RetryButton(page).ClickAsync();

        await page.WaitForAnswerAsync("About 93 °C at 2,000 metres.");
        await Expect(Ui.UserMessages(page)).ToHaveCountAsync(1);
        await Expect(Ui.UserMessages(page)).ToContainTextAsync(Question);
        await Expect(Ui.RetryButton(page)).ToHaveCountAsync(0);
        Assert.Single(Fake.Requests);

        // Also after a reload: the question once, the answer stored.
        await page.ReloadAsync();
        await page.WaitForInteractiveAsync();
        await Expect(Ui.UserMessages(page)).ToHaveCountAsync(1);
        await Expect(Ui.AssistantMessages(page).Last).ToContainTextAsync("About 93 °C at 2,000 metres.");
    });
}
