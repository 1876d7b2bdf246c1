using ResearchAssistant.Benchmarks;
using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using ResearchAssistant.Core.Accounts;
using ResearchAssistant.Core.Search;
using ResearchAssistant.Core.Sessions;

namespace ResearchAssistant.SearchBenchmarks;

/// <param name="SampleTexts">Every 50th message's text, to make up queries from (what a user remembers).</param>
internal sealed record SeededUser(string UserId, Guid SessionId, IReadOnlyList<Guid> MessageIds, IReadOnlyList<string> SampleTexts, TimeSpan Elapsed);

/// <summary>
/// One user with one conversation of N messages (alternating questions and answers on one branch), stored the way the
/// app stores them: text encrypted with the user's key, and every message indexed by the real
/// <see cref="SearchIndexer"/> in the same transaction as its row, then merged into the postings by the real
/// <see cref="SearchMerger"/> (1,000 messages at a time, as when the merger catches up with a backfill).
/// </summary>
internal static class Seeder
{
    private const int BatchSize = 1_000;

    public static async Task<SeededUser> SeedAsync(BenchDatabase bench, Corpus corpus, int messages, int seed)
    {
        var clock = Stopwatch.StartNew();
        var random = new Random(seed);
        var userId = await CreateUserAsync(bench);
        var cipher = await bench.Protector.ForUserAsync(userId);
        var time = DateTimeOffset.UtcNow.AddSeconds(-20L * messages);
        var sessionId = Guid.CreateVersion7(time);
        await using (var db = await bench.Contexts.CreateDbContextAsync())
        {
            db.ChatSessions.Add(new ChatSession
            {
                Id = sessionId, OwnerId = userId, TitleCipher = cipher.Encrypt("Search benchmark conversation"),
                TitleIsProvisional = false, CreatedAt = time, LastActivityAt = time, Version = Guid.NewGuid(),
            });
            await db.SaveChangesAsync();
        }

        var ids = new List<Guid>(messages);
        var samples = new List<string>();
        Guid? parent = null;
        var tree = new TreePlacer();
        for (var first = 1; first <= messages; first += BatchSize)
        {
            var batch = new List<(SessionEvent Event, string Text)>();
            for (var seq = first; seq < first + BatchSize && seq <= messages; seq++)
            {
                var isUser = seq % 2 == 1;
                time = time.AddSeconds(random.Next(2, 30));
                var text = isUser ? corpus.Question(random) : corpus.Answer(random);
                var evt = new SessionEvent
                {
                    Id = Guid.CreateVersion7(time), SessionId = sessionId, Seq = seq,
                    Kind = isUser ? EventKind.UserMessage : EventKind.AssistantMessage, ParentId = parent,
                    Author = isUser ? userId : "offline", ContentCipher = cipher.Encrypt(text),
                    Status = EventStatus.Complete, ClientId = isUser ? Guid.NewGuid().ToString("N") : null, CreatedAt = time,
                };
                tree.Place(evt);
                parent = evt.Id;
                batch.Add((evt, text));
                ids.Add(evt.Id);
                if (seq % 50 == 0)
                {
                    samples.Add(text);
                }
            }
            await using var db = await bench.Contexts.CreateDbContextAsync();
            db.ChangeTracker.AutoDetectChangesEnabled = false;
            await using var tx = await db.Database.BeginTransactionAsync();
            db.SessionEvents.AddRange(batch.Select(b => b.Event));
            await db.SaveChangesAsync();
            foreach (var (evt, text) in batch)
            {
                await SearchIndexer.IndexAsync(db, userId, cipher, sessionId, evt.Id, text, CancellationToken.None);
            }
            await tx.CommitAsync();
            // The app's merger, in the background: the batch's terms into the postings.
            while (await SearchMerger.MergeBatchAsync(db, BatchSize, CancellationToken.None) > 0)
            {
            }
            if ((first / BatchSize) % 10 == 9)
            {
                Console.WriteLine($"  seeded {ids.Count:N0} messages ({clock.Elapsed.TotalSeconds:F0} s)");
            }
        }
        await using (var db = await bench.Contexts.CreateDbContextAsync())
        {
            await db.ChatSessions.Where(s => s.Id == sessionId).ExecuteUpdateAsync(u => u
                .SetProperty(s => s.LastSeq, messages).SetProperty(s => s.ActiveLeafId, parent).SetProperty(s => s.LastActivityAt, time));
        }
        return new SeededUser(userId, sessionId, ids, samples, clock.Elapsed);
    }

    private static async Task<string> CreateUserAsync(BenchDatabase bench)
    {
        var id = Guid.NewGuid().ToString();
        var email = $"search-bench-{id[..8]}@example.test";
        await using var db = await bench.Contexts.CreateDbContextAsync();
        db.Users.Add(new AppUser
        {
            Id = id, UserName = email, NormalizedUserName = email.ToUpperInvariant(), Email = email,
            NormalizedEmail = email.ToUpperInvariant(), EmailConfirmed = true, SecurityStamp = Guid.NewGuid().ToString("N"),
            ConcurrencyStamp = Guid.NewGuid().ToString(), CreatedAt = DateTimeOffset.UtcNow,
        });
        await db.SaveChangesAsync();
        return id;
    }
}
