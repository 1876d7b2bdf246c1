using System.Diagnostics;
using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using ResearchAssistant.Benchmarks;
using ResearchAssistant.Core.Chat;
using ResearchAssistant.Core.Data;
using ResearchAssistant.Core.Llm;
using ResearchAssistant.Core.Privacy;
using ResearchAssistant.Core.Sessions;
using ResearchAssistant.Core.Sync;
using ResearchAssistant.Testing;

namespace ResearchAssistant.SyncBenchmarks;

/// <summary>One measured round: one message sent, its answer streamed, seen by every watcher of one configuration.</summary>
internal sealed record RoundSample(
    int Watchers,
    double SendMs,
    double CommitToPublishMs,
    IReadOnlyList<double> MessageMs,
    IReadOnlyList<double> HintMs,
    IReadOnlyList<double> RenderMs,
    int TokensMissed,
    double CpuMs,
    double? ServerCpuMs,
    double WallMs,
    long Statements);

/// <summary>Everything measured for one provider and topology.</summary>
internal sealed class TopologyResult(string provider, string topology)
{
    public string Provider { get; } = provider;
    public string Topology { get; } = topology;
    public string Engine { get; set; } = "";
    public string Setup { get; set; } = "";
    public string? NotMeasured { get; set; }
    public string LoadBefore { get; set; } = "";
    public string LoadAfter { get; set; } = "";
    public TimeSpan MeasureTime { get; set; }
    public int CircuitErrors { get; set; }
    public int LoggedErrors { get; set; }
    public int TimedOut { get; set; }
    public bool ServerCpuMeasured { get; set; }
    public bool Aborted { get; set; }
    public List<string> TimeoutReasons { get; } = [];
    public Dictionary<int, List<RoundSample>> Rounds { get; } = [];
}

/// <summary>
/// The in-process part: the app's Core services (one or two "instances" on one database), N simulated circuits per
/// watcher count (<see cref="SimulatedCircuit"/>), a sender calling <see cref="ChatService.SendAsync"/> as a page
/// does, and the answer streamed by the real TurnRunner from the fake OpenAI-compatible server through the real
/// OpenAI client. Watcher counts are interleaved round by round in a random order, each with its own user and
/// conversation (a bus subscription is per user, so one count's watchers never hear the other's rounds).
/// </summary>
internal static class LiveSyncRun
{
    private static readonly TimeSpan RoundTimeout = TimeSpan.FromSeconds(30);

    public static async Task<TopologyResult> RunAsync(string provider, bool crossInstance, SyncOptions options, FakeOpenAiServer fake, CancellationToken ct)
    {
        var result = new TopologyResult(provider, crossInstance ? "two instances" : "one instance");
        var dataDirectory = Directory.CreateTempSubdirectory("ra-syncbench-").FullName;
        PostgresServer? postgres = null;
        ServerCpu? serverCpu = null;
        var hosts = new List<BenchHost>();
        var circuits = new List<SimulatedCircuit>();
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
                result.Setup = postgres.Description;
                serverCpu = options.Postgres is null ? ServerCpu.Find(new Npgsql.NpgsqlConnectionStringBuilder(connectionString).Port) : null;
                result.ServerCpuMeasured = serverCpu is not null;
            }
            else
            {
                var file = Path.Combine(dataDirectory, DatabaseSettings.SqliteFileName);
                connectionString = DatabaseSettings.SqliteConnectionStringFor(file);
                kind = DatabaseProvider.Sqlite;
                result.Setup = "file in a temp directory, the app's connection string, WAL (set by DatabaseInitializer)";
            }

