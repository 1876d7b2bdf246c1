using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using Microsoft.Playwright;
using ResearchAssistant.Benchmarks;

namespace ResearchAssistant.SyncBenchmarks;

/// <summary>What the diagnostics endpoint returned (see ResearchAssistant.Web/Hosting/MemoryDiagnosticsEndpoint.cs).</summary>
internal sealed record MemoryReading(long ManagedBytes, long HeapSizeBytes, long WorkingSetBytes, long PrivateBytes, long PinnedHeapBytes);

/// <summary>One measurement: the server's memory with only the baseline tab open, then with <see cref="Tabs"/> more tabs.</summary>
internal sealed record MemorySample(int Size, int Round, int Tabs, MemoryReading Before, MemoryReading After)
{
    public double ManagedPerTab => (After.ManagedBytes - Before.ManagedBytes) / (double)Tabs;
    public double WorkingSetPerTab => (After.WorkingSetBytes - Before.WorkingSetBytes) / (double)Tabs;
}

internal sealed class MemoryResult
{
    public List<MemorySample> Samples { get; } = [];
    public int[] Sizes { get; set; } = [];
    public int[] Tabs { get; set; } = [];
    public int SettleSeconds { get; set; }
    public string LoadBefore { get; set; } = "";
    public string LoadAfter { get; set; } = "";
    public TimeSpan Duration { get; set; }
}

/// <summary>
/// Server memory per open conversation circuit, in the real app: for each round and conversation size, the app is
/// restarted (no circuit of an earlier measurement is retained), one tab opens the small conversation (the baseline),
/// the server's memory is read (the loopback-only diagnostics endpoint: full blocking compacting GC, then
/// GC.GetTotalMemory and the working set), then tabs are opened on a conversation of that size until there are 1, then
/// 25 (<c>--memory-pages</c>), each waited for until its circuit is interactive and the newest answer is shown, and the
/// memory is read again. Per circuit = the difference / the number of tabs. All tabs belong to one signed-in device (one
/// browser context), as a user with many tabs open; each tab is its own circuit.
/// </summary>
internal static class MemoryRun
{
    public static async Task<MemoryResult> RunAsync(SyncOptions options, CancellationToken ct)
    {
        var result = new MemoryResult { Sizes = options.MemorySizes, Tabs = options.MemoryPages, SettleSeconds = options.MemorySettleSeconds };
        var settle = TimeSpan.FromSeconds(options.MemorySettleSeconds);
        var started = System.Diagnostics.Stopwatch.StartNew();
        await using var app = await RealApp.StartAsync("syncbench-memory", offlineDelayMilliseconds: 5,
            new Dictionary<string, string> { ["Diagnostics__MemoryEndpoint"] = "true" });
        Console.WriteLine($"  app at {app.Process.BaseUrl}, seeding conversations of {string.Join(", ", options.MemorySizes)} messages...");
        var sessions = await app.SeedAsync(options.MemorySizes, ct);
        var device = app.FirstDevice!;
        using var http = new HttpClient { BaseAddress = app.Process.BaseUrl, Timeout = TimeSpan.FromSeconds(60) };
        result.LoadBefore = MachineInfo.LoadAverage();
        var order = new Random(7);
        for (var round = 1; round <= options.MemoryRounds; round++)
        {
            foreach (var index in Enumerable.Range(0, sessions.Count).OrderBy(_ => order.Next()))
            {
                // A fresh process: the circuits of the previous measurement (kept for a while after their tab closed) are gone.
                foreach (var open in device.Pages.ToList())
                {
                    await open.CloseAsync();
                }
                await app.Process.RestartAsync();
                var baseline = await RealApp.OpenConversationAsync(device, sessions[0]);
                await Task.Delay(settle, ct);
                var before = await ReadAsync(http, ct);
                await PauseForHeapDumpAsync($"{options.MemorySizes[index]}-base", ct);
                var tabs = new List<IPage>();
                foreach (var count in options.MemoryPages)
                {
                    while (tabs.Count < count)
                    {
                        tabs.Add(await RealApp.OpenConversationAsync(device, sessions[index]));
                    }
                    await Task.Delay(settle, ct);
                    var after = await ReadAsync(http, ct);
                    await PauseForHeapDumpAsync($"{options.MemorySizes[index]}-{count}", ct);
                    var sample = new MemorySample(options.MemorySizes[index], round, count, before, after);
                    result.Samples.Add(sample);
                    Console.WriteLine($"  round {round}, {sample.Size:N0} messages, {count} tab(s): managed +{Kb(sample.ManagedPerTab)} per tab, " +
                                      $"RSS +{Kb(sample.WorkingSetPerTab)} per tab (load {MachineInfo.LoadAverage()})");
                }
                await baseline.CloseAsync();
            }
        }
        result.LoadAfter = MachineInfo.LoadAverage();
        result.Duration = started.Elapsed;
        return result;
    }

