using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace ResearchAssistant.Benchmarks;

internal static partial class Report
{
    public const double Target = 1.5;

    public static string Machine() => MachineInfo.Describe();

    public static string Render(Options options, string machine, DateTimeOffset started, TimeSpan total, IReadOnlyList<ProviderResult> results)
    {
        var md = new StringBuilder();
        md.AppendLine("# Open and append cost against session length (driver output)").AppendLine();
        md.AppendLine($"Run {started:yyyy-MM-dd HH:mm} UTC, {total.TotalSeconds:F0} s in all. " +
                      $"Sizes {string.Join(", ", options.Sizes.Select(s => s.ToString("N0", CultureInfo.InvariantCulture)))} messages, " +
                      "all in the same database. " +
                      $"{options.Warmup} warm-up + {options.Rounds} measured rounds; each round visits every size in a fresh random order " +
                      "and, per size: open (ChatService.GetConversationAsync), append (ChatService.SendAsync; the TurnRunner is held " +
                      "at the turn lock meanwhile), then the answer turn (TurnRunner, offline model, zero delay), timed from releasing " +
                      "the turn lock until the turn ends. " +
                      (options.Rewind > 0 ? $"Then each session is rewound by {options.Rewind} messages (BranchService.RewindAsync) and opened " +
                                            $"{options.Warmup} + {options.Rounds} times the same way (open after rewind). " : "") +
                      "Times are wall-clock per call (Stopwatch); " +
                      $"ratio = median at N / median at N = {options.Sizes[0]:N0} from the same run. " +
                      "SQL / op counts the commands EF Core executed for one call (its DiagnosticSource events), " +
                      "not counting connection opens and transaction begin/commit, which the per-statement tables list.").AppendLine();
        md.AppendLine(machine).AppendLine();

        foreach (var r in results)
        {
            md.AppendLine($"## {r.Engine}").AppendLine();
            md.AppendLine($"Setup: {r.Setup}.").AppendLine();
            md.AppendLine("Seeding: " + string.Join("; ", r.Seeded.Select(s =>
                $"{s.Size:N0} messages in {s.SeedTime.TotalSeconds:F1} s" + (s.VerifyTime > TimeSpan.Zero ? $" (chain verified in {s.VerifyTime.TotalSeconds:F1} s)" : ""))) + ".");
            md.AppendLine();
            md.AppendLine($"Measured in {r.MeasureTime.TotalSeconds:F0} s; load average before `{r.LoadBefore}`, after `{r.LoadAfter}`. " +
                          $"SQL outside any measured operation: {r.StrayCommands}; failed SQL commands: {r.FailedCommands}; errors logged by the app: {r.LoggedErrors}. " +
                          $"Correctness, after measuring: {r.VersionCheck}.").AppendLine();

            var baseSize = options.Sizes[0];
            var rewound = r.Samples.ContainsKey((baseSize, Operation.OpenRewound));
            var ops = rewound ? new[] { Operation.Open, Operation.Append, Operation.Turn, Operation.Assemble, Operation.OpenRewound } : new[] { Operation.Open, Operation.Append, Operation.Turn, Operation.Assemble };
            md.AppendLine("| N (start → end) | open median | open p95 | open ratio | SQL / open | append median | append p95 | append ratio | SQL / append | answer turn median | SQL / turn |" + (rewound ? " open after rewind median | ratio | SQL |" : ""));
            md.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|" + (rewound ? "---:|---:|---:|" : ""));
            foreach (var size in options.Sizes)
            {
                md.Append($"| {size:N0} → {r.FinalSizes[size]:N0} ");
                foreach (var op in new[] { Operation.Open, Operation.Append })
                {
                    var samples = r.Samples[(size, op)];
                    var ratio = Median(samples) / Median(r.Samples[(baseSize, op)]);
                    md.Append($"| {Ms(Median(samples))} | {Ms(P95(samples))} | {ratio:F2}x | {Commands(samples)} ");
                }
                var turns = r.Samples[(size, Operation.Turn)];
                md.Append($"| {Ms(Median(turns))} | {Commands(turns)} ");
                if (rewound)
                {
                    var samples = r.Samples[(size, Operation.OpenRewound)];
                    md.Append($"| {Ms(Median(samples))} | {Median(samples) / Median(r.Samples[(baseSize, Operation.OpenRewound)]):F2}x | {Commands(samples)} ");
                }
                md.AppendLine("|");
            }
            md.AppendLine();
            // Issue 4: context assembly within 1.2x of the second size (1,000 when run with --sizes 100,1000,...) and p95 <= 20 ms.
            md.AppendLine("| N | context assembly median | p95 | ratio to the first size | CPU median | CPU p95 | SQL / assembly |");
            md.AppendLine("|---:|---:|---:|---:|---:|---:|---:|");
            foreach (var size in options.Sizes)
            {
                var samples = r.Samples[(size, Operation.Assemble)];
                md.AppendLine($"| {size:N0} | {Ms(Median(samples))} | {Ms(P95(samples))} | {Median(samples) / Median(r.Samples[(baseSize, Operation.Assemble)]):F2}x | {Ms(Median(samples.Select(s => s.CpuMilliseconds)))} | {Ms(P95(samples.Select(s => s.CpuMilliseconds)))} | {Commands(samples)} |");
            }
            md.AppendLine();
            var largest = options.Sizes[^1];
            foreach (var op in ops)
            {
                var ratio = Median(r.Samples[(largest, op)]) / Median(r.Samples[(baseSize, op)]);
                var verdict = op switch
                {
                    Operation.Turn or Operation.OpenRewound => "(not part of the target)",
                    Operation.Assemble => ratio <= 1.2 && P95(r.Samples[(largest, op)]) <= 20 ? "issue 4 target (≤ 1.2x, p95 ≤ 20 ms) met" : "ISSUE 4 TARGET MISSED (≤ 1.2x, p95 ≤ 20 ms)",
                    _ => ratio <= Target ? "target met" : "TARGET MISSED",
                };
                md.AppendLine($"- {op}: N = {largest:N0} median is {ratio:F2}x the N = {baseSize:N0} median, {verdict}.");
            }
            md.AppendLine();

            md.AppendLine($"### {r.Engine}: each statement's median duration (ms, execution plus reading its rows) and rows returned, by N").AppendLine();
            foreach (var op in ops)
            {
                var bySize = options.Sizes.Select(size => PerStatement(r.Samples[(size, op)])).ToList();
                md.AppendLine($"{op}:").AppendLine();
                md.AppendLine($"| # | statement | {string.Join(" | ", options.Sizes.Select(n => $"ms @ {n:N0}"))} | rows ({string.Join(" / ", options.Sizes.Select(n => n.ToString("N0", CultureInfo.InvariantCulture)))}) |");
                md.AppendLine($"|---:|---|{string.Concat(options.Sizes.Select(_ => "---:|"))}---:|");
                for (var i = 0; i < bySize.Max(l => l.Count); i++)
                {
                    var cells = bySize.Select(l => i < l.Count ? l[i] : null).ToList();
                    var text = cells.Last(c => c is not null)!.Text;
                    var name = text.StartsWith('(') ? $"*{text}*" : $"`{Shorten(text)}`";
                    md.AppendLine($"| {i + 1} | {name} | {string.Join(" | ", cells.Select(c => c is null ? "" : Ms(c.Ms)))} | {(text.StartsWith('(') ? "" : string.Join(" / ", cells.Select(c => c?.Rows ?? "")))} |");
                }
                var outside = options.Sizes.Select(n => Median(r.Samples[(n, op)]
                    .Select(x => x.Milliseconds - x.Statements.Sum(st => st.Duration.TotalMilliseconds))));
                md.AppendLine($"| | *the rest of the call: EF Core, decryption, hashing, waiting for a CPU* | {string.Join(" | ", outside.Select(Ms))} | |");
                md.AppendLine();
            }

            md.AppendLine($"<details><summary>{r.Engine}: query plans of each statement's last run (EXPLAIN with the parameters it ran with)</summary>").AppendLine();
            foreach (var op in ops)
            {
                var statements = r.Samples[(largest, op)][^1].Statements;
                for (var i = 0; i < statements.Count; i++)
                {
                    if (!statements[i].IsCommand)
                    {
                        continue;
                    }
                    var plans = options.Sizes
                        .Where(n => r.Plans[(n, op)].Count > i && !string.IsNullOrWhiteSpace(r.Plans[(n, op)][i]))
                        .Select(n => (Size: n, Plan: r.Plans[(n, op)][i]))
                        .ToList();
                    if (plans.Count == 0)
                    {
                        continue;
                    }
                    md.AppendLine($"{op} #{i + 1}: `{Shorten(statements[i].Text)}`").AppendLine();
                    var shapes = plans.GroupBy(p => PlanShape(p.Plan)).ToList();
                    foreach (var shape in shapes)
                    {
                        var first = shape.First();
                        var label = shapes.Count == 1 ? "every N" : "N = " + string.Join(", ", shape.Select(p => p.Size.ToString("N0", CultureInfo.InvariantCulture)));
                        md.AppendLine($"{label}:").AppendLine();
                        md.AppendLine("```").AppendLine(first.Plan).AppendLine("```").AppendLine();
                    }
                }
            }
            md.AppendLine("</details>").AppendLine();
        }
        return md.ToString();
    }

