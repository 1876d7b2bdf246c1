using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.EntityFrameworkCore;
using ResearchAssistant.Core.Data;
using ResearchAssistant.Core.Privacy;

namespace ResearchAssistant.Core.Search;

/// <summary>
/// Writes and removes a user's postings. Callers own the context and the transaction, so a message and its postings
/// are committed together: nothing is ever stored unsearchable, or searchable but not stored.
/// </summary>
internal static class SearchIndexer
{
    private const int RowsPerInsert = 500;

    /// <summary>
    /// Indexes one message: its terms, hashed with the user's search key, and the counts BM25 needs. Two statements
    /// (three for a user's first message), whatever the message's length.
    /// </summary>
    public static async Task IndexAsync(AppDbContext db, string userId, UserCipher cipher, Guid sessionId, Guid eventId, string text, CancellationToken ct)
    {
        var terms = SearchTerms.Terms(text);
        var frequencies = new Dictionary<long, int>(terms.Count);
        foreach (var term in terms)
        {
            var hash = cipher.HashTerm(term);
            frequencies[hash] = frequencies.GetValueOrDefault(hash) + 1;
        }
        var length = terms.Count;
        var (indexId, number) = await NextDocumentAsync(db, userId, length, ct);

        // The postings are all integers computed here, so they are written as literals (one statement instead of five
        // parameters per row); the ids and the user's data go in as parameters.
        var sql = new StringBuilder("""INSERT INTO "SearchDocuments" ("IndexId", "Number", "EventId", "SessionId", "Length") VALUES ({0}, {1}, {2}, {3}, {4})""");
        var row = 0;
        foreach (var (hash, frequency) in frequencies)
        {
            sql.Append(row % RowsPerInsert == 0
                ? """; INSERT INTO "SearchPostings" ("IndexId", "DocumentNumber", "TermHash", "TermFrequency", "DocumentLength", "ImpactKey") VALUES """
                : ", ");
            sql.Append(CultureInfo.InvariantCulture, $"({indexId}, {number}, {hash}, {frequency}, {length}, {Bm25.ImpactKey(frequency, length)})");
            row++;
        }
        await db.Database.ExecuteSqlAsync(FormattableStringFactory.Create(sql.ToString(), indexId, number, eventId, sessionId, length), ct);
    }

    /// <summary>Removes a conversation's documents and postings, and takes them out of the user's statistics.</summary>
    public static async Task RemoveSessionAsync(AppDbContext db, string userId, Guid sessionId, CancellationToken ct)
    {
        var indexId = await db.SearchIndexes.Where(i => i.UserId == userId).Select(i => (int?)i.Id).FirstOrDefaultAsync(ct);
        if (indexId is not { } ix)
        {
            return;
        }
        await db.SearchPostings
            .Where(p => p.IndexId == ix && db.SearchDocuments.Any(d => d.IndexId == ix && d.Number == p.DocumentNumber && d.SessionId == sessionId))
            .ExecuteDeleteAsync(ct);
        // RETURNING gives exactly what was deleted, so the statistics stay exact even if a document was added meanwhile.
        var lengths = await db.Database.SqlQuery<int>($"""
            DELETE FROM "SearchDocuments" WHERE "IndexId" = {ix} AND "SessionId" = {sessionId} RETURNING "Length" AS "Value"
            """).ToListAsync(ct);
        if (lengths.Count == 0)
        {
            return;
        }
        long count = lengths.Count;
        var total = lengths.Sum(l => (long)l);
        await db.SearchIndexes.Where(i => i.Id == ix).ExecuteUpdateAsync(u => u
            .SetProperty(i => i.DocumentCount, i => i.DocumentCount - count)
            .SetProperty(i => i.TotalLength, i => i.TotalLength - total), ct);
    }

    /// <summary>
    /// Numbers the next document and adds it to the statistics in one statement, which also holds the user's index
    /// row until commit (PostgreSQL), so concurrent indexing never hands out the same number.
    /// </summary>
    private static async Task<(int IndexId, long Number)> NextDocumentAsync(AppDbContext db, string userId, int length, CancellationToken ct)
    {
        for (var attempt = 0; ; attempt++)
        {
            var slots = await db.Database.SqlQuery<DocumentSlot>($"""
                UPDATE "SearchIndexes"
                SET "DocumentCount" = "DocumentCount" + 1, "TotalLength" = "TotalLength" + {length}, "LastDocumentNumber" = "LastDocumentNumber" + 1
                WHERE "UserId" = {userId}
                RETURNING "Id", "LastDocumentNumber"
                """).ToListAsync(ct);
            if (slots.Count == 1)
            {
                return (slots[0].Id, slots[0].LastDocumentNumber);
            }
            if (attempt > 0)
            {
                throw new InvalidOperationException("The user's search index could not be created.");
            }
            // The user's first indexed message. DO NOTHING: a concurrent first message may have created it already.
            await db.Database.ExecuteSqlAsync($"""
                INSERT INTO "SearchIndexes" ("UserId", "DocumentCount", "TotalLength", "LastDocumentNumber") VALUES ({userId}, 0, 0, 0)
                ON CONFLICT ("UserId") DO NOTHING
                """, ct);
        }
    }

    private sealed class DocumentSlot
    {
        public int Id { get; set; }
        public long LastDocumentNumber { get; set; }
    }
}
