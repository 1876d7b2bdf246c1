namespace ResearchAssistant.Core.Sessions;

/// <summary>
/// One entry of a session's append-only log. Messages form a tree through <see cref="ParentId"/>: an edit or a
/// regenerate adds a sibling and never overwrites. Two mutations are allowed, each once: an assistant message's content while it is
/// <see cref="EventStatus.Streaming"/>, until it is sealed; and a <see cref="EventStatus.Queued"/> user message's
/// place in the tree, when its turn starts. After that an event is immutable. (<see cref="StopRequested"/> is a
/// request to the writer of a streaming answer, not part of the log.)
/// </summary>
public sealed class SessionEvent
{
    public Guid Id { get; set; }
    public Guid SessionId { get; set; }
    /// <summary>Position in the session's log: unique per session, gap-free, starting at 1.</summary>
    public long Seq { get; set; }
    public EventKind Kind { get; set; }
    /// <summary>The message this one answers or follows; null for the first message of a session and for state events.</summary>
    public Guid? ParentId { get; set; }
    /// <summary>
    /// For messages placed in the tree: how many messages lie above this one on its branch (a first message is 0).
    /// With <see cref="JumpId"/> it finds any ancestor in O(log depth) lookups (<see cref="MessageTree"/>).
    /// Set when the message gets its <see cref="ParentId"/> (a queued message: when its turn starts); 0 until then.
    /// </summary>
    public int Depth { get; set; }
    /// <summary>
    /// An ancestor further up than the parent (a skew-binary jump pointer, <see cref="MessageTree.Below"/>): null for
    /// a first message, which is its own jump, and for events not placed in the tree.
    /// </summary>
    public Guid? JumpId { get; set; }
    /// <summary>For state events: the message they point at (the new leaf of a version switch or rewind, a checkpoint's message).</summary>
    public Guid? TargetId { get; set; }
    /// <summary>For events that move the active leaf: where it was before, so a rewind can be undone exactly.</summary>
    public Guid? PreviousLeafId { get; set; }
    /// <summary>Who wrote it: a user id, or the model's name for assistant messages.</summary>
    public required string Author { get; set; }
    /// <summary>The text (message, or a state event's detail), encrypted with the session owner's data key.</summary>
    public byte[] ContentCipher { get; set; } = [];
    public EventStatus Status { get; set; }
    /// <summary>Readable reason when <see cref="Status"/> is <see cref="EventStatus.Failed"/>.</summary>
    public string? FailureReason { get; set; }
    public int? TokenCount { get; set; }
    /// <summary>For answers: what was sent to the model (a <see cref="Context.ContextPlan"/> as JSON: ids and token counts, no content).</summary>
    public string? ContextPlan { get; set; }
    /// <summary>The client-generated id of a send, so a double click or a resend stores the message once.</summary>
    public string? ClientId { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    /// <summary>
    /// Someone pressed Stop while this answer streamed. The instance writing it may be another one, so the request is
    /// stored where that writer looks every flush (<see cref="Chat.TurnRunner.FlushInterval"/>); it then seals the
    /// answer as stopped.
    /// </summary>
    public bool StopRequested { get; set; }
    /// <summary>Hash chaining this event to the previous one (tamper evidence); set when the event is sealed.</summary>
    public byte[]? Hash { get; set; }
}

public enum EventKind
{
    UserMessage = 1,
    AssistantMessage = 2,
    /// <summary>The user showed another version of a message: the active branch now ends at <see cref="SessionEvent.TargetId"/>.</summary>
    VersionSwitched = 10,
    /// <summary>The user rewound: the active branch now ends at <see cref="SessionEvent.TargetId"/>; nothing was deleted.</summary>
    Rewound = 11,
    CheckpointSaved = 12,
    /// <summary>The active branch now ends at a checkpoint's message; the next message starts a new branch there.</summary>
    ResumedFromCheckpoint = 13,
    /// <summary>Title, pin or archive changed; <see cref="SessionEvent.Content"/> says which.</summary>
    SessionUpdated = 14,
}

public static class EventKinds
{
    public static bool IsMessage(this EventKind kind) => kind is EventKind.UserMessage or EventKind.AssistantMessage;
}

public enum EventStatus
{
    Complete = 0,
    Streaming = 1,
    Stopped = 2,
    Interrupted = 3,
    Failed = 4,
    /// <summary>
    /// A user message stored but not yet answered: it waits for the answer being written to finish. Its place in the
    /// tree (<see cref="SessionEvent.ParentId"/>) is assigned once, when its turn starts, and it is then Complete.
    /// </summary>
    Queued = 5,
}
