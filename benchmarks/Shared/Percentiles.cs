namespace ResearchAssistant.Benchmarks;

/// <summary>Median (mean of the two middle values for an even count) and nearest-rank percentiles, as the reports use them.</summary>
internal static class Percentiles
{
    public static double Median(IEnumerable<double> values) => Of(values, 0.5);

    public static double P95(IEnumerable<double> values) => Of(values, 0.95);

    public static double Of(IEnumerable<double> values, double p)
    {
        var sorted = values.Order().ToList();
        if (sorted.Count == 0)
        {
            return double.NaN;
        }
        if (p == 0.5)
        {
            var mid = sorted.Count / 2;
            return sorted.Count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
        }
        return sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];
    }
}
