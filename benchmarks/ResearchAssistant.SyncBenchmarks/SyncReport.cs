using System.Globalization;
using System.Text;
using ResearchAssistant.Benchmarks;

namespace ResearchAssistant.SyncBenchmarks;

internal static class SyncReport
{
    public const double SameInstanceP95 = 25;
    public const double CrossInstanceP95 = 50;
    public const double FanOutP95 = 10;
    public const double CircuitKilobytes = 400;
    public const double LargeRatio = 1.5;

    public static string Render(SyncOptions options, string machine, string commandLine, DateTimeOffset started, TimeSpan total,
        IReadOnlyList<TopologyResult> live, MemoryResult? memory, BrowserResult? browser)
    {
        var md = new StringBuilder();
        md.AppendLine("# Live sync (issue 5): driver output").AppendLine();
        md.AppendLine($"Run {started:yyyy-MM-dd HH:mm} UTC, {total.TotalSeconds:F0} s in all. Command: `{commandLine}`").AppendLine();
        md.AppendLine(machine).AppendLine();

        if (live.Count > 0)
        {
            md.AppendLine("## Commit to render, and streaming fan-out (simulated circuits on the app's services)").AppendLine();
            md.AppendLine($"{options.Warmup} warm-up + {options.Rounds} measured rounds per watcher count ({string.Join(", ", options.Watchers)}), " +
                          "interleaved in a random order each round; each count has its own user and a conversation of " +
                          $"{options.SessionSize} messages. A round: `ChatService.SendAsync` of one message on the sending instance, " +
                          (options.HoldTurn
                              ? "the answer held at the turn lock until every watcher rendered the message, then "
                              : "the answer started at once by the real TurnRunner (as in the app), ") +
                          $"{options.Tokens} tokens {options.TokenDelayMs} ms apart from the fake OpenAI-compatible server through the real OpenAI client. " +
                          $"Watchers re-read the sidebar too: {(options.Sidebar ? "yes" : "no")}.").AppendLine();
            md.AppendLine("- **message**: from the commit of the send's transaction (EF Core's TransactionCommitted event) to the end of " +
                          "the watcher's render that first shows the message (its page re-read by `ChatService.GetConversationAsync` " +
                          "done, Markdown of changed answers done). One sample per watcher per round.");
            md.AppendLine("- **token, hint**: from the token's arrival at the model client (the OpenAI client handing the delta to the " +
                          "TurnRunner) to the watcher's dispatcher running its Streaming handler with that text in the live text.");
            md.AppendLine("- **token, render**: from the same arrival to the end of the watcher's render showing it; this includes the page's " +
                          $"{SimulatedCircuit.RenderThrottle.TotalMilliseconds:F0} ms render throttle (by design, the same for every watcher count).");
            md.AppendLine("- **commit → hint delivered**: from the commit to a no-op subscriber (subscribed first, on the sending instance) " +
                          "receiving the send's Changed hint: the bus's own delay.");
            md.AppendLine("- **send**: how long `SendAsync` took for the sender (its circuit waits for it). **CPU**: this process's CPU time " +
                          "per round (all threads: app services, circuits, fake model server; with SQLite also the database's work, " +
                          "with PostgreSQL not the server's). **DB server CPU**: the local PostgreSQL cluster's CPU time per round (postmaster " +
                          "and backends, from /proc, in 10 ms ticks). **SQL statements**: statements EF Core executed in this process " +
                          "per round (every instance; reads, writes, the answer's flushes).").AppendLine();

            foreach (var r in live)
            {
                md.AppendLine($"### {r.Provider}, {r.Topology}").AppendLine();
                if (r.NotMeasured is not null)
                {
                    md.AppendLine($"**Not measured**: {r.NotMeasured}.").AppendLine();
                    continue;
                }
                md.AppendLine($"{r.Engine}; {r.Setup}. Measured in {r.MeasureTime.TotalSeconds:F0} s; load average before `{r.LoadBefore}`, " +
                              $"after `{r.LoadAfter}`. Rounds timed out: {r.TimedOut}; circuit errors: {r.CircuitErrors}; errors logged by the app: {r.LoggedErrors}.").AppendLine();
                if (r.TimeoutReasons.Count > 0)
                {
                    md.AppendLine($"**{r.TimeoutReasons.Count} round(s) timed out** ({(r.Aborted ? "the run stopped after 5" : "the others are measured")}): " +
                                  string.Join("; ", r.TimeoutReasons.Take(5)) + ".").AppendLine();
                }
                var baseline = options.Watchers[0];
                md.AppendLine("| watchers | message p50 | message p95 | p95 ratio | slowest watcher (median round) | send median / p95 | commit → hint delivered | token hint p50 / p95 | token render p50 / p95 | tokens unmatched | CPU / round median | DB server CPU / round median | SQL statements / round median |");
                md.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
                foreach (var count in options.Watchers.Where(r.Rounds.ContainsKey))
                {
                    var rounds = r.Rounds[count];
                    var message = rounds.SelectMany(x => x.MessageMs).ToList();
                    var baseMessage = r.Rounds.TryGetValue(baseline, out var b) ? b.SelectMany(x => x.MessageMs).ToList() : message;
                    var hint = rounds.SelectMany(x => x.HintMs).ToList();
                    var render = rounds.SelectMany(x => x.RenderMs).ToList();
                    md.AppendLine($"| {count} | {Ms(Percentiles.Median(message))} | {Ms(Percentiles.P95(message))} | {Percentiles.P95(message) / Percentiles.P95(baseMessage):F2}x " +
                                  $"| {Ms(Percentiles.Median(rounds.Select(x => x.MessageMs.Max())))} " +
                                  $"| {Ms(Percentiles.Median(rounds.Select(x => x.SendMs)))} / {Ms(Percentiles.P95(rounds.Select(x => x.SendMs)))} " +
                                  $"| {Ms(Percentiles.Median(rounds.Select(x => x.CommitToPublishMs)))} " +
                                  $"| {Ms(Percentiles.Median(hint))} / {Ms(Percentiles.P95(hint))} | {Ms(Percentiles.Median(render))} / {Ms(Percentiles.P95(render))} " +
                                  $"| {rounds.Sum(x => x.TokensMissed)} | {Ms(Percentiles.Median(rounds.Select(x => x.CpuMs)))} " +
                                  $"| {(r.ServerCpuMeasured ? Ms(Percentiles.Median(rounds.Select(x => x.ServerCpuMs ?? 0))) : "(in process)")} " +
                                  $"| {Percentiles.Median(rounds.Select(x => (double)x.Statements)):F0} |");
                }
                md.AppendLine();
                var target = r.Topology == "one instance" ? SameInstanceP95 : CrossInstanceP95;
                foreach (var count in options.Watchers.Where(r.Rounds.ContainsKey))
                {
                    var p95 = Percentiles.P95(r.Rounds[count].SelectMany(x => x.MessageMs));
                    md.AppendLine($"- message with {count} watcher(s): p95 {Ms(p95)}, target ≤ {target:F0} ms: {(p95 <= target ? "met" : "MISSED")}.");
                }
                if (r.Rounds.TryGetValue(baseline, out var one))
                {
                    foreach (var count in options.Watchers.Where(c => c != baseline && r.Rounds.ContainsKey(c)))
                    {
                        var many = r.Rounds[count];
                        var addedHint = Percentiles.P95(many.SelectMany(x => x.HintMs)) - Percentiles.P95(one.SelectMany(x => x.HintMs));
                        var addedRender = Percentiles.P95(many.SelectMany(x => x.RenderMs)) - Percentiles.P95(one.SelectMany(x => x.RenderMs));
                        md.AppendLine($"- streaming fan-out, {count} vs {baseline} watcher(s): p95 per token +{Ms(addedHint)} (hint), +{Ms(addedRender)} (render); " +
                                      $"target ≤ +{FanOutP95:F0} ms: {(Math.Max(addedHint, addedRender) <= FanOutP95 ? "met" : "MISSED")}.");
                    }
                }
                md.AppendLine();
            }
        }

        if (memory is not null)
        {
            md.AppendLine(MemoryRun.Render(memory));
        }
        if (browser is not null)
        {
            md.AppendLine(BrowserRun.Render(browser));
        }
        return md.ToString();
    }

    public static string Ms(double ms) => double.IsNaN(ms) ? "n/a" : ms.ToString(Math.Abs(ms) < 10 ? "F2" : "F1", CultureInfo.InvariantCulture) + " ms";
}