    private sealed record StatementSummary(string Text, double Ms, string Rows);

    /// <summary>Per position in the operation's statement sequence, over the samples that ran the usual sequence.</summary>
    private static List<StatementSummary> PerStatement(List<Sample> samples)
    {
        var usual = samples.GroupBy(s => s.Statements.Count).MaxBy(g => g.Count())!.ToList();
        var count = usual[0].Statements.Count;
        var summaries = new List<StatementSummary>(count);
        for (var i = 0; i < count; i++)
        {
            var ms = usual.Select(s => s.Statements[i].Duration.TotalMilliseconds).Order().ToList();
            var rows = usual.Select(s => s.Statements[i].RowsRead).Where(n => n >= 0).Order().ToList();
            summaries.Add(new StatementSummary(usual[0].Statements[i].Text, ms[ms.Count / 2], rows.Count == 0 ? "" : rows[rows.Count / 2].ToString(CultureInfo.InvariantCulture)));
        }
        return summaries;
    }

    public static double Median(List<Sample> samples) => Percentile(samples.Select(s => s.Milliseconds), 0.5);

    public static double P95(List<Sample> samples) => Percentile(samples.Select(s => s.Milliseconds), 0.95);

    public static double Median(IEnumerable<double> values) => Percentile(values, 0.5);

