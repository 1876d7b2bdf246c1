using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using ResearchAssistant.Core.Data;
using ResearchAssistant.Core.Sessions;

namespace ResearchAssistant.Benchmarks;

internal enum Operation
{
    /// <summary>ChatService.GetConversationAsync: the newest page of the active branch, decrypted, with version info.</summary>
    Open,
    /// <summary>ChatService.SendAsync: stores the message (Queued) in its transaction, publishes, kicks the runner.</summary>
    Append,
    /// <summary>The TurnRunner answering it (offline model, zero delay): admit, stream, flush, seal, hash chain.</summary>
    Turn,
    /// <summary>GetConversationAsync after a rewind: also finds the answers kept below the leaf and the newest branch's leaf.</summary>
    OpenRewound,
    /// <summary>TurnContextBuilder.BuildAsync for the question just answered: window, preferences, summary, recall, budget.</summary>
    Assemble,
}

/// <param name="CpuMilliseconds">This process's CPU time over the phase (all its threads): steadier than wall-clock on a
/// loaded machine; with SQLite it includes the database's work, with PostgreSQL not the server's.</param>
internal sealed record Sample(double Milliseconds, IReadOnlyList<SqlStatement> Statements, double CpuMilliseconds = 0);

/// <summary>Everything measured on one provider.</summary>
internal sealed class ProviderResult(string provider)
{
    public string Provider { get; } = provider;
    public string Engine { get; set; } = "";
    public string Setup { get; set; } = "";
    public List<SeededSession> Seeded { get; } = [];
    public Dictionary<(int Size, Operation Op), List<Sample>> Samples { get; } = [];
    public Dictionary<int, int> FinalSizes { get; } = [];
    public int StrayCommands { get; set; }
    public int FailedCommands { get; set; }
    public int LoggedErrors { get; set; }
    public string LoadBefore { get; set; } = "";
    public string LoadAfter { get; set; } = "";
    public TimeSpan MeasureTime { get; set; }
    public string VersionCheck { get; set; } = "";
    /// <summary>Per size and operation, the plan of each statement of its last run.</summary>
    public Dictionary<(int Size, Operation Op), List<string>> Plans { get; } = [];
}

internal static class ProviderRun
{
    public static async Task<ProviderResult> RunAsync(string provider, Options options, SqlRecorder sql, CancellationToken ct)
    {
        var result = new ProviderResult(provider);
        var dataDirectory = Directory.CreateTempSubdirectory("ra-bench-").FullName;
        PostgresServer? postgres = null;
        try
        {
            string connectionString;
            DatabaseProvider kind;
            if (provider == "postgres")
            {
                Console.WriteLine("  starting PostgreSQL...");
                postgres = await PostgresServer.StartAsync(options.Postgres, ct);
                connectionString = postgres.ConnectionString;
                kind = DatabaseProvider.Postgres;
                result.Setup = postgres.Description + "; ANALYZE run once after seeding (autovacuum would do it in service)";
            }
            else
            {
                var file = Path.Combine(dataDirectory, DatabaseSettings.SqliteFileName);
                connectionString = DatabaseSettings.SqliteConnectionStringFor(file);
                kind = DatabaseProvider.Sqlite;
                result.Setup = $"file in a temp directory, the app's connection string, WAL (set by DatabaseInitializer), no ANALYZE (the app never runs it)";
            }

            await using var host = await BenchHost.StartAsync(kind, connectionString, dataDirectory, ct);
            await using (var db = await host.Contexts.CreateDbContextAsync(ct))
            {
                result.Engine = kind == DatabaseProvider.Sqlite
                    ? "SQLite " + (await db.Database.SqlQueryRaw<string>("SELECT sqlite_version() AS \"Value\"").ToListAsync(ct))[0]
                    : "PostgreSQL " + (await db.Database.SqlQueryRaw<string>("SHOW server_version").ToListAsync(ct))[0];
                if (kind == DatabaseProvider.Sqlite)
                {
                    // What a commit costs depends on these; the app leaves synchronous at the library's default.
                    var journal = (await db.Database.SqlQueryRaw<string>("PRAGMA journal_mode").ToListAsync(ct))[0];
                    var synchronous = (await db.Database.SqlQueryRaw<long>("PRAGMA synchronous").ToListAsync(ct))[0];
                    result.Setup += $"; journal_mode={journal}, synchronous={synchronous} (0 off, 1 normal, 2 full)";
                }
                else
                {
                    var fsync = (await db.Database.SqlQueryRaw<string>("SHOW fsync").ToListAsync(ct))[0];
                    var commit = (await db.Database.SqlQueryRaw<string>("SHOW synchronous_commit").ToListAsync(ct))[0];
                    var buffers = (await db.Database.SqlQueryRaw<string>("SHOW shared_buffers").ToListAsync(ct))[0];
                    result.Setup += $"; fsync={fsync}, synchronous_commit={commit}, shared_buffers={buffers}";
                }
            }
            Console.WriteLine($"  {result.Engine}");

            var owner = await Seeder.CreateOwnerAsync(host.Contexts, ct);
            var cipher = await host.Protector.ForUserAsync(owner, ct);
            foreach (var size in options.Sizes)
            {
                var seeded = await Seeder.SeedAsync(host.Contexts, cipher, owner, size, options.Verify, ct, index: true);
                result.Seeded.Add(seeded);
                Console.WriteLine($"  seeded {size,9:N0} messages in {seeded.SeedTime.TotalSeconds,6:F1} s" +
                                  (options.Verify ? $" (hash chain verified in {seeded.VerifyTime.TotalSeconds:F1} s)" : ""));
            }
            if (kind == DatabaseProvider.Postgres)
            {
                await using var db = await host.Contexts.CreateDbContextAsync(ct);
                await db.Database.ExecuteSqlRawAsync("ANALYZE", ct);
            }

            // EF logs one failed command while migrating a fresh PostgreSQL database (it probes __EFMigrationsHistory):
            // only what the app logs from here on counts.
            var errorsBefore = host.Warnings.Errors;
            await MeasureAsync(host, owner, options, sql, result, ct);
            result.LoggedErrors = host.Warnings.Errors - errorsBefore;
            result.VersionCheck = await VersionCheck.RunAsync(host, owner, result.Seeded, ct);
            Console.WriteLine($"  check: {result.VersionCheck}");
        }
        finally
        {
            if (postgres is not null)
            {
                await postgres.DisposeAsync();
            }
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(dataDirectory, recursive: true);
        }
        return result;
    }

