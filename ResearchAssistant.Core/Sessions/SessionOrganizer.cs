using Microsoft.EntityFrameworkCore;
using ResearchAssistant.Core.Chat;
using ResearchAssistant.Core.Data;
using ResearchAssistant.Core.Sync;

namespace ResearchAssistant.Core.Sessions;

/// <summary>The sidebar's view of a user's conversations: listing, renaming, pinning, archiving, deleting.</summary>
public sealed class SessionOrganizer(IDbContextFactory<AppDbContext> contexts, TurnRunner turns, SessionBus bus, ChatLimits limits, Privacy.ContentProtector protector, TimeProvider clock)
{
    public const int MaxListed = 200;

    /// <summary>Every tab's sidebar re-reads the list on the same hint: concurrent identical reads are shared.</summary>
    private readonly SharedReads<(string UserId, bool Archived), IReadOnlyList<SessionListItem>> _listReads = new();

    /// <summary>
    /// Pinned first, then by latest activity. Archived conversations are listed only when asked for. Read after the
    /// call began; concurrent identical calls share one read.
    /// </summary>
    public Task<IReadOnlyList<SessionListItem>> ListAsync(string userId, bool archived = false, CancellationToken ct = default) =>
        _listReads.ReadAsync((userId, archived), token => ReadListAsync(userId, archived, token), ct);

    /// <summary>
    /// Like <see cref="ListAsync(string, bool, CancellationToken)"/>, for a sidebar answering <paramref name="hint"/>:
    /// read after the hint was heard, so a read another tab began after it is shared as it runs.
    /// </summary>
    public Task<IReadOnlyList<SessionListItem>> ListAsync(string userId, bool archived, SessionChange hint, CancellationToken ct = default) =>
        _listReads.ReadAsync((userId, archived), token => ReadListAsync(userId, archived, token), hint.HeardAt, ct);

