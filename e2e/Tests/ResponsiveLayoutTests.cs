using Microsoft.Playwright;
using ResearchAssistant.E2E.Infrastructure;
using ResearchAssistant.Testing;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace ResearchAssistant.E2E.Tests;

/// <summary>The chat works on a laptop and on a phone: composer reachable, sidebar out of the way on the phone.</summary>
public sealed class ResponsiveLayoutTests(BrowserFixture browser, ITestOutputHelper output) : E2eTest(browser, output)
{
    private const string Question = "Compare three ways to cite a dataset in a paper";

    // A realistic answer (Markdown), so the README screenshots show what the app looks like in use.
    private static readonly string[] AnswerTokens =
    [
        "Three ", "common ", "ways:\n\n",
        "1. **DOI citation** ", "– cite the dataset's DOI like a paper, ", "with authors, year, title and repository.\n",
        "2. **Data availability statement** ", "– say where the data lives and under which licence.\n",
        "3. **Software/data papers** ", "– cite a peer-reviewed description of the dataset.\n\n",
        "Most journals now expect the first, ", "and many require the second as well.",
    ];

    [Fact]
    public Task Chat_works_on_a_laptop_and_on_a_phone() => RunAsync(async () =>
    {
        Fake.Behavior = new FakeBehavior { Tokens = AnswerTokens, TokenDelay = TimeSpan.FromMilliseconds(5) };
        var app = await StartAppAsync();
        // Each test has its own app and database, so a readable address is unique enough (and shows in the screenshots).
        var email = "ada@example.com";

        // Laptop, 1366x768: sidebar with the conversation, composer on screen.
        var laptop = await NewPageAsync(app, Laptop);
        await laptop.RegisterAsync(email);
        await laptop.StartNewChatAsync();
        await ExpectWithinViewportAsync(laptop, Ui.Composer(laptop), Laptop);
        await ExpectWithinViewportAsync(laptop, Ui.SendButton(laptop), Laptop);
        var chatUrl = await laptop.SendAsync(Question);
        await laptop.WaitForAnswerAsync("many require the second as well.");
        await ExpectWithinViewportAsync(laptop, Ui.ConversationLink(laptop, "Compare three ways"), Laptop);
        Assert.True(await IsOnScreenAsync(Ui.ConversationLink(laptop, "Compare three ways"), Laptop), "The laptop's sidebar should show the conversation.");
        await ExpectWithinViewportAsync(laptop, Ui.Composer(laptop), Laptop);
        await ExpectWithinViewportAsync(laptop, Ui.SendButton(laptop), Laptop);
        await ExpectNoHorizontalScrollAsync(laptop, Laptop);
        if (AppPaths.TakeDocsScreenshots)
        {
            await laptop.ScreenshotAsync(new() { Path = Path.Combine(AppPaths.DocsScreenshotsDir, "desktop-chat.png") });
        }

        // Phone, 390x844, a separate device signed in to the same account.
        var phone = await NewPageAsync(app, Phone, phone: true);
        await phone.LoginAsync(email);
        await phone.GotoAsync(chatUrl);
        await phone.WaitForInteractiveAsync();
        await Expect(Ui.AssistantMessages(phone)).ToContainTextAsync("many require the second as well.");
        await ExpectWithinViewportAsync(phone, Ui.Composer(phone), Phone);
        await ExpectWithinViewportAsync(phone, Ui.SendButton(phone), Phone);
        await ExpectNoHorizontalScrollAsync(phone, Phone);
        // Sidebar collapsed: its conversation links are not on screen (the layout may collapse it just after start-up).
        await Wait.UntilAsync(async () => !await IsOnScreenAsync(Ui.ConversationLink(phone, "Compare three ways"), Phone),
            "On a phone the sidebar should be collapsed, but its conversation link is on screen.");
        if (AppPaths.TakeDocsScreenshots)
        {
            await phone.ScreenshotAsync(new() { Path = Path.Combine(AppPaths.DocsScreenshotsDir, "phone-chat.png") });
        }

        // And the phone can chat, from the keyboard: Shift+Enter is a new line, Enter sends.
        Fake.Behavior = new FakeBehavior { Tokens = ["Use ", "the ", "DOI."] };
        var composer = Ui.Composer(phone);
        await composer.FillAsync("Which one");
        await composer.PressAsync("Shift+Enter");
        await composer.PressSequentiallyAsync("is simplest?");
        await Expect(composer).ToHaveValueAsync("Which one\nis simplest?");
        await composer.PressAsync("Enter");
        await phone.WaitForAnswerAsync("Use the DOI.");
        await Expect(Ui.UserMessages(phone)).ToHaveCountAsync(2);
        await Expect(Ui.UserMessages(phone).Last).ToContainTextAsync("is simplest?");
        await Expect(composer).ToHaveValueAsync("");
    });

    private static async Task ExpectWithinViewportAsync(IPage page, ILocator locator, ViewportSize viewport)
    {
        await Expect(locator).ToBeVisibleAsync();
        var box = await locator.BoundingBoxAsync();
        Assert.NotNull(box);
        var inside = box.X >= 0 && box.Y >= 0 && box.X + box.Width <= viewport.Width + 0.5 && box.Y + box.Height <= viewport.Height + 0.5;
        Assert.True(inside, $"{locator} at ({box.X}, {box.Y}, {box.Width}x{box.Height}) is not inside the {viewport.Width}x{viewport.Height} viewport ({page.Url}).");
    }

    /// <summary>
    /// Whether a person could see the element: its box, cut by the viewport and by every ancestor that clips
    /// (overflow), is at least a few pixels each way. Playwright's IsVisible ignores clipping, and a collapsed
    /// sidebar is typically a 1-pixel-wide clipping box whose links keep their size.
    /// </summary>
    private static async Task<bool> IsOnScreenAsync(ILocator locator, ViewportSize viewport)
    {
        if (await locator.CountAsync() == 0 || !await locator.First.IsVisibleAsync()) return false;
        var visible = await locator.First.EvaluateAsync<double[]>(
            """
            (el, viewport) => {
              const r = el.getBoundingClientRect();
              let left = Math.max(r.left, 0), top = Math.max(r.top, 0);
              let right = Math.min(r.right, viewport.width), bottom = Math.min(r.bottom, viewport.height);
              for (let a = el.parentElement; a; a = a.parentElement) {
                const cs = getComputedStyle(a);
                if (cs.display === 'none' || cs.visibility === 'hidden' || cs.opacity === '0') return [0, 0];
                const ar = a.getBoundingClientRect();
                if (cs.overflowX !== 'visible') { left = Math.max(left, ar.left); right = Math.min(right, ar.right); }
                if (cs.overflowY !== 'visible') { top = Math.max(top, ar.top); bottom = Math.min(bottom, ar.bottom); }
              }
              return [Math.max(0, right - left), Math.max(0, bottom - top)];
            }
            """,
            new { width = viewport.Width, height = viewport.Height });
        return visible[0] >= 8 && visible[1] >= 8;
    }

    private static async Task ExpectNoHorizontalScrollAsync(IPage page, ViewportSize viewport)
    {
        var scrollWidth = await page.EvaluateAsync<int>("() => document.documentElement.scrollWidth");
        Assert.True(scrollWidth <= viewport.Width, $"The page scrolls sideways: {scrollWidth}px wide in a {viewport.Width}px viewport.");
    }
}
