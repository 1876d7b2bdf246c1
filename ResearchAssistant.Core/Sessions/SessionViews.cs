namespace ResearchAssistant.Core.Sessions;

// Immutable records handed to the UI. A Blazor circuit lives long, so it never holds tracked entities.

public sealed record SessionListItem(Guid Id, string Title, DateTimeOffset LastActivityAt, bool IsPinned, bool IsArchived);

public enum MessageRole
{
    User,
    Assistant,
}

public sealed record MessageView(
    Guid Id,
    long Seq,
    Guid? ParentId,
    MessageRole Role,
    string Text,
    EventStatus Status,
    string? FailureReason,
    string Author,
    DateTimeOffset CreatedAt,
    VersionInfo Version,
    Context.ContextPlan? Plan = null)
{
    public bool CanRetry => Role == MessageRole.Assistant && Status is EventStatus.Failed or EventStatus.Interrupted or EventStatus.Stopped;
}

/// <summary>
/// What a conversation looks like now: the active branch from its root, then the messages sent while an answer
/// was being written, which wait their turn (<see cref="EventStatus.Queued"/>).
/// </summary>
/// <param name="HasOlder">Older messages of the branch exist above the first one here (load them by scrolling up).</param>
/// <param name="LaterMessages">After a rewind: how many answers or follow-ups below the active leaf are kept, and the
/// leaf of the newest branch there (to restore it).</param>
public sealed record ConversationView(
    Guid Id,
    string Title,
    IReadOnlyList<MessageView> Messages,
    bool IsGenerating,
    bool HasOlder,
    int LaterMessages,
    Guid? LatestLaterLeafId)
{
    public long LastSeq => Messages.Count == 0 ? 0 : Messages.Max(m => m.Seq);

    /// <summary>
    /// When the read that made this view began (a <see cref="System.Diagnostics.Stopwatch.GetTimestamp"/>; 0 when not
    /// known): the view reflects every change heard before then (<see cref="Sync.SessionChange.HeardAt"/>), so a
    /// hint heard earlier needs no re-read.
    /// </summary>
    public long ReadStartedAt { get; init; }

    /// <summary>Whether this view was read after <paramref name="change"/> of this conversation was heard, so it shows it already.</summary>
    public bool Reflects(Sync.SessionChange change) => change.SessionId == Id && ReadStartedAt > change.HeardAt;
}

/// <summary>A conversation opened at one message (a search result): a page of the branch through it.</summary>
/// <param name="FocusId">The message to show and highlight; null when it no longer exists (the newest page is shown).</param>
/// <param name="IsLatest">The page is the conversation's newest page (the usual view, live). When false it is an earlier
/// window, or another branch, ending a few messages below the focus.</param>
public sealed record ConversationWindow(ConversationView View, Guid? FocusId, bool IsLatest);

public sealed record CheckpointView(Guid Id, string Name, Guid MessageId, DateTimeOffset CreatedAt);
