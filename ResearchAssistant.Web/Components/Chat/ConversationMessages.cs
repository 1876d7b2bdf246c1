using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Rendering;
using ResearchAssistant.Core.Sessions;
using ResearchAssistant.Core.Sync;

namespace ResearchAssistant.Web.Components.Chat;

/// <summary>
/// The messages of the conversation shown. A message at rest (written, not being edited) is plain markup in this one
/// component's render tree: its article, its text or rendered Markdown, and its action bar, a string shared by every
/// message with the same buttons. Only a message that is streaming, being edited or getting a checkpoint name is a
/// <see cref="MessageItem"/> component. A component per message cost every open circuit about 3.5 KB per message
/// shown (its state, two render-tree buffers of at least 32 frames, a delegate per button): most of the memory of a
/// tab (benchmarks/RESULTS.md, "Memory per circuit"). The buttons' clicks all arrive here as one
/// <c>messageaction</c> event (<see cref="MessageActionEventArgs"/>).
/// </summary>
public sealed class ConversationMessages : ComponentBase
{
    // Markup of the messages at rest (element id, an answer's body from AnswerBodies), kept between renders and dropped
    // for those no longer shown (see OnAfterRender).
    private readonly Dictionary<Guid, RestingMessage> _resting = [];
    private AnswerBodies? _ownBodies;
    // Messages shown as a MessageItem for an edit or a checkpoint name, until it is saved or cancelled.
    private readonly Dictionary<Guid, MessageMode> _open = [];
    // A click while an earlier action of the same message still runs is ignored (a double click is one regenerate).
    private readonly HashSet<Guid> _acting = [];
    private readonly Action<Guid> _close;
    private readonly EventCallback<MessageActionEventArgs> _onAction;
    private int _render;

    public ConversationMessages()
    {
        // Made once: renders (20 a second while an answer streams) pass the same handler and callback every time.
        _close = Close;
        _onAction = EventCallback.Factory.Create<MessageActionEventArgs>(this, OnActionAsync);
    }

    [Parameter, EditorRequired] public IReadOnlyList<MessageView> Messages { get; set; } = [];
    /// <summary>Text of answers as they stream in, newer than what the database had when the messages were read.</summary>
    [Parameter] public IReadOnlyDictionary<Guid, LiveText>? Live { get; set; }
    [Parameter, EditorRequired] public MessageActions Actions { get; set; } = default!;
    /// <summary>The message a search result opened the conversation at: marked, and focusable so it can take focus.</summary>
    [Parameter] public Guid? FocusId { get; set; }
    /// <summary>
    /// The page's rendered answers (it keeps written answers without their text, see <see cref="AnswerBodies"/>). An
    /// answer given with its text is kept here too; without this parameter, in bodies of this component's own.
    /// </summary>
    [Parameter] public AnswerBodies? Bodies { get; set; }

    private AnswerBodies AnswerBodies => Bodies ?? (_ownBodies ??= new AnswerBodies());

    protected override void OnParametersSet()
    {
        if (_open.Count > 0)
        {
            foreach (var id in _open.Keys.Where(id => !Messages.Any(m => m.Id == id)).ToList())
            {
                _open.Remove(id);
            }
        }
    }

    protected override void BuildRenderTree(RenderTreeBuilder builder)
    {
        _render++;
        builder.OpenElement(0, "div");
        builder.AddAttribute(1, "class", "conversation-messages");
        builder.AddAttribute(2, "onmessageaction", _onAction);
        foreach (var message in Messages)
        {
            var highlighted = message.Id == FocusId;
            if (_open.TryGetValue(message.Id, out var mode) || message.Status == EventStatus.Streaming)
            {
                builder.OpenComponent<MessageItem>(3);
                builder.SetKey(message.Id);
                builder.AddComponentParameter(4, nameof(MessageItem.Message), message);
                builder.AddComponentParameter(5, nameof(MessageItem.LiveText), Live?.GetValueOrDefault(message.Id));
                builder.AddComponentParameter(6, nameof(MessageItem.Mode), mode);
                builder.AddComponentParameter(7, nameof(MessageItem.Actions), Actions);
                builder.AddComponentParameter(8, nameof(MessageItem.Highlighted), highlighted);
                builder.AddComponentParameter(9, nameof(MessageItem.OnClosed), _close);
                builder.AddComponentParameter(26, nameof(MessageItem.Body), AnswerBodies.Of(message));
                builder.CloseComponent();
                continue;
            }
            var resting = Resting(message);
            builder.OpenElement(10, "article");
            // Its own key, not the message id a MessageItem of the same message has: going from one to the other
            // replaces the element, as it should.
            builder.SetKey(resting.ElementId);
            builder.AddAttribute(11, "class", MessageMarkup.ArticleClass(message, highlighted));
            builder.AddAttribute(12, "id", resting.ElementId);
            builder.AddAttribute(13, "aria-label", MessageMarkup.Label(message));
            builder.AddAttribute(14, "aria-busy", "false");
            if (highlighted)
            {
                builder.AddAttribute(15, "data-highlighted", "true");
                builder.AddAttribute(16, "aria-current", "true");
                builder.AddAttribute(17, "tabindex", "-1");
            }
            if (resting.Body is { } body)
            {
                builder.AddMarkupContent(18, body);
            }
            else
            {
                // A user's own text, as text (never markup): the frame refers to the message's string, no copy.
                builder.OpenElement(19, "div");
                builder.AddAttribute(20, "class", "message-body");
                builder.OpenElement(21, "div");
                builder.AddAttribute(22, "class", "user-text");
                builder.AddContent(23, message.Text);
                builder.CloseElement();
                builder.CloseElement();
            }
            if (MessageMarkup.Note(message) is { } note)
            {
                builder.AddMarkupContent(24, note);
            }
            if (MessageMarkup.HasActions(message))
            {
                builder.AddMarkupContent(25, MessageMarkup.ActionBar(message));
            }
            builder.CloseElement();
        }
        builder.CloseElement();
    }

