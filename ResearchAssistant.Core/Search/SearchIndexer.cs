using Microsoft.EntityFrameworkCore;
using ResearchAssistant.Core.Data;
using ResearchAssistant.Core.Privacy;

namespace ResearchAssistant.Core.Search;

/// <summary>
/// Writes and removes a user's search documents and postings. Callers own the context and the transaction, so a message
/// and its document are committed together: nothing is ever stored unsearchable, or searchable but not stored.
/// </summary>
internal static class SearchIndexer
{
    /// <summary>
    /// Indexes one message: its document, its terms hashed with the user's search key in one row
    /// (<see cref="SearchUnmergedTerms"/>), and the counts BM25 needs. <see cref="SearchMerger"/> moves the
    /// terms into the postings afterwards, in the background and in batches: a long answer has over a hundred distinct
    /// terms, and a posting each, in two B-trees, was most of what storing a message cost. One command on PostgreSQL
    /// (one more for a user's first message). The caller nudges the merger once its transaction has committed.
    /// </summary>
    public static async Task IndexAsync(AppDbContext db, string userId, UserCipher cipher, Guid sessionId, Guid eventId, string text, CancellationToken ct)
    {
        var terms = SearchTerms.Terms(text);
        // Counted by word first, so each distinct word is hashed once (an HMAC each; a long answer repeats many).
        var counts = new Dictionary<string, int>(terms.Count, StringComparer.Ordinal);
        foreach (var term in terms)
        {
            counts[term] = counts.GetValueOrDefault(term) + 1;
        }
        var distinct = counts.Keys.ToList();
        var hashes = cipher.HashTerms(distinct);
        var frequencies = new Dictionary<long, int>(counts.Count);
        for (var i = 0; i < distinct.Count; i++)
        {
            frequencies[hashes[i]] = frequencies.GetValueOrDefault(hashes[i]) + counts[distinct[i]];
        }
        var document = new Document(userId, sessionId, eventId, terms.Count, UnmergedTerms.Pack(frequencies));
        for (var attempt = 0; ; attempt++)
        {
            if (await WriteDocumentAsync(db, document, ct))
            {
                return;
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

    /// <summary>
    /// Numbering the document and adding it to the statistics (which also holds the user's index row until commit, so
    /// concurrent indexing never hands out the same number), then the document row and its terms' row: one round trip
    /// on PostgreSQL (data-modifying CTEs; the server keeps the constant text prepared on each pooled connection), three
    /// calls into SQLite. False when the user has no index row yet.
    /// </summary>
    private static async Task<bool> WriteDocumentAsync(AppDbContext db, Document document, CancellationToken ct)
    {
        const string Slot = """
            UPDATE "SearchIndexes"
            SET "DocumentCount" = "DocumentCount" + 1, "TotalLength" = "TotalLength" + @p0, "LastDocumentNumber" = "LastDocumentNumber" + 1
            WHERE "UserId" = @p1
            RETURNING "Id", "LastDocumentNumber"
            """;
        if (!db.Database.IsSqlite())
        {
            var written = await RawSql.ScalarAsync<long>(db, $"""
                WITH slot AS ({Slot}), document AS (
                    INSERT INTO "SearchDocuments" ("IndexId", "Number", "EventId", "SessionId", "Length")
                    SELECT "Id", "LastDocumentNumber", @p2, @p3, @p4 FROM slot
                    RETURNING "IndexId", "Number"
                ), unmerged AS (
                    INSERT INTO "SearchUnmergedTerms" ("IndexId", "Number", "Terms")
                    SELECT "IndexId", "Number", @p5 FROM document
                )
                SELECT count(*) FROM document
                """, [(long)document.Length, document.UserId, document.EventId, document.SessionId, document.Length, document.Terms], ct, prepare: true);
            return written == 1;
        }
        var slots = await RawSql.QueryAsync(db, Slot, [(long)document.Length, document.UserId], r => (Id: r.GetInt32(0), Number: r.GetInt64(1)), ct);
        if (slots.Count == 0)
        {
            return false;
        }
        var (indexId, number) = slots[0];
        await RawSql.ExecuteAsync(db, """
            INSERT INTO "SearchDocuments" ("IndexId", "Number", "EventId", "SessionId", "Length") VALUES (@p0, @p1, @p2, @p3, @p4)
            """, [indexId, number, RawSql.Guid(db, document.EventId), RawSql.Guid(db, document.SessionId), document.Length], ct);
        await RawSql.ExecuteAsync(db, """
            INSERT INTO "SearchUnmergedTerms" ("IndexId", "Number", "Terms") VALUES (@p0, @p1, @p2)
            """, [indexId, number, document.Terms], ct);
        return true;
    }

    /// <summary>
    /// Inserts postings, in the order given (the merger gives them by index and term, so consecutive inserts land on
    /// the same or neighbouring pages of the term index). PostgreSQL: one statement, the postings as arrays. SQLite: one
    /// prepared insert executed per posting (half the cost of one long multi-row INSERT, which SQLite had to parse).
    /// </summary>
    public static async Task WritePostingsAsync(AppDbContext db, IReadOnlyList<SearchPosting> postings, CancellationToken ct)
    {
        if (postings.Count == 0)
        {
            return;
        }
        if (!db.Database.IsSqlite())
        {
            await RawSql.ExecuteAsync(db, """
                INSERT INTO "SearchPostings" ("IndexId", "DocumentNumber", "TermHash", "TermFrequency", "DocumentLength", "ImpactKey")
                SELECT * FROM unnest(@p0, @p1, @p2, @p3, @p4, @p5)
                """, [
                    postings.Select(p => p.IndexId).ToArray(), postings.Select(p => p.DocumentNumber).ToArray(), postings.Select(p => p.TermHash).ToArray(),
                    postings.Select(p => p.TermFrequency).ToArray(), postings.Select(p => p.DocumentLength).ToArray(), postings.Select(p => p.ImpactKey).ToArray(),
                ], ct, prepare: true);
            return;
        }
        await RawSql.ExecuteEachAsync(db, """
            INSERT INTO "SearchPostings" ("IndexId", "DocumentNumber", "TermHash", "TermFrequency", "DocumentLength", "ImpactKey")
            VALUES (@p0, @p1, @p2, @p3, @p4, @p5)
            """, postings.Select(p => new object[] { p.IndexId, p.DocumentNumber, p.TermHash, p.TermFrequency, p.DocumentLength, p.ImpactKey }).ToList(), ct);
    }

    /// <summary>
    /// Removes a conversation's documents and postings, and takes them out of the user's statistics. Postings have no
    /// foreign key (see SearchPostingConfiguration), so they are deleted here, before the documents that find them.
    /// </summary>
    public static async Task RemoveSessionAsync(AppDbContext db, string userId, Guid sessionId, CancellationToken ct)
    {
        var indexId = await db.SearchIndexes.Where(i => i.UserId == userId).Select(i => (int?)i.Id).FirstOrDefaultAsync(ct);
        if (indexId is not { } ix)
        {
            return;
        }
        // What is read must not grow with the user's history (SQLite has no statistics to choose well by):
        // - A conversation is one user's (the caller checked the owner), so its documents are all in this index and are
        //   found by session alone, through the SessionId index. With the index id in the condition as well, SQLite
        //   walked all of the user's documents by the primary key instead.
        // - "DocumentNumber IN (those documents)" makes each document's postings one range of the postings' key; a
        //   correlated EXISTS walked all of the user's postings.
        await WaitForMergerAsync(db, $"""
            SELECT 1 FROM "SearchUnmergedTerms" u JOIN "SearchDocuments" d ON d."IndexId" = u."IndexId" AND d."Number" = u."Number"
            WHERE d."SessionId" = {sessionId} FOR UPDATE OF u
            """, ct);
        var numbers = db.SearchDocuments.Where(d => d.SessionId == sessionId).Select(d => d.Number);
        await db.SearchUnmergedTerms.Where(u => u.IndexId == ix && numbers.Contains(u.Number)).ExecuteDeleteAsync(ct);
        await db.SearchPostings.Where(p => p.IndexId == ix && numbers.Contains(p.DocumentNumber)).ExecuteDeleteAsync(ct);
        // RETURNING gives exactly what was deleted, so the statistics stay exact even if a document was added meanwhile.
        var lengths = await db.Database.SqlQuery<int>($"""
            DELETE FROM "SearchDocuments" WHERE "SessionId" = {sessionId} RETURNING "Length" AS "Value"
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
    /// Removes a user's whole index: postings, documents and statistics. For erasing a user: the database's cascades
    /// from the user reach the documents but not the postings, which have no foreign key.
    /// </summary>
    public static async Task RemoveUserAsync(AppDbContext db, string userId, CancellationToken ct)
    {
        var indexId = await db.SearchIndexes.Where(i => i.UserId == userId).Select(i => (int?)i.Id).FirstOrDefaultAsync(ct);
        if (indexId is not { } ix)
        {
            return;
        }
        await WaitForMergerAsync(db, $"""SELECT 1 FROM "SearchUnmergedTerms" WHERE "IndexId" = {ix} FOR UPDATE""", ct);
        await db.SearchUnmergedTerms.Where(u => u.IndexId == ix).ExecuteDeleteAsync(ct);
        await db.SearchPostings.Where(p => p.IndexId == ix).ExecuteDeleteAsync(ct);
        await db.SearchDocuments.Where(d => d.IndexId == ix).ExecuteDeleteAsync(ct);
        await db.SearchIndexes.Where(i => i.Id == ix).ExecuteDeleteAsync(ct);
    }

    /// <summary>
    /// On PostgreSQL, another instance's merger may be moving these documents' terms into the postings right now. Their
    /// rows stay locked until it commits: locking them too waits for that, so the postings it wrote are visible to (and
    /// deleted by) the statements after this, instead of left behind; and a merger that comes later skips them. SQLite
    /// has one writer at a time, so nothing can interleave there.
    /// </summary>
    private static async Task WaitForMergerAsync(AppDbContext db, FormattableString lockUnmerged, CancellationToken ct)
    {
        if (!db.Database.IsSqlite())
        {
            await db.Database.ExecuteSqlAsync(lockUnmerged, ct);
        }
    }

    /// <summary>A message to index: its length in terms and its distinct terms, packed.</summary>
    private sealed record Document(string UserId, Guid SessionId, Guid EventId, int Length, byte[] Terms);
}
