using System.Globalization;
using System.Text;
using ResearchAssistant.Core.Data;

namespace ResearchAssistant.Core.Search;

/// <summary>
/// Exact BM25 top-k without reading every posting of a common term: a threshold algorithm (after Fagin) with MaxScore's
/// essential lists. Rare terms, which decide most rankings, are read whole; each common term's postings are read best
/// first (<see cref="Bm25.ImpactKey"/>) down to a depth. A document seen for some terms is completed with its other
/// postings by key lookups if it could still reach the top, and the search stops when the k-th best score beats the
/// most any document not seen could have: the sum of the common terms' bounds at their depth. If it does not, the next
/// round either reads deeper, or reads whole the common terms with the largest bounds (the "essential" ones), so that
/// the others' bounds add up to less than the k-th score, whichever reads less; when both would read a good share of
/// all the postings, it is simply the full scan.
/// </summary>
internal static class PrunedTopK
{
    private const int InitialDepth = 500;
    private const int DepthGrowth = 4;
    /// <summary>(document, term) pairs per completion statement.</summary>
    private const int CompletionBatch = 1_000;
    /// <summary>Documents completed between two looks at the k-th score.</summary>
    private const int CompletionDocuments = 250;
    /// <summary>Terms in at most this many documents are read whole: cheap, and their high idf would make a loose bound.</summary>
    private const long ReadWholeLimit = 5_000;
    /// <summary>Another round is tried only when it reads at most this share of all the postings.</summary>
    private const double NextRoundShare = 0.3;
    /// <summary>More documents than this to complete (each a few key lookups) means the bound is far off: the full scan is cheaper.</summary>
    private const int MaxCompletions = 4_000;

