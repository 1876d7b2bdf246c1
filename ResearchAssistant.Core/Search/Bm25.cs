using System.Globalization;
using System.Text;
using Microsoft.EntityFrameworkCore;
using ResearchAssistant.Core.Data;

namespace ResearchAssistant.Core.Search;

/// <summary>A user's collection statistics, as BM25 needs them.</summary>
internal sealed record IndexStats(int IndexId, long DocumentCount, long TotalLength)
{
    public double AverageLength => DocumentCount == 0 ? 1 : Math.Max(1.0, (double)TotalLength / DocumentCount);
}

internal sealed record ScoredDocument(long Number, double Score);

/// <summary>A query term present in the index: its hash, how many documents hold it, and its idf.</summary>
internal sealed record QueryTerm(long Hash, long DocumentFrequency, double Idf);

/// <summary>
/// A document whose terms are not in the postings yet (<see cref="SearchUnmergedTerms"/>), with the
/// frequencies of the query's terms it holds: scored in memory, exactly as its postings would score.
/// </summary>
internal sealed record UnmergedDocument(long Number, Guid SessionId, int Length, Dictionary<long, int> QueryTermFrequencies)
{
    public double Score(IReadOnlyList<QueryTerm> terms, double averageLength) =>
        terms.Sum(t => QueryTermFrequencies.TryGetValue(t.Hash, out var tf) ? Bm25.TermScore(t.Idf, tf, Length, averageLength) : 0);
}

/// <summary>
/// Okapi BM25 over the hashed postings, computed in SQL so only the best documents leave the database:
/// score(d) = Σ over query terms t in d of idf(t) · tf·(k1+1) / (tf + k1·(1 − b + b·|d|/avgdl)),
/// with idf(t) = ln(1 + (N − df + 0.5) / (df + 0.5)) (never negative, as in Lucene). Both statements read only the
/// index ranges of the query's terms, so their cost follows how common those terms are, not the size of the index.
/// </summary>
internal static class Bm25
{
    public const double K1 = 1.2;
    public const double B = 0.75;

    /// <summary>The average document length <see cref="ImpactKey"/> is computed for (terms); any value is correct, one
    /// near the real average keeps the early-stopping bound tight.</summary>
    public const double ReferenceLength = 64;
    /// <summary>Resolution of the stored key (it is an integer).</summary>
    public const double ImpactKeyScale = 16;

    /// <summary>Sums of postings up to this many are scored in one SQL aggregate; above it, top-k stops early.</summary>
    public const long FullScanLimit = 20_000;

    public static double Idf(long documentCount, long documentFrequency) =>
        Math.Log(1 + (documentCount - documentFrequency + 0.5) / (documentFrequency + 0.5));

    public static double TermScore(double idf, int termFrequency, int documentLength, double averageLength) =>
        idf * termFrequency * (K1 + 1) / (termFrequency + K1 * (1 - B + B * documentLength / averageLength));

    /// <summary>
    /// A posting's sort key, lower is better: q = ((1−b)/b · A0 + |d|) / tf, stored as ⌊16·q⌋. With the average length
    /// A0 the tf part of BM25 is (k1+1) / (1 + k1·b·q/A0), so ordering by q is ordering by impact; with the real average
    /// A it still bounds the impact of every posting not read yet (<see cref="ImpactBound"/>). Fixed at indexing, as it
    /// must not depend on statistics that change.
    /// </summary>
    public static int ImpactKey(int termFrequency, int documentLength) =>
        (int)Math.Min(int.MaxValue, Math.Floor(ImpactKeyScale * ((1 - B) / B * ReferenceLength + documentLength) / termFrequency));

    /// <summary>
    /// The largest tf part of BM25, (k1+1)·tf / (tf + k1·(1 − b + b·|d|/A)), of any posting whose stored key is at least
    /// <paramref name="storedKey"/>, at average length <paramref name="averageLength"/>. With |d| = q·tf − (1−b)/b·A0
    /// it is (k1+1) / (1 + k1(1−b)(1 − A0/A)/tf + k1·b·q/A), decreasing in q. When A ≥ A0 it is largest as tf grows;
    /// when A &lt; A0, at the smallest tf possible, which is 1 or the one that makes |d| = 0 (|d| cannot be negative).
    /// </summary>
    public static double ImpactBound(int storedKey, double averageLength)
    {
        var q = storedKey / ImpactKeyScale;
        if (q <= 0)
        {
            return K1 + 1;
        }
        var lengthTerm = K1 * B * q / averageLength;
        var frequencyTerm = 0.0;
        if (averageLength < ReferenceLength)
        {
            var smallestTf = Math.Max(1, (1 - B) / B * ReferenceLength / q);
            frequencyTerm = K1 * (1 - B) / smallestTf * (1 - ReferenceLength / averageLength);
        }
        return (K1 + 1) / (1 + frequencyTerm + lengthTerm);
    }

