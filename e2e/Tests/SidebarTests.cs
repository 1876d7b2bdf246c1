using ResearchAssistant.E2E.Infrastructure;
using ResearchAssistant.Testing;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace ResearchAssistant.E2E.Tests;

/// <summary>The sidebar's conversation options: rename, pin, archive and delete (with a confirmation).</summary>
public sealed class SidebarTests(BrowserFixture browser, ITestOutputHelper output) : E2eTest(browser, output)
{
    private const string Oldest = "Oldest question about lichens";
    private const string Middle = "Middle question about mosses";
    private const string Newest = "Newest question about ferns";
    private const string NewName = "Lichen notes";

    [Fact]
    public Task Rename_pin_archive_and_delete_a_conversation() => RunAsync(async () =>
    {
        Fake.Behavior = new FakeBehavior { Tokens = ["Noted."], TokenDelay = TimeSpan.FromMilliseconds(5) };
        var app = await StartAppAsync();
        var page = await NewPageAsync(app);
        await page.RegisterAsync(Ui.NewEmail("sidebar"));

        var urls = new Dictionary<string, string>();
        foreach (var question in new[] { Oldest, Middle, Newest })
        {
            await page.StartNewChatAsync();
            urls[question] = await page.SendAsync(question);
            await page.WaitForAnswerAsync("Noted.");
        }
        // Most recent first.
        await ExpectLinksAsync(Newest, Middle, Oldest);

        // Rename: the link's name changes, and stays changed after a reload.
        await page.ChooseConversationOptionAsync(Oldest, "Rename");
        await Expect(Ui.ConversationNameBox(page)).ToHaveValueAsync(Oldest);
        await Ui.ConversationNameBox(page).FillAsync(NewName);
        await Ui.SaveButton(Ui.ConversationsNav(page)).ClickAsync();
        await Expect(Ui.ConversationNameBox(page)).ToHaveCountAsync(0);
        await ExpectLinksAsync(Newest, Middle, NewName);
        await page.ReloadAsync();
        await page.WaitForInteractiveAsync();
        await ExpectLinksAsync(Newest, Middle, NewName);
        await Expect(Ui.ConversationLink(page, Oldest)).ToHaveCountAsync(0);

        // Pin: it moves first (marked with a pin); its options now offer Unpin.
        await page.ChooseConversationOptionAsync(NewName, "Pin");
        await ExpectLinksAsync(NewName, Newest, Middle);
        await Expect(Ui.ConversationLinks(page).First).ToHaveAccessibleNameAsync($"📌 {NewName}");
        await Ui.OptionsButton(page, NewName).ClickAsync();
        await Expect(Ui.OptionsMenu(page, NewName).GetByRole(Microsoft.Playwright.AriaRole.Button, new() { Name = "Unpin", Exact = true })).ToBeVisibleAsync();
        await Ui.OptionsButton(page, NewName).ClickAsync();
        await Expect(Ui.OptionsMenu(page, NewName)).ToHaveCountAsync(0);

        // Archive: it leaves the list and appears under "Show archived" (offering Unarchive there).
        await page.ChooseConversationOptionAsync(Middle, "Archive");
        await ExpectLinksAsync(NewName, Newest);
        await Ui.ShowArchivedButton(page).ClickAsync();
        await ExpectLinksAsync(Middle);
        await Ui.OptionsButton(page, Middle).ClickAsync();
        await Expect(Ui.OptionsMenu(page, Middle).GetByRole(Microsoft.Playwright.AriaRole.Button, new() { Name = "Unarchive", Exact = true })).ToBeVisibleAsync();
        await Ui.ShowActiveButton(page).ClickAsync();
        await ExpectLinksAsync(NewName, Newest);

        // Delete: a confirmation first; "Keep it" keeps it, "Delete for good" deletes it.
        await page.ChooseConversationOptionAsync(Newest, "Delete");
        var dialog = Ui.ConfirmDialog(page, "Delete conversation");
        await Expect(dialog).ToBeVisibleAsync();
        await dialog.GetByRole(Microsoft.Playwright.AriaRole.Button, new() { Name = "Keep it", Exact = true }).ClickAsync();
        await Expect(dialog).ToHaveCountAsync(0);
        await ExpectLinksAsync(NewName, Newest);

        await page.ChooseConversationOptionAsync(Newest, "Delete");
        await Expect(dialog).ToBeVisibleAsync();
        await Expect(dialog).ToContainTextAsync(Newest);
        await dialog.GetByRole(Microsoft.Playwright.AriaRole.Button, new() { Name = "Delete for good", Exact = true }).ClickAsync();
        await Expect(dialog).ToHaveCountAsync(0);
        await ExpectLinksAsync(NewName);

        // Its old address shows "Not found"; the others are still there after a reload.
        await page.GotoAsync(urls[Newest]);
        await Expect(page.GetByRole(Microsoft.Playwright.AriaRole.Heading, new() { Name = "Not found", Exact = true })).ToBeVisibleAsync();
        await Expect(Ui.UserMessages(page)).ToHaveCountAsync(0);
        await page.WaitForInteractiveAsync();
        await ExpectLinksAsync(NewName);
        await page.GotoAsync(urls[Oldest]);
        await page.WaitForInteractiveAsync();
        await Expect(Ui.UserMessages(page)).ToContainTextAsync(Oldest);
        await Expect(page.GetByRole(Microsoft.Playwright.AriaRole.Heading, new() { Name = NewName, Exact = true })).ToBeVisibleAsync();

        async Task ExpectLinksAsync(params string[] titles)
        {
            await Expect(Ui.ConversationLinks(page)).ToHaveCountAsync(titles.Length);
            for (var i = 0; i < titles.Length; i++)
            {
                await Expect(Ui.ConversationLinks(page).Nth(i)).ToHaveAccessibleNameAsync(
                    new System.Text.RegularExpressions.Regex("^(📌 )?" + System.Text.RegularExpressions.Regex.Escape(titles[i]) + "$"));
            }
        }
    });
}