    /// <param name="sessionId">Only documents of this session (each term's list is then read through the session filter).</param>
    /// <param name="initialDepth">How many postings of each common term the first round reads (tests use small ones).</param>
    /// <param name="readWholeLimit">Terms in at most this many documents are read whole (tests use small ones).</param>
    /// <param name="trace">Receives a line per round (the search benchmark's diagnostics).</param>
    public static async Task<List<ScoredDocument>> RunAsync(AppDbContext db, IndexStats stats, IReadOnlyList<QueryTerm> terms, Guid? sessionId, int take,
        CancellationToken ct, int initialDepth = InitialDepth, long readWholeLimit = ReadWholeLimit, Action<string>? trace = null)
    {
        // Sets of terms are bit masks: a query has at most 32 terms (SearchTerms.MaxQueryTerms).
        System.Diagnostics.Debug.Assert(terms.Count <= 32);
        var average = stats.AverageLength;
        var all = terms.Sum(t => t.DocumentFrequency);
        var readWhole = terms.Select(t => t.DocumentFrequency <= readWholeLimit).ToArray();
        var wholeRead = new bool[terms.Count];
        var whole = new List<Posting>();
        long depth = initialDepth;
        while (true)
        {
            // Whole lists are read once (null: no limit; 0: read already); the others down to the depth.
            var limits = terms.Select((_, i) => readWhole[i] ? (wholeRead[i] ? 0 : null) : (int?)(int)Math.Min(depth, int.MaxValue)).ToArray();
            var heads = await ReadHeadsAsync(db, stats.IndexId, terms, sessionId, limits, ct);
            whole.AddRange(heads.Where(p => readWhole[p.Term]));
            for (var t = 0; t < terms.Count; t++)
            {
                wholeRead[t] |= readWhole[t];
            }

            var candidates = new Dictionary<long, Candidate>();
            var deepestKey = new int[terms.Count];
            var read = new int[terms.Count];
            foreach (var row in heads.Where(p => !readWhole[p.Term]).Concat(whole))
            {
                var candidate = candidates.TryGetValue(row.DocumentNumber, out var c) ? c : candidates[row.DocumentNumber] = new Candidate();
                candidate.Add(row.Term, Bm25.TermScore(terms[row.Term].Idf, row.TermFrequency, row.DocumentLength, average));
                deepestKey[row.Term] = Math.Max(deepestKey[row.Term], row.ImpactKey);
                read[row.Term]++;
            }
            uint truncated = 0;
            var bounds = new double[terms.Count];
            for (var t = 0; t < terms.Count; t++)
            {
                // A list that gave fewer than asked is complete (within a session, that can be well before df).
                if (!readWhole[t] && read[t] == depth)
                {
                    truncated |= 1u << t;
                    bounds[t] = terms[t].Idf * Bm25.ImpactBound(deepestKey[t], average);
                }
            }

            // A document seen for some terms may hold the others further down their lists. Seen for all of them, its
            // score is exact; the others are completed best upper bound first, until the next one's bound cannot reach
            // the k-th exact score so far (which only rises as documents are completed).
            foreach (var (_, candidate) in candidates)
            {
                candidate.Exact = (candidate.Seen & truncated) == truncated;
            }
            var pending = candidates.Where(c => !c.Value.Exact)
                .Select(c => (Document: c.Key, Upper: c.Value.Score + MissingBound(c.Value.Seen, truncated, bounds)))
                .OrderByDescending(p => p.Upper).ToList();
            var kth = KthLargest(candidates.Values.Where(c => c.Exact).Select(c => c.Score), take);
            var next = 0;
            while (next < pending.Count && pending[next].Upper >= kth && next < MaxCompletions)
            {
                var batch = pending.Skip(next).Take(CompletionDocuments).TakeWhile(p => p.Upper >= kth).Select(p => p.Document).ToList();
                await CompleteAsync(db, stats.IndexId, terms, truncated, batch, candidates, average, ct);
                next += batch.Count;
                kth = KthLargest(candidates.Values.Where(c => c.Exact).Select(c => c.Score), take);
            }
            trace?.Invoke($"depth {depth}: {heads.Count} rows, {candidates.Count} candidates, {pending.Count} incomplete, {next} completed, truncated {System.Numerics.BitOperations.PopCount(truncated)}");
            if (next < pending.Count && pending[next].Upper >= kth)
            {
                // Too many documents to complete: the bounds are far off, and the full scan is cheaper.
                break;
            }

            var best = candidates.Where(c => c.Value.Exact)
                .Select(c => new ScoredDocument(c.Key, c.Value.Score))
                .OrderByDescending(d => d.Score).ThenByDescending(d => d.Number)
                .Take(take).ToList();
            // Every list read to its end (possible within a session), or nothing unread can beat the k-th: exact.
            if (truncated == 0 || best.Count == take && best[^1].Score > bounds.Sum())
            {
                return best;
            }

            // Next round: deeper, or the essential terms whole, whichever reads less; or the full scan.
            kth = best.Count == take ? best[^1].Score : 0;
            var deeperCost = terms.Select((t, i) => (truncated & (1u << i)) != 0 ? Math.Min(t.DocumentFrequency, depth * DepthGrowth) : 0).Sum();
            var (essential, essentialCost) = Essential(terms, truncated, bounds, kth, depth);
            trace?.Invoke($"  k-th {kth:F2} vs unseen {bounds.Sum():F2}; deeper reads {deeperCost}, essential ({essential.Count}) reads {essentialCost}, all {all}");
            if (Math.Min(deeperCost, essentialCost) > NextRoundShare * all)
            {
                break;
            }
            if (essentialCost <= deeperCost)
            {
                foreach (var t in essential)
                {
                    readWhole[t] = true;
                }
            }
            else
            {
                depth *= DepthGrowth;
            }
        }
        return await Bm25.FullScanAsync(db, stats, terms, sessionId, take, ct);
    }

    /// <summary>
    /// The truncated terms that must be read whole so that the bounds of the rest add up to less than the k-th score
    /// (largest bounds first), and what the next round would then read. Unreachable (long.MaxValue) without a k-th.
    /// </summary>
    private static (List<int> Terms, long Cost) Essential(IReadOnlyList<QueryTerm> terms, uint truncated, double[] bounds, double kth, long depth)
    {
        if (kth <= 0)
        {
            return ([], long.MaxValue);
        }
        var byBound = Enumerable.Range(0, terms.Count).Where(t => (truncated & (1u << t)) != 0).OrderByDescending(t => bounds[t]).ToList();
        var rest = byBound.Sum(t => bounds[t]);
        var essential = new List<int>();
        foreach (var t in byBound)
        {
            if (rest < kth)
            {
                break;
            }
            essential.Add(t);
            rest -= bounds[t];
        }
        var cost = byBound.Sum(t => essential.Contains(t) ? terms[t].DocumentFrequency : Math.Min(terms[t].DocumentFrequency, depth));
        return (essential, cost);
    }