    public static async Task<IndexStats?> StatsAsync(AppDbContext db, string userId, CancellationToken ct)
    {
        var row = await db.SearchIndexes.AsNoTracking().Where(i => i.UserId == userId)
            .Select(i => new { i.Id, i.DocumentCount, i.TotalLength }).FirstOrDefaultAsync(ct);
        return row is null ? null : new IndexStats(row.Id, row.DocumentCount, row.TotalLength);
    }

    /// <summary>
    /// What ranking a query needs, in one statement: the user's statistics; each hashed term present in the index with
    /// its document frequency and idf (terms in no document are left out); and the user's unmerged documents, which
    /// count towards the frequencies and are scored from their own row. Null when the user has no index yet.
    /// One round trip fewer than reading the statistics first: the index id comes from a subquery.
    /// </summary>
    /// <param name="countCap">Count each term's postings only up to this many (<see cref="RecallTopK"/>): a common term's
    /// count then costs at most this many index entries instead of all of them.</param>
    public static async Task<(IndexStats Stats, List<QueryTerm> Terms, List<UnmergedDocument> Unmerged)?> PrepareAsync(
        AppDbContext db, string userId, IReadOnlyList<long> termHashes, CancellationToken ct, int? countCap = null)
    {
        var args = new List<object> { userId };
        const string IndexOfUser = """(SELECT s."Id" FROM "SearchIndexes" s WHERE s."UserId" = @p0)""";
        var frequencies = "";
        if (termHashes.Count > 0 && countCap is { } cap)
        {
            var limit = RawSql.Arg(args, cap);
            frequencies = string.Concat(termHashes.Select(h => RawSql.Arg(args, h)).Select(hash => $"""

                UNION ALL
                SELECT 1, NULL, NULL, {hash}, (SELECT COUNT(*) FROM (SELECT 1 FROM "SearchPostings" p
                    WHERE p."IndexId" = {IndexOfUser} AND p."TermHash" = {hash} LIMIT {limit}) AS c), NULL, NULL
                """));
        }
        else if (termHashes.Count > 0)
        {
            var inList = string.Join(", ", termHashes.Select(h => RawSql.Arg(args, h)));
            frequencies = $"""

                UNION ALL
                SELECT 1, NULL, NULL, p."TermHash", COUNT(*), NULL, NULL
                FROM "SearchPostings" p
                WHERE p."IndexId" = {IndexOfUser} AND p."TermHash" IN ({inList})
                GROUP BY p."TermHash"
                """;
        }
        // Row kinds: 0 the statistics, 1 a term's document frequency in the postings, 2 an unmerged document.
        var sql = $"""
            SELECT 0, i."Id", i."DocumentCount", i."TotalLength", CAST(NULL AS BIGINT), CAST(NULL AS UUID), CAST(NULL AS BYTEA)
            FROM "SearchIndexes" i WHERE i."UserId" = @p0{frequencies}
            UNION ALL
            SELECT 2, NULL, NULL, d."Length", d."Number", d."SessionId", u."Terms"
            FROM "SearchUnmergedTerms" u JOIN "SearchDocuments" d ON d."IndexId" = u."IndexId" AND d."Number" = u."Number"
            WHERE u."IndexId" = {IndexOfUser}
            """;
        var wanted = termHashes.ToHashSet();
        IndexStats? stats = null;
        var counts = new Dictionary<long, long>();
        var unmerged = new List<UnmergedDocument>();
        await RawSql.QueryAsync(db, sql, args, r =>
        {
            switch (r.GetInt32(0))
            {
                case 0:
                    stats = new IndexStats(r.GetInt32(1), r.GetInt64(2), r.GetInt64(3));
                    break;
                case 1:
                    // A capped count is 0 for a term in no posting: left out, like a term the GROUP BY never returns.
                    if (r.GetInt64(4) > 0)
                    {
                        counts[r.GetInt64(3)] = counts.GetValueOrDefault(r.GetInt64(3)) + r.GetInt64(4);
                    }
                    break;
                default:
                    var found = UnmergedTerms.Find((byte[])r.GetValue(6), wanted);
                    unmerged.Add(new UnmergedDocument(r.GetInt64(4), r.GetGuid(5), (int)r.GetInt64(3), found));
                    foreach (var hash in found.Keys)
                    {
                        counts[hash] = counts.GetValueOrDefault(hash) + 1;
                    }
                    break;
            }
            return 0;
        }, ct);
        if (stats is null)
        {
            return null;
        }
        var terms = termHashes.Where(counts.ContainsKey)
            .Select(h => new QueryTerm(h, counts[h], Idf(stats.DocumentCount, counts[h])))
            .ToList();
        // Only those holding a query term can score.
        unmerged.RemoveAll(d => d.QueryTermFrequencies.Count == 0);
        return (stats, terms, unmerged);
    }

