using AngleSharp.Dom;
using Bunit;
using ResearchAssistant.Core.Sessions;
using ResearchAssistant.Core.Sync;
using ResearchAssistant.Web.Components.Chat;

namespace ResearchAssistant.Tests.Components;

/// <summary>
/// The conversation's messages as the chat page shows them: accessible names, safe Markdown, status and actions. A click
/// on an action button is delivered as wwwroot/app.js delivers it in the browser: a <c>messageaction</c> event naming
/// the button's data-action and the message, on the messages' wrapper (the e2e tests click the real buttons).
/// </summary>
public sealed class ConversationMessagesTests : IDisposable
{
    private readonly BunitContext _context = new();
    private readonly List<string> _calls = [];

    public ConversationMessagesTests() => _context.AddRadzenServices();

    [Fact]
    public void A_user_message_is_an_article_named_You_with_its_text_as_plain_text()
    {
        var cut = Render(Message(MessageRole.User, "<b>not bold</b> *not emphasis*"));

        var article = cut.Find("article");
        Assert.Equal("You", article.GetAttribute("aria-label"));
        Assert.Contains("<b>not bold</b> *not emphasis*", article.QuerySelector(".user-text")!.TextContent);
        Assert.Empty(article.QuerySelectorAll(".user-text b, .user-text em"));
    }

    [Fact]
    public void An_answer_renders_Markdown_but_never_raw_HTML_or_script_links()
    {
        var cut = Render(Message(MessageRole.Assistant,
            "**bold** and `code`\n\n<script>alert(1)</script><img src=x onerror=alert(1)>\n\n[click](javascript:alert(1))\n\n```\nfenced\n```"));

        var article = cut.Find("article");
        Assert.Equal("Assistant", article.GetAttribute("aria-label"));
        Assert.Equal("bold", article.QuerySelector(".markdown strong")!.TextContent);
        Assert.Equal("fenced", article.QuerySelector(".markdown pre code")!.TextContent.Trim());
        Assert.Empty(article.QuerySelectorAll("script, img, [onerror]"));
        Assert.Contains("<script>", article.QuerySelector(".markdown")!.TextContent);
        Assert.Equal("#", article.QuerySelector(".markdown a")!.GetAttribute("href"));
    }

    [Fact]
    public void Messages_at_rest_are_markup_and_only_a_streaming_answer_is_a_component()
    {
        var live = new LiveText();
        live.Append("Partial ");
        live.Append("text");
        var question = Message(MessageRole.User, "A question");
        var answer = Message(MessageRole.Assistant, "An answer");
        var streaming = Message(MessageRole.Assistant, "", EventStatus.Streaming);
        var cut = Render([question, answer, Message(MessageRole.User, "Another"), streaming], new Dictionary<Guid, LiveText> { [streaming.Id] = live });

        Assert.Equal(4, cut.FindAll("article").Count);
        var item = Assert.Single(cut.FindComponents<MessageItem>());
        Assert.Equal(streaming.Id, item.Instance.Message.Id);
        var shown = cut.Find($"#message-{streaming.Id}");
        Assert.Equal("true", shown.GetAttribute("aria-busy"));
        Assert.Contains("Partial text", shown.QuerySelector(".markdown")!.TextContent);
        Assert.Null(shown.QuerySelector(".message-actions"));
        Assert.Equal("false", cut.Find($"#message-{answer.Id}").GetAttribute("aria-busy"));
    }

    [Fact]
    public void A_failed_answer_shows_its_reason_and_a_Retry_that_asks_for_a_new_answer()
    {
        var failed = Message(MessageRole.Assistant, "", EventStatus.Failed) with { FailureReason = "Could not reach <the> model endpoint." };
        var cut = Render(failed);

        Assert.Equal("Could not reach <the> model endpoint.", cut.Find("[role=alert]").TextContent);
        Click(cut, Button(cut, "Retry"));

        Assert.Equal([$"regenerate {failed.Id}"], _calls);
    }

