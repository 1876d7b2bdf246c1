using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using ResearchAssistant.Core.Accounts;
using ResearchAssistant.Core.Data;
using ResearchAssistant.Core.Llm;
using ResearchAssistant.Core.Privacy;
using ResearchAssistant.Core.Search;
using ResearchAssistant.Core.Sessions;

namespace ResearchAssistant.Benchmarks;

/// <param name="BranchLength">Messages on the active branch: the size less the earlier versions beside it.</param>
/// <param name="SampleTexts">Every 50th message's text: what a user could remember and ask about again.</param>
internal sealed record SeededSession(int Size, Guid Id, int BranchLength, TimeSpan SeedTime, TimeSpan VerifyTime, IReadOnlyList<string> SampleTexts);

/// <summary>
/// Writes sessions as the app would have left them after N messages of conversation: a branch of alternating user
/// and assistant messages (ParentId chain, Seq 1..N) with about 2% earlier versions beside it (an edited first
/// question, regenerated answers), text encrypted by the owner's real
/// <see cref="UserCipher"/>, every event sealed into the real hash chain (<see cref="SessionChain"/>), ActiveLeafId
/// at the last message and LastSeq = N. Rows go in through EF Core in batches (change detection off), so the
/// values are stored exactly as the app stores them on either provider. The text follows real text's word statistics
/// (<see cref="Corpus"/>: questions 8-60 words, answers 60-320), and when asked, every message is in the search index.
/// </summary>
internal static class Seeder
{
    private const int BatchSize = 2_000;

    /// <summary>Text with real text's word statistics (Zipf over 50,000 words), so the search index is shaped like a real one.</summary>
    private static readonly Lazy<Corpus> Text = new(() => new Corpus(seed: 7));

    public static async Task<string> CreateOwnerAsync(IDbContextFactory<AppDbContext> contexts, CancellationToken ct)
    {
        var id = Guid.NewGuid().ToString();
        var email = $"bench-{id[..8]}@example.test";
        await using var db = await contexts.CreateDbContextAsync(ct);
        db.Users.Add(new AppUser
        {
            Id = id,
            UserName = email,
            NormalizedUserName = email.ToUpperInvariant(),
            Email = email,
            NormalizedEmail = email.ToUpperInvariant(),
            EmailConfirmed = true,
            SecurityStamp = Guid.NewGuid().ToString("N"),
            ConcurrencyStamp = Guid.NewGuid().ToString(),
            CreatedAt = DateTimeOffset.UtcNow,
        });
        await db.SaveChangesAsync(ct);
        return id;
    }