    /// <summary>
    /// The best <paramref name="take"/> documents for the query's terms (<see cref="PrepareAsync"/>), best first (ties:
    /// newest first), optionally only those of one session. Exact either way: few postings are scored all at once in
    /// SQL; when a term is common, <see cref="PrunedTopK"/> reads each term's best postings first and stops once nothing
    /// unread can enter the top. Unmerged documents are scored in memory and ranked with the postings' best.
    /// </summary>
    public static async Task<List<ScoredDocument>> TopAsync(AppDbContext db, IndexStats stats, IReadOnlyList<QueryTerm> terms,
        IReadOnlyList<UnmergedDocument> unmerged, Guid? sessionId, int take, CancellationToken ct)
    {
        if (terms.Count == 0 || take <= 0)
        {
            return [];
        }
        var fresh = unmerged.Where(d => sessionId is not { } session || d.SessionId == session)
            .Select(d => new ScoredDocument(d.Number, d.Score(terms, stats.AverageLength)))
            .ToList();
        // A document merged between this query's statements is seen both unmerged and in the postings: asking the
        // postings for as many more as there are unmerged documents keeps the best `take` exact after de-duplication.
        var fromPostings = terms.Sum(t => t.DocumentFrequency) > FullScanLimit
            ? await PrunedTopK.RunAsync(db, stats, terms, sessionId, take + fresh.Count, ct)
            : await FullScanAsync(db, stats, terms, sessionId, take + fresh.Count, ct);
        if (fresh.Count == 0)
        {
            return fromPostings.Take(take).ToList();
        }
        var numbers = fresh.Select(d => d.Number).ToHashSet();
        return fromPostings.Where(d => !numbers.Contains(d.Number)).Concat(fresh)
            .OrderByDescending(d => d.Score).ThenByDescending(d => d.Number)
            .Take(take).ToList();
    }

    /// <summary>Scores every posting of the query's terms in one SQL aggregate and keeps the best.</summary>
    public static async Task<List<ScoredDocument>> FullScanAsync(AppDbContext db, IndexStats stats, IReadOnlyList<QueryTerm> terms, Guid? sessionId, int take, CancellationToken ct)
    {
        var args = new List<object> { stats.IndexId };
        var hashes = terms.Select(t => (Hash: RawSql.Arg(args, t.Hash), t.Idf)).ToList();
        var sessionJoin = "";
        if (sessionId is { } session)
        {
            sessionJoin = $"""JOIN "SearchDocuments" d ON d."IndexId" = p."IndexId" AND d."Number" = p."DocumentNumber" AND d."SessionId" = {RawSql.Arg(args, RawSql.Guid(db, session))}""";
        }
        // The matching postings are gathered first (MATERIALIZED, on both providers): grouped in one query, SQLite
        // prefers to walk the primary key in document order to save the GROUP BY's sort, which reads every posting
        // of the user instead of the query terms' ranges.
        var sql = $"""
            WITH matches AS MATERIALIZED (
                SELECT p."DocumentNumber" AS "Number", p."TermHash" AS "TermHash", p."TermFrequency" AS "Tf", p."DocumentLength" AS "Length"
                FROM "SearchPostings" p {sessionJoin}
                WHERE p."IndexId" = @p0 AND p."TermHash" IN ({string.Join(", ", hashes.Select(h => h.Hash))})
            )
            {BestScoresSql(args, hashes, stats.AverageLength, "matches m", take)}
            """;
        return await RawSql.QueryAsync(db, sql, args, r => new ScoredDocument(r.GetInt64(0), r.GetDouble(1)), ct);
    }

    /// <summary>
    /// A SELECT that sums each document's BM25 over the matched postings in <paramref name="from"/> (rows "Number",
    /// "TermHash", "Tf", "Length", aliased m) and keeps the best <paramref name="take"/>: columns "Number", "Score".
    /// <paramref name="terms"/> pairs each term's hash placeholder with its idf. CAST keeps the arithmetic in floating
    /// point on PostgreSQL.
    /// </summary>
    public static string BestScoresSql(List<object> args, IReadOnlyList<(string Hash, double Idf)> terms, double averageLength, string from, int take)
    {
        var weights = new StringBuilder("CASE m.\"TermHash\"");
        foreach (var (hash, idf) in terms)
        {
            weights.Append(CultureInfo.InvariantCulture, $" WHEN {hash} THEN {RawSql.Arg(args, idf)}");
        }
        weights.Append(" END");
        return $"""
            SELECT m."Number" AS "Number",
                   SUM(({weights}) * CAST(m."Tf" AS DOUBLE PRECISION) * {RawSql.Arg(args, K1 + 1)}
                       / (m."Tf" + {RawSql.Arg(args, K1)} * ({RawSql.Arg(args, 1 - B)} + {RawSql.Arg(args, B / averageLength)} * m."Length"))) AS "Score"
            FROM {from}
            GROUP BY m."Number"
            ORDER BY "Score" DESC, m."Number" DESC
            LIMIT {RawSql.Arg(args, take)}
            """;
    }
}
