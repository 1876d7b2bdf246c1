using ResearchAssistant.Benchmarks;
using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using ResearchAssistant.Core.Search;
using ResearchAssistant.Core.Sessions;

namespace ResearchAssistant.SearchBenchmarks;

internal sealed record ProviderResult(
    string Provider, string Engine, string Setup, TimeSpan SeedTime, string Storage, long Postings,
    IReadOnlyList<Samples> Search, Samples SearchAll, Samples SearchCpu, Samples? SearchTotalCpu, Samples IndexOnly, Samples IndexCpu, Samples? IndexTotalCpu, Samples Merge, Samples IndexAndMerge, Samples MergeBatched, Samples StoreWithIndex,
    Samples StoreWithoutIndex, Samples Jump, Samples Recall, Samples Delete, double AverageHits, string LoadAverage);

/// <summary>The timed part: each call is one Stopwatch sample, on a database nothing else writes to meanwhile.</summary>
internal static class Measurements
{
    /// <param name="server">The PostgreSQL database's backends, when local: their CPU time is added to the process's.</param>
    public static async Task<(List<Samples> ByKind, Samples All, Samples Cpu, Samples? TotalCpu, double AverageHits)> SearchAsync(
        BenchDatabase bench, SeededUser user, int perKind, int seed, ServerCpu? server)
    {
        var random = new Random(seed);
        var kinds = new (string Name, Func<string> Make)[]
        {
            ("one word from a message", () => Pick(Words(random, user), random, 1)),
            ("three words from a message", () => Pick(Words(random, user), random, 3)),
            ("two of the 20 most common words (df 4-40%)", () => string.Join(' ', Corpus.DomainWords.OrderBy(_ => random.Next()).Take(2).Select(d => d.Word))),
            ("a pasted sentence (12 words)", () => Sentence(random, user, 12)),
        };
        var queries = kinds.SelectMany((k, i) => Enumerable.Range(0, perKind).Select(_ => (Kind: i, Query: k.Make()))).OrderBy(_ => random.Next()).ToList();

        // Warm-up: JIT, connection pools, the database's page cache.
        foreach (var (_, query) in queries.Take(30))
        {
            await bench.Search.SearchAsync(user.UserId, query);
        }
        var byKind = kinds.Select(k => new Samples(k.Name)).ToList();
        var all = new Samples("all searches");
        long hits = 0;
        var slowest = new List<(double Ms, string Query)>();
        var cpuAll = new Samples("all searches, CPU time of the process");
        var totalCpu = server is null ? null : new Samples("all searches, CPU time of the process + its PostgreSQL backends");
        foreach (var (kind, query) in queries)
        {
            var serverBefore = server?.Snapshot();
            var cpu = CpuTime.Now();
            var clock = Stopwatch.StartNew();
            var response = await bench.Search.SearchAsync(user.UserId, query);
            clock.Stop();
            var cpuUsed = CpuTime.Now() - cpu;
            cpuAll.Add(cpuUsed);
            if (server is not null)
            {
                totalCpu!.Add(cpuUsed + ServerCpu.Between(serverBefore!, server.Snapshot()));
            }
            slowest.Add((clock.Elapsed.TotalMilliseconds, query));
            byKind[kind].Add(clock.Elapsed);
            all.Add(clock.Elapsed);
            hits += response.Hits.Count;
            if (response.Hits.Count == 0 && kind != 3)
            {
                throw new InvalidOperationException($"The query '{query}' found nothing: the benchmark's corpus or the index is broken.");
            }
        }
        if (Environment.GetEnvironmentVariable("RA_BENCH_DIAG") == "1")
        {
            await DiagnoseAsync(bench, user, slowest.OrderByDescending(s => s.Ms).Take(8).ToList());
        }
        return (byKind, all, cpuAll, totalCpu, (double)hits / queries.Count);
    }

    /// <summary>For finding out where time goes (never for the figures): the slowest queries, each path timed alone.</summary>
    private static async Task DiagnoseAsync(BenchDatabase bench, SeededUser user, List<(double Ms, string Query)> slowest)
    {
        var cipher = await bench.Protector.ForUserAsync(user.UserId);
        await using var db = await bench.Contexts.CreateDbContextAsync();
        var stats = (await Bm25.StatsAsync(db, user.UserId, CancellationToken.None))!;
        foreach (var (ms, query) in slowest)
        {
            var terms = new List<QueryTerm>();
            foreach (var term in SearchTerms.ParseQuery(query).Terms)
            {
                var hash = cipher.HashTerm(term);
                var df = await db.SearchPostings.LongCountAsync(p => p.IndexId == stats.IndexId && p.TermHash == hash);
                if (df > 0) terms.Add(new QueryTerm(hash, df, Bm25.Idf(stats.DocumentCount, df)));
            }
            var full = Stopwatch.StartNew();
            await Bm25.FullScanAsync(db, stats, terms, null, 20, CancellationToken.None);
            full.Stop();
            var pruned = Stopwatch.StartNew();
            await PrunedTopK.RunAsync(db, stats, terms, null, 20, CancellationToken.None, trace: m => Console.WriteLine("      " + m));
            pruned.Stop();
            Console.WriteLine($"  {ms,7:F1} ms  full {full.Elapsed.TotalMilliseconds,6:F1}  pruned {pruned.Elapsed.TotalMilliseconds,6:F1}  df [{string.Join(", ", terms.Select(t => t.DocumentFrequency))}]  '{query}'");
        }
    }