    /// <summary>
    /// With RA_MEMORY_PAUSE_DIR set, stops after a reading (tabs still open) until a tool has looked at the app's heap: it
    /// writes a file named after the measurement there and goes on when that file is gone.
    /// </summary>
    private static async Task PauseForHeapDumpAsync(string name, CancellationToken ct)
    {
        if (Environment.GetEnvironmentVariable("RA_MEMORY_PAUSE_DIR") is not { Length: > 0 } directory)
        {
            return;
        }
        var file = Path.Combine(directory, name);
        await File.WriteAllTextAsync(file, name, ct);
        while (File.Exists(file))
        {
            await Task.Delay(500, ct);
        }
    }

    /// <summary>Three readings (each after its own full collection); the median of each figure.</summary>
    private static async Task<MemoryReading> ReadAsync(HttpClient http, CancellationToken ct)
    {
        var readings = new List<MemoryReading>();
        for (var i = 0; i < 3; i++)
        {
            readings.Add(await http.GetFromJsonAsync<MemoryReading>("diagnostics/memory", ct)
                         ?? throw new InvalidOperationException("The diagnostics endpoint returned nothing."));
        }
        long Median(Func<MemoryReading, long> pick) => readings.Select(pick).Order().ElementAt(1);
        return new MemoryReading(Median(r => r.ManagedBytes), Median(r => r.HeapSizeBytes), Median(r => r.WorkingSetBytes), Median(r => r.PrivateBytes), Median(r => r.PinnedHeapBytes));
    }

