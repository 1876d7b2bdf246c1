using ResearchAssistant.Benchmarks;
using System.Diagnostics;
using System.Globalization;
using Microsoft.EntityFrameworkCore;
using ResearchAssistant.Core.Data;
using ResearchAssistant.SearchBenchmarks;

// Usage (Release): dotnet run -c Release --project benchmarks/ResearchAssistant.SearchBenchmarks -- [options]
//   --providers sqlite,postgres   which databases (PostgreSQL needs --postgres or RA_BENCH_POSTGRES)
//   --postgres "Host=...;Port=...;Username=postgres"   a server where databases may be created and dropped
//   --messages 100000  --queries 100 (per kind)  --index 500  --jump 100  --recall 100
//   --out benchmarks/SEARCH-RESULTS.md
// benchmarks/ResearchAssistant.SearchBenchmarks/run.sh starts a throwaway PostgreSQL cluster and runs everything.

var options = Options.Parse(args);
var started = DateTimeOffset.UtcNow;
var total = Stopwatch.StartNew();
var results = new List<ProviderResult>();
foreach (var provider in options.Providers)
{
    Console.WriteLine($"== {provider}: seeding {options.Messages:N0} messages");
    var directory = Path.Combine(Path.GetTempPath(), "ra-search-bench-" + Guid.NewGuid().ToString("N")[..8]);
    await using var bench = provider == DatabaseProvider.Sqlite
        ? await BenchDatabase.CreateSqliteAsync(directory)
        : await BenchDatabase.CreatePostgresAsync(options.Postgres ?? throw new InvalidOperationException("PostgreSQL needs --postgres or RA_BENCH_POSTGRES."), directory);
    var corpus = new Corpus(seed: 7);
    var user = await Seeder.SeedAsync(bench, corpus, options.Messages, seed: 11);
    Console.WriteLine($"  seeded in {user.Elapsed.TotalSeconds:F0} s");
    var setup = provider == DatabaseProvider.Sqlite
        ? "file in a temp directory, the app's connection string, WAL (set at start-up), no ANALYZE (the app never runs it)"
        : "throwaway local cluster (fsync off), one VACUUM ANALYZE after seeding (what autovacuum does on its own after a bulk load)";
    if (provider == DatabaseProvider.Postgres)
    {
        await using var db = await bench.Contexts.CreateDbContextAsync();
        await db.Database.ExecuteSqlRawAsync("VACUUM ANALYZE");
    }

    // The seeding's garbage is not the app's: collect it now rather than in the middle of a timed call.
    Settle();
    Console.WriteLine("  searching");
    var server = await ServerCpu.FindAsync(bench);
    var (byKind, all, searchCpu, searchTotalCpu, averageHits) = await Measurements.SearchAsync(bench, user, options.Queries, seed: 13, server);
    Console.WriteLine($"  search: median {all.Median:F1} ms, p95 {all.P95:F1} ms");
    Settle();
    Console.WriteLine("  indexing");
    var (indexOnly, indexCpu, indexTotalCpu, merge, indexAndMerge, mergeBatched, with, without, indexingSession) = await Measurements.IndexingAsync(bench, corpus, user, options.Index, seed: 17, server);
    Console.WriteLine($"  index one message: median {indexOnly.Median:F2} ms, p95 {indexOnly.P95:F2} ms; merge: median {merge.Median:F2} ms, p95 {merge.P95:F2} ms");
    Settle();
    Console.WriteLine("  jumping and recalling");
    var jump = await Measurements.JumpAsync(bench, user, options.Jump, seed: 19);
    var recall = await Measurements.RecallAsync(bench, user, options.Recall, seed: 23);
    var batchedMessages = 8 * ResearchAssistant.Core.Search.SearchMerger.BatchDocuments;
    var delete = await Measurements.DeleteAsync(bench, user, indexingSession, options.Index + 20 + batchedMessages, (options.Index + 20) / 2 + batchedMessages);
    results.Add(new ProviderResult(provider.ToString(), await bench.EngineVersionAsync(), setup, user.Elapsed, await bench.StorageAsync(),
        await Measurements.PostingsAsync(bench), byKind, all, searchCpu, searchTotalCpu, indexOnly, indexCpu, indexTotalCpu, merge, indexAndMerge, mergeBatched, with, without, jump, recall, delete, averageHits, LoadAverage()));
}

var report = Report.Render(options, started, total.Elapsed, results);
Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(options.Output))!);
File.WriteAllText(options.Output, report);
Console.WriteLine(report);
Console.WriteLine($"Written to {options.Output}");
var failed = results.Any(r => r.SearchAll.P95 > Report.SearchTargetMs || r.IndexOnly.P95 > Report.IndexTargetMs);
return failed ? 2 : 0;

static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

static void Settle()
{
    GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
    GC.WaitForPendingFinalizers();
}

internal sealed record Options(IReadOnlyList<DatabaseProvider> Providers, string? Postgres, int Messages, int Queries, int Index, int Jump, int Recall, string Output)
{
    public static Options Parse(string[] args)
    {
        string? Value(string name)
        {
            var i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
        }
        int Number(string name, int fallback) => Value(name) is { } v ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;

        var providers = (Value("--providers") ?? "sqlite,postgres").Split(',', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => Enum.Parse<DatabaseProvider>(p, ignoreCase: true)).ToList();
        return new Options(providers, Value("--postgres") ?? Environment.GetEnvironmentVariable("RA_BENCH_POSTGRES"),
            Number("--messages", 100_000), Number("--queries", 100), Number("--index", 500), Number("--jump", 100), Number("--recall", 100),
            Value("--out") ?? Path.Combine("benchmarks", "SEARCH-RESULTS.md"));
    }
}