    /// <summary>
    /// The best postings of each term, up to its limit (null: all of them; 0: none), in one statement (a UNION ALL of
    /// index ranges).
    /// </summary>
    private static async Task<List<Posting>> ReadHeadsAsync(AppDbContext db, int indexId, IReadOnlyList<QueryTerm> terms, Guid? sessionId, int?[] limits, CancellationToken ct)
    {
        var args = new List<object> { indexId };
        var sessionJoin = sessionId is { } session
            ? $"""JOIN "SearchDocuments" d ON d."IndexId" = p."IndexId" AND d."Number" = p."DocumentNumber" AND d."SessionId" = {RawSql.Arg(args, RawSql.Guid(db, session))}"""
            : "";
        var sql = new StringBuilder();
        for (var t = 0; t < terms.Count; t++)
        {
            if (limits[t] == 0)
            {
                continue;
            }
            var limit = limits[t] is { } n ? $"LIMIT {RawSql.Arg(args, n)}" : "";
            sql.Append(sql.Length == 0 ? "" : " UNION ALL ").Append($"""
                SELECT * FROM (SELECT p."TermHash", p."DocumentNumber", p."TermFrequency", p."DocumentLength", p."ImpactKey"
                               FROM "SearchPostings" p {sessionJoin}
                               WHERE p."IndexId" = @p0 AND p."TermHash" = {RawSql.Arg(args, terms[t].Hash)}
                               ORDER BY p."ImpactKey", p."DocumentNumber" {limit}) AS t{args.Count}
                """);
        }
        if (sql.Length == 0)
        {
            return [];
        }
        return await ReadPostingsAsync(db, sql.ToString(), args, terms, ct);
    }

    /// <summary>
    /// Adds the missing terms' postings of these documents; they are exact afterwards. Each (document, term) pair is a
    /// primary-key lookup, driven from a VALUES list: with "document IN (...) AND term IN (...)" instead, SQLite (no
    /// statistics) chose the term index and read every posting of the user.
    /// </summary>
    private static async Task CompleteAsync(AppDbContext db, int indexId, IReadOnlyList<QueryTerm> terms, uint truncated, List<long> documents,
        Dictionary<long, Candidate> candidates, double average, CancellationToken ct)
    {
        var keys = documents
            .SelectMany(d => Enumerable.Range(0, terms.Count)
                .Where(t => (truncated & ~candidates[d].Seen & (1u << t)) != 0)
                .Select(t => (Document: d, terms[t].Hash)))
            .ToList();
        foreach (var batch in keys.Chunk(CompletionBatch))
        {
            // Document numbers and hashes are integers computed here: written as literals, they cannot inject anything.
            var values = string.Join(", ", batch.Select(k => string.Create(CultureInfo.InvariantCulture, $"({k.Document}, {k.Hash})")));
            var sql = $"""
                WITH k("Document", "Hash") AS (VALUES {values})
                SELECT p."TermHash", p."DocumentNumber", p."TermFrequency", p."DocumentLength", p."ImpactKey"
                FROM k JOIN "SearchPostings" p ON p."IndexId" = @p0 AND p."DocumentNumber" = k."Document" AND p."TermHash" = k."Hash"
                """;
            var rows = await ReadPostingsAsync(db, sql, [indexId], terms, ct);
            foreach (var row in rows)
            {
                candidates[row.DocumentNumber].Add(row.Term, Bm25.TermScore(terms[row.Term].Idf, row.TermFrequency, row.DocumentLength, average));
            }
        }
        foreach (var document in documents)
        {
            candidates[document].Exact = true;
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

    /// <summary>Rows of (TermHash, DocumentNumber, TermFrequency, DocumentLength, ImpactKey), with the term's position in the query.</summary>
    private static Task<List<Posting>> ReadPostingsAsync(AppDbContext db, string sql, IReadOnlyList<object> args, IReadOnlyList<QueryTerm> terms, CancellationToken ct)
    {
        var index = new Dictionary<long, int>(terms.Count);
        for (var t = 0; t < terms.Count; t++)
        {
            index[terms[t].Hash] = t;
        }
        return RawSql.QueryAsync(db, sql, args, r => new Posting(index[r.GetInt64(0)], r.GetInt64(1), r.GetInt32(2), r.GetInt32(3), r.GetInt32(4)), ct);
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
}