    public static double P95(IEnumerable<double> values) => Percentile(values, 0.95);

    private static double Percentile(IEnumerable<double> values, double p)
    {
        var sorted = values.Order().ToList();
        if (p == 0.5)
        {
            var mid = sorted.Count / 2;
            return sorted.Count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
        }
        // Nearest rank.
        return sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];
    }

    private static string Commands(List<Sample> samples)
    {
        var counts = samples.Select(s => s.Statements.Count(x => x.IsCommand)).ToList();
        return counts.Min() == counts.Max() ? $"{counts.Min()}" : $"{counts.Min()}–{counts.Max()}";
    }

    private static string Ms(double ms) => ms.ToString(ms < 10 ? "F2" : "F1", CultureInfo.InvariantCulture) + " ms";

    private static string Shorten(string sql)
    {
        var oneLine = Whitespace().Replace(sql, " ").Trim();
        if (oneLine.Length > 150)
        {
            oneLine = oneLine[..147] + "...";
        }
        return oneLine.Replace("|", "\\|", StringComparison.Ordinal).Replace("`", "'", StringComparison.Ordinal);
    }

    /// <summary>A plan without its estimates and literal values, to tell whether two sizes got the same plan.</summary>
    private static string PlanShape(string plan) => Literals().Replace(plan, "?");

    [GeneratedRegex(@"\(cost=[^)]*\)|'[^']*'|\b\d+\b")]
    private static partial Regex Literals();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
