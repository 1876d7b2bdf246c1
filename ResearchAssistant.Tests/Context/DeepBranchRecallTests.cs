using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using ResearchAssistant.Core.Context;
using ResearchAssistant.Core.Search;
using ResearchAssistant.Core.Sessions;
using ResearchAssistant.Tests.Chat;
using ResearchAssistant.Tests.Sessions;
using ResearchAssistant.Tests.Support;
using Xunit.Abstractions;

namespace ResearchAssistant.Tests.Context;

/// <summary>
/// The recall's branch check through the jump pointers, in the database: it agrees with a walk up the parent links on
/// random trees, it reaches messages far more than the old 2,000-message limit above the window while still leaving
/// out a message edited away, and every path that writes messages stores their depth and jump.
/// </summary>
public abstract class DeepBranchRecallTests(TestDatabase database, ITestOutputHelper output) : ChatTestBase(database, output)
{
    [Fact]
    public async Task The_branch_check_in_SQL_finds_exactly_the_ancestors_among_the_candidates_best_first()
    {
        var user = await NewUserAsync();
        var random = new Random(7);
        var tree = MessageTreeTests.RandomTree(random, 2_500, forkRate: 0.05);
        await InsertAsync(user, tree, tree.ToDictionary(e => e.Id, e => $"message {e.Id:N}"));
        var byId = tree.ToDictionary(e => e.Id);

        await using var db = await Core.Contexts.CreateDbContextAsync();
        var indexId = await db.SearchIndexes.Where(i => i.UserId == user).Select(i => i.Id).SingleAsync();
        var numbers = await db.SearchDocuments.Where(d => d.IndexId == indexId).ToDictionaryAsync(d => d.EventId, d => d.Number);
        for (var query = 0; query < 25; query++)
        {
            var from = tree[random.Next(tree.Count / 2, tree.Count)];
            var ancestors = new HashSet<Guid>();
            for (var parent = from.ParentId; parent is { } id; parent = byId[id].ParentId)
            {
                ancestors.Add(id);
            }
            // Random messages in a random order (their rank), some of them ancestors for sure, and the message itself
            // (not its own ancestor).
            var candidates = Enumerable.Range(0, 20).Select(_ => tree[random.Next(tree.Count)].Id)
                .Concat(ancestors.OrderBy(_ => random.Next()).Take(5))
                .Append(from.Id)
                .Distinct().OrderBy(_ => random.Next()).ToList();

            var found = await BranchAncestors.ReadAmongDocumentsAsync(db, from.Id, indexId, candidates.Select(id => numbers[id]).ToList(), candidates.Count, CancellationToken.None);

            Assert.Equal(candidates.Where(ancestors.Contains), found.Select(e => e.Id));
        }
    }

    [Fact]
    public async Task A_message_alone_at_its_depth_is_taken_as_an_ancestor_only_within_the_same_conversation()
    {
        var user = await NewUserAsync();
        // Conversation A: a chain with a regenerated answer at depth 3 (two messages there, one on the branch); the
        // leaf is 8 deep. Conversation B: a chain of its own, every message alone at its depth.
        static List<SessionEvent> Chain(int length)
        {
            var chain = new List<SessionEvent>();
            for (var i = 0; i < length; i++)
            {
                chain.Add(MessageTreeTests.Message(i == 0 ? null : chain[^1].Id));
            }
            return chain;
        }
        var a = Chain(9);
        var regeneratedAway = MessageTreeTests.Message(a[2].Id);
        a.Insert(4, regeneratedAway);
        TreePlacer.PlaceAll(a);
        var b = Chain(9);
        TreePlacer.PlaceAll(b);
        await InsertAsync(user, a, a.ToDictionary(e => e.Id, e => $"message {e.Id:N}"));
        await InsertAsync(user, b, b.ToDictionary(e => e.Id, e => $"message {e.Id:N}"));
        var leaf = a[^1];
        Assert.Equal(3, regeneratedAway.Depth);
        Assert.Equal(3, a[3].Depth);

        await using var db = await Core.Contexts.CreateDbContextAsync();
        var indexId = await db.SearchIndexes.Where(i => i.UserId == user).Select(i => i.Id).SingleAsync();
        var numbers = await db.SearchDocuments.Where(d => d.IndexId == indexId).ToDictionaryAsync(d => d.EventId, d => d.Number);
        // Best first: B's message at depth 2 (alone there, in B), A's regenerated-away answer, A's depth-2 message
        // (alone), A's depth-3 message on the branch (beside the regenerated one), A's root.
        Guid[] candidates = [b[2].Id, regeneratedAway.Id, a[2].Id, a[3].Id, a[0].Id];

        var found = await BranchAncestors.ReadAmongDocumentsAsync(db, leaf.Id, indexId, candidates.Select(id => numbers[id]).ToList(), candidates.Length, CancellationToken.None);

        Assert.Equal([a[2].Id, a[3].Id, a[0].Id], found.Select(e => e.Id));
    }

