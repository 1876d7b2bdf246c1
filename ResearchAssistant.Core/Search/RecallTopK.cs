using System.Text;
using ResearchAssistant.Core.Data;

namespace ResearchAssistant.Core.Search;

/// <summary>
/// BM25 ranking within one conversation for the prompt's recall, at a cost bounded whatever the size of the user's index
/// or of the conversation. Exact top-k within a session (<see cref="Bm25.TopAsync"/>) reads a term's postings through
/// the session filter until enough of the session's documents turn up: for a conversation holding a small share of the
/// user's messages, nearly all of a common term's postings (tens of milliseconds on a 100,000-message index). A prompt
/// needs a few relevant older messages, not a provably exact ranking, so for each term this reads at most
/// <see cref="Depth"/> postings of the conversation, best first (<see cref="Bm25.ImpactKey"/>):
/// <list type="bullet">
/// <item>a term in fewer than <see cref="RareLimit"/> documents (the words that say what a question is about): its
/// conversation's best, found among all its postings; its idf is exact;</item>
/// <item>a more common term: the conversation's among the term's best <see cref="Depth"/> of all conversations (the limit
/// comes before the conversation's filter, which is what bounds the work). Its document frequency is known only to be
/// at least <see cref="RareLimit"/>, so its idf is that count's: an upper bound, and small next to a rare term's.</item>
/// </list>
/// A document's score sums the terms it was read for. Two statements: the statistics with capped counts
/// (<see cref="Bm25.PrepareAsync"/>), then every term's range in one UNION ALL, scored in SQL. Documents not merged yet
/// are scored from their own rows, as in search.
/// </summary>
internal static class RecallTopK
{
    /// <summary>Terms in fewer documents than this count as rare; counting stops here.</summary>
    public const int RareLimit = 500;
    /// <summary>Most postings of one term read for the conversation.</summary>
    public const int Depth = 100;

    public static async Task<(int IndexId, List<ScoredDocument> Top)?> RunAsync(AppDbContext db, string userId, IReadOnlyList<long> termHashes,
        Guid sessionId, int take, CancellationToken ct, int rareLimit = RareLimit, int depth = Depth)
    {
        if (await Bm25.PrepareAsync(db, userId, termHashes, ct, countCap: rareLimit) is not { } prepared)
        {
            return null;
        }
        var (stats, terms, unmerged) = prepared;
        if (terms.Count == 0)
        {
            return null;
        }
        var fresh = unmerged.Where(d => d.SessionId == sessionId)
            .Select(d => new ScoredDocument(d.Number, d.Score(terms, stats.AverageLength)))
            .ToList();
        // A document merged since the first statement is in its postings too: asking for as many more as there are
        // unmerged documents keeps the best `take` after the postings' copy of each is dropped.
        var numbers = fresh.Select(d => d.Number).ToHashSet();
        var top = (await ScoreAsync(db, stats, terms, sessionId, rareLimit, depth, take + fresh.Count, ct))
            .Where(d => !numbers.Contains(d.Number))
            .Concat(fresh)
            .OrderByDescending(d => d.Score).ThenByDescending(d => d.Number)
            .Take(take).ToList();
        return top.Count == 0 ? null : (stats.IndexId, top);
    }

    /// <summary>
    /// The conversation's best postings of each term, as the class describes, scored and summed per document in SQL, so
    /// only the best <paramref name="take"/> documents leave the database (a tenth of the rows read, on a long conversation).
    /// </summary>
    private static Task<List<ScoredDocument>> ScoreAsync(AppDbContext db, IndexStats stats, IReadOnlyList<QueryTerm> terms,
        Guid sessionId, int rareLimit, int depth, int take, CancellationToken ct)
    {
        var args = new List<object> { stats.IndexId, RawSql.Guid(db, sessionId), depth };
        var sql = new StringBuilder();
        var hashes = new List<(string Hash, double Idf)>();
        foreach (var term in terms)
        {
            var hash = RawSql.Arg(args, term.Hash);
            hashes.Add((hash, term.Idf));
            // A rare term's postings are all read, and the conversation's best `depth` of them kept; a common term's best
            // `depth` are read before keeping the conversation's, which is what bounds the work. CROSS JOIN keeps SQLite
            // (no statistics) starting from the postings rather than from all of the conversation's documents.
            var part = term.DocumentFrequency < rareLimit
                ? $"""
                   SELECT p."DocumentNumber" AS "Number", p."TermHash" AS "TermHash", p."TermFrequency" AS "Tf", p."DocumentLength" AS "Length"
                   FROM "SearchPostings" p CROSS JOIN "SearchDocuments" d
                   WHERE p."IndexId" = @p0 AND p."TermHash" = {hash} AND d."IndexId" = p."IndexId" AND d."Number" = p."DocumentNumber" AND d."SessionId" = @p1
                   ORDER BY p."ImpactKey", p."DocumentNumber" LIMIT @p2
                   """
                : $"""
                   SELECT t."DocumentNumber" AS "Number", t."TermHash" AS "TermHash", t."TermFrequency" AS "Tf", t."DocumentLength" AS "Length"
                   FROM (SELECT * FROM "SearchPostings" p WHERE p."IndexId" = @p0 AND p."TermHash" = {hash}
                         ORDER BY p."ImpactKey", p."DocumentNumber" LIMIT @p2) AS t
                   CROSS JOIN "SearchDocuments" d
                   WHERE d."IndexId" = t."IndexId" AND d."Number" = t."DocumentNumber" AND d."SessionId" = @p1
                   """;
            sql.Append(sql.Length == 0 ? "" : "\nUNION ALL\n").Append($"SELECT * FROM ({part}) AS r{args.Count}");
        }
        var scored = Bm25.BestScoresSql(args, hashes, stats.AverageLength, $"({sql}) AS m", take);
        return RawSql.QueryAsync(db, scored, args, r => new ScoredDocument(r.GetInt64(0), r.GetDouble(1)), ct);
    }

}
