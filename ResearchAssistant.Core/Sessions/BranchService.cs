using Microsoft.EntityFrameworkCore;
using ResearchAssistant.Core.Data;
using ResearchAssistant.Core.Sync;

namespace ResearchAssistant.Core.Sessions;

/// <summary>
/// Moving around the message tree without losing anything: showing another version of a message, rewinding,
/// checkpoints. Each move sets the active leaf and is recorded as an event in the log.
/// </summary>
public sealed class BranchService(IDbContextFactory<AppDbContext> contexts, SessionBus bus, Privacy.ContentProtector protector, TimeProvider clock)
{
    public const int MaxCheckpointNameLength = 120;

    /// <summary>Shows version <paramref name="messageId"/> of a message, and the newest branch below it.</summary>
    public Task SwitchToVersionAsync(string userId, Guid sessionId, Guid messageId, CancellationToken ct = default) =>
        MoveLeafAsync(userId, sessionId, messageId, EventKind.VersionSwitched, followNewestBelow: true, ct);

    /// <summary>Makes <paramref name="messageId"/> the end of the active branch; what followed stays in the tree.</summary>
    public Task RewindAsync(string userId, Guid sessionId, Guid messageId, CancellationToken ct = default) =>
        MoveLeafAsync(userId, sessionId, messageId, EventKind.Rewound, followNewestBelow: false, ct);

    public async Task<CheckpointView> SaveCheckpointAsync(string userId, Guid sessionId, Guid messageId, string name, CancellationToken ct = default)
    {
        var trimmed = (name ?? "").Trim();
        if (trimmed.Length == 0)
        {
            throw new Chat.ChatInputException("Give the checkpoint a name.");
        }
        if (trimmed.Length > MaxCheckpointNameLength)
        {
            throw new Chat.ChatInputException($"The name is {trimmed.Length} characters long; the limit is {MaxCheckpointNameLength}.");
        }

        var now = clock.GetUtcNow();
        var cipher = await protector.ForUserAsync(userId, ct);
        await using var db = await contexts.CreateDbContextAsync(ct);
        await using var tx = await db.BeginWriteTransactionAsync(ct);
        await SessionAccess.RequireOwnedAsync(db, userId, sessionId, ct);
        await SessionAccess.RequireMessageAsync(db, sessionId, messageId, ct);
        var checkpoint = new Checkpoint { Id = Guid.CreateVersion7(now), SessionId = sessionId, MessageId = messageId, NameCipher = cipher.Encrypt(trimmed), CreatedAt = now };
        db.Checkpoints.Add(checkpoint);
        await db.SaveChangesAsync(ct);
        await SessionLog.AppendStateAsync(db, sessionId, EventKind.CheckpointSaved, userId, messageId, cipher.Encrypt(checkpoint.Id.ToString()), now, ct);
        await tx.CommitAsync(ct);
        bus.Publish(new SessionChange(userId, sessionId, SessionChangeKind.Changed));
        return new CheckpointView(checkpoint.Id, trimmed, messageId, now);
    }

    /// <summary>Every tab's checkpoint list re-reads on the same hint: concurrent identical reads are shared.</summary>
    private readonly Sync.SharedReads<(string UserId, Guid SessionId), IReadOnlyList<CheckpointView>> _checkpointReads = new();

    /// <summary>The session's checkpoints, newest first. Read after the call began; concurrent identical calls share one read.</summary>
    public Task<IReadOnlyList<CheckpointView>> ListCheckpointsAsync(string userId, Guid sessionId, CancellationToken ct = default) =>
        _checkpointReads.ReadAsync((userId, sessionId), token => ReadCheckpointsAsync(userId, sessionId, token), ct);

    private async Task<IReadOnlyList<CheckpointView>> ReadCheckpointsAsync(string userId, Guid sessionId, CancellationToken ct)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        await SessionAccess.RequireOwnedAsync(db, userId, sessionId, ct);
        var cipher = await protector.ForUserAsync(userId, ct);
        var rows = await db.Checkpoints.AsNoTracking()
            .Where(c => c.SessionId == sessionId)
            .OrderByDescending(c => c.CreatedAt)
            .ToListAsync(ct);
        return rows.Select(c => new CheckpointView(c.Id, cipher.Decrypt(c.NameCipher), c.MessageId, c.CreatedAt)).ToList();
    }

    /// <summary>Continues from a checkpoint: its message becomes the end of the active branch, so the next message starts a new branch there.</summary>
    public async Task ResumeFromCheckpointAsync(string userId, Guid sessionId, Guid checkpointId, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        await SessionAccess.RequireOwnedAsync(db, userId, sessionId, ct);
        var messageId = await db.Checkpoints.AsNoTracking()
            .Where(c => c.Id == checkpointId && c.SessionId == sessionId)
            .Select(c => (Guid?)c.MessageId)
            .FirstOrDefaultAsync(ct) ?? throw new SessionNotFoundException();
        await MoveLeafAsync(userId, sessionId, messageId, EventKind.ResumedFromCheckpoint, followNewestBelow: false, ct);
    }

    /// <summary>Checks the session's hash chain: every final event must match its hash and its predecessor's.</summary>
    public async Task<ChainVerification> VerifyHistoryAsync(string userId, Guid sessionId, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        await SessionAccess.RequireOwnedAsync(db, userId, sessionId, ct);
        return await SessionChain.VerifyAsync(db, sessionId, ct);
    }

    private async Task MoveLeafAsync(string userId, Guid sessionId, Guid messageId, EventKind kind, bool followNewestBelow, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        await using var db = await contexts.CreateDbContextAsync(ct);
        await using var tx = await db.BeginWriteTransactionAsync(ct);
        var session = await SessionAccess.RequireOwnedAsync(db, userId, sessionId, ct);
        await SessionAccess.RequireMessageAsync(db, sessionId, messageId, ct);
        var leaf = followNewestBelow ? await BranchReader.LatestLeafBelowAsync(db, sessionId, messageId, ct) : messageId;
        var moved = await SessionLog.AppendStateAsync(db, sessionId, kind, userId, leaf, [], now, ct);
        await db.SessionEvents.Where(e => e.Id == moved.Id).ExecuteUpdateAsync(u => u.SetProperty(e => e.PreviousLeafId, session.ActiveLeafId), ct);
        await SessionLog.SetActiveLeafAsync(db, sessionId, leaf, ct);
        await tx.CommitAsync(ct);
        bus.Publish(new SessionChange(userId, sessionId, SessionChangeKind.Changed, leaf));
    }
}