            // Both instances must read each other's encrypted rows: one master key for the run.
            var masterKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(MasterKey.KeySize));
            var models = new List<StampedModel>();
            for (var i = 0; i < (crossInstance ? 2 : 1); i++)
            {
                hosts.Add(await BenchHost.StartAsync(kind, connectionString, dataDirectory, ct, HostOptions(fake, masterKey, models)));
            }
            var sender = hosts[0];
            var watching = hosts[^1];
            var model = models[0];
            if (crossInstance && !HasBridge(watching))
            {
                result.NotMeasured = "this build has no bridge between instances (no hosted service in ResearchAssistant.Core.Sync " +
                                     "relays the session bus through PostgreSQL), so the second instance's circuits never hear " +
                                     "of the first's changes";
                return result;
            }
            await using (var db = await sender.Contexts.CreateDbContextAsync(ct))
            {
                result.Engine = kind == DatabaseProvider.Sqlite
                    ? "SQLite " + (await db.Database.SqlQueryRaw<string>("SELECT sqlite_version() AS \"Value\"").ToListAsync(ct))[0]
                    : "PostgreSQL " + (await db.Database.SqlQueryRaw<string>("SHOW server_version").ToListAsync(ct))[0];
            }

            // One user and one conversation per watcher count, with a history like a real one.
            var groups = new List<Group>();
            foreach (var count in options.Watchers)
            {
                var owner = await Seeder.CreateOwnerAsync(sender.Contexts, ct);
                var cipher = await sender.Protector.ForUserAsync(owner, ct);
                var seeded = await Seeder.SeedAsync(sender.Contexts, cipher, owner, options.SessionSize, verify: false, ct);
                var group = new Group(count, owner, seeded.Id);
                // Subscribed on the sender's bus before any circuit: when the send's hint reached a subscriber (after its
                // commit; a bus that calls handlers in order calls this one first).
                group.PublishProbe = sender.Services.GetRequiredService<SessionBus>().Subscribe(owner, change =>
                {
                    if (change.Kind == SessionChangeKind.Changed && change.SessionId == group.SessionId)
                    {
                        group.Published.Enqueue((Stopwatch.GetTimestamp(), change.MessageId));
                    }
                });
                var services = watching.Services;
                for (var i = 0; i < count; i++)
                {
                    var circuit = new SimulatedCircuit(
                        services.GetRequiredService<ChatService>(), services.GetRequiredService<BranchService>(),
                        services.GetRequiredService<SessionOrganizer>(), owner, seeded.Id, options.Sidebar);
                    await circuit.OpenAsync(services.GetRequiredService<SessionBus>());
                    group.Circuits.Add(circuit);
                    circuits.Add(circuit);
                }
                groups.Add(group);
                Console.WriteLine($"  {count} watcher(s) open on a {options.SessionSize}-message conversation");
            }

            var shuffle = new Random(5);
            var errorsBefore = hosts.Sum(h => h.Warnings.Errors);
            result.LoadBefore = MachineInfo.LoadAverage();
            var clock = Stopwatch.StartNew();
            for (var round = -options.Warmup; round < options.Rounds; round++)
            {
                foreach (var group in groups.OrderBy(_ => shuffle.Next()))
                {
                    var sample = await RoundAsync(sender, model, group, options, $"{provider}-{(crossInstance ? "x" : "s")}-{round + options.Warmup}", serverCpu, ct);
                    if (sample is null)
                    {
                        result.TimedOut++;
                        result.TimeoutReasons.Add($"round {round} with {group.Count} watcher(s): {group.LastTimeout}");
                        Console.WriteLine($"  round {round} with {group.Count} watcher(s) timed out");
                        if (result.TimedOut >= 5)
                        {
                            // Bounded: something is broken, not slow. What was measured until then is still reported.
                            result.NotMeasured = result.Rounds.Count == 0
                                ? $"{result.TimedOut} rounds timed out ({RoundTimeout.TotalSeconds:F0} s each) before any was measured"
                                : null;
                            result.Aborted = true;
                            break;
                        }
                        continue;
                    }
                    if (round >= 0)
                    {
                        if (!result.Rounds.TryGetValue(group.Count, out var list))
                        {
                            result.Rounds[group.Count] = list = [];
                        }
                        list.Add(sample);
                    }
                }
                if (result.Aborted)
                {
                    break;
                }
                if (round % 10 == 9 || round == options.Rounds - 1)
                {
                    Console.WriteLine($"  {round + 1}/{options.Rounds} rounds ({clock.Elapsed.TotalSeconds:F0} s), load {MachineInfo.LoadAverage()}");
                }
            }
            result.MeasureTime = clock.Elapsed;
            result.LoadAfter = MachineInfo.LoadAverage();
            result.CircuitErrors = circuits.Sum(c => c.Errors);
            result.LoggedErrors = hosts.Sum(h => h.Warnings.Errors) - errorsBefore;
            foreach (var group in groups)
            {
                group.PublishProbe?.Dispose();
            }
            return result;
        }
        finally
        {
            foreach (var circuit in circuits)
            {
                circuit.Dispose();
            }
            foreach (var host in Enumerable.Reverse(hosts))
            {
                await host.DisposeAsync();
            }
            if (postgres is not null)
            {
                await postgres.DisposeAsync();
            }
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try
            {
                Directory.Delete(dataDirectory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static BenchHostOptions HostOptions(FakeOpenAiServer fake, string masterKey, List<StampedModel> models) => new(
        Settings: new Dictionary<string, string?>
        {
            [MasterKey.ConfigurationKey] = masterKey,
            ["Llm:Provider"] = "OpenAI",
            ["Llm:Endpoint"] = fake.Endpoint.ToString(),
            ["Llm:Model"] = "fake-model",
            ["Llm:ApiKey"] = "bench-key",
            ["Llm:MaxRetries"] = "0",
            ["Llm:TimeoutSeconds"] = "30",
            // Background summaries (a second model call after some answers) are not part of sync; kept out of the timing.
            ["Context:SummarizeAfterTokens"] = int.MaxValue.ToString(System.Globalization.CultureInfo.InvariantCulture),
        },
        Configure: services =>
        {
            var registered = services.Single(d => d.ServiceType == typeof(IChatModel));
            services.Remove(registered);
            var stamped = new StampedModel((IChatModel)registered.ImplementationInstance!);
            models.Add(stamped);
            services.AddSingleton<IChatModel>(stamped);
        },
        StartAllHostedServices: true);

    /// <summary>Whether something relays this instance's bus to the others (the multi-instance branch's PostgreSQL bridge).</summary>
    private static bool HasBridge(BenchHost host) =>
        host.Services.GetServices<IHostedService>().Any(s => s.GetType().Namespace == typeof(SessionBus).Namespace && s.GetType().Name.Contains("Bridge", StringComparison.Ordinal));

    private static async Task<RoundSample?> RoundAsync(BenchHost sender, StampedModel model, Group group, SyncOptions options, string tag, ServerCpu? serverCpu, CancellationToken ct)
    {
        var marker = $"[{tag}-{group.Count}-{Guid.NewGuid().ToString("N")[..6]}]";
        var question = $"Round {marker}: what does the confidence interval say about this sample?";
        foreach (var circuit in group.Circuits)
        {
            circuit.Expect(marker);
        }
        var stream = model.Watch(question);
        var commit = new CommitProbe();
        group.Published.Clear();
        if (options.HoldTurn)
        {
            sender.Gate.Close();
        }
        var serverBefore = serverCpu?.Milliseconds();
        var cpuBefore = CpuTime();
        var statementsBefore = CommitClock.Statements;
        var started = Stopwatch.GetTimestamp();
        try
        {
            SendResult sent;
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct))
            {
                timeout.CancelAfter(RoundTimeout);
                CommitClock.Watch(commit);
                try
                {
                    sent = await sender.Chat.SendAsync(group.Owner, group.SessionId, question, Guid.NewGuid().ToString("N"), ct: timeout.Token);
                }
                finally
                {
                    CommitClock.Watch(null);
                }
            }
            var returned = Stopwatch.GetTimestamp();

            if (!await WaitAsync(() => group.Circuits.All(c => c.MessageRendered != 0), ct))
            {
                return TimedOut("the message never rendered on every watcher", group);
            }
            if (options.HoldTurn)
            {
                _ = sender.Gate.OpenForOneTurn();
            }
            if (!await stream.Ended.WaitAsync(RoundTimeout, ct).ContinueWith(t => t.IsCompletedSuccessfully, TaskScheduler.Default))
            {
                return TimedOut($"the answer never finished streaming ({stream.Tokens.Count} tokens arrived)", group);
            }
            // Done when every watcher shows the sealed answer, nothing generating, and has no work left.
            if (!await WaitAsync(() => group.Circuits.All(c => ShowsSealedAnswer(c, sent.MessageId) && !c.IsBusy), ct))
            {
                return TimedOut("not every watcher showed the sealed answer", group);
            }
            // The worker announces its exit with one more hint: let it land (and be handled) inside this round.
            var turns = sender.Services.GetRequiredService<TurnRunner>();
            if (!await WaitAsync(() => !turns.IsGenerating(group.SessionId), ct))
            {
                return TimedOut("the turn runner never finished", group);
            }
            await Task.Delay(20, ct);
            if (!await WaitAsync(() => group.Circuits.All(c => !c.IsBusy), ct))
            {
                return TimedOut("the watchers never went idle", group);
            }
            var wall = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            var cpu = (CpuTime() - cpuBefore).TotalMilliseconds;
            var server = serverCpu?.Milliseconds() - serverBefore;
            var statements = CommitClock.Statements - statementsBefore;

            var committed = commit.Committed;
            var published = group.Published.FirstOrDefault(p => p.MessageId == sent.MessageId).At;
            if (committed == 0 || published == 0 || published < committed)
            {
                throw new InvalidOperationException($"Round {marker}: commit {committed} / publish {published} not observed in order.");
            }
            var tokens = stream.Tokens;
            var messageMs = new List<double>(group.Count);
            var hintMs = new List<double>(group.Count * tokens.Count);
            var renderMs = new List<double>(group.Count * tokens.Count);
            var missed = 0;
            foreach (var circuit in group.Circuits)
            {
                messageMs.Add(Ms(circuit.MessageRendered - committed));
                var (hints, renders) = circuit.StreamObservations();
                missed += Match(tokens, hints, hintMs);
                missed += Match(tokens, renders, renderMs);
            }
            return new RoundSample(group.Count, Ms(returned - started), Ms(published - committed), messageMs, hintMs, renderMs, missed, cpu, server, wall, statements);
        }
        finally
        {
            model.Forget(stream);
            if (options.HoldTurn)
            {
                _ = sender.Gate.OpenForOneTurn();
            }
        }
    }

    /// <summary>For each token, the first observation whose text was at least as long as the text with that token.</summary>
    private static int Match(List<(long At, int Length)> tokens, List<(long At, int Length)> seen, List<double> into)
    {
        var missed = 0;
        var j = 0;
        foreach (var (at, length) in tokens)
        {
            while (j < seen.Count && seen[j].Length < length)
            {
                j++;
            }
            if (j == seen.Count)
            {
                missed++;
                continue;
            }
            into.Add(Ms(seen[j].At - at));
        }
        return missed;
    }

    private static RoundSample? TimedOut(string what, Group group)
    {
        var views = group.Circuits.GroupBy(c => c.View is { } v
                ? $"{v.Messages.Count} messages, last {v.Messages[^1].Role} {v.Messages[^1].Status}, generating {v.IsGenerating}, busy {c.IsBusy}"
                : "no view")
            .Select(g => $"{g.Count()} x ({g.Key})");
        group.LastTimeout = $"{what}; watchers: {string.Join("; ", views)}";
        Console.WriteLine($"  timed out: {group.LastTimeout}");
        return null;
    }

    private static bool ShowsSealedAnswer(SimulatedCircuit circuit, Guid questionId) =>
        circuit.View is { IsGenerating: false, Messages: [.., { Role: MessageRole.Assistant, Status: EventStatus.Complete } last] } && last.ParentId == questionId;

    private static async Task<bool> WaitAsync(Func<bool> condition, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > RoundTimeout)
            {
                return false;
            }
            await Task.Delay(2, ct);
        }
        return true;
    }

    private static TimeSpan CpuTime()
    {
        using var process = Process.GetCurrentProcess();
        return process.TotalProcessorTime;
    }

    private static double Ms(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;

    private sealed class Group(int count, string owner, Guid sessionId)
    {
        public int Count { get; } = count;
        public string Owner { get; } = owner;
        public Guid SessionId { get; } = sessionId;
        public List<SimulatedCircuit> Circuits { get; } = [];
        public IDisposable? PublishProbe { get; set; }
        public string LastTimeout { get; set; } = "";
        public System.Collections.Concurrent.ConcurrentQueue<(long At, Guid? MessageId)> Published { get; } = new();
    }
}
