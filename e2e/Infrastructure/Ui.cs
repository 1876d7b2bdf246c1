using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace ResearchAssistant.E2E.Infrastructure;

/// <summary>
/// The app's UI contract, in one place: accessible names only (roles and labels), the way a screen reader
/// or a person finds things. If a name changes in the app, it changes here.
/// </summary>
public static partial class Ui
{
    public const string Password = "Correct-Horse-Battery-42";

    public static string NewEmail(string prefix) => $"{prefix}-{Guid.NewGuid():N}@example.com";

    // ---- Account ------------------------------------------------------------------------------------------------

    public static async Task RegisterAsync(this IPage page, string email, string password = Password)
    {
        await page.GotoAsync("Account/Register");
        await page.GetByLabel("Email", new() { Exact = true }).FillAsync(email);
        await page.GetByLabel("Password", new() { Exact = true }).FillAsync(password);
        await page.GetByLabel("Confirm password", new() { Exact = true }).FillAsync(password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Register", Exact = true }).ClickAsync();
        // Registered, signed in, on the chat home.
        await Expect(LogOutButton(page)).ToBeVisibleAsync();
        await Expect(NewChatButton(page)).ToBeVisibleAsync();
    }

    /// <summary>Fills and submits the login form; the caller checks the outcome.</summary>
    public static async Task SubmitLoginAsync(this IPage page, string email, string password)
    {
        await page.GotoAsync("Account/Login");
        await page.GetByLabel("Email", new() { Exact = true }).FillAsync(email);
        await page.GetByLabel("Password", new() { Exact = true }).FillAsync(password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Log in", Exact = true }).ClickAsync();
    }

    public static async Task LoginAsync(this IPage page, string email, string password = Password)
    {
        await page.SubmitLoginAsync(email, password);
        await Expect(LogOutButton(page)).ToBeVisibleAsync();
    }

    public static async Task LogoutAsync(this IPage page)
    {
        await page.WaitForInteractiveAsync();
        await LogOutButton(page).ClickAsync();
        await Expect(LogOutButton(page)).ToHaveCountAsync(0);
    }

    public static ILocator LogOutButton(IPage page) => page.GetByRole(AriaRole.Button, new() { Name = "Log out", Exact = true });

    // ---- Chat ---------------------------------------------------------------------------------------------------

    /// <summary>
    /// Pages are prerendered: until the circuit is up, clicks and typing are lost. The app renders
    /// [data-interactive="true"] once it is interactive.
    /// </summary>
    public static Task WaitForInteractiveAsync(this IPage page) =>
        page.Locator("[data-interactive=\"true\"]").First.WaitForAsync(new() { State = WaitForSelectorState.Attached });

    /// <summary>"Also open on: …": the other devices and tabs showing this conversation.</summary>
    public static ILocator AlsoOpenOn(IPage page) => page.GetByRole(AriaRole.Status, new() { Name = "Also open on", Exact = true });
    public static ILocator NewChatButton(IPage page) => page.GetByRole(AriaRole.Button, new() { Name = "New chat", Exact = true });
    public static ILocator Composer(IPage page) => page.GetByRole(AriaRole.Textbox, new() { Name = "Message", Exact = true });
    public static ILocator SendButton(IPage page) => page.GetByRole(AriaRole.Button, new() { Name = "Send", Exact = true });
    public static ILocator StopButton(IPage page) => page.GetByRole(AriaRole.Button, new() { Name = "Stop", Exact = true });
    public static ILocator RetryButton(IPage page) => page.GetByRole(AriaRole.Button, new() { Name = "Retry", Exact = true });
    public static ILocator Conversation(IPage page) => page.GetByRole(AriaRole.Log, new() { Name = "Conversation", Exact = true });
    public static ILocator UserMessages(IPage page) => Conversation(page).GetByRole(AriaRole.Article, new() { Name = "You", Exact = true });
    public static ILocator AssistantMessages(IPage page) => Conversation(page).GetByRole(AriaRole.Article, new() { Name = "Assistant", Exact = true });

    /// <summary>
    /// The sidebar link of a conversation, found by the start of its title (the first message's opening words, or the
    /// name it was given). A pinned conversation's link starts with a pin (📌) before the title.
    /// </summary>
    public static ILocator ConversationLink(IPage page, string titleStart) =>
        page.GetByRole(AriaRole.Link, new() { NameRegex = new Regex("^\\s*(📌\\s*)?" + Regex.Escape(titleStart), RegexOptions.IgnoreCase) });

    public static async Task StartNewChatAsync(this IPage page)
    {
        await page.WaitForInteractiveAsync();
        await NewChatButton(page).ClickAsync();
        await Expect(Composer(page)).ToBeEditableAsync();
    }

    /// <summary>Types a message and clicks Send; returns once the conversation has its own /chat/{id} address.</summary>
    public static async Task<string> SendAsync(this IPage page, string text)
    {
        await page.WaitForInteractiveAsync();
        await Composer(page).FillAsync(text);
        await SendButton(page).ClickAsync();
        await page.WaitForURLAsync(ChatUrl());
        await Expect(UserMessages(page).Filter(new() { HasText = text })).ToHaveCountAsync(1);
        return page.Url;
    }

    /// <summary>Waits until no answer is streaming any more (no Stop button) and the last answer contains <paramref name="text"/>.</summary>
    public static async Task WaitForAnswerAsync(this IPage page, string text)
    {
        await Expect(AssistantMessages(page).Last).ToContainTextAsync(text, new() { Timeout = 30_000 });
        await Expect(StopButton(page)).ToHaveCountAsync(0);
    }

    // ---- Search ---------------------------------------------------------------------------------------------------

    public static ILocator SearchBox(IPage page) => page.GetByRole(AriaRole.Searchbox, new() { Name = "Search conversations", Exact = true });
    public static ILocator SearchResults(IPage page) => page.GetByRole(AriaRole.List, new() { Name = "Search results", Exact = true });

    /// <summary>The message a search result opened the conversation at.</summary>
    public static ILocator HighlightedMessage(IPage page) => Conversation(page).Locator("article[aria-current='true']");

    public static ILocator BackToLatestButton(IPage page) => page.GetByRole(AriaRole.Button, new() { Name = "Back to the latest messages", Exact = true });

    public static Guid ChatId(string url) => Guid.Parse(ChatUrl().Match(url).Groups["id"].Value);

    [GeneratedRegex(@"/chat/(?<id>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})(?:[?#].*)?$")]
    public static partial Regex ChatUrl();
}