    /// <summary>
    /// Indexing cost on top of an index of 100,000 messages: new messages (questions and answers alternately) are
    /// appended to a second conversation; odd ones are stored without indexing, to measure the whole store both ways.
    /// </summary>
    public static async Task<(Samples IndexOnly, Samples IndexCpu, Samples? IndexTotalCpu, Samples Merge, Samples IndexAndMerge, Samples MergeBatched, Samples With, Samples Without, Guid SessionId)> IndexingAsync(
        BenchDatabase bench, Corpus corpus, SeededUser user, int count, int seed, ServerCpu? server)
    {
        var random = new Random(seed);
        var cipher = await bench.Protector.ForUserAsync(user.UserId);
        var sessionId = Guid.CreateVersion7();
        await using (var db = await bench.Contexts.CreateDbContextAsync())
        {
            var now = DateTimeOffset.UtcNow;
            db.ChatSessions.Add(new ChatSession
            {
                Id = sessionId, OwnerId = user.UserId, TitleCipher = cipher.Encrypt("indexing"), CreatedAt = now, LastActivityAt = now, Version = Guid.NewGuid(),
            });
            await db.SaveChangesAsync();
        }
        SessionEvent Message(int seq, bool isUser, string text) => new()
        {
            Id = Guid.CreateVersion7(), SessionId = sessionId, Seq = seq, Kind = isUser ? EventKind.UserMessage : EventKind.AssistantMessage,
            Author = user.UserId, ContentCipher = cipher.Encrypt(text), Status = EventStatus.Complete, CreatedAt = DateTimeOffset.UtcNow,
        };
        // What the app's merger does once nudged: the messages waiting, into the postings, in one transaction.
        async Task<(TimeSpan Took, int Merged)> MergeAsync()
        {
            var clock = Stopwatch.StartNew();
            await using var db = await bench.Contexts.CreateDbContextAsync();
            var merged = await SearchMerger.MergeBatchAsync(db, SearchMerger.BatchDocuments, CancellationToken.None);
            return (clock.Elapsed, merged);
        }

        var indexOnly = new Samples("index one message (SearchIndexer.IndexAsync)");
        var indexCpu = new Samples("index one message, CPU time of the process");
        var indexTotalCpu = server is null ? null : new Samples("index one message, CPU time of the process + its PostgreSQL backends");
        var merge = new Samples("merge one message's terms into the postings (SearchMerger, in the background after the commit)");
        var indexAndMerge = new Samples("index + merge: all the indexing work for one message, in and after its commit");
        var with = new Samples("store a message, indexed (insert + index + commit)");
        var without = new Samples("store a message, not indexed (insert + commit)");
        for (var i = 0; i < count + 20; i++)
        {
            var isUser = i % 4 < 2;
            var text = isUser ? corpus.Question(random) : corpus.Answer(random);
            var indexed = i % 2 == 0;
            var total = Stopwatch.StartNew();
            await using var db = await bench.Contexts.CreateDbContextAsync();
            await using var tx = await db.Database.BeginTransactionAsync();
            var evt = Message(i + 1, isUser, text);
            db.SessionEvents.Add(evt);
            await db.SaveChangesAsync();
            if (indexed)
            {
                // Reading the backends' CPU walks /proc (milliseconds): not part of storing a message.
                total.Stop();
                var serverBefore = server?.Snapshot();
                total.Start();
                var cpu = CpuTime.Now();
                var index = Stopwatch.StartNew();
                await SearchIndexer.IndexAsync(db, user.UserId, cipher, sessionId, evt.Id, text, CancellationToken.None);
                index.Stop();
                var cpuUsed = CpuTime.Now() - cpu;
                total.Stop();
                var serverUsed = server is null ? TimeSpan.Zero : ServerCpu.Between(serverBefore!, server.Snapshot());
                total.Start();
                if (i >= 20)
                {
                    indexOnly.Add(index.Elapsed);
                    indexCpu.Add(cpuUsed);
                    indexTotalCpu?.Add(cpuUsed + serverUsed);
                }
            }
            await tx.CommitAsync();
            total.Stop();
            if (i >= 20) (indexed ? with : without).Add(total.Elapsed);
            if (indexed)
            {
                // Nudged by this commit: only this message is waiting.
                var (took, merged) = await MergeAsync();
                if (merged != 1)
                {
                    throw new InvalidOperationException($"Expected to merge the one message just indexed, merged {merged}.");
                }
                if (i >= 20)
                {
                    merge.Add(took);
                    indexAndMerge.Add(indexOnly.Last + took);
                }
            }
        }

        // A busy server: by the time the merger runs, several messages are waiting, and it merges them in one
        // transaction. Each sample is one batch's time divided by its messages.
        var batched = new Samples($"merge, per message, {SearchMerger.BatchDocuments} messages waiting (a busy server)");
        for (var round = 0; round < 8; round++)
        {
            for (var m = 0; m < SearchMerger.BatchDocuments; m++)
            {
                var isUser = m % 2 == 0;
                var text = isUser ? corpus.Question(random) : corpus.Answer(random);
                await using var db = await bench.Contexts.CreateDbContextAsync();
                await using var tx = await db.Database.BeginTransactionAsync();
                var evt = Message(count + 21 + round * SearchMerger.BatchDocuments + m, isUser, text);
                db.SessionEvents.Add(evt);
                await db.SaveChangesAsync();
                await SearchIndexer.IndexAsync(db, user.UserId, cipher, sessionId, evt.Id, text, CancellationToken.None);
                await tx.CommitAsync();
            }
            var (took, merged) = await MergeAsync();
            batched.Add(took / merged);
        }
        return (indexOnly, indexCpu, indexTotalCpu, merge, indexAndMerge, batched, with, without, sessionId);
    }