    /// <param name="index">Also index every message for search in its batch's transaction, and merge each batch into the
    /// postings (the app's SearchIndexer and SearchMerger), as the app would have: recall then searches a real index.</param>
    public static async Task<SeededSession> SeedAsync(IDbContextFactory<AppDbContext> contexts, UserCipher cipher, string ownerId, int size, bool verify, CancellationToken ct, bool index = false)
    {
        var clock = Stopwatch.StartNew();
        var random = new Random(size);
        // Whole seconds: every provider stores them exactly, so the hash computed here matches the stored row.
        var now = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        var time = now.AddSeconds(-20L * size);
        var sessionId = Guid.CreateVersion7(time);

        await using (var db = await contexts.CreateDbContextAsync(ct))
        {
            db.ChatSessions.Add(new ChatSession
            {
                Id = sessionId,
                OwnerId = ownerId,
                TitleCipher = cipher.Encrypt($"Benchmark conversation of {size:N0} messages"),
                TitleIsProvisional = false,
                CreatedAt = time,
                LastActivityAt = time,
                Version = Guid.NewGuid(),
            });
            await db.SaveChangesAsync(ct);
        }

        // About 2% of the messages are earlier versions, as edits and regenerations leave them: the first question
        // was edited once (a second root), and some answers were regenerated (a sibling of the answer kept).
        var alternates = size < 6 ? 0 : Math.Max(2, size / 50);
        if ((size - alternates) % 2 != 0)
        {
            alternates--;
        }
        var turns = (size - alternates) / 2;
        var regenerated = new HashSet<int>(Enumerable.Range(1, Math.Max(0, alternates - 1)).Select(k => k * turns / alternates));

        var previousHash = new byte[32];
        var seq = 0;
        var batch = new List<(SessionEvent Event, string Text)>(BatchSize);
        var samples = new List<string>();
        Guid? parent = null;
        var tree = new TreePlacer();
        for (var turn = 0; turn < turns; turn++)
        {
            if (turn == 0 && alternates > 0)
            {
                await EmitAsync(EventKind.UserMessage, null);
            }
            var question = await EmitAsync(EventKind.UserMessage, parent);
            if (regenerated.Contains(turn))
            {
                await EmitAsync(EventKind.AssistantMessage, question.Id);
            }
            parent = (await EmitAsync(EventKind.AssistantMessage, question.Id)).Id;
        }
        if (seq != size)
        {
            throw new InvalidOperationException($"Seeding planned {seq} messages instead of {size}.");
        }
        await FlushAsync();

        async Task<SessionEvent> EmitAsync(EventKind kind, Guid? parentId)
        {
            var isUser = kind == EventKind.UserMessage;
            time = time.AddSeconds(isUser ? random.Next(5, 30) : random.Next(2, 10));
            var text = isUser ? Text.Value.Question(random) : Text.Value.Answer(random);
            var evt = new SessionEvent
            {
                Id = Guid.CreateVersion7(time),
                SessionId = sessionId,
                Seq = ++seq,
                Kind = kind,
                ParentId = parentId,
                Author = isUser ? ownerId : OfflineChatModel.ModelName,
                ContentCipher = cipher.Encrypt(text),
                Status = EventStatus.Complete,
                TokenCount = isUser ? null : text.Split(' ').Length,
                ClientId = isUser ? Guid.NewGuid().ToString("N") : null,
                CreatedAt = time,
            };
            tree.Place(evt);
            evt.Hash = SessionChain.Compute(previousHash, evt);
            previousHash = evt.Hash;
            batch.Add((evt, text));
            if (seq % 50 == 0)
            {
                samples.Add(text);
            }
            if (batch.Count == BatchSize)
            {
                await FlushAsync();
            }
            return evt;
        }

        async Task FlushAsync()
        {
            if (batch.Count == 0)
            {
                return;
            }
            await using var db = await contexts.CreateDbContextAsync(ct);
            db.ChangeTracker.AutoDetectChangesEnabled = false;
            await using (var tx = await db.Database.BeginTransactionAsync(ct))
            {
                db.SessionEvents.AddRange(batch.Select(b => b.Event));
                await db.SaveChangesAsync(ct);
                if (index)
                {
                    foreach (var (evt, text) in batch)
                    {
                        await SearchIndexer.IndexAsync(db, ownerId, cipher, sessionId, evt.Id, text, ct);
                    }
                }
                await tx.CommitAsync(ct);
            }
            // The app's merger would do this in the background, a few documents at a time.
            while (index && await SearchMerger.MergeBatchAsync(db, BatchSize, ct) > 0)
            {
            }
            batch.Clear();
        }

        await using (var db = await contexts.CreateDbContextAsync(ct))
        {
            await db.ChatSessions.Where(s => s.Id == sessionId).ExecuteUpdateAsync(u => u
                .SetProperty(s => s.LastSeq, size)
                .SetProperty(s => s.ActiveLeafId, parent)
                .SetProperty(s => s.LastActivityAt, time), ct);
        }
        var seedTime = clock.Elapsed;

        var verifyTime = TimeSpan.Zero;
        if (verify)
        {
            clock.Restart();
            await using var db = await contexts.CreateDbContextAsync(ct);
            var chain = await SessionChain.VerifyAsync(db, sessionId, ct);
            if (!chain.IsIntact || chain.HashedEvents != size)
            {
                throw new InvalidOperationException($"Seeded session of {size} does not verify: {chain.Summary}");
            }
            verifyTime = clock.Elapsed;
        }
        return new SeededSession(size, sessionId, 2 * turns, seedTime, verifyTime, samples);
    }
}
