using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Radzen;
using ResearchAssistant.Core.Sessions;
using ResearchAssistant.Web.Components.Shared;

namespace ResearchAssistant.Web.Components.Chat;

/// <summary>
/// The parts of a message's markup that a message at rest (<see cref="ConversationMessages"/>) and a message being
/// written, edited or checkpointed (<see cref="MessageItem"/>) share: its article's class and name, its status note and
/// its action bar. Strings that depend only on a few flags are made once and shared by every message of every circuit.
/// </summary>
internal static class MessageMarkup
{
    private static readonly ButtonLook OutlinedSmall = new(ButtonSize.Small, Variant.Outlined);
    private static readonly ConcurrentDictionary<(MessageRole Role, EventStatus Status, bool Highlighted), string> ArticleClasses = new();
    private static readonly ConcurrentDictionary<Bar, string> Bars = new();

    // Versions beyond this many are not worth a shared string each (a message regenerated that often is rare).
    private const int SharedBarMaxVersions = 16;

    public static string ElementId(Guid messageId) => $"message-{messageId}";

    /// <summary>The article's accessible name.</summary>
    public static string Label(MessageView message) => message.Role == MessageRole.User ? "You" : "Assistant";

    public static string ArticleClass(MessageView message, bool highlighted) =>
        ArticleClasses.GetOrAdd((message.Role, message.Status, highlighted), static key =>
            $"message {(key.Role == MessageRole.User ? "message-user" : "message-assistant")} status-{key.Status.ToString().ToLowerInvariant()}"
            + (key.Highlighted ? " message-highlighted" : ""));

    /// <summary>A message has actions once it is written: not while it streams or waits its turn.</summary>
    public static bool HasActions(MessageView message) => message.Status is not (EventStatus.Queued or EventStatus.Streaming);

    /// <summary>The line under a message that did not end normally, or null.</summary>
    public static string? Note(MessageView message) => message.Status switch
    {
        EventStatus.Failed => $"<p class=\"message-note message-error\" role=\"alert\">{WebUtility.HtmlEncode(message.FailureReason ?? "The answer failed.")}</p>",
        EventStatus.Stopped => "<p class=\"message-note\">Stopped</p>",
        EventStatus.Interrupted => "<p class=\"message-note\">Interrupted</p>",
        EventStatus.Queued => "<p class=\"message-note\">Waiting: this will be answered next.</p>",
        _ => null,
    };

    /// <summary>The action bar of a message (see <see cref="MessageAction"/> for what each button asks).</summary>
    public static string ActionBar(MessageView message)
    {
        var versions = message.Version.Count > 1;
        var bar = new Bar(
            message.Role == MessageRole.User, message.CanRetry, message.Status == EventStatus.Interrupted, message.Plan is not null,
            versions ? message.Version.Number : 0, versions ? message.Version.Count : 0,
            message.Version.PreviousId is not null, message.Version.NextId is not null);
        return bar.Count <= SharedBarMaxVersions ? Bars.GetOrAdd(bar, Build) : Build(bar);
    }

    private static string Build(Bar bar)
    {
        var html = new StringBuilder("<div class=\"message-actions\">");
        if (bar.Count > 1)
        {
            html.Append("<span class=\"version-nav\">")
                .Append(PlainButton.IconMarkup("chevron_left", "Previous version", MessageAction.PreviousVersion, disabled: !bar.HasPrevious))
                .Append("<span class=\"version-count\">").Append(bar.Number).Append(" / ").Append(bar.Count).Append("</span>")
                .Append(PlainButton.IconMarkup("chevron_right", "Next version", MessageAction.NextVersion, disabled: !bar.HasNext))
                .Append("</span>");
        }
        if (bar.CanRetry)
        {
            html.Append(PlainButton.Markup(OutlinedSmall, "refresh", "Retry", label: null, title: null, disabled: false, MessageAction.Retry));
        }
        if (bar.Interrupted)
        {
            html.Append(PlainButton.Markup(OutlinedSmall, "play_arrow", "Continue", label: null, title: null, disabled: false, MessageAction.Continue));
        }
        if (bar.IsUser)
        {
            html.Append(PlainButton.IconMarkup("edit", "Edit", MessageAction.Edit));
        }
        else if (!bar.CanRetry)
        {
            html.Append(PlainButton.IconMarkup("autorenew", "Regenerate", MessageAction.Regenerate));
        }
        if (bar.HasPlan)
        {
            html.Append(PlainButton.IconMarkup("data_object", "Context", MessageAction.Context, title: "What was sent to the model"));
        }
        html.Append(PlainButton.IconMarkup("history", "Rewind to here", MessageAction.Rewind))
            .Append(PlainButton.IconMarkup("bookmark_add", "Save checkpoint", MessageAction.SaveCheckpoint))
            .Append("</div>");
        return html.ToString();
    }

    /// <summary>What decides a bar's buttons. Number and Count are 0 for a message with one version.</summary>
    private readonly record struct Bar(bool IsUser, bool CanRetry, bool Interrupted, bool HasPlan, int Number, int Count, bool HasPrevious, bool HasNext);
}
