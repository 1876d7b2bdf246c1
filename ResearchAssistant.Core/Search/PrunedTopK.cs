using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.EntityFrameworkCore;
using ResearchAssistant.Core.Data;

namespace ResearchAssistant.Core.Search;

/// <summary>
/// Exact BM25 top-k without reading every posting of a common term (a threshold algorithm, after Fagin). Each term's
/// postings are read best first (<see cref="Bm25.ImpactKey"/>) down to a depth; a document seen for some terms is
/// completed with its other postings by key lookups if it could still reach the top; and the search stops when the
/// k-th best score beats the best any document not seen yet could have (the sum of each term's bound at its depth).
/// Otherwise the depth grows, and at the longest list's length it is simply the full scan.
/// </summary>
internal static class PrunedTopK
{
    private const int InitialDepth = 500;
    private const int DepthGrowth = 4;
    private const int CompletionBatch = 500;

    /// <param name="initialDepth">How many postings of each term the first round reads (tests use small ones).</param>
    /// <param name="sessionId">Only documents of this session (each term's list is then read through the session filter).</param>
    public static async Task<List<ScoredDocument>> RunAsync(AppDbContext db, IndexStats stats, IReadOnlyList<QueryTerm> terms, Guid? sessionId, int take,
        CancellationToken ct, int initialDepth = InitialDepth)
    {
        var average = stats.AverageLength;
        var longest = terms.Max(t => t.DocumentFrequency);
        for (long depth = initialDepth; depth < longest; depth *= DepthGrowth)
        {
            var candidates = new Dictionary<long, Candidate>();
            var bounds = new double[terms.Count];
            uint truncated = 0;
            var heads = await ReadHeadsAsync(db, stats.IndexId, terms, sessionId, (int)depth, ct);
            var deepestKey = new int[terms.Count];
            var read = new int[terms.Count];
            foreach (var row in heads)
            {
                var candidate = candidates.TryGetValue(row.DocumentNumber, out var c) ? c : candidates[row.DocumentNumber] = new Candidate();
                candidate.Add(row.Term, Bm25.TermScore(terms[row.Term].Idf, row.TermFrequency, row.DocumentLength, average));
                deepestKey[row.Term] = Math.Max(deepestKey[row.Term], row.ImpactKey);
                read[row.Term]++;
            }
            for (var t = 0; t < terms.Count; t++)
            {
                // A list that gave fewer than asked is complete (within the session, that can be well before df).
                if (read[t] == depth)
                {
                    truncated |= 1u << t;
                    bounds[t] = terms[t].Idf * Bm25.ImpactBound(deepestKey[t], average);
                }
            }

            // A document seen for some terms may hold the others further down their lists: complete it, unless even
            // their bounds could not lift it to the k-th best partial score (a floor of the final k-th best).
            var floor = KthLargest(candidates.Values.Select(c => c.Score), take);
            var incomplete = candidates
                .Where(c => (c.Value.Seen & truncated) != truncated && c.Value.Score + MissingBound(c.Value.Seen, truncated, bounds) >= floor)
                .Select(c => c.Key).ToList();
            await CompleteAsync(db, stats.IndexId, terms, truncated, incomplete, candidates, average, ct);
            foreach (var (_, candidate) in candidates)
            {
                candidate.Exact |= (candidate.Seen & truncated) == truncated;
            }

            var best = candidates.Where(c => c.Value.Exact)
                .Select(c => new ScoredDocument(c.Key, c.Value.Score))
                .OrderByDescending(d => d.Score).ThenByDescending(d => d.Number)
                .Take(take).ToList();
            var unseen = bounds.Sum();
            // Every list read to its end (possible within a session), or nothing unread can beat the k-th: exact.
            if (truncated == 0 || best.Count == take && best[^1].Score > unseen)
            {
                return best;
            }
        }
        return await Bm25.FullScanAsync(db, stats, terms, sessionId, take, ct);
    }

