using Microsoft.EntityFrameworkCore;
using ResearchAssistant.Core.Search;
using ResearchAssistant.Core.Sessions;
using ResearchAssistant.Tests.Support;

namespace ResearchAssistant.Tests.Search;

/// <summary>
/// The early-stopping top-k must be exact: on a corpus where common terms have long posting lists, it returns the same
/// documents with the same scores as scoring every posting, for many queries, over several rounds of deepening.
/// </summary>
public abstract class TopKTests(TestDatabase database) : IAsyncLifetime
{
    private const int Documents = 600;
    private static readonly string[] Common = ["alpha", "bravo", "charlie", "delta"];
    private string _user = "";

    public async Task InitializeAsync()
    {
        _user = await TestUsers.CreateAsync(database.Contexts);
        var protector = new ResearchAssistant.Core.Privacy.ContentProtector(database.Contexts,
            ResearchAssistant.Core.Privacy.MasterKey.FromBytes(Convert.FromBase64String(TestDatabase.MasterKeyBase64), "tests"), TimeProvider.System);
        var cipher = await protector.ForUserAsync(_user);
        var random = new Random(42);
        var now = DateTimeOffset.UtcNow;
        var texts = new List<(Guid Id, Guid SessionId, string Text)>();
        await using var db = database.Contexts.CreateDbContext();
        foreach (var session in _sessions)
        {
            db.ChatSessions.Add(new ChatSession { Id = session, OwnerId = _user, TitleCipher = cipher.Encrypt("corpus"), CreatedAt = now, LastActivityAt = now, Version = Guid.NewGuid() });
        }
        for (var i = 0; i < Documents; i++)
        {
            // Two conversations of the same user, one three times the other, for recall's session filter.
            var sessionId = _sessions[i % 4 == 0 ? 0 : 1];
            // Lengths 1-60, common words in 15-70% of documents with varying counts, rarer words sprinkled in.
            var words = new List<string>();
            for (var c = 0; c < Common.Length; c++)
            {
                if (random.NextDouble() < 0.15 + 0.18 * c)
                {
                    words.AddRange(Enumerable.Repeat(Common[c], random.Next(1, 5)));
                }
            }
            words.AddRange(Enumerable.Range(0, random.Next(0, 55)).Select(_ => $"filler{random.Next(300)}"));
            words.Add($"rare{random.Next(60)}");
            var text = string.Join(' ', words.OrderBy(_ => random.Next()));
            var id = Guid.CreateVersion7();
            db.SessionEvents.Add(new SessionEvent
            {
                Id = id, SessionId = sessionId, Seq = i + 1, Kind = EventKind.UserMessage, Author = _user,
                ContentCipher = cipher.Encrypt(text), Status = EventStatus.Complete, CreatedAt = now,
            });
            texts.Add((id, sessionId, text));
            _texts[id] = (sessionId, text);
        }
        await db.SaveChangesAsync();
        await using var tx = await db.Database.BeginTransactionAsync();
        foreach (var (id, sessionId, text) in texts)
        {
            await SearchIndexer.IndexAsync(db, _user, cipher, sessionId, id, text, CancellationToken.None);
        }
        await tx.CommitAsync();
        // What is tested here is the postings' top-k: every document merged into them.
        while (await SearchMerger.MergeBatchAsync(db, SearchMerger.BatchDocuments, CancellationToken.None) > 0)
        {
        }
        Assert.False(await db.SearchUnmergedTerms.AnyAsync());
        _cipher = cipher;
    }

    private ResearchAssistant.Core.Privacy.UserCipher _cipher = null!;
    private readonly Guid[] _sessions = [Guid.NewGuid(), Guid.NewGuid()];
    private readonly Dictionary<Guid, (Guid SessionId, string Text)> _texts = [];

    public Task DisposeAsync() => Task.CompletedTask;

    public static TheoryData<string[], int> Queries => new()
    {
        { ["alpha"], 10 },
        { ["delta"], 20 },
        { ["alpha", "bravo"], 10 },
        { ["charlie", "delta"], 20 },
        { ["alpha", "bravo", "charlie", "delta"], 20 },
        { ["delta", "rare7"], 5 },
        { ["alpha", "filler12", "filler99", "rare3"], 20 },
        { ["bravo", "delta", "filler5"], 50 },
    };

    [Theory]
    [MemberData(nameof(Queries))]
    public async Task Early_stopping_returns_exactly_what_scoring_every_posting_returns(string[] words, int take)
    {
        await using var db = database.Contexts.CreateDbContext();
        var stats = (await Bm25.StatsAsync(db, _user, CancellationToken.None))!;
        var terms = new List<QueryTerm>();
        foreach (var word in words)
        {
            var hash = _cipher.HashTerm(SearchTerms.Terms(word).Single());
            var df = await db.SearchPostings.LongCountAsync(p => p.IndexId == stats.IndexId && p.TermHash == hash);
            terms.Add(new QueryTerm(hash, df, Bm25.Idf(stats.DocumentCount, df)));
        }
        Assert.Contains(terms, t => t.DocumentFrequency > 16);

        foreach (var sessionId in new Guid?[] { null, _sessions[0], _sessions[1] })
        {
            var everything = await Bm25.FullScanAsync(db, stats, terms, sessionId, Documents, CancellationToken.None);
            var exact = everything.ToDictionary(d => d.Number, d => d.Score);
            foreach (var (depth, readWhole) in new[] { (4, 0L), (16, 0L), (64, 0L), (4, 50L), (16, 200L) })
            {
                var pruned = await PrunedTopK.RunAsync(db, stats, terms, sessionId, take, CancellationToken.None, depth, readWhole);

                Assert.Equal(everything.Take(take).Select(d => d.Score), pruned.Select(d => d.Score), new ScoreComparer());
                Assert.All(pruned, d => Assert.Equal(exact[d.Number], d.Score, 9));
                Assert.Equal(pruned.Count, pruned.Select(d => d.Number).Distinct().Count());
            }
        }
    }

