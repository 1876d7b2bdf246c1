using Microsoft.Playwright;
using ResearchAssistant.E2E.Infrastructure;
using ResearchAssistant.Testing;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace ResearchAssistant.E2E.Tests;

/// <summary>
/// The issue's crash test: "kill -9 the app process in the middle of an answer, restart: the partial text is there,
/// marked interrupted, no row stays streaming." Then the interrupted answers can be continued and retried.
/// </summary>
public sealed class CrashSafetyTests(BrowserFixture browser, ITestOutputHelper output) : E2eTest(browser, output)
{
    private const string FirstQuestion = "List the numbered words slowly, please";
    private const string SecondQuestion = "Another slow list of words, please";
    private const string RetriedAnswer = "A fresh answer, written again from the start.";

    // Slow: 80 tokens x 150 ms is 12 s per answer, so both answers are still streaming when the app is killed, even on
    // a loaded two-core machine. Each word is distinct, so any prefix of the answer tells how far it got.
    private static readonly string[] Tokens = Enumerable.Range(1, 80).Select(i => $"word{i:00} ").ToArray();
    private static readonly string FullAnswer = string.Concat(Tokens);

    [Fact]
    public Task Kill_9_in_the_middle_of_an_answer_keeps_the_partial_text_marked_interrupted_and_no_row_streaming() => RunAsync(async () =>
    {
        Fake.Behavior = new FakeBehavior { Tokens = Tokens, TokenDelay = TimeSpan.FromMilliseconds(150) };
        var app = await StartAppAsync();

        // Two answers in flight at the moment of the kill (two conversations, two tabs of one signed-in browser):
        // one is continued after the restart, the other retried.
        var first = await NewPageAsync(app);
        await first.RegisterAsync(Ui.NewEmail("crash"));
        await first.StartNewChatAsync();
        var firstUrl = await first.SendAsync(FirstQuestion);
        await Expect(Ui.AssistantMessages(first).Last).ToContainTextAsync("word01");

        var second = await first.Context.NewPageAsync();
        await second.GotoAsync("");
        await second.StartNewChatAsync();
        var secondUrl = await second.SendAsync(SecondQuestion);

        // Part of the answer is on screen, and five tokens (750 ms) later still streaming: the server has had at least
        // three 200 ms flush ticks with text to write since the first word. Waiting for a token, not sleeping.
        await Expect(Ui.AssistantMessages(second).Last).ToContainTextAsync("word06", new() { Timeout = 30_000 });
        await Expect(Ui.AssistantMessages(first).Last).ToContainTextAsync("word06");
        await Expect(Ui.StopButton(second)).ToBeVisibleAsync();

        var pid = app.Pid;
        var exitCode = await app.KillHardAsync();
        Output.WriteLine($"Killed app process {pid} with SIGKILL mid-answer: exit code {exitCode}.");
        Assert.Equal(137, exitCode); // 128 + SIGKILL(9): no shutdown code ran
        // The tabs leave, so their reconnect attempts do not race the navigation after the restart.
        await first.GotoAsync("about:blank");
        await second.GotoAsync("about:blank");

        // What the crash left behind: both answers still marked streaming (nothing sealed them).
        var afterKill = await AppDatabase.CountEventsByStatusAsync(app);
        Output.WriteLine($"After the kill: {AppDatabase.Describe(afterKill)}");
        Assert.Equal(2, afterKill.GetValueOrDefault(AppDatabase.Streaming));

        // Restart on the same data directory: start-up seals them as interrupted.
        await app.RestartAsync();
        var afterRestart = await AppDatabase.CountEventsByStatusAsync(app);
        Output.WriteLine($"After the restart: {AppDatabase.Describe(afterRestart)}");
        Assert.Equal(0, afterRestart.GetValueOrDefault(AppDatabase.Streaming));
        Assert.Equal(2, afterRestart.GetValueOrDefault(AppDatabase.Interrupted));

        // The partial text is there, marked interrupted, with both ways on.
        await first.GotoAsync(firstUrl);
        await first.WaitForInteractiveAsync();
        var partial = await ExpectInterruptedPrefixAsync(first);
        Output.WriteLine($"First answer kept {partial.Length} of {FullAnswer.TrimEnd().Length} characters: \"{partial}\"");

        await second.GotoAsync(secondUrl);
        await second.WaitForInteractiveAsync();
        var secondPartial = await ExpectInterruptedPrefixAsync(second);
        Output.WriteLine($"Second answer kept {secondPartial.Length} characters.");

        // Continue: the model is given the partial answer and asked to carry on; it sends the rest.
        // Retry: a new answer from the start. The fake tells them apart by whether the prompt holds the partial answer.
        Fake.Behavior = new FakeBehavior
        {
            TokenDelay = TimeSpan.FromMilliseconds(5),
            Respond = request =>
            {
                var soFar = request.Messages.LastOrDefault(m => m.Role == "assistant").Content;
                return !string.IsNullOrEmpty(soFar) && FullAnswer.StartsWith(soFar, StringComparison.Ordinal)
                    ? [FullAnswer[soFar.Length..]]
                    : RetriedAnswer.Split(' ').Select((w, i) => i == 0 ? w : " " + w).ToArray();
            },
        };

        var interrupted = Ui.AssistantMessages(first).Last;
        await Ui.ContinueButton(interrupted).ClickAsync();
        await first.WaitForAnswerAsync("word80");
        var continued = Ui.AssistantMessages(first).Last;
        var continuedText = Normalize(await Ui.MessageText(continued).InnerTextAsync());
        Assert.StartsWith(partial, continuedText, StringComparison.Ordinal);
        Assert.Equal(FullAnswer.TrimEnd(), continuedText);
        await Expect(Ui.InterruptedLabel(continued)).ToHaveCountAsync(0);
        // The continued answer is a new version beside the interrupted one, which stays reachable.
        await Expect(Ui.VersionCount(continued)).ToHaveTextAsync("2 / 2");
        await Expect(Ui.AssistantMessages(first)).ToHaveCountAsync(1);
        await Expect(Ui.UserMessages(first)).ToHaveCountAsync(1);
        await Ui.PreviousVersionButton(continued).ClickAsync();
        await Expect(Ui.VersionCount(continued)).ToHaveTextAsync("1 / 2");
        await Expect(Ui.InterruptedLabel(continued)).ToBeVisibleAsync();
        await Expect(Ui.MessageText(continued)).ToHaveTextAsync(partial);
        await Ui.NextVersionButton(continued).ClickAsync();
        await Expect(Ui.MessageText(continued)).ToHaveTextAsync(FullAnswer.TrimEnd());

        var secondInterrupted = Ui.AssistantMessages(second).Last;
        await Ui.RetryButton(secondInterrupted).ClickAsync();
        await second.WaitForAnswerAsync(RetriedAnswer);
        var retried = Ui.AssistantMessages(second).Last;
        await Expect(Ui.InterruptedLabel(retried)).ToHaveCountAsync(0);
        await Expect(Ui.VersionCount(retried)).ToHaveTextAsync("2 / 2");
        await Expect(Ui.AssistantMessages(second)).ToHaveCountAsync(1);

        var atEnd = await AppDatabase.CountEventsByStatusAsync(app);
        Output.WriteLine($"At the end: {AppDatabase.Describe(atEnd)}");
        Assert.Equal(0, atEnd.GetValueOrDefault(AppDatabase.Streaming));
        Assert.Equal(2, atEnd.GetValueOrDefault(AppDatabase.Interrupted));
    });

