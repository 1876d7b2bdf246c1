using System.Diagnostics;
using ResearchAssistant.Benchmarks;
using ResearchAssistant.SyncBenchmarks;
using ResearchAssistant.Testing;

SyncOptions? options;
try
{
    options = SyncOptions.Parse(args);
}
catch (Exception ex) when (ex is ArgumentException or FormatException)
{
    Console.Error.WriteLine(ex.Message);
    Console.Error.WriteLine(SyncOptions.Usage);
    return 2;
}
if (options is null)
{
    Console.WriteLine(SyncOptions.Usage);
    return 0;
}

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};

var root = FindRepositoryRoot() ?? Directory.GetCurrentDirectory();
var output = options.Output ?? Path.Combine(root, "benchmarks", "last-sync-run.md");
var commandLine = "dotnet run -c Release --project benchmarks/ResearchAssistant.SyncBenchmarks --" + string.Concat(args.Select(a => " " + (a.Contains(' ') ? $"\"{a}\"" : a)));
var started = DateTimeOffset.UtcNow;
var clock = Stopwatch.StartNew();
var machine = MachineInfo.Describe();
Console.WriteLine(machine);

var live = new List<TopologyResult>();
if (options.Scenarios.Contains("live"))
{
    using var commits = new CommitClock();
    await using var fake = await FakeOpenAiServer.StartAsync();
    // Words of a plausible answer, one token each, with a paragraph break now and then (so the Markdown has blocks).
    var words = "The interval is wide because the sample is small , so the estimate of the effect is uncertain and the test has little power . A larger cohort or a paired design would narrow it".Split(' ');
    fake.Behavior = new FakeBehavior
    {
        Tokens = Enumerable.Range(0, options.Tokens).Select(i => (i > 0 && i % 15 == 0 ? "\n\n" : " ") + words[i % words.Length]).ToList(),
        TokenDelay = TimeSpan.FromMilliseconds(options.TokenDelayMs),
    };
    foreach (var provider in options.Providers)
    {
        foreach (var topology in options.Topologies)
        {
            if (topology == "cross" && provider != "postgres")
            {
                continue;
            }
            Console.WriteLine($"{provider}, {(topology == "cross" ? "two instances" : "one instance")}:");
            live.Add(await LiveSyncRun.RunAsync(provider, topology == "cross", options, fake, cancel.Token));
        }
    }
}

MemoryResult? memory = null;
if (options.Scenarios.Contains("memory"))
{
    Console.WriteLine("memory per circuit (real app, Chromium):");
    memory = await MemoryRun.RunAsync(options, cancel.Token);
}

BrowserResult? browser = null;
if (options.Scenarios.Contains("browser"))
{
    Console.WriteLine("browser sanity check (real app, two Chromium devices):");
    browser = await BrowserRun.RunAsync(options, cancel.Token);
}

var report = SyncReport.Render(options, machine, commandLine, started, clock.Elapsed, live, memory, browser);
Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
await File.WriteAllTextAsync(output, report);
Console.WriteLine();
Console.WriteLine(report);
Console.WriteLine($"Written to {Path.GetFullPath(output)}");
return 0;

static string? FindRepositoryRoot()
{
    for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
    {
        if (File.Exists(Path.Combine(dir.FullName, "ResearchAssistant.sln")))
        {
            return dir.FullName;
        }
    }
    return null;
}
