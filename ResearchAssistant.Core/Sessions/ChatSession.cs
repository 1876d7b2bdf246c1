namespace ResearchAssistant.Core.Sessions;

/// <summary>
/// A durable conversation. The visible conversation is a projection of its <see cref="SessionEvent"/> log;
/// this row only holds what must be read without scanning the log.
/// </summary>
public sealed class ChatSession
{
    public Guid Id { get; set; }
    public required string OwnerId { get; set; }
    /// <summary>The title, encrypted with the owner's data key.</summary>
    public required byte[] TitleCipher { get; set; }
    /// <summary>True until a better title than the first message's opening words exists.</summary>
    public bool TitleIsProvisional { get; set; } = true;
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset LastActivityAt { get; set; }
    /// <summary>When the owner last opened it on any device: opening the app resumes the latest.</summary>
    public DateTimeOffset LastOpenedAt { get; set; }
    /// <summary>The last Seq handed out. Incremented in the same transaction as the insert, so Seq stays gap-free.</summary>
    public long LastSeq { get; set; }
    /// <summary>The leaf message of the active branch (null while the session has no message).</summary>
    public Guid? ActiveLeafId { get; set; }
    public bool IsArchived { get; set; }
    public bool IsPinned { get; set; }
    public bool LegalHold { get; set; }
    /// <summary>Optimistic concurrency token, renewed by every update of this row.</summary>
    public Guid Version { get; set; }
}
