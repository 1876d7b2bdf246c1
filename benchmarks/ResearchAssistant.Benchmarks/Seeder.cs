using System.Diagnostics;
using System.Text;
using Microsoft.EntityFrameworkCore;
using ResearchAssistant.Core.Accounts;
using ResearchAssistant.Core.Data;
using ResearchAssistant.Core.Llm;
using ResearchAssistant.Core.Privacy;
using ResearchAssistant.Core.Sessions;

namespace ResearchAssistant.Benchmarks;

/// <param name="BranchLength">Messages on the active branch: the size less the earlier versions beside it.</param>
internal sealed record SeededSession(int Size, Guid Id, int BranchLength, TimeSpan SeedTime, TimeSpan VerifyTime);

/// <summary>
/// Writes sessions as the app would have left them after N messages of conversation: a branch of alternating user
/// and assistant messages (ParentId chain, Seq 1..N) with about 2% earlier versions beside it (an edited first
/// question, regenerated answers), text encrypted by the owner's real
/// <see cref="UserCipher"/>, every event sealed into the real hash chain (<see cref="SessionChain"/>), ActiveLeafId
/// at the last message and LastSeq = N. Rows go in through EF Core in batches (change detection off), so the
/// values are stored exactly as the app stores them on either provider.
/// </summary>
internal static class Seeder
{
    private const int BatchSize = 2_000;

    private static readonly string[] Words =
    [
        "the", "a", "of", "and", "to", "in", "is", "that", "for", "with", "as", "on", "by", "this", "we", "it", "from",
        "study", "results", "data", "model", "analysis", "effect", "sample", "method", "evidence", "review", "paper",
        "protein", "climate", "temperature", "variance", "regression", "baseline", "cohort", "trial", "survey",
        "hypothesis", "measurement", "error", "estimate", "signal", "noise", "spectrum", "network", "graph", "theory",
        "citation", "archive", "source", "primary", "secondary", "qualitative", "quantitative", "interview", "policy",
        "economic", "growth", "inflation", "carbon", "ocean", "genome", "sequence", "cell", "neuron", "memory",
        "learning", "language", "history", "medieval", "trade", "route", "manuscript", "translation", "corpus",
        "significant", "robust", "bias", "confounder", "outcome", "exposure", "treatment", "control", "random",
        "distribution", "median", "quartile", "interval", "confidence", "bayesian", "prior", "posterior", "likelihood",
        "simulation", "benchmark", "dataset", "annotation", "replication", "preprint", "journal", "methods", "appendix",
    ];

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

    public static async Task<SeededSession> SeedAsync(IDbContextFactory<AppDbContext> contexts, UserCipher cipher, string ownerId, int size, bool verify, CancellationToken ct)
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
        var batch = new List<SessionEvent>(BatchSize);
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
            var text = isUser ? Sentence(random, 8, 60) + "?" : Paragraphs(random);
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
            batch.Add(evt);
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
            db.SessionEvents.AddRange(batch);
            await db.SaveChangesAsync(ct);
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
        return new SeededSession(size, sessionId, 2 * turns, seedTime, verifyTime);
    }

    private static string Sentence(Random random, int minWords, int maxWords)
    {
        var count = random.Next(minWords, maxWords + 1);
        var text = new StringBuilder();
        for (var i = 0; i < count; i++)
        {
            if (i > 0)
            {
                text.Append(' ');
            }
            text.Append(Words[random.Next(Words.Length)]);
        }
        text[0] = char.ToUpperInvariant(text[0]);
        return text.ToString();
    }

    /// <summary>An answer of one to four paragraphs, 40 to 400 words: a typical chat answer, about 0.3 to 3 KB.</summary>
    private static string Paragraphs(Random random)
    {
        var paragraphs = random.Next(1, 5);
        var text = new StringBuilder();
        for (var p = 0; p < paragraphs; p++)
        {
            if (p > 0)
            {
                text.Append("\n\n");
            }
            var sentences = random.Next(2, 6);
            for (var s = 0; s < sentences; s++)
            {
                text.Append(Sentence(random, 8, 20)).Append(". ");
            }
        }
        return text.ToString().TrimEnd();
    }
}
