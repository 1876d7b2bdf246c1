using Microsoft.EntityFrameworkCore;
using ResearchAssistant.Core.Privacy;
using ResearchAssistant.Core.Search;
using ResearchAssistant.Core.Sessions;
using ResearchAssistant.Tests.Support;

namespace ResearchAssistant.Tests.Search;

/// <summary>
/// Indexing a message writes its terms into its document row; the merger moves them into the postings later. Search
/// must rank the same whatever has been merged so far: nothing merged, some of it, all of it, or a document merged
/// between a query's statements (seen both unmerged and in the postings).
/// </summary>
public abstract class UnmergedSearchTests(TestDatabase database) : IAsyncLifetime
{
    private const int Documents = 240;
    private static readonly string[] Words = ["carbon", "cycle", "ocean", "forest", "soil", "methane"];
    private readonly Guid[] _sessions = [Guid.NewGuid(), Guid.NewGuid()];
    private readonly Dictionary<Guid, string> _texts = [];
    private string _user = "";
    private UserCipher _cipher = null!;

    public async Task InitializeAsync()
    {
        _user = await TestUsers.CreateAsync(database.Contexts);
        var protector = new ContentProtector(database.Contexts, MasterKey.FromBytes(Convert.FromBase64String(TestDatabase.MasterKeyBase64), "tests"), TimeProvider.System);
        _cipher = await protector.ForUserAsync(_user);
        var random = new Random(5);
        var now = DateTimeOffset.UtcNow;
        await using var db = database.Contexts.CreateDbContext();
        foreach (var session in _sessions)
        {
            db.ChatSessions.Add(new ChatSession { Id = session, OwnerId = _user, TitleCipher = _cipher.Encrypt("corpus"), CreatedAt = now, LastActivityAt = now, Version = Guid.NewGuid() });
        }
        var events = new List<SessionEvent>();
        for (var i = 0; i < Documents; i++)
        {
            var words = Enumerable.Range(0, random.Next(1, 40)).Select(_ => random.Next(3) == 0 ? Words[random.Next(Words.Length)] : $"other{random.Next(200)}");
            var text = string.Join(' ', words);
            var evt = new SessionEvent
            {
                Id = Guid.CreateVersion7(), SessionId = _sessions[i % 3 == 0 ? 0 : 1], Seq = i + 1, Kind = EventKind.UserMessage, Author = _user,
                ContentCipher = _cipher.Encrypt(text), Status = EventStatus.Complete, CreatedAt = now,
            };
            events.Add(evt);
            _texts[evt.Id] = text;
        }
        db.SessionEvents.AddRange(events);
        // One message of stop words only: a document with no terms, whose merge writes no posting.
        var stopWords = new SessionEvent
        {
            Id = Guid.CreateVersion7(), SessionId = _sessions[0], Seq = Documents + 1, Kind = EventKind.UserMessage, Author = _user,
            ContentCipher = _cipher.Encrypt("the and of"), Status = EventStatus.Complete, CreatedAt = now,
        };
        db.SessionEvents.Add(stopWords);
        _texts[stopWords.Id] = "the and of";
        await db.SaveChangesAsync();
        await using var tx = await db.Database.BeginTransactionAsync();
        foreach (var evt in events.Append(stopWords))
        {
            await SearchIndexer.IndexAsync(db, _user, _cipher, evt.SessionId, evt.Id, _texts[evt.Id], CancellationToken.None);
        }
        await tx.CommitAsync();
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private async Task<List<ScoredDocument>> TopAsync(ResearchAssistant.Core.Data.AppDbContext db, string query, Guid? sessionId, int take)
    {
        var hashes = _cipher.HashTerms(SearchTerms.ParseQuery(query).Terms.ToList());
        var (stats, terms, unmerged) = (await Bm25.PrepareAsync(db, _user, hashes, CancellationToken.None))!.Value;
        return await Bm25.TopAsync(db, stats, terms, unmerged, sessionId, take, CancellationToken.None);
    }

    [Fact]
    public async Task Ranking_is_the_same_with_nothing_some_or_everything_merged_and_nothing_is_left_unmerged()
    {
        await using var db = database.Contexts.CreateDbContext();
        var queries = new (string Query, Guid? Session, int Take)[]
        {
            ("carbon", null, 10), ("carbon cycle", null, 25), ("ocean soil methane", _sessions[0], 15), ("forest other7", _sessions[1], 30), ("other150 cycle", null, 300),
        };
        var index = await db.SearchIndexes.Where(i => i.UserId == _user).Select(i => i.Id).SingleAsync();
        // Every document, the one of stop words too (its row holds no term).
        Assert.Equal(Documents + 1, await db.SearchUnmergedTerms.CountAsync(u => u.IndexId == index));
        Assert.Equal(0, await db.SearchPostings.CountAsync(p => p.IndexId == index));
        var before = new List<List<ScoredDocument>>();
        foreach (var (query, session, take) in queries)
        {
            before.Add(await TopAsync(db, query, session, take));
        }
        Assert.All(before, top => Assert.NotEmpty(top));
        // Unmerged documents hold every query word they contain, and only those.
        var numbers = await db.SearchDocuments.Where(d => d.IndexId == index).ToDictionaryAsync(d => d.Number, d => d.EventId);
        Assert.All(before[0], d => Assert.Contains("carbon", _texts[numbers[d.Number]].Split(' ')));
        Assert.Equal(_texts.Values.Count(t => t.Split(' ').Contains("carbon")), (await TopAsync(db, "carbon", null, 1_000)).Count);

        Assert.Equal(100, await SearchMerger.MergeBatchAsync(db, 100, CancellationToken.None));
        for (var q = 0; q < queries.Length; q++)
        {
            AssertSameRanking(before[q], await TopAsync(db, queries[q].Query, queries[q].Session, queries[q].Take));
        }

        while (await SearchMerger.MergeBatchAsync(db, 64, CancellationToken.None) > 0)
        {
        }
        Assert.False(await db.SearchUnmergedTerms.AnyAsync());
        var expectedPostings = _texts.Values.Sum(t => SearchTerms.Terms(t).Distinct().Count());
        Assert.Equal(expectedPostings, await db.SearchPostings.CountAsync(p => p.IndexId == index));
        for (var q = 0; q < queries.Length; q++)
        {
            AssertSameRanking(before[q], await TopAsync(db, queries[q].Query, queries[q].Session, queries[q].Take));
        }
    }

    [Fact]
    public async Task Recall_ranks_the_same_with_nothing_or_everything_merged()
    {
        await using var db = database.Contexts.CreateDbContext();
        var hashes = _cipher.HashTerms(SearchTerms.ParseQuery("ocean soil methane other7").Terms.ToList());
        var before = new List<List<ScoredDocument>>();
        foreach (var session in _sessions)
        {
            before.Add((await RecallTopK.RunAsync(db, _user, hashes, session, 30, CancellationToken.None))!.Value.Top);
        }
        Assert.All(before, top => Assert.NotEmpty(top));

        while (await SearchMerger.MergeBatchAsync(db, 64, CancellationToken.None) > 0)
        {
        }

        for (var s = 0; s < _sessions.Length; s++)
        {
            AssertSameRanking(before[s], (await RecallTopK.RunAsync(db, _user, hashes, _sessions[s], 30, CancellationToken.None))!.Value.Top);
        }
    }

    [Fact]
    public async Task A_document_merged_between_a_querys_statements_is_ranked_once()
    {
        await using var db = database.Contexts.CreateDbContext();
        var hashes = _cipher.HashTerms(["carbon", "ocean"]);
        var (stats, terms, unmerged) = (await Bm25.PrepareAsync(db, _user, hashes, CancellationToken.None))!.Value;
        var expected = await Bm25.TopAsync(db, stats, terms, unmerged, null, 20, CancellationToken.None);
        // Merged after the statistics and the unmerged documents were read, before the postings are: every unmerged
        // document read is now in the postings as well.
        while (await SearchMerger.MergeBatchAsync(db, 64, CancellationToken.None) > 0)
        {
        }
        var top = await Bm25.TopAsync(db, stats, terms, unmerged, null, 20, CancellationToken.None);

        AssertSameRanking(expected, top);
        Assert.Equal(top.Count, top.Select(d => d.Number).Distinct().Count());
    }

    [Fact]
    public async Task Deleting_a_conversation_before_its_documents_are_merged_leaves_nothing_to_merge_or_find()
    {
        await using var db = database.Contexts.CreateDbContext();
        var index = await db.SearchIndexes.SingleAsync(i => i.UserId == _user);
        var deletedLengths = await db.SearchDocuments.Where(d => d.SessionId == _sessions[0]).SumAsync(d => (long)d.Length);
        var deletedCount = await db.SearchDocuments.CountAsync(d => d.SessionId == _sessions[0]);

        await using (var tx = await db.Database.BeginTransactionAsync())
        {
            await SearchIndexer.RemoveSessionAsync(db, _user, _sessions[0], CancellationToken.None);
            await tx.CommitAsync();
        }
        // The deleted documents' terms went with them; the others' wait for the merger.
        Assert.Equal(Documents + 1 - deletedCount, await db.SearchUnmergedTerms.CountAsync(u => u.IndexId == index.Id));
        while (await SearchMerger.MergeBatchAsync(db, 64, CancellationToken.None) > 0)
        {
        }

        Assert.False(await db.SearchDocuments.AnyAsync(d => d.SessionId == _sessions[0]));
        Assert.False(await db.SearchUnmergedTerms.AnyAsync());
        var keptEvents = await db.SearchDocuments.Where(d => d.IndexId == index.Id).Select(d => d.EventId).ToListAsync();
        Assert.Equal(Documents + 1 - deletedCount, keptEvents.Count);
        Assert.Equal(keptEvents.Sum(e => SearchTerms.Terms(_texts[e]).Distinct().Count()), await db.SearchPostings.CountAsync(p => p.IndexId == index.Id));
        var after = await db.SearchIndexes.AsNoTracking().SingleAsync(i => i.UserId == _user);
        Assert.Equal((index.DocumentCount - deletedCount, index.TotalLength - deletedLengths), (after.DocumentCount, after.TotalLength));
        Assert.NotEmpty(await TopAsync(db, "carbon ocean", _sessions[1], 1_000));
        Assert.Empty(await TopAsync(db, "carbon ocean", _sessions[0], 1_000));
    }

    /// <summary>
    /// The same scores in the same order, each document with its own score. Equal scores may come in another order: in
    /// memory and in SQL the same BM25 sum can differ in its last bit, which decides a tie.
    /// </summary>
    private static void AssertSameRanking(List<ScoredDocument> expected, List<ScoredDocument> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        Assert.All(expected.Zip(actual), pair => Assert.Equal(pair.First.Score, pair.Second.Score, 9));
        var scores = expected.ToDictionary(d => d.Number, d => d.Score);
        var lowest = expected.Count == 0 ? 0 : expected[^1].Score;
        Assert.All(actual, d => Assert.Equal(scores.TryGetValue(d.Number, out var score) ? score : lowest, d.Score, 9));
    }

}

public sealed class SqliteUnmergedSearchTests(SqliteTestDatabase database) : UnmergedSearchTests(database), IClassFixture<SqliteTestDatabase>;

public sealed class PostgresUnmergedSearchTests(PostgresTestDatabase database) : UnmergedSearchTests(database), IClassFixture<PostgresTestDatabase>;