    public static string Render(MemoryResult result)
    {
        var md = new StringBuilder();
        md.AppendLine("## Server memory per open conversation circuit (real app, Chromium tabs)").AppendLine();
        md.AppendLine($"Real app process (SQLite, offline model, `Diagnostics:MemoryEndpoint=true`), headless Chromium; {result.Samples.Select(s => s.Round).DefaultIfEmpty().Max()} " +
                      $"round(s) per conversation size, the app restarted before each; took {result.Duration.TotalSeconds:F0} s; load average before " +
                      $"`{result.LoadBefore}`, after `{result.LoadAfter}`. Baseline: the app with one tab open on the {result.Sizes[0]:N0}-message conversation; then " +
                      $"tabs opened on the measured conversation until {string.Join(", then ", result.Tabs)} were open (same signed-in device, " +
                      $"each tab its own circuit, each waited for until interactive and showing the newest answer), {result.SettleSeconds} s idle, and the " +
                      "memory read again (median of 3 readings, each after a full blocking compacting collection). Per circuit = difference / tabs.").AppendLine();
        md.AppendLine("| conversation | tabs | managed heap per circuit, median (min–max) | RSS per circuit, median (min–max) | rounds |");
        md.AppendLine("|---:|---:|---:|---:|---:|");
        foreach (var size in result.Sizes)
        {
            foreach (var tabs in result.Tabs)
            {
                var samples = result.Samples.Where(s => s.Size == size && s.Tabs == tabs).ToList();
                if (samples.Count == 0)
                {
                    continue;
                }
                md.AppendLine($"| {size:N0} messages | {tabs} | {Kb(Percentiles.Median(samples.Select(s => s.ManagedPerTab)))} ({Kb(samples.Min(s => s.ManagedPerTab))}–{Kb(samples.Max(s => s.ManagedPerTab))}) " +
                              $"| {Kb(Percentiles.Median(samples.Select(s => s.WorkingSetPerTab)))} ({Kb(samples.Min(s => s.WorkingSetPerTab))}–{Kb(samples.Max(s => s.WorkingSetPerTab))}) | {samples.Count} |");
            }
        }
        md.AppendLine();
        var most = result.Tabs[^1];
        double PerTab(int size) => Percentiles.Median(result.Samples.Where(s => s.Size == size && s.Tabs == most).Select(s => s.ManagedPerTab));
        var idle = PerTab(result.Sizes[0]);
        md.AppendLine($"- idle conversation ({result.Sizes[0]:N0} messages), {most} tabs: {Kb(idle)} managed per circuit, target ≤ {SyncReport.CircuitKilobytes:F0} KB: " +
                      $"{(idle / 1024 <= SyncReport.CircuitKilobytes ? "met" : "MISSED")}.");
        foreach (var size in result.Sizes.Skip(1))
        {
            var ratio = PerTab(size) / idle;
            md.AppendLine($"- {size:N0}-message conversation, {most} tabs: {Kb(PerTab(size))} managed per circuit, {ratio:F2}x the idle one, target ≤ {SyncReport.LargeRatio:F1}x: " +
                          $"{(ratio <= SyncReport.LargeRatio ? "met" : "MISSED")}.");
        }
        // The same tabs as a slope: what each tab added between the first and the last reading of one process. Unlike
        // the figures above it leaves out what the process's baseline reading varies by between restarts (up to 2 MB,
        // a large share of 25 tabs' worth), and whatever the first tab on a conversation pays once for all of them.
        var fewest = result.Tabs[0];
        if (most > fewest)
        {
            List<double> Marginal(int size) => result.Samples.Where(s => s.Size == size && s.Tabs == most)
                .Select(last => (last, first: result.Samples.SingleOrDefault(s => s.Size == size && s.Round == last.Round && s.Tabs == fewest)))
                .Where(pair => pair.first is not null)
                .Select(pair => (pair.last.After.ManagedBytes - pair.first!.After.ManagedBytes) / (double)(most - fewest)).ToList();
            var idleSlope = Marginal(result.Sizes[0]);
            if (idleSlope.Count > 0)
            {
                var idleMedian = Percentiles.Median(idleSlope);
                md.AppendLine($"- per added tab ({fewest} → {most} tabs, same process), idle conversation: {Kb(idleMedian)} managed per circuit " +
                              $"({Kb(idleSlope.Min())}–{Kb(idleSlope.Max())}), target ≤ {SyncReport.CircuitKilobytes:F0} KB: " +
                              $"{(idleMedian / 1024 <= SyncReport.CircuitKilobytes ? "met" : "MISSED")}.");
                foreach (var size in result.Sizes.Skip(1))
                {
                    var slope = Marginal(size);
                    if (slope.Count == 0)
                    {
                        continue;
                    }
                    var ratio = Percentiles.Median(slope) / idleMedian;
                    md.AppendLine($"- per added tab, {size:N0}-message conversation: {Kb(Percentiles.Median(slope))} ({Kb(slope.Min())}–{Kb(slope.Max())}), " +
                                  $"{ratio:F2}x the idle one, target ≤ {SyncReport.LargeRatio:F1}x: {(ratio <= SyncReport.LargeRatio ? "met" : "MISSED")}.");
                }
            }
        }
        md.AppendLine();
        md.AppendLine("<details><summary>Every reading (bytes)</summary>").AppendLine();
        md.AppendLine("| round | conversation | tabs | managed before | managed after | GC heap before | GC heap after | pinned heap before | pinned heap after | RSS before | RSS after |");
        md.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var s in result.Samples)
        {
            md.AppendLine($"| {s.Round} | {s.Size:N0} | {s.Tabs} | {s.Before.ManagedBytes:N0} | {s.After.ManagedBytes:N0} | {s.Before.HeapSizeBytes:N0} | {s.After.HeapSizeBytes:N0} | {s.Before.PinnedHeapBytes:N0} | {s.After.PinnedHeapBytes:N0} | {s.Before.WorkingSetBytes:N0} | {s.After.WorkingSetBytes:N0} |");
        }
        md.AppendLine().AppendLine("</details>");
        return md.ToString();
    }

    private static string Kb(double bytes) => (bytes / 1024).ToString("F0", CultureInfo.InvariantCulture) + " KB";
}