    private static async Task MeasureAsync(BenchHost host, string owner, Options options, SqlRecorder sql, ProviderResult result, CancellationToken ct)
    {
        var chat = host.Chat;
        var sessions = result.Seeded.ToDictionary(s => s.Size);
        var current = options.Sizes.ToDictionary(s => s, s => s);
        var branch = result.Seeded.ToDictionary(s => s.Size, s => s.BranchLength);
        var shuffle = new Random(42);
        var failedBefore = sql.Failed;
        result.LoadBefore = MachineInfo.LoadAverage();
        var clock = Stopwatch.StartNew();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        sql.TakeStatements();

        for (var round = -options.Warmup; round < options.Rounds; round++)
        {
            // A new order each round, so whatever else the machine is doing hits every size alike.
            var order = options.Sizes.OrderBy(_ => shuffle.Next()).ToArray();
            foreach (var size in order)
            {
                var sessionId = sessions[size].Id;
                // The last round keeps the parameters, to EXPLAIN exactly what ran.
                sql.CaptureParameters = round == options.Rounds - 1;

                var (open, view) = await PhaseAsync(sql, result, () => chat.GetConversationAsync(owner, sessionId, ct));
                var expected = Math.Min(branch[size], Core.Chat.ChatService.PageSize);
                if (view is null || view.Messages.Count != expected || view.HasOlder != branch[size] > expected || view.IsGenerating
                    || view.Messages[^1].Role != MessageRole.Assistant || view.Messages[^1].Status != EventStatus.Complete)
                {
                    throw new InvalidOperationException(
                        $"Opening the {size}-message session returned {view?.Messages.Count} messages (expected {expected}), " +
                        $"HasOlder={view?.HasOlder}, generating={view?.IsGenerating}, last={view?.Messages.LastOrDefault()?.Status}");
                }

                host.Gate.Close();
                // A question about something said earlier in the conversation: a few words of an earlier message, as a
                // user remembers them ("what did you say about the carbon cycle?"), which recall then searches for.
                var remembered = Corpus.ContentWordsOf(sessions[size].SampleTexts[shuffle.Next(sessions[size].SampleTexts.Count)])
                    .OrderBy(_ => shuffle.Next()).Take(3);
                var text = $"Follow-up {round + options.Warmup + 1}: what did you say earlier about {string.Join(' ', remembered)}?";
                var (append, sent) = await PhaseAsync(sql, result, () => chat.SendAsync(owner, sessionId, text, Guid.NewGuid().ToString("N"), ct: ct));
                if (sent.WasDuplicate)
                {
                    throw new InvalidOperationException("A fresh client id was reported as a duplicate.");
                }

                var (turn, _) = await PhaseAsync(sql, result, async () =>
                {
                    await host.Gate.OpenForOneTurn().WaitAsync(TimeSpan.FromSeconds(60), ct);
                    return true;
                });
                current[size] += 2;
                branch[size] += 2;

                // What the next turn's prompt would be built from, for the question just answered (issue 4's target).
                // The next question comes after the user has read the answer: by then the background summary of this
                // turn is written, so let it finish rather than measure the two fighting over two cores.
                await host.Summarizer.WhenIdleAsync();
                // And the app's merger has moved the turn's two messages into the postings (200 ms after the commit).
                await using (var db = await host.Contexts.CreateDbContextAsync(ct))
                {
                    while (await ResearchAssistant.Core.Search.SearchMerger.MergeBatchAsync(db, 8, ct) > 0)
                    {
                    }
                }
                var (assemble, assembled) = await PhaseAsync(sql, result, () => host.ContextBuilder.BuildAsync(owner, sessionId, sent.MessageId, ct));
                if (assembled.Plan.TotalTokens > assembled.Plan.Budget)
                {
                    throw new InvalidOperationException($"A prompt of {assembled.Plan.TotalTokens} tokens was built for a budget of {assembled.Plan.Budget}.");
                }
                sql.CaptureParameters = false;

                if (round >= 0)
                {
                    Add(result, size, Operation.Open, open);
                    Add(result, size, Operation.Append, append);
                    Add(result, size, Operation.Turn, turn);
                    Add(result, size, Operation.Assemble, assemble);
                }
            }
            if (round == -options.Warmup || (round + 1) % 10 == 0)
            {
                Console.WriteLine($"  round {round + 1,3}/{options.Rounds} done");
            }
        }
        if (options.Rewind > 0)
        {
            await MeasureRewoundAsync(host, owner, options, sql, result, sessions, current, ct);
        }
        result.MeasureTime = clock.Elapsed;
        result.LoadAfter = MachineInfo.LoadAverage();
        result.FailedCommands = sql.Failed - failedBefore;
        foreach (var (size, n) in current)
        {
            result.FinalSizes[size] = n;
        }
        foreach (var size in options.Sizes)
        {
            foreach (var op in Enum.GetValues<Operation>().Where(o => result.Samples.ContainsKey((size, o))))
            {
                var plans = new List<string>();
                foreach (var statement in result.Samples[(size, op)][^1].Statements)
                {
                    plans.Add(statement.IsCommand ? await QueryPlans.ExplainAsync(host.Contexts, statement, ct) : "");
                }
                result.Plans[(size, op)] = plans;
            }
        }
    }