    protected override void OnAfterRender(bool firstRender)
    {
        AnswerBodies.Retain(Messages);
        if (_resting.Count > Messages.Count)
        {
            foreach (var (id, _) in _resting.Where(r => r.Value.Render != _render).ToList())
            {
                _resting.Remove(id);
            }
        }
    }

    private RestingMessage Resting(MessageView message)
    {
        if (!_resting.TryGetValue(message.Id, out var resting))
        {
            resting = new RestingMessage(MessageMarkup.ElementId(message.Id));
            _resting[message.Id] = resting;
        }
        if (message.Role == MessageRole.Assistant)
        {
            // Rendered when the page read it; an answer given here with its text is rendered (once) on the way.
            resting.Body = AnswerBodies.Of(message) ?? AnswerBodies.Of(AnswerBodies.Keep(message));
        }
        resting.Render = _render;
        return resting;
    }

    private async Task OnActionAsync(MessageActionEventArgs e)
    {
        if (!Guid.TryParse(e.MessageId, out var id) || Messages.FirstOrDefault(m => m.Id == id) is not { } message || !_acting.Add(id))
        {
            return;
        }
        try
        {
            await ActAsync(message, e.Action);
        }
        finally
        {
            _acting.Remove(id);
        }
    }

    // What each button asks, checked against the message as shown (the event comes from the browser).
    private Task ActAsync(MessageView message, string? action) => action switch
    {
        MessageAction.PreviousVersion when message.Version.PreviousId is { } previous => Actions.SwitchVersion(previous),
        MessageAction.NextVersion when message.Version.NextId is { } next => Actions.SwitchVersion(next),
        MessageAction.Retry or MessageAction.Regenerate when message.Role == MessageRole.Assistant => Actions.Regenerate(message.Id),
        MessageAction.Continue when message.Status == EventStatus.Interrupted => Actions.Continue(message.Id),
        MessageAction.Context when message.Plan is not null => Actions.ShowContext(message),
        MessageAction.Rewind => Actions.Rewind(message.Id),
        MessageAction.Edit when message.Role == MessageRole.User => Open(message.Id, MessageMode.Edit),
        MessageAction.SaveCheckpoint => Open(message.Id, MessageMode.Checkpoint),
        _ => Task.CompletedTask,
    };

    private Task Open(Guid messageId, MessageMode mode)
    {
        _open[messageId] = mode;
        return Task.CompletedTask;
    }

    /// <summary>A MessageItem's edit or checkpoint name was saved or cancelled: the message is at rest again.</summary>
    private void Close(Guid messageId)
    {
        if (_open.Remove(messageId))
        {
            StateHasChanged();
        }
    }

    private sealed class RestingMessage(string elementId)
    {
        public string ElementId { get; } = elementId;
        /// <summary>An answer's body (its rendered Markdown); null for a user's message (shown as text).</summary>
        public string? Body { get; set; }
        public int Render { get; set; }
    }
}

/// <summary>Why a message is shown as a <see cref="MessageItem"/> component rather than as markup.</summary>
public enum MessageMode
{
    /// <summary>It is being written (or is at rest but was not yet re-rendered as markup).</summary>
    Live,
    Edit,
    Checkpoint,
}
