using ResearchAssistant.E2E.Infrastructure;
using ResearchAssistant.Testing;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace ResearchAssistant.E2E.Tests;

/// <summary>Input the app refuses is refused visibly, with what to do about it, and nothing typed is lost.</summary>
public sealed class BadInputTests(BrowserFixture browser, ITestOutputHelper output) : E2eTest(browser, output)
{
    [Fact]
    public Task Empty_and_too_long_messages_are_refused_with_a_hint_and_the_text_is_kept() => RunAsync(async () =>
    {
        Fake.Behavior = new FakeBehavior { Tokens = ["Short ", "enough."], TokenDelay = TimeSpan.FromMilliseconds(5) };
        var app = await StartAppAsync();
        var page = await NewPageAsync(app);
        await page.RegisterAsync(Ui.NewEmail("input"));
        await page.StartNewChatAsync();
        var composer = Ui.Composer(page);

        // Empty (and blank): a hint, no conversation created.
        await Ui.SendButton(page).ClickAsync();
        await Expect(Ui.ComposerError(page)).ToContainTextAsync("empty");
        await composer.FillAsync("   \n  ");
        await Ui.SendButton(page).ClickAsync();
        await Expect(Ui.ComposerError(page)).ToContainTextAsync("empty");
        await Expect(Ui.UserMessages(page)).ToHaveCountAsync(0);
        Assert.DoesNotMatch(Ui.ChatUrl(), page.Url);

        // One character over the limit: refused with its length and the limit, and the text stays in the box.
        // Ordinary prose, cut to 32,001 characters (no white space at either end, so trimming cannot shorten it).
        var tooLong = string.Concat(Enumerable.Repeat("Lorem ipsum dolor sit amet. ", 1200))[..32_001];
        Assert.False(char.IsWhiteSpace(tooLong[^1]));
        await composer.FillAsync(tooLong);
        await Ui.SendButton(page).ClickAsync();
        var error = Ui.ComposerError(page);
        await Expect(error).ToContainTextAsync("32,001");
        await Expect(error).ToContainTextAsync("32,000");
        await Expect(composer).ToHaveValueAsync(tooLong);
        await Expect(Ui.UserMessages(page)).ToHaveCountAsync(0);
        Assert.Empty(Fake.Requests);

        // Still usable: shortened to the limit, it goes through and the hint goes away.
        var atLimit = tooLong[..32_000];
        await composer.FillAsync(atLimit);
        await Ui.SendButton(page).ClickAsync();
        await page.WaitForURLAsync(Ui.ChatUrl());
        await page.WaitForAnswerAsync("Short enough.");
        await Expect(Ui.UserMessages(page)).ToHaveCountAsync(1);
        await Expect(Ui.ComposerError(page)).ToHaveCountAsync(0);
        await Expect(composer).ToHaveValueAsync("");
        Assert.Equal(atLimit, Fake.Requests.Single().Messages.Last(m => m.Role == "user").Content);
    });
}
