using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using ResearchAssistant.Core.Data;
using ResearchAssistant.Core.Privacy;
using ResearchAssistant.Core.Sessions;

namespace ResearchAssistant.Core.Search;

/// <summary>
/// Indexes, in the background after start-up, the messages nothing indexed when they became final: answers a crash
/// left streaming (sealed as interrupted at start-up, outside any turn) and messages stored before search existed.
/// Everything else is indexed in the transaction that stores or seals it, so this usually finds nothing.
/// </summary>
public sealed class SearchBackfill(IDbContextFactory<AppDbContext> contexts, ContentProtector protector, SearchMerger merger, ILogger<SearchBackfill> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            var indexed = await RunAsync(stoppingToken);
            if (indexed > 0)
            {
                logger.LogInformation("Search: indexed {Count} message(s) that were not indexed yet", indexed);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            // Search then misses those messages until the next start; the app itself is unaffected.
            logger.LogWarning(ex, "Search: indexing messages left unindexed failed");
        }
    }

    /// <summary>Indexes every final message that has no search document; returns how many it indexed.</summary>
    public async Task<int> RunAsync(CancellationToken ct)
    {
        List<Pending> pending;
        await using (var db = await contexts.CreateDbContextAsync(ct))
        {
            // One pass over the events (ids only), then the texts one at a time: cost is linear in the backlog.
            pending = await db.SessionEvents.AsNoTracking()
                .Where(e => (e.Kind == EventKind.UserMessage && e.Status != EventStatus.Failed)
                            || (e.Kind == EventKind.AssistantMessage
                                && (e.Status == EventStatus.Complete || e.Status == EventStatus.Stopped || e.Status == EventStatus.Interrupted)))
                .Where(e => !db.SearchDocuments.Any(d => d.EventId == e.Id))
                .Join(db.ChatSessions, e => e.SessionId, s => s.Id, (e, s) => new Pending(e.Id, e.SessionId, s.OwnerId))
                .ToListAsync(ct);
        }
        var indexed = 0;
        foreach (var item in pending)
        {
            if (await IndexOneAsync(item, ct))
            {
                indexed++;
            }
        }
        return indexed;
    }

    private async Task<bool> IndexOneAsync(Pending item, CancellationToken ct)
    {
        var cipher = await protector.ForUserAsync(item.OwnerId, ct);
        await using var db = await contexts.CreateDbContextAsync(ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var content = await db.SessionEvents.AsNoTracking().Where(e => e.Id == item.EventId).Select(e => e.ContentCipher).FirstOrDefaultAsync(ct);
        if (content is null || await db.SearchDocuments.AnyAsync(d => d.EventId == item.EventId, ct))
        {
            return false;
        }
        try
        {
            await SearchIndexer.IndexAsync(db, item.OwnerId, cipher, item.SessionId, item.EventId, cipher.Decrypt(content), ct);
            await tx.CommitAsync(ct);
            merger.Nudge();
            return true;
        }
        catch (Exception ex) when (IsConflict(ex))
        {
            // Another instance indexed it, or its conversation was deleted meanwhile: nothing left to do.
            return false;
        }
    }

    private static bool IsConflict(Exception ex) => ex switch
    {
        SqliteException { SqliteErrorCode: 19 } => true, // SQLITE_CONSTRAINT: unique or foreign key
        PostgresException { SqlState: PostgresErrorCodes.UniqueViolation or PostgresErrorCodes.ForeignKeyViolation } => true,
        DbUpdateException { InnerException: { } inner } => IsConflict(inner),
        _ => false,
    };

    private sealed record Pending(Guid EventId, Guid SessionId, string OwnerId);
}