    [Fact]
    public void An_interrupted_answer_is_labelled_and_offers_Continue_and_Retry()
    {
        var interrupted = Message(MessageRole.Assistant, "Half an answ", EventStatus.Interrupted);
        var cut = Render(interrupted);

        Assert.Contains("Interrupted", cut.Find(".message-note").TextContent);
        Click(cut, Button(cut, "Continue"));
        Click(cut, Button(cut, "Retry"));

        Assert.Equal([$"continue {interrupted.Id}", $"regenerate {interrupted.Id}"], _calls);
    }

    [Fact]
    public void The_version_navigator_shows_the_position_and_switches_to_the_neighbours()
    {
        var (previous, next) = (Guid.NewGuid(), Guid.NewGuid());
        var cut = Render(Message(MessageRole.User, "edited") with { Version = new VersionInfo(2, 3, previous, next) });

        Assert.Contains("2 / 3", cut.Find(".version-count").TextContent);
        Click(cut, cut.Find("button[aria-label='Previous version']"));
        Click(cut, cut.Find("button[aria-label='Next version']"));

        Assert.Equal([$"switch {previous}", $"switch {next}"], _calls);
    }

    [Fact]
    public void The_first_version_has_its_previous_button_disabled()
    {
        var cut = Render(Message(MessageRole.Assistant, "first") with { Version = new VersionInfo(1, 2, null, Guid.NewGuid()) });

        Assert.True(cut.Find("button[aria-label='Previous version']").HasAttribute("disabled"));
        Assert.False(cut.Find("button[aria-label='Next version']").HasAttribute("disabled"));
    }

    [Fact]
    public void An_answer_offers_Regenerate_Rewind_and_Save_checkpoint()
    {
        var answer = Message(MessageRole.Assistant, "An answer");
        var cut = Render(answer);

        Assert.Equal(["Regenerate", "Rewind to here", "Save checkpoint"], cut.FindAll(".message-actions button").Select(b => b.GetAttribute("aria-label")));
        Click(cut, Button(cut, "Regenerate"));
        Click(cut, Button(cut, "Rewind to here"));
        Assert.Equal([$"regenerate {answer.Id}", $"rewind {answer.Id}"], _calls);
    }

    [Fact]
    public void Editing_offers_a_textbox_named_Edit_message_saves_the_new_text_and_returns_to_markup()
    {
        var message = Message(MessageRole.User, "original question");
        var cut = Render(message);

        Click(cut, cut.Find("button[aria-label='Edit']"));
        Assert.Single(cut.FindComponents<MessageItem>());
        var box = cut.Find("textarea[aria-label='Edit message']");
        Assert.Equal("original question", box.GetAttribute("value") ?? box.TextContent);
        box.Input("better question");
        cut.Find("form.message-edit").Submit();

        Assert.Equal([$"edit {message.Id} better question"], _calls);
        Assert.Empty(cut.FindAll("textarea"));
        Assert.Empty(cut.FindComponents<MessageItem>());
        Assert.Equal("original question", cut.Find(".user-text").TextContent);
    }

    [Fact]
    public void Cancelling_an_edit_keeps_the_message_as_it_was()
    {
        var cut = Render(Message(MessageRole.User, "original question"));

        Click(cut, cut.Find("button[aria-label='Edit']"));
        cut.Find("textarea[aria-label='Edit message']").Input("something else");
        cut.FindAll("button").Single(b => b.TextContent.Contains("Cancel")).Click();

        Assert.Empty(_calls);
        Assert.Empty(cut.FindAll("textarea"));
        Assert.Equal("original question", cut.Find(".user-text").TextContent);
    }

    [Fact]
    public void A_checkpoint_is_named_in_a_form_under_the_message_and_saved()
    {
        var answer = Message(MessageRole.Assistant, "An answer");
        var cut = Render(answer);

        Click(cut, Button(cut, "Save checkpoint"));
        cut.Find("input[aria-label='Checkpoint name']").Input("Before the detour");
        cut.Find("form.checkpoint-form").Submit();

        Assert.Equal([$"checkpoint {answer.Id} Before the detour"], _calls);
        Assert.Empty(cut.FindAll("form"));
        Assert.Contains("An answer", cut.Find(".markdown").TextContent);
    }

