using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace ResearchAssistant.E2E.Infrastructure;

/// <summary>
/// The UI contract of the session engine: versions (edit, regenerate, the version navigator), rewind, checkpoints,
/// interrupted answers, and the sidebar's conversation options. Accessible names as the issue fixed them.
/// </summary>
public static partial class Ui
{
    private static ILocator Button(ILocator scope, string name) => scope.GetByRole(AriaRole.Button, new() { Name = name, Exact = true });
    private static ILocator Button(IPage page, string name) => page.GetByRole(AriaRole.Button, new() { Name = name, Exact = true });

    // ---- A message and its actions (scope: the message's article) --------------------------------------------------

    /// <summary>The message's own text, without its buttons and notes (user text or rendered Markdown).</summary>
    public static ILocator MessageText(ILocator message) => message.Locator(".user-text, .markdown");

    public static ILocator EditButton(ILocator message) => Button(message, "Edit");
    public static ILocator EditBox(ILocator message) => message.GetByRole(AriaRole.Textbox, new() { Name = "Edit message", Exact = true });
    public static ILocator SaveAndSubmitButton(ILocator message) => Button(message, "Save and submit");
    public static ILocator RegenerateButton(ILocator message) => Button(message, "Regenerate");
    public static ILocator PreviousVersionButton(ILocator message) => Button(message, "Previous version");
    public static ILocator NextVersionButton(ILocator message) => Button(message, "Next version");

    /// <summary>"2 / 3": which version of the message is shown, of how many.</summary>
    public static ILocator VersionCount(ILocator message) => message.Locator(".version-count");

    public static ILocator RewindButton(ILocator message) => Button(message, "Rewind to here");
    public static ILocator SaveCheckpointButton(ILocator message) => Button(message, "Save checkpoint");
    public static ILocator CheckpointNameBox(ILocator message) => message.GetByRole(AriaRole.Textbox, new() { Name = "Checkpoint name", Exact = true });
    public static ILocator SaveButton(ILocator scope) => Button(scope, "Save");
    public static ILocator ContinueButton(ILocator message) => Button(message, "Continue");
    public static ILocator RetryButton(ILocator message) => Button(message, "Retry");
    public static ILocator InterruptedLabel(ILocator message) => message.GetByText("Interrupted", new() { Exact = true });

    /// <summary>After a rewind: the note's button that brings the newest later branch back.</summary>
    public static ILocator ShowLaterMessagesButton(IPage page) => Button(page, "Show later messages");

    // ---- Checkpoints (chat header) ----------------------------------------------------------------------------------

    /// <summary>The header's disclosure, "Checkpoints (N)".</summary>
    public static ILocator CheckpointsDisclosure(IPage page) =>
        page.Locator("summary").Filter(new() { HasTextRegex = new Regex(@"^\s*Checkpoints \(\d+\)\s*$") });

    public static ILocator ResumeFromCheckpointButton(IPage page, string checkpointName) =>
        Button(page, $"Resume from checkpoint {checkpointName}");

    public static async Task SaveCheckpointAsync(this IPage page, ILocator message, string name)
    {
        await SaveCheckpointButton(message).ClickAsync();
        await CheckpointNameBox(message).FillAsync(name);
        await SaveButton(message).ClickAsync();
        await Expect(CheckpointNameBox(message)).ToHaveCountAsync(0);
    }

    public static async Task ResumeFromCheckpointAsync(this IPage page, string name)
    {
        var resume = ResumeFromCheckpointButton(page, name);
        if (!await resume.IsVisibleAsync())
        {
            await CheckpointsDisclosure(page).ClickAsync();
        }
        await resume.ClickAsync();
    }

    // ---- Sidebar: conversation options ------------------------------------------------------------------------------

    public static ILocator ConversationsNav(IPage page) => page.GetByRole(AriaRole.Navigation, new() { Name = "Conversations", Exact = true });
    public static ILocator ConversationLinks(IPage page) => ConversationsNav(page).GetByRole(AriaRole.Link);
    public static ILocator OptionsButton(IPage page, string title) => Button(ConversationsNav(page), $"Options for {title}");
    public static ILocator OptionsMenu(IPage page, string title) =>
        ConversationsNav(page).GetByRole(AriaRole.Group, new() { Name = $"Options for {title}", Exact = true });
    public static ILocator ConversationNameBox(IPage page) =>
        ConversationsNav(page).GetByRole(AriaRole.Textbox, new() { Name = "Conversation name", Exact = true });
    public static ILocator ShowArchivedButton(IPage page) => Button(page, "Show archived");
    public static ILocator ShowActiveButton(IPage page) => Button(page, "Show active conversations");

    /// <summary>
    /// Opens the conversation's options (unless they are open: the button toggles them) and clicks one of them
    /// (Rename, Pin, Unpin, Archive, Unarchive, Delete).
    /// </summary>
    public static async Task ChooseConversationOptionAsync(this IPage page, string title, string option)
    {
        var toggle = OptionsButton(page, title);
        if (await toggle.GetAttributeAsync("aria-expanded") != "true")
        {
            await toggle.ClickAsync();
        }
        await Expect(toggle).ToHaveAttributeAsync("aria-expanded", "true");
        await Button(OptionsMenu(page, title), option).ClickAsync();
    }

    /// <summary>A confirmation (Radzen's confirm dialog is an alertdialog, named by its title).</summary>
    public static ILocator ConfirmDialog(IPage page, string title) => page.GetByRole(AriaRole.Alertdialog, new() { Name = title, Exact = true });

    // ---- Composer ---------------------------------------------------------------------------------------------------

    /// <summary>What the composer says about input it refused (role alert inside the form).</summary>
    public static ILocator ComposerError(IPage page) => page.Locator("form.composer").GetByRole(AriaRole.Alert);
}