    [Theory]
    [MemberData(nameof(Queries))]
    public async Task Recall_within_limits_that_do_not_bind_ranks_as_scoring_every_posting_of_the_conversation(string[] words, int take)
    {
        await using var db = database.Contexts.CreateDbContext();
        var stats = (await Bm25.StatsAsync(db, _user, CancellationToken.None))!;
        var hashes = words.Select(w => _cipher.HashTerm(SearchTerms.Terms(w).Single())).ToList();
        var terms = new List<QueryTerm>();
        foreach (var hash in hashes)
        {
            var df = await db.SearchPostings.LongCountAsync(p => p.IndexId == stats.IndexId && p.TermHash == hash);
            terms.Add(new QueryTerm(hash, df, Bm25.Idf(stats.DocumentCount, df)));
        }
        foreach (var sessionId in _sessions)
        {
            var everything = await Bm25.FullScanAsync(db, stats, terms, sessionId, Documents, CancellationToken.None);
            var exact = everything.ToDictionary(d => d.Number, d => d.Score);

            var recalled = (await RecallTopK.RunAsync(db, _user, hashes, sessionId, take, CancellationToken.None, rareLimit: Documents + 1, depth: Documents))!.Value;

            Assert.Equal(stats.IndexId, recalled.IndexId);
            Assert.Equal(everything.Take(take).Select(d => d.Score), recalled.Top.Select(d => d.Score), new ScoreComparer());
            Assert.All(recalled.Top, d => Assert.Equal(exact[d.Number], d.Score, 9));
        }
    }

    [Fact]
    public async Task Recall_reads_at_most_its_depth_per_term_yet_keeps_every_match_of_a_rare_term_in_the_conversation()
    {
        const int RareLimit = 30, Depth = 8;
        await using var db = database.Contexts.CreateDbContext();
        var small = _sessions[0];
        var index = (await Bm25.StatsAsync(db, _user, CancellationToken.None))!.IndexId;
        var numbers = await db.SearchDocuments.Where(d => d.IndexId == index).ToDictionaryAsync(d => d.Number, d => d.EventId);
        // A rare word with a few matches in the small conversation, and two common words in many documents.
        var rare = Enumerable.Range(0, 60).Select(i => $"rare{i}")
            .First(w => _texts.Values.Count(t => t.SessionId == small && t.Text.Split(' ').Contains(w)) is >= 3 and <= Depth);
        string[] words = ["alpha", "delta", rare];
        Assert.True(_texts.Values.Count(t => t.Text.Split(' ').Contains(rare)) < RareLimit);
        Assert.All(words[..2], w => Assert.True(_texts.Values.Count(t => t.Text.Split(' ').Contains(w)) > 2 * RareLimit));
        var hashes = words.Select(w => _cipher.HashTerm(SearchTerms.Terms(w).Single())).ToList();

        var (_, top) = (await RecallTopK.RunAsync(db, _user, hashes, small, 1_000, CancellationToken.None, RareLimit, Depth))!.Value;

        var found = top.Select(d => _texts[numbers[d.Number]]).ToList();
        Assert.All(found, t => Assert.Equal(small, t.SessionId));
        Assert.InRange(top.Count, 1, words.Length * Depth);
        var rareMatches = _texts.Where(t => t.Value.SessionId == small && t.Value.Text.Split(' ').Contains(rare)).Select(t => t.Key).ToHashSet();
        Assert.Subset(top.Select(d => numbers[d.Number]).ToHashSet(), rareMatches);
        // Best first, each document once.
        Assert.Equal(top.OrderByDescending(d => d.Score).Select(d => d.Number), top.Select(d => d.Number));
        Assert.Equal(top.Count, top.Select(d => d.Number).Distinct().Count());
    }

    [Fact]
    public void The_impact_bound_holds_for_any_posting_at_or_past_the_key_whatever_the_average_length()
    {
        var random = new Random(7);
        for (var i = 0; i < 20_000; i++)
        {
            var tf = random.Next(1, 40);
            var length = tf + random.Next(0, 3_000);
            var average = 1 + random.NextDouble() * 400;
            var key = Bm25.ImpactKey(tf, length);
            var impact = Bm25.TermScore(1, tf, length, average);
            Assert.True(impact <= Bm25.ImpactBound(key, average) + 1e-12, $"tf {tf}, |d| {length}, avgdl {average}");
            // ...and for a key read earlier in the list (smaller), the bound only grows.
            Assert.True(Bm25.ImpactBound(Math.Max(0, key - 1), average) >= Bm25.ImpactBound(key, average));
        }
    }

    private sealed class ScoreComparer : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) < 1e-9;
        public int GetHashCode(double obj) => 0;
    }
}

public sealed class SqliteTopKTests(SqliteTestDatabase database) : TopKTests(database), IClassFixture<SqliteTestDatabase>;

public sealed class PostgresTopKTests(PostgresTestDatabase database) : TopKTests(database), IClassFixture<PostgresTestDatabase>;
