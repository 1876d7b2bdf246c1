using System.Globalization;

namespace ResearchAssistant.SearchBenchmarks;

/// <summary>Latency samples of one operation, in milliseconds.</summary>
internal sealed class Samples(string name)
{
    private readonly List<double> _values = [];

    public string Name { get; } = name;
    public int Count => _values.Count;

    public void Add(TimeSpan elapsed) => _values.Add(elapsed.TotalMilliseconds);

    /// <summary>The sample added last.</summary>
    public TimeSpan Last => TimeSpan.FromMilliseconds(_values[^1]);

    public void AddRange(Samples other) => _values.AddRange(other._values);

    /// <summary>Nearest-rank percentile: the smallest sample with at least p% of the samples at or below it.</summary>
    public double Percentile(double p)
    {
        if (_values.Count == 0) return double.NaN;
        var sorted = _values.Order().ToList();
        var rank = (int)Math.Ceiling(p / 100 * sorted.Count);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Count - 1)];
    }

    public double Median => Percentile(50);
    public double P95 => Percentile(95);
    public double Max => _values.Count == 0 ? double.NaN : _values.Max();

    public string Row(double? target = null)
    {
        var verdict = target is { } t ? (P95 <= t ? "yes" : "**no**") : "";
        return string.Create(CultureInfo.InvariantCulture,
            $"| {Name} | {Count} | {Median:F2} | {P95:F2} | {Max:F2} |{(target is null ? "" : $" {verdict} |")}");
    }
}
