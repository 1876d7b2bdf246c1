using ResearchAssistant.Core.Sessions;

namespace ResearchAssistant.Web.Components.Chat;

/// <summary>
/// What a message can ask its conversation to do. One object instead of seven callbacks keeps the messages'
/// parameters stable, so a streaming re-render does not rebuild delegates per message.
/// </summary>
public sealed class MessageActions
{
    public required Func<Guid, Task> Regenerate { get; init; }
    public required Func<Guid, Task> Continue { get; init; }
    public required Func<Guid, Task> Rewind { get; init; }
    public required Func<Guid, Task> SwitchVersion { get; init; }
    /// <summary>Opens the context inspector for an answer.</summary>
    public required Func<MessageView, Task> ShowContext { get; init; }
    /// <summary>(message, new text, client id) → an error to show, or null when saved.</summary>
    public required Func<Guid, string, string, Task<string?>> Edit { get; init; }
    /// <summary>(message, name) → an error to show, or null when saved.</summary>
    public required Func<Guid, string, Task<string?>> SaveCheckpoint { get; init; }
}