    [Fact]
    public async Task Recall_reaches_a_message_thousands_above_the_window_but_not_one_edited_away()
    {
        var user = await NewUserAsync();
        const string Weathering = "How does weathering of silicate rock draw down atmospheric carbon?";
        const string PeatBogs = "Does the carbon cycle in peat bogs store more carbon than forests?";
        var tree = new List<SessionEvent>();
        var texts = new Dictionary<Guid, string>();
        SessionEvent Add(Guid? parentId, string text)
        {
            var evt = new SessionEvent
            {
                Id = Guid.NewGuid(), Kind = tree.Count % 2 == 0 ? EventKind.UserMessage : EventKind.AssistantMessage,
                ParentId = parentId, Author = user, Status = EventStatus.Complete,
            };
            tree.Add(evt);
            texts[evt.Id] = text;
            return evt;
        }
        var first = Add(null, Weathering);
        var answer = Add(first.Id, "Noted, moving on with the plan.");
        // The original question was edited: it stays in the log, beside the version the branch went on with.
        var editedAway = Add(answer.Id, PeatBogs);
        var leaf = Add(answer.Id, "Which instruments measure ocean salinity?");
        for (var i = 0; i < 2_600; i++)
        {
            leaf = Add(leaf.Id, $"Filler topic {i}: list the field equipment for the survey.");
        }
        TreePlacer.PlaceAll(tree);
        await InsertAsync(user, tree, texts);
        Assert.True(leaf.Depth - first.Depth > 2_500);

        var recall = Core.Services.GetRequiredService<IMessageRecall>();
        var ranking = await recall.RankAsync(user, tree[0].SessionId, "What did I ask about weathering and the carbon in peat bogs?", 30, CancellationToken.None);
        Assert.NotNull(ranking);
        var recalled = await recall.RecallAsync(user, tree[0].SessionId, ranking, leaf.Id, new HashSet<Guid> { leaf.Id }, 5, CancellationToken.None);

        var ids = recalled.Select(m => m.Id).ToList();
        Assert.Contains(first.Id, ids);
        Assert.DoesNotContain(editedAway.Id, ids);
        Assert.Equal(Weathering, recalled.Single(m => m.Id == first.Id).Text);
    }