    [Fact]
    public async Task A_click_while_the_same_messages_action_runs_is_ignored()
    {
        var answer = Message(MessageRole.Assistant, "An answer");
        var running = new TaskCompletionSource();
        var calls = 0;
        var actions = Actions();
        var cut = _context.Render<ConversationMessages>(p => p
            .Add(m => m.Messages, [answer])
            .Add(m => m.Actions, new MessageActions
            {
                Regenerate = _ => { calls++; return running.Task; },
                Continue = actions.Continue, Rewind = actions.Rewind, SwitchVersion = actions.SwitchVersion,
                ShowContext = actions.ShowContext, Edit = actions.Edit, SaveCheckpoint = actions.SaveCheckpoint,
            }));

        var first = Deliver(cut, MessageAction.Regenerate, answer.Id);
        await Deliver(cut, MessageAction.Regenerate, answer.Id);
        Assert.Equal(1, calls);
        running.SetResult();
        await first;
        await Deliver(cut, MessageAction.Regenerate, answer.Id);

        Assert.Equal(2, calls);
    }

    [Fact]
    public void An_action_for_a_message_not_shown_or_one_it_does_not_have_is_ignored()
    {
        var question = Message(MessageRole.User, "A question");
        var cut = Render(question);

        _ = Deliver(cut, MessageAction.Rewind, Guid.NewGuid());
        _ = Deliver(cut, MessageAction.Regenerate, question.Id); // a question has Edit, not Regenerate
        _ = Deliver(cut, "delete-everything", question.Id);

        Assert.Empty(_calls);
        Assert.Empty(cut.FindComponents<MessageItem>());
    }

    private IRenderedComponent<ConversationMessages> Render(MessageView message) => Render([message], null);

    private IRenderedComponent<ConversationMessages> Render(IReadOnlyList<MessageView> messages, IReadOnlyDictionary<Guid, LiveText>? live) =>
        _context.Render<ConversationMessages>(p => p.Add(m => m.Messages, messages).Add(m => m.Live, live).Add(m => m.Actions, Actions()));

    private static IElement Button(IRenderedComponent<ConversationMessages> cut, string name) =>
        cut.FindAll("button").Single(b => b.GetAttribute("aria-label") == name || b.TextContent.Trim().EndsWith(name, StringComparison.Ordinal));

    /// <summary>What app.js does with a click on an action button: names its action and its message's id.</summary>
    private static void Click(IRenderedComponent<ConversationMessages> cut, IElement button)
    {
        Assert.False(button.HasAttribute("disabled"));
        var article = button.Closest("article.message") ?? throw new InvalidOperationException("The button is not in a message.");
        var id = Guid.Parse(article.Id!["message-".Length..]);
        Deliver(cut, button.GetAttribute("data-action")!, id).GetAwaiter().GetResult();
    }

    private static Task Deliver(IRenderedComponent<ConversationMessages> cut, string action, Guid messageId) =>
        cut.Find(".conversation-messages").TriggerEventAsync("onmessageaction", new MessageActionEventArgs { Action = action, MessageId = messageId.ToString() });

    private MessageActions Actions() => new()
    {
        Regenerate = id => Record($"regenerate {id}"),
        Continue = id => Record($"continue {id}"),
        Rewind = id => Record($"rewind {id}"),
        SwitchVersion = id => Record($"switch {id}"),
        ShowContext = m => Record($"context {m.Id}"),
        Edit = async (id, text, _) => { await Record($"edit {id} {text}"); return null; },
        SaveCheckpoint = async (id, name) => { await Record($"checkpoint {id} {name}"); return null; },
    };

    private Task Record(string call)
    {
        _calls.Add(call);
        return Task.CompletedTask;
    }

    private static MessageView Message(MessageRole role, string text, EventStatus status = EventStatus.Complete) =>
        new(Guid.NewGuid(), 1, null, role, text, status, null, role == MessageRole.User ? "user" : "model", DateTimeOffset.UtcNow, VersionInfo.Single);

    public void Dispose() => _context.Dispose();
}
