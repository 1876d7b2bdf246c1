using System.Text.Json;
using ResearchAssistant.Core.Context;
using Xunit.Abstractions;

namespace ResearchAssistant.Tests.Context;

/// <summary>
/// The estimator against real BPE counts (token-fixture.json, computed offline with gpt-tokenizer; see
/// benchmarks/tokenizer-fixture). The bounds are what the budget logic relies on; the measured errors go to
/// benchmarks/RESULTS.md.
/// </summary>
public sealed class TokenCounterTests(ITestOutputHelper output)
{
    private static readonly IReadOnlyList<Sample> Samples = LoadSamples();

    [Fact]
    public void The_estimate_is_close_to_real_token_counts_for_prose_and_code()
    {
        var counter = new EstimatingTokenCounter();
        foreach (var kind in Samples.Select(s => s.Kind).Distinct())
        {
            var ofKind = Samples.Where(s => s.Kind == kind).ToList();
            var errors = ofKind.Select(s => (double)(counter.Count(s.Text) - s.O200k) / s.O200k).ToList();
            output.WriteLine($"{kind,-9} n={ofKind.Count,2}  mean error {errors.Average(),7:P1}  mean |error| {errors.Average(Math.Abs),6:P1}  worst {errors.MaxBy(Math.Abs),7:P1}");
        }

        var english = Samples.Where(s => s.Kind is "prose" or "long").ToList();
        var total = english.Sum(s => counter.Count(s.Text));
        var real = english.Sum(s => s.O200k);
        output.WriteLine($"prose+long total: estimated {total}, real {real} ({(double)(total - real) / real:P1})");
        Assert.InRange((double)total / real, 0.85, 1.2);
        Assert.All(Samples.Where(s => s.Kind == "code"), s => Assert.InRange((double)counter.Count(s.Text) / s.O200k, 0.6, 1.6));
    }

    [Fact]
    public void Calibration_from_reported_usage_moves_a_model_toward_its_real_counts()
    {
        var counter = new EstimatingTokenCounter();
        var sample = Samples.Single(s => s.Kind == "long" && s.Text.Length > 2000);
        var estimated = counter.Count(sample.Text);
        // A provider whose tokenizer is 30% hungrier than the estimate, reported a few times.
        for (var i = 0; i < 10; i++)
        {
            counter.Calibrate("hungry-model", estimated, (int)(estimated * 1.3));
        }

        Assert.InRange(counter.Count("hungry-model", sample.Text), (int)(estimated * 1.25), (int)(estimated * 1.31) + 1);
        Assert.Equal(estimated, counter.Count("other-model", sample.Text));
    }

    [Fact]
    public void Tiny_or_nonsense_usage_reports_do_not_skew_the_estimate()
    {
        var counter = new EstimatingTokenCounter();
        counter.Calibrate("m", estimatedTokens: 5, actualTokens: 50);
        counter.Calibrate("m", estimatedTokens: 100, actualTokens: 0);

        Assert.Equal(1.0, counter.FactorFor("m"));
    }

    private sealed record Sample(int Id, string Kind, string Text, int O200k, int Cl100k);

    private static List<Sample> LoadSamples()
    {
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Context", "token-fixture.json")));
        return json.RootElement.GetProperty("samples").EnumerateArray()
            .Select(s => new Sample(s.GetProperty("id").GetInt32(), s.GetProperty("kind").GetString()!, s.GetProperty("text").GetString()!,
                s.GetProperty("o200k_base").GetInt32(), s.GetProperty("cl100k_base").GetInt32()))
            .ToList();
    }
}