    /// <summary>The best <paramref name="depth"/> postings of each term, in one statement (a UNION ALL of index ranges).</summary>
    private static async Task<List<Posting>> ReadHeadsAsync(AppDbContext db, int indexId, IReadOnlyList<QueryTerm> terms, Guid? sessionId, int depth, CancellationToken ct)
    {
        var args = new List<object> { indexId, depth };
        var sessionJoin = sessionId is { } session
            ? $"""JOIN "SearchDocuments" d ON d."IndexId" = p."IndexId" AND d."Number" = p."DocumentNumber" AND d."SessionId" = {Bm25.Arg(args, session)}"""
            : "";
        var sql = new StringBuilder();
        foreach (var term in terms)
        {
            sql.Append(sql.Length == 0 ? "" : " UNION ALL ").Append($"""
                SELECT * FROM (SELECT p."TermHash", p."DocumentNumber", p."TermFrequency", p."DocumentLength", p."ImpactKey"
                               FROM "SearchPostings" p {sessionJoin}
                               WHERE p."IndexId" = {"{0}"} AND p."TermHash" = {Bm25.Arg(args, term.Hash)}
                               ORDER BY p."ImpactKey", p."DocumentNumber" LIMIT {"{1}"}) AS t{args.Count}
                """);
        }
        return Map(await db.Database.SqlQuery<PostingRow>(FormattableStringFactory.Create(sql.ToString(), args.ToArray())).ToListAsync(ct), terms);
    }

    /// <summary>Adds the missing terms' postings of these documents (primary-key lookups); they are exact afterwards.</summary>
    private static async Task CompleteAsync(AppDbContext db, int indexId, IReadOnlyList<QueryTerm> terms, uint truncated, List<long> documents,
        Dictionary<long, Candidate> candidates, double average, CancellationToken ct)
    {
        var hashes = terms.Where((_, t) => (truncated & (1u << t)) != 0).Select(t => t.Hash).ToList();
        foreach (var batch in documents.Chunk(CompletionBatch))
        {
            var args = new List<object> { indexId };
            var sql = $"""
                SELECT p."TermHash", p."DocumentNumber", p."TermFrequency", p."DocumentLength", p."ImpactKey"
                FROM "SearchPostings" p
                WHERE p."IndexId" = {"{0}"} AND p."DocumentNumber" IN ({string.Join(", ", batch.Select(d => Bm25.Arg(args, d)))})
                  AND p."TermHash" IN ({string.Join(", ", hashes.Select(h => Bm25.Arg(args, h)))})
                """;
            var rows = Map(await db.Database.SqlQuery<PostingRow>(FormattableStringFactory.Create(sql, args.ToArray())).ToListAsync(ct), terms);
            foreach (var row in rows)
            {
                var candidate = candidates[row.DocumentNumber];
                if ((candidate.Seen & (1u << row.Term)) == 0)
                {
                    candidate.Add(row.Term, Bm25.TermScore(terms[row.Term].Idf, row.TermFrequency, row.DocumentLength, average));
                }
            }
            foreach (var document in batch)
            {
                candidates[document].Exact = true;
            }
        }
    }

    private static double MissingBound(uint seen, uint truncated, double[] bounds)
    {
        var bound = 0.0;
        for (var t = 0; t < bounds.Length; t++)
        {
            if ((truncated & ~seen & (1u << t)) != 0)
            {
                bound += bounds[t];
            }
        }
        return bound;
    }

    private static double KthLargest(IEnumerable<double> scores, int k)
    {
        var top = new PriorityQueue<double, double>(k + 1);
        foreach (var score in scores)
        {
            top.Enqueue(score, score);
            if (top.Count > k)
            {
                top.Dequeue();
            }
        }
        return top.Count < k ? 0 : top.Peek();
    }

    private static List<Posting> Map(List<PostingRow> rows, IReadOnlyList<QueryTerm> terms)
    {
        var index = new Dictionary<long, int>(terms.Count);
        for (var t = 0; t < terms.Count; t++)
        {
            index[terms[t].Hash] = t;
        }
        return rows.Select(r => new Posting(index[r.TermHash], r.DocumentNumber, r.TermFrequency, r.DocumentLength, r.ImpactKey)).ToList();
    }

    private sealed class Candidate
    {
        public double Score;
        public uint Seen;
        public bool Exact;

        public void Add(int term, double score)
        {
            Score += score;
            Seen |= 1u << term;
        }
    }

    private readonly record struct Posting(int Term, long DocumentNumber, int TermFrequency, int DocumentLength, int ImpactKey);

    private sealed class PostingRow
    {
        public long TermHash { get; set; }
        public long DocumentNumber { get; set; }
        public int TermFrequency { get; set; }
        public int DocumentLength { get; set; }
        public int ImpactKey { get; set; }
    }
}
