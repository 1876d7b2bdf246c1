using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using ResearchAssistant.Core.Chat;
using ResearchAssistant.Core.Sessions;

namespace ResearchAssistant.Core.Data;

/// <summary>Brings the database to the current schema and repairs what a crash can leave behind.</summary>
/// <param name="turnLock">
/// The session turn lock (null: none, as when nothing else can be running). With several instances on one database,
/// an answer still streaming at start-up may be one another instance is writing right now; only those whose turn
/// nobody holds were cut off.
/// </param>
public sealed class DatabaseInitializer(
    IDbContextFactory<AppDbContext> contexts,
    Privacy.ContentProtector protector,
    ILogger<DatabaseInitializer> logger,
    ISessionTurnLock? turnLock = null)
{
    /// <summary>
    /// A database whose schema history this build does not know (made by another build, e.g. a pre-release one whose
    /// Initial migration has since been regenerated) would otherwise fail deep inside a migration with "table already
    /// exists": say what is wrong and what to do instead, before touching it.
    /// </summary>
    private static async Task RefuseUnknownSchemaAsync(AppDbContext db, CancellationToken ct)
    {
        var known = db.Database.GetMigrations().ToHashSet(StringComparer.Ordinal);
        var unknown = (await db.Database.GetAppliedMigrationsAsync(ct)).Where(m => !known.Contains(m)).ToList();
        if (unknown.Count > 0)
        {
            throw new InvalidOperationException(
                $"The database was created by another build of ResearchAssistant (its schema history has {string.Join(", ", unknown)}, " +
                "which this build does not know), so it cannot be upgraded. Point the app at a new database (Database settings or " +
                "DataDirectory), or, for a pre-release database without data worth keeping, delete it and start again.");
        }
    }

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        await RefuseUnknownSchemaAsync(db, cancellationToken);
        await db.Database.MigrateAsync(cancellationToken);

        if (db.Database.IsSqlite())
        {
            // WAL lets the circuits read while an answer is being written; the mode is stored in the file.
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
        }

        // Before anything reads content: a wrong master key must stop the app, not show garbage.
        await protector.VerifyMasterKeyAsync(cancellationToken);

        // An answer still marked streaming was cut off by a crash or a kill: its last flush is all there is.
        var cutOff = await db.SessionEvents.Where(e => e.Status == EventStatus.Streaming).Select(e => e.SessionId).Distinct().ToListAsync(cancellationToken);
        var sealedCount = 0;
        foreach (var sessionId in cutOff)
        {
            await using var turn = turnLock is null ? null : await turnLock.TryAcquireAsync(sessionId, cancellationToken);
            if (turnLock is not null && turn is null)
            {
                continue; // another instance is writing it
            }
            await using var tx = await db.BeginWriteTransactionAsync(cancellationToken);
            await SessionLog.LockSessionAsync(db, sessionId, cancellationToken);
            sealedCount += await db.SessionEvents
                .Where(e => e.SessionId == sessionId && e.Status == EventStatus.Streaming)
                .ExecuteUpdateAsync(u => u
                    .SetProperty(e => e.Status, EventStatus.Interrupted)
                    .SetProperty(e => e.FailureReason, TurnRunner.InterruptedReason),
                    cancellationToken);
            await SessionChain.AdvanceAsync(db, sessionId, cancellationToken);
            await tx.CommitAsync(cancellationToken);
        }
        if (sealedCount > 0)
        {
            logger.LogWarning("Sealed {Count} answer(s) left streaming by an unclean shutdown as interrupted", sealedCount);
        }
    }
}
