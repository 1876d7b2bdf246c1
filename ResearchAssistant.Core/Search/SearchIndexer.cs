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
    /// <summary>
    /// Indexes one message: its terms, hashed with the user's search key, and the counts BM25 needs. One command on
    /// PostgreSQL, whatever the message's length (one more for a user's first message).
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
        var document = new Document(userId, sessionId, eventId, terms.Count, frequencies);
        for (var attempt = 0; ; attempt++)
        {
            var written = db.Database.IsSqlite() ? await WriteSqliteAsync(db, document, ct) : await WritePostgresAsync(db, document, ct);
            if (written)
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
    /// One round trip: numbering the document and adding it to the statistics (which also holds the user's index row
    /// until commit, so concurrent indexing never hands out the same number), the document row and its postings, the
    /// postings as three arrays. The text never varies, so the server keeps it prepared on each pooled connection.
    /// False when the user has no index row yet.
    /// </summary>
    private static async Task<bool> WritePostgresAsync(AppDbContext db, Document document, CancellationToken ct)
    {
        var count = document.Frequencies.Count;
        var hashes = new long[count];
        var tfs = new int[count];
        var impacts = new int[count];
        var i = 0;
        foreach (var (hash, frequency) in document.Frequencies)
        {
            (hashes[i], tfs[i], impacts[i]) = (hash, frequency, Bm25.ImpactKey(frequency, document.Length));
            i++;
        }
        // Data-modifying CTEs all run to completion; the statement returns how many documents it wrote (0 or 1).
        var written = await RawSql.ScalarAsync<long>(db, """
            WITH slot AS (
                UPDATE "SearchIndexes"
                SET "DocumentCount" = "DocumentCount" + 1, "TotalLength" = "TotalLength" + @p0, "LastDocumentNumber" = "LastDocumentNumber" + 1
                WHERE "UserId" = @p1
                RETURNING "Id", "LastDocumentNumber"
            ), document AS (
                INSERT INTO "SearchDocuments" ("IndexId", "Number", "EventId", "SessionId", "Length")
                SELECT "Id", "LastDocumentNumber", @p2, @p3, @p4 FROM slot
                RETURNING "IndexId", "Number"
            ), postings AS (
                INSERT INTO "SearchPostings" ("IndexId", "DocumentNumber", "TermHash", "TermFrequency", "DocumentLength", "ImpactKey")
                SELECT d."IndexId", d."Number", t.hash, t.tf, @p4, t.impact
                FROM document d CROSS JOIN unnest(@p5, @p6, @p7) AS t(hash, tf, impact)
            )
            SELECT count(*) FROM document
            """, [(long)document.Length, document.UserId, document.EventId, document.SessionId, document.Length, hashes, tfs, impacts], ct, prepare: true);
        return written == 1;
    }

    /// <summary>
    /// SQLite has no data-modifying CTEs, and its statements cost no round trip: the numbering, the document, then one
    /// prepared insert executed per posting (half the cost of one long multi-row INSERT, which SQLite had to parse).
    /// False when the user has no index row yet.
    /// </summary>
    private static async Task<bool> WriteSqliteAsync(AppDbContext db, Document document, CancellationToken ct)
    {
        var slots = await RawSql.QueryAsync(db, """
            UPDATE "SearchIndexes"
            SET "DocumentCount" = "DocumentCount" + 1, "TotalLength" = "TotalLength" + @p0, "LastDocumentNumber" = "LastDocumentNumber" + 1
            WHERE "UserId" = @p1
            RETURNING "Id", "LastDocumentNumber"
            """, [(long)document.Length, document.UserId], r => (Id: r.GetInt32(0), Number: r.GetInt64(1)), ct);
        if (slots.Count == 0)
        {
            return false;
        }
        var (indexId, number) = slots[0];
        await RawSql.ExecuteAsync(db, """
            INSERT INTO "SearchDocuments" ("IndexId", "Number", "EventId", "SessionId", "Length") VALUES (@p0, @p1, @p2, @p3, @p4)
            """, [indexId, number, RawSql.Guid(db, document.EventId), RawSql.Guid(db, document.SessionId), document.Length], ct);
        var postings = new List<object[]>(document.Frequencies.Count);
        foreach (var (hash, frequency) in document.Frequencies)
        {
            postings.Add([indexId, number, hash, frequency, document.Length, Bm25.ImpactKey(frequency, document.Length)]);
        }
        await RawSql.ExecuteEachAsync(db, """
            INSERT INTO "SearchPostings" ("IndexId", "DocumentNumber", "TermHash", "TermFrequency", "DocumentLength", "ImpactKey")
            VALUES (@p0, @p1, @p2, @p3, @p4, @p5)
            """, postings, ct);
        return true;
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
        var numbers = db.SearchDocuments.Where(d => d.SessionId == sessionId).Select(d => d.Number);
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
        await db.SearchPostings.Where(p => p.IndexId == ix).ExecuteDeleteAsync(ct);
        await db.SearchDocuments.Where(d => d.IndexId == ix).ExecuteDeleteAsync(ct);
        await db.SearchIndexes.Where(i => i.Id == ix).ExecuteDeleteAsync(ct);
    }

    /// <summary>A message to index: its length in terms and each distinct term's hash and frequency.</summary>
    private sealed record Document(string UserId, Guid SessionId, Guid EventId, int Length, Dictionary<long, int> Frequencies);
}
