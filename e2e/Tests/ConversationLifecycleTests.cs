using System.Diagnostics;
using Microsoft.Playwright;
using ResearchAssistant.E2E.Infrastructure;
using ResearchAssistant.Testing;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace ResearchAssistant.E2E.Tests;

/// <summary>A conversation streams in, and then survives a reload, a server restart and signing out and in again.</summary>
public sealed class ConversationLifecycleTests(BrowserFixture browser, ITestOutputHelper output) : E2eTest(browser, output)
{
    private const string Question = "How did matcha whisking reach Japan?";
    private static readonly string[] Tokens = ["Matcha ", "whisking ", "reached ", "Japan ", "with ", "Zen ", "monks ", "around ", "1191."];
    private const string Answer = "Matcha whisking reached Japan with Zen monks around 1191.";

    [Theory]
    [InlineData("Sqlite")]
    [InlineData("Postgres")]
    public Task Answer_streams_in_and_the_conversation_survives_reload_restart_and_sign_in_again(string database) => RunAsync(async () =>
    {
        // Slow enough tokens that a streaming UI must show several partial answers.
        Fake.Behavior = new FakeBehavior { Tokens = Tokens, TokenDelay = TimeSpan.FromMilliseconds(150) };
        var app = await StartAppAsync(database == "Postgres" ? E2ePostgres.NewDatabase() : null);
        var page = await NewPageAsync(app);
        var email = Ui.NewEmail("lifecycle");

        await page.RegisterAsync(email);
        await page.StartNewChatAsync();
        var chatUrl = await page.SendAsync(Question);

        var partials = await CollectPartialAnswersAsync(page);
        Output.WriteLine($"Partial answers seen: {partials.Count}\n  " + string.Join("\n  ", partials));
        Assert.True(partials.Count >= 2, $"Expected the answer to stream in (>= 2 partial states), saw {partials.Count}.");
        await page.WaitForAnswerAsync(Answer);
        await ExpectConversationOnceAsync(page);

        // Reload: what was streamed is what was stored.
        await page.ReloadAsync();
        await page.WaitForInteractiveAsync();
        await ExpectConversationOnceAsync(page);

        // A server restart (a kill, not a graceful stop): the data and the sign-in cookie both survive.
        // The page leaves first: an open page would reconnect and reload by itself, racing the navigation below
        // (the reconnect UI has its own test).
        await page.GotoAsync("about:blank");
        await app.RestartAsync();
        await page.GotoAsync(chatUrl);
        await page.WaitForInteractiveAsync();
        await ExpectConversationOnceAsync(page);

        // Sign out, sign in: the conversation is in the sidebar and opens.
        await page.LogoutAsync();
        await page.LoginAsync(email);
        await page.WaitForInteractiveAsync();
        var link = Ui.ConversationLink(page, "How did matcha");
        await Expect(link).ToHaveCountAsync(1);
        await link.ClickAsync();
        await page.WaitForURLAsync(chatUrl);
        await page.WaitForInteractiveAsync();
        await ExpectConversationOnceAsync(page);
        Assert.Single(Fake.Requests);
    }, database);

    private static async Task ExpectConversationOnceAsync(IPage page)
    {
        await Expect(Ui.UserMessages(page)).ToHaveCountAsync(1);
        await Expect(Ui.AssistantMessages(page)).ToHaveCountAsync(1);
        await Expect(Ui.UserMessages(page)).ToContainTextAsync(Question);
        await Expect(Ui.AssistantMessages(page)).ToContainTextAsync(Answer);
    }

    /// <summary>
    /// Samples the Assistant message's text until the whole answer is there, and returns the distinct partial
    /// texts seen on the way (first token present, last one not yet). Sampling is the observation itself, not a
    /// wait: each sample is a fresh read of the DOM, bounded overall.
    /// </summary>
    private static async Task<List<string>> CollectPartialAnswersAsync(IPage page)
    {
        var assistant = Ui.AssistantMessages(page).Last;
        var partials = new List<string>();
        var stopwatch = Stopwatch.StartNew();
        while (stopwatch.Elapsed < TimeSpan.FromSeconds(30))
        {
            var text = await assistant.CountAsync() > 0 ? await assistant.InnerTextAsync(new() { Timeout = 2_000 }) : "";
            if (text.Contains("1191.")) break;
            if (text.Contains("Matcha") && !partials.Contains(text)) partials.Add(text);
            await Task.Delay(30);
        }
        return partials;
    }
}