    /// <summary>
    /// Deleting the indexing benchmark's conversation, among the 100,000 messages' postings: one sample, to show that
    /// removing a conversation's postings reads its own documents' key ranges, not the user's whole index.
    /// </summary>
    public static async Task<Samples> DeleteAsync(BenchDatabase bench, SeededUser user, Guid sessionId, int messages, int indexed)
    {
        var samples = new Samples($"delete a conversation of {messages} messages, {indexed} of them indexed (SessionOrganizer.DeleteAsync)");
        var clock = Stopwatch.StartNew();
        await bench.Organizer.DeleteAsync(user.UserId, sessionId);
        clock.Stop();
        samples.Add(clock.Elapsed);
        return samples;
    }

    /// <summary>Opening the conversation at a random message (uniform over 100,000, so nearly always deep in history).</summary>
    public static async Task<Samples> JumpAsync(BenchDatabase bench, SeededUser user, int count, int seed)
    {
        var random = new Random(seed);
        var samples = new Samples("open the conversation at a message (GetConversationAroundAsync)");
        for (var i = 0; i < count + 10; i++)
        {
            var target = user.MessageIds[random.Next(user.MessageIds.Count)];
            var clock = Stopwatch.StartNew();
            var window = await bench.Chat.GetConversationAroundAsync(user.UserId, user.SessionId, target);
            clock.Stop();
            if (window is null || window.FocusId != target || window.View.Messages.All(m => m.Id != target))
            {
                throw new InvalidOperationException("The window does not hold the message it was opened at.");
            }
            if (i >= 10) samples.Add(clock.Elapsed);
        }
        return samples;
    }

    /// <summary>The assembler's call: three words, one conversation of 100,000 messages, the 40 newest excluded.</summary>
    public static async Task<Samples> RecallAsync(BenchDatabase bench, SeededUser user, int count, int seed)
    {
        var random = new Random(seed);
        var exclude = user.MessageIds.TakeLast(40).ToHashSet();
        var samples = new Samples("recall in one conversation (RecallAsync, take 10)");
        for (var i = 0; i < count + 10; i++)
        {
            var query = Pick(Words(random, user), random, 3);
            var clock = Stopwatch.StartNew();
            await bench.Search.RecallAsync(user.UserId, user.SessionId, query, exclude, 10, CancellationToken.None);
            clock.Stop();
            if (i >= 10) samples.Add(clock.Elapsed);
        }
        return samples;
    }

    public static async Task<long> PostingsAsync(BenchDatabase bench)
    {
        await using var db = await bench.Contexts.CreateDbContextAsync();
        return await db.SearchPostings.LongCountAsync();
    }

    private static List<string> Words(Random random, SeededUser user) =>
        Corpus.ContentWordsOf(user.SampleTexts[random.Next(user.SampleTexts.Count)]);

    private static string Pick(List<string> words, Random random, int count) =>
        string.Join(' ', words.OrderBy(_ => random.Next()).Take(count));

    private static string Sentence(Random random, SeededUser user, int length)
    {
        var words = user.SampleTexts[random.Next(user.SampleTexts.Count)].Split(' ');
        var start = random.Next(Math.Max(1, words.Length - length));
        return string.Join(' ', words.Skip(start).Take(length));
    }
}
