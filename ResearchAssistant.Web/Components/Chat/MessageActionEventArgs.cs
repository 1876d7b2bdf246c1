using Microsoft.AspNetCore.Components;

namespace ResearchAssistant.Web.Components.Chat;

/// <summary>
/// A click on one of a message's action buttons. The buttons of a message at rest are shared markup, not components
/// with a handler each (see <see cref="ConversationMessages"/>): wwwroot/app.js turns a click on a button with a
/// <c>data-action</c> inside a message's article into this event, which bubbles to the conversation's one handler.
/// </summary>
public sealed class MessageActionEventArgs : EventArgs
{
    /// <summary>One of <see cref="MessageAction"/>'s names.</summary>
    public string? Action { get; set; }

    /// <summary>The message's id (its article is <c>message-{id}</c>).</summary>
    public string? MessageId { get; set; }
}

/// <summary>The actions a message's buttons name in their <c>data-action</c>.</summary>
public static class MessageAction
{
    public const string PreviousVersion = "previous-version";
    public const string NextVersion = "next-version";
    public const string Retry = "retry";
    public const string Continue = "continue";
    public const string Edit = "edit";
    public const string Regenerate = "regenerate";
    public const string Context = "context";
    public const string Rewind = "rewind";
    public const string SaveCheckpoint = "save-checkpoint";
}

/// <summary>Makes <c>@onmessageaction</c> known to the Razor compiler, with its event arguments.</summary>
[EventHandler("onmessageaction", typeof(MessageActionEventArgs), enableStopPropagation: true, enablePreventDefault: true)]
public static class MessageActionEventHandlers;
