using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ResearchAssistant.Core.Data;

namespace ResearchAssistant.Core.Search;

/// <summary>
/// Moves the terms of newly indexed messages (<see cref="SearchUnmergedTerms"/>) into the postings, in the
/// background and in batches, so that storing a message writes one document row rather than a posting per term.
/// Search scores the unmerged documents from their rows meanwhile, so nothing waits for this to be findable.
/// Nudged after every commit that indexed something; also sweeps now and then, for documents another instance
/// indexed and did not get to merge (it stopped, say), and once at start-up.
/// </summary>
public sealed class SearchMerger(IDbContextFactory<AppDbContext> contexts, ILogger<SearchMerger> logger) : BackgroundService
{
    /// <summary>
    /// Documents per merge transaction: a few hundred postings. On SQLite, 32 documents' postings overflowed the
    /// connection's page cache and cost more per message than 8 (2.7 against 1.8 ms); PostgreSQL gains little beyond.
    /// </summary>
    internal const int BatchDocuments = 8;
    private static readonly TimeSpan Sweep = TimeSpan.FromSeconds(30);
    /// <summary>
    /// How long a nudge waits before merging. A commit is followed at once by every open tab re-reading and rendering
    /// the conversation (live sync, milliseconds): merging right then competed with that for the CPU and the database.
    /// Waiting also lets the messages committed meanwhile be merged in one transaction.
    /// </summary>
    private static readonly TimeSpan AfterNudge = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan AfterFailure = TimeSpan.FromSeconds(5);

    private readonly SemaphoreSlim _nudged = new(0, 1);

    /// <summary>Something was indexed and committed: merge it soon. Never blocks.</summary>
    public void Nudge()
    {
        // At most one nudge is kept: the merge it starts takes everything committed by then.
        if (_nudged.CurrentCount == 0)
        {
            try
            {
                _nudged.Release();
            }
            catch (SemaphoreFullException)
            {
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await MergeAllAsync(stoppingToken);
                if (await _nudged.WaitAsync(Sweep, stoppingToken))
                {
                    await Task.Delay(AfterNudge, stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // Unmerged documents stay searchable (scored from their rows); the next attempt picks them up.
                logger.LogWarning(ex, "Search: merging newly indexed messages into the index failed; retrying");
                try
                {
                    await Task.Delay(AfterFailure, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>Merges batches until no unmerged document is left (that this instance can take); returns how many.</summary>
    public async Task<int> MergeAllAsync(CancellationToken ct)
    {
        var merged = 0;
        while (true)
        {
            await using var db = await contexts.CreateDbContextAsync(ct);
            var batch = await MergeBatchAsync(db, BatchDocuments, ct);
            merged += batch;
            if (batch < BatchDocuments)
            {
                return merged;
            }
        }
    }

    /// <summary>
    /// One transaction: takes up to <paramref name="documents"/> unmerged documents (oldest first; on PostgreSQL
    /// skipping those another merger or a deletion holds) and deletes their terms' rows, then writes their postings
    /// ordered by index and term. Two prepared statements on PostgreSQL. Returns how many documents it merged.
    /// </summary>
    internal static async Task<int> MergeBatchAsync(AppDbContext db, int documents, CancellationToken ct)
    {
        await using var tx = await db.BeginWriteTransactionAsync(ct);
        var taken = db.Database.IsSqlite() ? await TakeSqliteAsync(db, documents, ct) : await TakePostgresAsync(db, documents, ct);
        if (taken.Count == 0)
        {
            return 0;
        }
        var postings = taken
            .SelectMany(d => UnmergedTerms.Unpack(d.Terms).Select(t => new SearchPosting
            {
                IndexId = d.IndexId, DocumentNumber = d.Number, TermHash = t.Hash, TermFrequency = t.Frequency,
                DocumentLength = d.Length, ImpactKey = Bm25.ImpactKey(t.Frequency, d.Length),
            }))
            .OrderBy(p => p.IndexId).ThenBy(p => p.TermHash).ThenBy(p => p.DocumentNumber)
            .ToList();
        await SearchIndexer.WritePostingsAsync(db, postings, ct);
        await tx.CommitAsync(ct);
        return taken.Count;
    }

    /// <summary>Locks and deletes a batch of rows in one statement, returning their terms and documents' lengths.</summary>
    private static Task<List<Taken>> TakePostgresAsync(AppDbContext db, int documents, CancellationToken ct) =>
        RawSql.QueryAsync(db, """
            DELETE FROM "SearchUnmergedTerms" u
            USING (SELECT "IndexId", "Number" FROM "SearchUnmergedTerms"
                   ORDER BY "IndexId", "Number"
                   LIMIT @p0 FOR UPDATE SKIP LOCKED) t, "SearchDocuments" d
            WHERE u."IndexId" = t."IndexId" AND u."Number" = t."Number" AND d."IndexId" = u."IndexId" AND d."Number" = u."Number"
            RETURNING u."IndexId", u."Number", d."Length", u."Terms"
            """, [documents], Read, ct, prepare: true);

    /// <summary>SQLite has one writer at a time (this transaction, now): read the batch, then delete it.</summary>
    private static async Task<List<Taken>> TakeSqliteAsync(AppDbContext db, int documents, CancellationToken ct)
    {
        var taken = await RawSql.QueryAsync(db, """
            SELECT u."IndexId", u."Number", d."Length", u."Terms"
            FROM "SearchUnmergedTerms" u JOIN "SearchDocuments" d ON d."IndexId" = u."IndexId" AND d."Number" = u."Number"
            ORDER BY u."IndexId", u."Number"
            LIMIT @p0
            """, [documents], Read, ct);
        await RawSql.ExecuteEachAsync(db, """
            DELETE FROM "SearchUnmergedTerms" WHERE "IndexId" = @p0 AND "Number" = @p1
            """, taken.Select(d => new object[] { d.IndexId, d.Number }).ToList(), ct);
        return taken;
    }

    private static Taken Read(System.Data.Common.DbDataReader r) => new(r.GetInt32(0), r.GetInt64(1), r.GetInt32(2), (byte[])r.GetValue(3));

    private sealed record Taken(int IndexId, long Number, int Length, byte[] Terms);
}
