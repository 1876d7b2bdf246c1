using ResearchAssistant.Benchmarks;
using System.Globalization;
using System.Text;

namespace ResearchAssistant.SearchBenchmarks;

internal static class Report
{
    public const double SearchTargetMs = 50;
    public const double IndexTargetMs = 2;

    public static string Render(Options options, DateTimeOffset started, TimeSpan total, IReadOnlyList<ProviderResult> results)
    {
        var md = new StringBuilder();
        md.AppendLine("## Driver output").AppendLine();
        var scope = string.Create(CultureInfo.InvariantCulture,
            $"Run {started:yyyy-MM-dd HH:mm} UTC, {total.TotalMinutes:F0} min in all. One user, one conversation of {options.Messages:N0} messages ");
        md.AppendLine(scope + string.Create(CultureInfo.InvariantCulture,
            $"(questions 8-60 words, answers 60-320, Zipfian vocabulary of {Corpus.VocabularySize:N0} words, English stop words at the top ranks, ") +
            "20 domain words in 4-40% of messages), every message indexed. " +
            "Times are wall-clock per call (Stopwatch) through the real Core services, in milliseconds; p95 is nearest-rank. " +
            "CPU-time rows count only work, not waiting for a core: this process's (getrusage; SQLite runs inside it, so that is all of SQLite's work), " +
            "and for a local PostgreSQL also the database's client backends' (/proc/PID/schedstat; not autovacuum or background writers).").AppendLine();
        md.AppendLine(Machine()).AppendLine();
        foreach (var r in results)
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"### {r.Provider} ({r.Engine})").AppendLine();
            md.AppendLine(string.Create(CultureInfo.InvariantCulture, $"Setup: {r.Setup}. Seeding took {r.SeedTime.TotalSeconds:F0} s. ") +
                string.Create(CultureInfo.InvariantCulture, $"Postings: {r.Postings:N0}; storage: {r.Storage}. Searches returned {r.AverageHits:F1} hits on average (20 at most). ") +
                $"Load average when this provider finished: {r.LoadAverage}.").AppendLine();
            md.AppendLine("| operation | n | median | p95 | max | p95 within target |");
            md.AppendLine("|---|---|---|---|---|---|");
            md.AppendLine(r.SearchAll.Row(SearchTargetMs).Replace("| all searches |", $"| **search, all queries** (target p95 ≤ {SearchTargetMs} ms) |"));
            foreach (var kind in r.Search)
            {
                md.AppendLine(Prefix(kind.Row(SearchTargetMs), "search: "));
            }
            md.AppendLine(r.SearchCpu.Row() + " |");
            if (r.SearchTotalCpu is { } searchTotal)
            {
                md.AppendLine(searchTotal.Row() + " |");
            }
            md.AppendLine(r.IndexOnly.Row(IndexTargetMs).Replace("| index one message", $"| **index one message** (target p95 ≤ {IndexTargetMs} ms)"));
            md.AppendLine(r.IndexCpu.Row() + " |");
            if (r.IndexTotalCpu is { } indexTotal)
            {
                md.AppendLine(indexTotal.Row() + " |");
            }
            md.AppendLine(r.Merge.Row() + " |");
            md.AppendLine(r.IndexAndMerge.Row() + " |");
            md.AppendLine(r.MergeBatched.Row() + " |");
            md.AppendLine(r.StoreWithIndex.Row() + " |");
            md.AppendLine(r.StoreWithoutIndex.Row() + " |");
            md.AppendLine(r.Jump.Row() + " |");
            md.AppendLine(r.Recall.Row() + " |");
            md.AppendLine(r.Delete.Row() + " |");
            md.AppendLine();
        }
        return md.ToString();
    }

    private static string Prefix(string row, string prefix) => "| " + prefix + row[2..];

    /// <summary>The machine, as every driver under benchmarks/ states it, and the load when the report was written.</summary>
    private static string Machine() =>
        Benchmarks.MachineInfo.Describe() + Environment.NewLine + $"- Load average at the end: {Benchmarks.MachineInfo.LoadAverage()}";
}
