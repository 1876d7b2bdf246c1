using ResearchAssistant.Core.Sessions;

namespace ResearchAssistant.Web.Components.Chat;

/// <summary>
/// The rendered Markdown of the written answers a chat page shows, made once per answer when it is read. Once its body
/// is rendered an answer's text is not needed any more (nothing on the page reads an answer's text but its Markdown),
/// so the page keeps the answer without it: a circuit holds each answer once, as HTML, instead of as text and HTML.
/// Answers are long; on a page of 50 messages that is half of what the messages cost a circuit.
/// </summary>
public sealed class AnswerBodies
{
    private readonly Dictionary<Guid, Body> _bodies = [];

    /// <summary>
    /// The message as the page keeps it: an answer whose text is final (not streaming) without its text, its body
    /// rendered here; anything else as it is.
    /// </summary>
    public MessageView Keep(MessageView message)
    {
        if (!IsFinalAnswer(message))
        {
            return message;
        }
        if (!_bodies.TryGetValue(message.Id, out var body) || body.Status != message.Status)
        {
            // A written answer's text changes only with its status (an interrupted answer continued, say); a message
            // kept before already has its body here, and its empty text is never rendered again.
            _bodies[message.Id] = new Body(message.Status, Render(message.Text));
        }
        return message.Text.Length == 0 ? message : message with { Text = "" };
    }

    public List<MessageView> Keep(IEnumerable<MessageView> messages) => messages.Select(Keep).ToList();

    public ConversationView Keep(ConversationView view) => view with { Messages = Keep(view.Messages) };

    /// <summary>
    /// An answer's body (<c>div.message-body</c> with its rendered Markdown), or null for a user's message, a streaming
    /// answer, or an answer that was not kept here (its text is then still in the message).
    /// </summary>
    public string? Of(MessageView message) =>
        IsFinalAnswer(message) && _bodies.TryGetValue(message.Id, out var body) && body.Status == message.Status ? body.Html : null;

    /// <summary>Forgets the bodies of answers no longer shown.</summary>
    public void Retain(IReadOnlyList<MessageView> shown)
    {
        if (_bodies.Count <= shown.Count)
        {
            return;
        }
        var ids = shown.Select(m => m.Id).ToHashSet();
        foreach (var id in _bodies.Keys.Where(id => !ids.Contains(id)).ToList())
        {
            _bodies.Remove(id);
        }
    }

    /// <summary>An answer's body made from its text, for one that is not kept here.</summary>
    public static string Render(string text) => $"<div class=\"message-body\"><div class=\"markdown\">{MarkdownRenderer.ToHtml(text)}</div></div>";

    private static bool IsFinalAnswer(MessageView message) =>
        message.Role == MessageRole.Assistant && message.Status is not (EventStatus.Streaming or EventStatus.Queued);

    private readonly record struct Body(EventStatus Status, string Html);
}
