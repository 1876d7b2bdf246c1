using System.Diagnostics;
using ResearchAssistant.Benchmarks;

Options? options;
try
{
    options = Options.Parse(args);
}
catch (Exception ex) when (ex is ArgumentException or FormatException)
{
    Console.Error.WriteLine(ex.Message);
    Console.Error.WriteLine(Options.Usage);
    return 2;
}
if (options is null)
{
    Console.WriteLine(Options.Usage);
    return 0;
}

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};

var output = options.Output ?? Path.Combine(FindRepositoryRoot() ?? Directory.GetCurrentDirectory(), "benchmarks", "last-run.md");
var started = DateTimeOffset.UtcNow;
var clock = Stopwatch.StartNew();
var machine = Report.Machine();
Console.WriteLine(machine);

using var sql = new SqlRecorder();
var results = new List<ProviderResult>();
foreach (var provider in options.Providers)
{
    Console.WriteLine($"{provider}:");
    results.Add(await ProviderRun.RunAsync(provider, options, sql, cancel.Token));
}

var report = Report.Render(options, machine, started, clock.Elapsed, results);
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
