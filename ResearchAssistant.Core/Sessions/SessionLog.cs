using Microsoft.EntityFrameworkCore;
using ResearchAssistant.Core.Data;

namespace ResearchAssistant.Core.Sessions;

/// <summary>Low-level writes to a session's event log. Callers own the context and the transaction.</summary>
internal static class SessionLog
{
    /// <summary>
    /// Takes the next Seq of a session in one statement that also locks the session row (PostgreSQL) or runs under
    /// the write lock (SQLite), so concurrent appends never get the same Seq, and a rolled-back append leaves no gap.
    /// Returns null when the session does not exist.
    /// </summary>
    public static async Task<long?> NextSeqAsync(AppDbContext db, Guid sessionId, CancellationToken ct)
    {
        var seqs = await db.Database
            .SqlQuery<long>($"""UPDATE "ChatSessions" SET "LastSeq" = "LastSeq" + 1 WHERE "Id" = {sessionId} RETURNING "LastSeq" AS "Value" """)
            .ToListAsync(ct);
        return seqs.Count == 0 ? null : seqs[0];
    }

    /// <summary>
    /// Appends an event at the next Seq and records the activity on the session (which orders the sidebar), unless
    /// <paramref name="isActivity"/> is false: organizing a conversation (rename, pin, archive) is not working in it.
    /// A message with its place in the tree gets its depth and jump pointer (<see cref="MessageTree"/>): from
    /// <paramref name="place"/> when the caller computed it, else from its parent, read here.
    /// </summary>
    public static async Task<SessionEvent> AppendAsync(AppDbContext db, SessionEvent evt, DateTimeOffset now, CancellationToken ct, bool isActivity = true, TreePlace? place = null)
    {
        if (evt.Kind.IsMessage() && evt.Status != EventStatus.Queued)
        {
            var placed = place ?? await PlaceBelowAsync(db, evt.ParentId, ct);
            (evt.Depth, evt.JumpId) = (placed.Depth, placed.JumpId);
        }
        evt.Seq = await NextSeqAsync(db, evt.SessionId, ct)
            ?? throw new SessionNotFoundException();
        evt.CreatedAt = now;
        db.SessionEvents.Add(evt);
        await db.SaveChangesAsync(ct);
        await db.ChatSessions.Where(s => s.Id == evt.SessionId)
            .ExecuteUpdateAsync(u =>
            {
                u.SetProperty(s => s.Version, Guid.NewGuid());
                if (isActivity)
                {
                    u.SetProperty(s => s.LastActivityAt, now);
                }
            }, ct);
        // The Seq update above holds the session row, so no other writer advances the chain concurrently. A queued
        // question or a streaming answer cannot extend the chain (it stops there), so those appends skip the walk.
        if (evt.Status is not (EventStatus.Queued or EventStatus.Streaming))
        {
            await SessionChain.AdvanceAsync(db, evt.SessionId, ct);
        }
        return evt;
    }

    /// <summary>The place of a new child of <paramref name="parentId"/> (null: a first message).</summary>
    public static async Task<TreePlace> PlaceBelowAsync(AppDbContext db, Guid? parentId, CancellationToken ct)
    {
        if (parentId is not { } id)
        {
            return TreePlace.Root;
        }
        var parent = await MessageTree.ReadAsync(db, id, ct)
            ?? throw new InvalidOperationException("A message's parent is missing from the log.");
        return parent.Child();
    }

    /// <summary>Records a change of state (version switch, rewind, checkpoint, rename...) in the log.</summary>
    public static Task<SessionEvent> AppendStateAsync(AppDbContext db, Guid sessionId, EventKind kind, string author, Guid? targetId, byte[] contentCipher, DateTimeOffset now, CancellationToken ct, bool isActivity = true) =>
        AppendAsync(db, new SessionEvent
        {
            Id = Guid.CreateVersion7(now),
            SessionId = sessionId,
            Kind = kind,
            Author = author,
            TargetId = targetId,
            ContentCipher = contentCipher,
            Status = EventStatus.Complete,
        }, now, ct, isActivity);

    /// <summary>Takes the session row's lock (PostgreSQL) or the write lock (SQLite) for the rest of the transaction.</summary>
    public static Task LockSessionAsync(AppDbContext db, Guid sessionId, CancellationToken ct) =>
        db.ChatSessions.Where(s => s.Id == sessionId).ExecuteUpdateAsync(u => u.SetProperty(s => s.Version, Guid.NewGuid()), ct);

    public static Task SetActiveLeafAsync(AppDbContext db, Guid sessionId, Guid leafId, CancellationToken ct) =>
        db.ChatSessions.Where(s => s.Id == sessionId)
            .ExecuteUpdateAsync(u => u.SetProperty(s => s.ActiveLeafId, leafId).SetProperty(s => s.Version, Guid.NewGuid()), ct);
}

/// <summary>The session does not exist or belongs to someone else; the two are deliberately indistinguishable.</summary>
public sealed class SessionNotFoundException() : Exception("Not found");
