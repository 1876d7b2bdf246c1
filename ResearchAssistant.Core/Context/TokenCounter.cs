using System.Collections.Concurrent;
using System.Globalization;

namespace ResearchAssistant.Core.Context;

/// <summary>Counts tokens the way a model would, closely enough to keep prompts inside a budget.</summary>
public interface ITokenCounter
{
    int Count(string text);

    /// <summary>Learns from what the provider billed for a prompt this counter estimated.</summary>
    void Calibrate(string model, int estimatedTokens, int actualTokens);

    /// <summary>The count for a given model, after calibration.</summary>
    int Count(string model, string text);
}

/// <summary>
/// No tokenizer package is available here, so this estimates BPE token counts from the text's shape: common
/// English words are about one token, long words one token per ~4 characters, digits one per ~3, and punctuation and
/// symbols about one each; non-Latin scripts one per character or two. Each model then gets a correction factor
/// learned from the usage the provider returns (an exponential moving average of actual / estimated).
/// </summary>
public sealed class EstimatingTokenCounter : ITokenCounter
{
    /// <summary>Tokens each message adds around its text in a chat prompt (role and separators).</summary>
    public const int PerMessageOverhead = 4;

    private const double Smoothing = 0.2;
    private readonly ConcurrentDictionary<string, double> _factors = new(StringComparer.OrdinalIgnoreCase);

    public int Count(string text)
    {
        double tokens = 0;
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            if (char.IsWhiteSpace(c))
            {
                i++;
                continue;
            }
            var start = i;
            if (char.IsLetter(c) && c < 0x0250)
            {
                while (i < text.Length && char.IsLetter(text[i]) && text[i] < 0x0250)
                {
                    i++;
                }
                tokens += WordTokens(i - start);
            }
            else if (char.IsDigit(c))
            {
                while (i < text.Length && char.IsDigit(text[i]))
                {
                    i++;
                }
                tokens += Math.Ceiling((i - start) / 3.0);
            }
            else if (char.IsLetter(c))
            {
                // Other scripts (CJK, Cyrillic, Greek...): BPE vocabularies split them finely.
                var category = char.GetUnicodeCategory(c);
                tokens += category == UnicodeCategory.OtherLetter ? 1.2 : 0.6;
                i++;
            }
            else
            {
                tokens += char.IsSurrogate(c) ? 1.5 : 0.7;
                i += char.IsSurrogate(c) && i + 1 < text.Length ? 2 : 1;
            }
        }
        return (int)Math.Ceiling(tokens);
    }

    public int Count(string model, string text)
    {
        var raw = Count(text);
        return _factors.TryGetValue(model, out var factor) ? (int)Math.Ceiling(raw * factor) : raw;
    }

    public void Calibrate(string model, int estimatedTokens, int actualTokens)
    {
        // Tiny prompts say little about the ratio; absurd ratios are a provider quirk, not a signal.
        if (estimatedTokens < 20 || actualTokens <= 0)
        {
            return;
        }
        var ratio = Math.Clamp((double)actualTokens / estimatedTokens, 0.5, 2.0);
        _factors.AddOrUpdate(model, ratio, (_, old) => old + Smoothing * (ratio - old));
    }

    public double FactorFor(string model) => _factors.TryGetValue(model, out var factor) ? factor : 1.0;

    /// <summary>Most words up to nine letters are one token in modern vocabularies; longer ones split every ~5 letters.</summary>
    private static double WordTokens(int length) => length <= 9 ? 1 : 1 + Math.Ceiling((length - 9) / 5.0);
}
