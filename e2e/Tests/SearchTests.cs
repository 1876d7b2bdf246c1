using System.Text.RegularExpressions;
using Microsoft.Playwright;
using ResearchAssistant.E2E.Infrastructure;
using ResearchAssistant.Testing;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace ResearchAssistant.E2E.Tests;

/// <summary>Search from the sidebar, then jump: the conversation opens at the message found, highlighted and in view.</summary>
public sealed class SearchTests(BrowserFixture browser, ITestOutputHelper output) : E2eTest(browser, output)
{
    private const string Question = "Where did the Voynich manuscript surface first?";

    // Long answers: the first question ends up far above the newest message, where a conversation opens.
    private static readonly string[] LongAnswer =
    [
        .. Enumerable.Range(1, 12).Select(i => $"Paragraph {i} goes on about provenance, vellum, ink and catalogues at some length, " +
                                               "so that the conversation grows much taller than the window it is read in.\n\n"),
        "End of answer.",
    ];

    [Fact]
    public Task Search_then_jump_opens_the_conversation_at_the_message_highlighted_and_in_view() => RunAsync(async () =>
    {
        Fake.Behavior = new FakeBehavior { Tokens = LongAnswer, TokenDelay = TimeSpan.FromMilliseconds(2) };
        var app = await StartAppAsync();
        var page = await NewPageAsync(app);
        await page.RegisterAsync(Ui.NewEmail("search"));

        await page.StartNewChatAsync();
        var manuscriptUrl = await page.SendAsync(Question);
        await page.WaitForAnswerAsync("End of answer.");
        var turns = 1;
        foreach (var followUp in new[] { "And who owned it after that?", "Which library holds it now?" })
        {
            await page.SendAsync(followUp);
            // Every answer ends the same way: wait for this turn's answer to exist before waiting for its end.
            await Expect(Ui.AssistantMessages(page)).ToHaveCountAsync(++turns);
            await page.WaitForAnswerAsync("End of answer.");
        }
        // Another conversation is open when the search happens.
        await page.StartNewChatAsync();
        await page.SendAsync("Something else entirely: tea ceremonies");
        await page.WaitForAnswerAsync("End of answer.");

        // Only stop words: a hint, not an error.
        await Ui.SearchBox(page).FillAsync("the and of");
        await Expect(page.GetByText("Nothing to search for")).ToBeVisibleAsync();

        await Ui.SearchBox(page).FillAsync("voynich manuscripts");
        var hit = Ui.SearchResults(page).GetByRole(AriaRole.Link).Filter(new() { HasText = "surface first" });
        await Expect(hit).ToHaveCountAsync(1);
        await Expect(hit.Locator("mark")).ToHaveTextAsync(["Voynich", "manuscript"]);
        await hit.ClickAsync();

        await page.WaitForURLAsync(new Regex(Regex.Escape(Ui.ChatId(manuscriptUrl).ToString()) + @"\?m="));
        await page.WaitForInteractiveAsync();
        var found = Ui.HighlightedMessage(page);
        await Expect(found).ToHaveCountAsync(1);
        await Expect(found).ToContainTextAsync(Question);
        await Expect(found).ToBeInViewportAsync();
        await Expect(found).ToBeFocusedAsync();
        // The newest answer, which the conversation would normally open at, is out of view.
        await Expect(Ui.AssistantMessages(page).Last).Not.ToBeInViewportAsync();
        if (AppPaths.TakeDocsScreenshots)
        {
            await page.ScreenshotAsync(new() { Path = Path.Combine(AppPaths.DocsScreenshotsDir, "search-jump.png") });
        }

        // Clearing the search brings the conversation list back.
        await page.GetByRole(AriaRole.Button, new() { Name = "Clear search", Exact = true }).ClickAsync();
        await Expect(Ui.SearchResults(page)).ToHaveCountAsync(0);
        await Expect(Ui.ConversationLink(page, "Where did the Voynich")).ToBeVisibleAsync();
    });
}
