using Bunit;
using ResearchAssistant.Core.Sessions;
using ResearchAssistant.Web.Components.Chat;

namespace ResearchAssistant.Tests.Components;

/// <summary>The message component as the chat page uses it: accessible names, safe Markdown, status and actions.</summary>
public sealed class MessageItemTests : IDisposable
{
    private readonly BunitContext _context = new();
    private readonly List<string> _calls = [];

    public MessageItemTests() => _context.AddRadzenServices();

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
    public void A_failed_answer_shows_its_reason_and_a_Retry_that_asks_for_a_new_answer()
    {
        var failed = Message(MessageRole.Assistant, "", EventStatus.Failed) with { FailureReason = "Could not reach the model endpoint." };
        var cut = Render(failed);

        Assert.Equal("Could not reach the model endpoint.", cut.Find("[role=alert]").TextContent);
        cut.FindAll("button").Single(b => b.TextContent.Contains("Retry")).Click();

        Assert.Equal([$"regenerate {failed.Id}"], _calls);
    }

    [Fact]
    public void An_interrupted_answer_is_labelled_and_offers_Continue_and_Retry()
    {
        var interrupted = Message(MessageRole.Assistant, "Half an answ", EventStatus.Interrupted);
        var cut = Render(interrupted);

        Assert.Contains("Interrupted", cut.Find(".message-note").TextContent);
        cut.FindAll("button").Single(b => b.TextContent.Contains("Continue")).Click();
        cut.FindAll("button").Single(b => b.TextContent.Contains("Retry")).Click();

        Assert.Equal([$"continue {interrupted.Id}", $"regenerate {interrupted.Id}"], _calls);
    }

    [Fact]
    public void The_version_navigator_shows_the_position_and_switches_to_the_neighbours()
    {
        var (previous, next) = (Guid.NewGuid(), Guid.NewGuid());
        var cut = Render(Message(MessageRole.User, "edited") with { Version = new VersionInfo(2, 3, previous, next) });

        Assert.Contains("2 / 3", cut.Find(".version-count").TextContent);
        cut.Find("button[aria-label='Previous version']").Click();
        cut.Find("button[aria-label='Next version']").Click();

        Assert.Equal([$"switch {previous}", $"switch {next}"], _calls);
    }

    [Fact]
    public void Editing_offers_a_textbox_named_Edit_message_and_saves_the_new_text()
    {
        var message = Message(MessageRole.User, "original question");
        var cut = Render(message);

        cut.Find("button[aria-label='Edit']").Click();
        var box = cut.Find("textarea[aria-label='Edit message']");
        Assert.Equal("original question", box.GetAttribute("value") ?? box.TextContent);
        box.Input("better question");
        cut.Find("form.message-edit").Submit();

        Assert.Equal([$"edit {message.Id} better question"], _calls);
        Assert.Empty(cut.FindAll("textarea"));
    }

    [Fact]
    public void A_streaming_answer_shows_the_live_text_and_no_actions()
    {
        var live = new ResearchAssistant.Core.Sync.LiveText();
        live.Append("Partial ");
        live.Append("text");
        var cut = _context.Render<MessageItem>(p => p
            .Add(m => m.Message, Message(MessageRole.Assistant, "", EventStatus.Streaming))
            .Add(m => m.LiveText, live)
            .Add(m => m.Actions, Actions()));

        Assert.Equal("true", cut.Find("article").GetAttribute("aria-busy"));
        Assert.Contains("Partial text", cut.Find(".markdown").TextContent);
        Assert.Empty(cut.FindAll(".message-actions"));
    }

    private IRenderedComponent<MessageItem> Render(MessageView message) =>
        _context.Render<MessageItem>(p => p.Add(m => m.Message, message).Add(m => m.Actions, Actions()));

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