    /// <summary>
    /// Rewinds every session by <see cref="Options.Rewind"/> messages (BranchService.RewindAsync, as the UI does), then
    /// measures opening it: the page above the new leaf, plus the answers kept below it and the leaf of the newest
    /// branch there (BranchReader.LatestLeafBelowAsync, which walks down those messages).
    /// </summary>
    private static async Task MeasureRewoundAsync(BenchHost host, string owner, Options options, SqlRecorder sql, ProviderResult result,
        Dictionary<int, SeededSession> sessions, Dictionary<int, int> current, CancellationToken ct)
    {
        foreach (var size in options.Sizes)
        {
            var view = await host.Chat.GetConversationAsync(owner, sessions[size].Id, ct)
                ?? throw new InvalidOperationException("Session vanished.");
            // The message Rewind levels above the leaf, paging up as the UI does when it is further than one page.
            var page = view.Messages.Where(m => m.Status != EventStatus.Queued).ToList();
            var remaining = options.Rewind;
            while (remaining >= page.Count)
            {
                remaining -= page.Count;
                var (older, _) = await host.Chat.GetOlderMessagesAsync(owner, sessions[size].Id, page[0].Id, ct);
                page = older.Count > 0 ? older.ToList() : throw new InvalidOperationException($"The {size}-message session is shorter than the rewind.");
            }
            var target = page[page.Count - 1 - remaining];
            await host.Branches.RewindAsync(owner, sessions[size].Id, target.Id, ct);
            current[size]++; // the Rewound event
        }
        sql.TakeStatements(); // the set-up above is not an operation being measured
        var shuffle = new Random(7);
        for (var round = -options.Warmup; round < options.Rounds; round++)
        {
            foreach (var size in options.Sizes.OrderBy(_ => shuffle.Next()).ToArray())
            {
                sql.CaptureParameters = round == options.Rounds - 1;
                var (open, view) = await PhaseAsync(sql, result, () => host.Chat.GetConversationAsync(owner, sessions[size].Id, ct));
                sql.CaptureParameters = false;
                if (view is null || view.LaterMessages < 1 || view.LatestLaterLeafId is null)
                {
                    throw new InvalidOperationException($"After the rewind, opening the {size}-message session showed {view?.LaterMessages} later messages.");
                }
                if (round >= 0)
                {
                    Add(result, size, Operation.OpenRewound, open);
                }
            }
        }
    }

    private static void Add(ProviderResult result, int size, Operation op, Sample sample)
    {
        if (!result.Samples.TryGetValue((size, op), out var list))
        {
            result.Samples[(size, op)] = list = [];
        }
        list.Add(sample);
    }

    private static async Task<(Sample Sample, T Value)> PhaseAsync<T>(SqlRecorder sql, ProviderResult result, Func<Task<T>> operation)
    {
        // Anything executed since the previous phase ended ran outside every measured operation: count it.
        result.StrayCommands += sql.TakeStatements().Count(s => s.IsCommand);
        var process = Process.GetCurrentProcess();
        var cpuBefore = process.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        var value = await operation();
        clock.Stop();
        process.Refresh();
        var cpu = (process.TotalProcessorTime - cpuBefore).TotalMilliseconds;
        return (new Sample(clock.Elapsed.TotalMilliseconds, sql.TakeStatements(), cpu), value);
    }
}
