using System.Text.RegularExpressions;
using ResearchAssistant.E2E.Infrastructure;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace ResearchAssistant.E2E.Tests;

/// <summary>Five wrong passwords lock the account; then even the right one does not get in.</summary>
public sealed class LockoutTests(BrowserFixture browser, ITestOutputHelper output) : E2eTest(browser, output)
{
    private static readonly Regex Locked = new("locked", RegexOptions.IgnoreCase);

    [Fact]
    public Task Five_wrong_passwords_lock_the_account() => RunAsync(async () =>
    {
        var app = await StartAppAsync();
        var page = await NewPageAsync(app);
        var email = Ui.NewEmail("lockout");
        await page.RegisterAsync(email);
        await page.LogoutAsync();

        for (var attempt = 1; attempt <= 4; attempt++)
        {
            await page.SubmitLoginAsync(email, $"Wrong-password-{attempt:00}");
            // Each attempt must be answered (an error on the login page) before the next one.
            await Expect(page.GetByText(new Regex("invalid|incorrect|wrong", RegexOptions.IgnoreCase)).First).ToBeVisibleAsync();
            await Expect(page.GetByText(Locked)).ToHaveCountAsync(0);
            await Expect(Ui.LogOutButton(page)).ToHaveCountAsync(0);
        }

        await page.SubmitLoginAsync(email, "Wrong-password-05");
        await Expect(page.GetByText(Locked).First).ToBeVisibleAsync();
        await Expect(Ui.LogOutButton(page)).ToHaveCountAsync(0);

        // Locked means locked: the correct password is refused too.
        await page.SubmitLoginAsync(email, Ui.Password);
        await Expect(page.GetByText(Locked).First).ToBeVisibleAsync();
        await Expect(Ui.LogOutButton(page)).ToHaveCountAsync(0);
    });
}
