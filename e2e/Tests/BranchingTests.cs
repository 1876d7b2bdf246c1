using Microsoft.Playwright;
using ResearchAssistant.E2E.Infrastructure;
using ResearchAssistant.Testing;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace ResearchAssistant.E2E.Tests;

/// <summary>
/// Correcting the past in the browser: edit a question, regenerate an answer, move between versions, rewind, come
/// back, and resume from a checkpoint, without anything being lost.
/// </summary>
public sealed class BranchingTests(BrowserFixture browser, ITestOutputHelper output) : E2eTest(browser, output)
{
    private const string Q1 = "What is a research question?";
    private const string Q2 = "How narrow should mine be?";
    private const string Q2Edited = "How broad should mine be?";
    private const string Q3 = "Give me an example";
    private const string Q4 = "Start over: how do I pick a topic?";

    private int _answers;

    /// <summary>Every answer is numbered and names its question, so each version on screen is unmistakable.</summary>
    private static string Answer(int number, string question) => $"Answer {number} to: {question}";

    [Fact]
    public Task Edit_regenerate_versions_rewind_and_checkpoints_in_the_browser() => RunAsync(async () =>
    {
        Fake.Behavior = new FakeBehavior
        {
            TokenDelay = TimeSpan.FromMilliseconds(5),
            Respond = request =>
            {
                var number = Interlocked.Increment(ref _answers);
                var question = request.Messages.Last(m => m.Role == "user").Content;
                return [$"Answer {number} ", "to: ", question];
            },
        };
        var app = await StartAppAsync();
        var page = await NewPageAsync(app);
        // Each test has its own app and database: a readable address is unique enough (it shows in the screenshot).
        await page.RegisterAsync("ada@example.com");
        await page.StartNewChatAsync();

        await page.SendAsync(Q1);
        await page.WaitForAnswerAsync(Answer(1, Q1));
        await page.SendAsync(Q2);
        await page.WaitForAnswerAsync(Answer(2, Q2));
        await ExpectBranchAsync(page, (Q1, Answer(1, Q1)), (Q2, Answer(2, Q2)));

        // Edit the second question: a new version, answered; the navigator shows it is version 2 of 2.
        var second = Ui.UserMessages(page).Nth(1);
        await Ui.EditButton(second).ClickAsync();
        await Expect(Ui.EditBox(second)).ToHaveValueAsync(Q2);
        await Ui.EditBox(second).FillAsync(Q2Edited);
        await Ui.SaveAndSubmitButton(second).ClickAsync();
        await page.WaitForAnswerAsync(Answer(3, Q2Edited));
        await ExpectBranchAsync(page, (Q1, Answer(1, Q1)), (Q2Edited, Answer(3, Q2Edited)));
        await Expect(Ui.VersionCount(second)).ToHaveTextAsync("2 / 2");
        await Expect(Ui.NextVersionButton(second)).ToBeDisabledAsync();

        // The previous version is the original question, with its original answer.
        await Ui.PreviousVersionButton(second).ClickAsync();
        await ExpectBranchAsync(page, (Q1, Answer(1, Q1)), (Q2, Answer(2, Q2)));
        await Expect(Ui.VersionCount(second)).ToHaveTextAsync("1 / 2");
        await Expect(Ui.PreviousVersionButton(second)).ToBeDisabledAsync();

        // Regenerate that answer: a second version of the answer.
        var secondAnswer = Ui.AssistantMessages(page).Nth(1);
        await Ui.RegenerateButton(secondAnswer).ClickAsync();
        await page.WaitForAnswerAsync(Answer(4, Q2));
        await ExpectBranchAsync(page, (Q1, Answer(1, Q1)), (Q2, Answer(4, Q2)));
        await Expect(Ui.VersionCount(secondAnswer)).ToHaveTextAsync("2 / 2");
        await Expect(Ui.VersionCount(second)).ToHaveTextAsync("1 / 2");
        if (AppPaths.TakeDocsScreenshots)
        {
            await page.Mouse.MoveAsync(0, Laptop.Height - 1); // no hover highlight on the button just clicked
            await page.ScreenshotAsync(new() { Path = Path.Combine(AppPaths.DocsScreenshotsDir, "branches.png") });
        }
        await Ui.PreviousVersionButton(secondAnswer).ClickAsync();
        await ExpectBranchAsync(page, (Q1, Answer(1, Q1)), (Q2, Answer(2, Q2)));
        await Expect(Ui.VersionCount(secondAnswer)).ToHaveTextAsync("1 / 2");
        await Ui.NextVersionButton(secondAnswer).ClickAsync();
        await ExpectBranchAsync(page, (Q1, Answer(1, Q1)), (Q2, Answer(4, Q2)));

        // Rewind to the first question: it is the end of the conversation now, also after a reload.
        await Ui.RewindButton(Ui.UserMessages(page).First).ClickAsync();
        await ExpectRewoundToFirstQuestionAsync(page);
        await page.ReloadAsync();
        await page.WaitForInteractiveAsync();
        await ExpectRewoundToFirstQuestionAsync(page);

        // "Show later messages" undoes the rewind exactly: the branch the user was on, with its versions navigable.
        await Ui.ShowLaterMessagesButton(page).ClickAsync();
        await ExpectBranchAsync(page, (Q1, Answer(1, Q1)), (Q2, Answer(4, Q2)));
        await Expect(Ui.VersionCount(second)).ToHaveTextAsync("1 / 2");
        await Expect(Ui.VersionCount(Ui.AssistantMessages(page).Nth(1))).ToHaveTextAsync("2 / 2");
        await Expect(Ui.ShowLaterMessagesButton(page)).ToHaveCountAsync(0);
        var restoredQuestion = (await Ui.MessageText(second).InnerTextAsync()).Trim();
        Assert.Equal(Q2, restoredQuestion);

        // A checkpoint on the first answer, then the conversation goes on.
        await Expect(Ui.CheckpointsDisclosure(page)).ToHaveTextAsync("Checkpoints (0)");
        await page.SaveCheckpointAsync(Ui.AssistantMessages(page).First, "Start");
        await Expect(Ui.CheckpointsDisclosure(page)).ToHaveTextAsync("Checkpoints (1)");
        await page.SendAsync(Q3);
        await page.WaitForAnswerAsync(Answer(5, Q3));
        await Expect(Ui.UserMessages(page)).ToHaveCountAsync(3);

        // Resume from the checkpoint: the conversation ends at that answer.
        await page.ResumeFromCheckpointAsync("Start");
        await ExpectBranchAsync(page, (Q1, Answer(1, Q1)));

        // A new message continues from there, as a new version beside the second questions asked before.
        await page.SendAsync(Q4);
        await page.WaitForAnswerAsync(Answer(6, Q4));
        await ExpectBranchAsync(page, (Q1, Answer(1, Q1)), (Q4, Answer(6, Q4)));
        await Expect(Ui.VersionCount(second)).ToHaveTextAsync("3 / 3");

        // The old continuation (the third question) is reachable through the version navigator: it lies below the
        // version of the second question that "Show later messages" restored (version 1 or 2 of the three).
        var restoredVersion = restoredQuestion == Q2 ? 1 : 2;
        for (var version = 3; version > restoredVersion; version--)
        {
            await Ui.PreviousVersionButton(second).ClickAsync();
            await Expect(Ui.VersionCount(second)).ToHaveTextAsync($"{version - 1} / 3");
        }
        await Expect(Ui.UserMessages(page)).ToHaveCountAsync(3);
        await Expect(Ui.MessageText(second)).ToHaveTextAsync(restoredQuestion);
        await Expect(Ui.MessageText(Ui.UserMessages(page).Last)).ToHaveTextAsync(Q3);
        await Expect(Ui.AssistantMessages(page).Last).ToContainTextAsync(Answer(5, Q3));
        Assert.Equal(6, Fake.Requests.Count);
    });

    /// <summary>The visible conversation is exactly these question/answer pairs, in order.</summary>
    private static async Task ExpectBranchAsync(IPage page, params (string Question, string Answer)[] turns)
    {
        await Expect(Ui.UserMessages(page)).ToHaveCountAsync(turns.Length);
        await Expect(Ui.AssistantMessages(page)).ToHaveCountAsync(turns.Length);
        for (var i = 0; i < turns.Length; i++)
        {
            await Expect(Ui.MessageText(Ui.UserMessages(page).Nth(i))).ToHaveTextAsync(turns[i].Question);
            await Expect(Ui.MessageText(Ui.AssistantMessages(page).Nth(i))).ToHaveTextAsync(turns[i].Answer);
        }
    }

    private static async Task ExpectRewoundToFirstQuestionAsync(IPage page)
    {
        await Expect(Ui.UserMessages(page)).ToHaveCountAsync(1);
        await Expect(Ui.AssistantMessages(page)).ToHaveCountAsync(0);
        await Expect(Ui.MessageText(Ui.UserMessages(page).First)).ToHaveTextAsync(Q1);
        await Expect(Ui.ShowLaterMessagesButton(page)).ToBeVisibleAsync();
    }
}