    /// <summary>
    /// The conversation's answer shows a non-empty, strict prefix of the full answer, labelled "Interrupted", with
    /// Continue and Retry. Returns the text shown.
    /// </summary>
    private static async Task<string> ExpectInterruptedPrefixAsync(IPage page)
    {
        await Expect(Ui.UserMessages(page)).ToHaveCountAsync(1);
        await Expect(Ui.AssistantMessages(page)).ToHaveCountAsync(1);
        var answer = Ui.AssistantMessages(page).Last;
        await Expect(Ui.InterruptedLabel(answer)).ToBeVisibleAsync();
        await Expect(Ui.ContinueButton(answer)).ToBeVisibleAsync();
        await Expect(Ui.RetryButton(answer)).ToBeVisibleAsync();
        await Expect(Ui.StopButton(page)).ToHaveCountAsync(0);
        var text = Normalize(await Ui.MessageText(answer).InnerTextAsync());
        Assert.StartsWith("word01", text, StringComparison.Ordinal);
        Assert.True(FullAnswer.StartsWith(text, StringComparison.Ordinal), $"\"{text}\" is not a prefix of the answer.");
        Assert.True(text.Length < FullAnswer.TrimEnd().Length, "The whole answer was stored: the kill came too late to test anything.");
        return text;
    }

    private static string Normalize(string text) => string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
}