    private async Task<IReadOnlyList<SessionListItem>> ReadListAsync(string userId, bool archived, CancellationToken ct)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var rows = await db.ChatSessions.AsNoTracking()
            .Where(s => s.OwnerId == userId && s.IsArchived == archived)
            .OrderByDescending(s => s.IsPinned).ThenByDescending(s => s.LastActivityAt)
            .Take(MaxListed)
            .Select(s => new { s.Id, s.TitleCipher, s.LastActivityAt, s.IsPinned, s.IsArchived })
            .ToListAsync(ct);
        var cipher = await protector.ForUserAsync(userId, ct);
        return rows.Select(s => new SessionListItem(s.Id, cipher.Decrypt(s.TitleCipher), s.LastActivityAt, s.IsPinned, s.IsArchived)).ToList();
    }

    /// <summary>
    /// Notes that the owner has the conversation open (on any device), so that opening the app later lands on it.
    /// Not activity: it does not move the conversation in the sidebar. Another user's session id changes nothing.
    /// </summary>
    public async Task MarkOpenedAsync(string userId, Guid sessionId, CancellationToken ct = default)
    {
        var now = clock.GetUtcNow();
        await using var db = await contexts.CreateDbContextAsync(ct);
        await using var tx = await db.BeginWriteTransactionAsync(ct);
        await db.ChatSessions.Where(s => s.Id == sessionId && s.OwnerId == userId)
            .ExecuteUpdateAsync(u => u.SetProperty(s => s.LastOpenedAt, now), ct);
        await tx.CommitAsync(ct);
    }

    /// <summary>The conversation the user was last in (not archived), where the app resumes; null if there is none.</summary>
    public async Task<Guid?> FindResumeTargetAsync(string userId, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var latest = await db.ChatSessions.AsNoTracking()
            .Where(s => s.OwnerId == userId && !s.IsArchived)
            .OrderByDescending(s => s.LastOpenedAt)
            .Select(s => (Guid?)s.Id)
            .FirstOrDefaultAsync(ct);
        return latest;
    }

    public async Task RenameAsync(string userId, Guid sessionId, string title, CancellationToken ct = default)
    {
        var trimmed = (title ?? "").Trim();
        if (trimmed.Length == 0)
        {
            throw new ChatInputException("A conversation needs a name.");
        }
        if (trimmed.Length > limits.TitleLength * 2)
        {
            throw new ChatInputException($"The name is {trimmed.Length} characters long; the limit is {limits.TitleLength * 2}.");
        }
        var sealedTitle = (await protector.ForUserAsync(userId, ct)).Encrypt(trimmed);
        await UpdateAsync(userId, sessionId, "renamed",
            u => u.SetProperty(s => s.TitleCipher, sealedTitle).SetProperty(s => s.TitleIsProvisional, false), ct);
    }

    public Task SetPinnedAsync(string userId, Guid sessionId, bool pinned, CancellationToken ct = default) =>
        UpdateAsync(userId, sessionId, pinned ? "pinned" : "unpinned", u => u.SetProperty(s => s.IsPinned, pinned), ct);

    public Task SetArchivedAsync(string userId, Guid sessionId, bool archived, CancellationToken ct = default) =>
        UpdateAsync(userId, sessionId, archived ? "archived" : "unarchived", u => u.SetProperty(s => s.IsArchived, archived), ct);

    /// <summary>Deletes the conversation and every row of it for good (events, checkpoints, search postings). There is no undo.</summary>
    public async Task DeleteAsync(string userId, Guid sessionId, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        await using var tx = await db.BeginWriteTransactionAsync(ct);
        var session = await SessionAccess.RequireOwnedAsync(db, userId, sessionId, ct);
        if (session.LegalHold)
        {
            throw new ChatInputException("This conversation is under a legal hold and cannot be deleted.");
        }
        turns.Stop(sessionId);
        // The session row first, as every writer of the session takes it first: taking the event rows (below) before
        // it could deadlock with an answer being sealed.
        await SessionLog.LockSessionAsync(db, sessionId, ct);
        // Explicit deletes rather than relying on cascades: the rows must go whatever the provider's FK settings.
        await Search.SearchIndexer.RemoveSessionAsync(db, userId, sessionId, ct);
        await db.Checkpoints.Where(c => c.SessionId == sessionId).ExecuteDeleteAsync(ct);
        await db.Set<PresenceEntry>().Where(p => p.SessionId == sessionId).ExecuteDeleteAsync(ct);
        await db.Set<Context.Summary>().Where(s => s.SessionId == sessionId).ExecuteDeleteAsync(ct);
        await db.SessionEvents.Where(e => e.SessionId == sessionId).ExecuteDeleteAsync(ct);
        await db.ChatSessions.Where(s => s.Id == sessionId).ExecuteDeleteAsync(ct);
        await tx.CommitAsync(ct);
        bus.Publish(new SessionChange(userId, sessionId, SessionChangeKind.Deleted));
    }

    private async Task UpdateAsync(string userId, Guid sessionId, string what,
        Action<Microsoft.EntityFrameworkCore.Query.UpdateSettersBuilder<ChatSession>> setters, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        await using var db = await contexts.CreateDbContextAsync(ct);
        await using var tx = await db.BeginWriteTransactionAsync(ct);
        await SessionAccess.RequireOwnedAsync(db, userId, sessionId, ct);
        await db.ChatSessions.Where(s => s.Id == sessionId).ExecuteUpdateAsync(u =>
        {
            setters(u);
            u.SetProperty(s => s.Version, Guid.NewGuid());
        }, ct);
        // The log records what kind of change it was; the new title itself lives (encrypted) on the session only.
        var cipher = await protector.ForUserAsync(userId, ct);
        // Not activity: renaming, pinning or archiving must not move the conversation to the top of the sidebar.
        await SessionLog.AppendStateAsync(db, sessionId, EventKind.SessionUpdated, userId, null, cipher.Encrypt(what), now, ct, isActivity: false);
        await tx.CommitAsync(ct);
        bus.Publish(new SessionChange(userId, sessionId, SessionChangeKind.Changed));
    }
}