    [Fact]
    public async Task Sends_queued_questions_edits_and_regenerations_store_each_messages_depth_and_jump()
    {
        var user = await NewUserAsync();
        var (sessionId, first) = await StartConversationAsync(user, "First question");
        for (var i = 2; i <= 6; i++)
        {
            await Chat.SendAsync(user, sessionId, $"Question {i}", NewClientId());
            await Core.WaitUntilIdleAsync(user, sessionId);
        }
        // Two questions sent at once: the second waits queued and is placed when its turn starts.
        await Chat.SendAsync(user, sessionId, "Queued A", NewClientId());
        await Chat.SendAsync(user, sessionId, "Queued B", NewClientId());
        var view = await Core.WaitForAsync(user, sessionId, v => CoreHarness.IsIdle(v) && v.Messages.Any(m => m.Text == "Queued B") && v.Messages[^1].Role == MessageRole.Assistant, "both queued questions answered");
        await Chat.EditAsync(user, sessionId, view.Messages[4].Id, "Question 3, edited", NewClientId());
        view = await Core.WaitUntilIdleAsync(user, sessionId);
        await Chat.RegenerateAsync(user, sessionId, view.Messages[^1].Id);
        await Core.WaitForAsync(user, sessionId, v => CoreHarness.IsIdle(v) && v.Messages[^1].Version.Count == 2, "the regenerated answer");
        await Chat.EditAsync(user, sessionId, first.Messages[0].Id, "First question, edited", NewClientId());
        await Core.WaitUntilIdleAsync(user, sessionId);

        var stored = (await StoredEventsAsync(sessionId)).Where(e => e.Kind.IsMessage()).ToList();
        Assert.True(stored.Count >= 20);
        var expected = stored.Select(e => new SessionEvent { Id = e.Id, ParentId = e.ParentId, Kind = e.Kind, Author = e.Author }).ToDictionary(e => e.Id);
        var placer = new TreePlacer();
        foreach (var evt in expected.Values.OrderBy(e => NaiveDepth(expected, e)))
        {
            placer.Place(evt);
        }
        Assert.All(stored, e => Assert.Equal((expected[e.Id].Depth, expected[e.Id].JumpId), (e.Depth, e.JumpId)));
        Assert.Contains(stored, e => e.Depth > 10);
    }

    private static int NaiveDepth(Dictionary<Guid, SessionEvent> byId, SessionEvent evt)
    {
        var depth = 0;
        for (var parent = evt.ParentId; parent is { } id; parent = byId[id].ParentId)
        {
            depth++;
        }
        return depth;
    }

    /// <summary>Stores a placed tree as one conversation of <paramref name="user"/> (Seq in list order), indexing the messages given texts.</summary>
    private async Task InsertAsync(string user, List<SessionEvent> tree, Dictionary<Guid, string>? texts)
    {
        var cipher = await Core.Protector.ForUserAsync(user);
        var sessionId = Guid.NewGuid();
        var now = DateTimeOffset.UtcNow;
        await using var db = await Core.Contexts.CreateDbContextAsync();
        db.ChangeTracker.AutoDetectChangesEnabled = false;
        db.ChatSessions.Add(new ChatSession
        {
            Id = sessionId, OwnerId = user, TitleCipher = cipher.Encrypt("deep"), CreatedAt = now, LastActivityAt = now,
            LastSeq = tree.Count, ActiveLeafId = tree[^1].Id, Version = Guid.NewGuid(),
        });
        for (var i = 0; i < tree.Count; i++)
        {
            var evt = tree[i];
            (evt.SessionId, evt.Seq, evt.CreatedAt) = (sessionId, i + 1, now.AddSeconds(i));
            evt.ContentCipher = cipher.Encrypt(texts?[evt.Id] ?? $"message {i}");
        }
        db.SessionEvents.AddRange(tree);
        await db.SaveChangesAsync();
        if (texts is null)
        {
            return;
        }
        await using var tx = await db.Database.BeginTransactionAsync();
        foreach (var evt in tree)
        {
            await SearchIndexer.IndexAsync(db, user, cipher, sessionId, evt.Id, texts[evt.Id], CancellationToken.None);
        }
        await tx.CommitAsync();
    }
}

public sealed class SqliteDeepBranchRecallTests(SqliteTestDatabase database, ITestOutputHelper output)
    : DeepBranchRecallTests(database, output), IClassFixture<SqliteTestDatabase>;

public sealed class PostgresDeepBranchRecallTests(PostgresTestDatabase database, ITestOutputHelper output)
    : DeepBranchRecallTests(database, output), IClassFixture<PostgresTestDatabase>;
