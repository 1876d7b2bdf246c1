using System.Text;
using ResearchAssistant.Core.Search;

namespace ResearchAssistant.Benchmarks;

/// <summary>
/// Generated conversation text with the statistics that matter to an inverted index: word frequencies follow Zipf's law
/// over a 50,000-word vocabulary whose top ~180 ranks are the English stop words search drops (as in real text, where
/// they are the most frequent words), plus 20 "domain" words that appear in 4-40% of messages each, as "data" or "model" would in a
/// researcher's history. Questions are 8-60 words, answers 60-320, like the session benchmark's seeder.
/// </summary>
internal sealed class Corpus
{
    public const int VocabularySize = 50_000;

    public static readonly string[] StopWordsByRank =
    [
        "the", "of", "and", "to", "a", "in", "is", "that", "for", "it", "as", "was", "with", "be", "by", "on", "not", "he",
        "this", "are", "or", "his", "from", "at", "which", "but", "have", "an", "had", "they", "you", "were", "their", "one",
        "all", "we", "can", "her", "has", "there", "been", "if", "more", "when", "will", "would", "who", "so", "no", "what",
        "about", "into", "than", "them", "only", "other", "its", "some", "could", "these", "our", "then", "do", "also",
    ];

    /// <summary>Each with the share of messages it appears in.</summary>
    public static readonly (string Word, double Share)[] DomainWords =
    [
        ("data", 0.40), ("model", 0.35), ("study", 0.30), ("analysis", 0.25), ("result", 0.22), ("method", 0.20),
        ("sample", 0.18), ("effect", 0.16), ("evidence", 0.14), ("review", 0.12), ("theory", 0.11), ("measure", 0.10),
        ("source", 0.09), ("paper", 0.08), ("question", 0.07), ("figure", 0.06), ("table", 0.06), ("author", 0.05),
        ("claim", 0.05), ("experiment", 0.04),
    ];

    private readonly string[] _vocabulary;
    private readonly double[] _cumulative;

    public Corpus(int seed)
    {
        var random = new Random(seed);
        var words = new List<string>(VocabularySize);
        // The most frequent English words first, then the rest of the words search treats as stop words: in real text
        // they hold the top ranks, and the content words (what is indexed) start after them.
        words.AddRange(StopWordsByRank);
        words.AddRange(StopWords.All.Where(w => !StopWordsByRank.Contains(w)).Order(StringComparer.Ordinal));
        var seen = new HashSet<string>(words, StringComparer.Ordinal);
        var domain = DomainWords.Select(d => d.Word).ToHashSet();
        while (words.Count < VocabularySize)
        {
            var word = MakeWord(random);
            // Only words that are indexed as one term of their own, so the frequencies above are the index's.
            if (!domain.Contains(word) && SearchTerms.Terms(word) is [var term] && seen.Add(term) && seen.Add(word))
            {
                words.Add(word);
            }
        }
        _vocabulary = [.. words];
        _cumulative = new double[VocabularySize];
        var sum = 0.0;
        for (var rank = 1; rank <= VocabularySize; rank++)
        {
            sum += 1.0 / rank;
            _cumulative[rank - 1] = sum;
        }
        for (var i = 0; i < VocabularySize; i++)
        {
            _cumulative[i] /= sum;
        }
    }

    public string Question(Random random) => Text(random, random.Next(8, 61)) + "?";

    public string Answer(Random random)
    {
        var text = new StringBuilder();
        var paragraphs = random.Next(1, 5);
        for (var p = 0; p < paragraphs; p++)
        {
            if (p > 0) text.Append("\n\n");
            text.Append(Text(random, random.Next(60, 321) / paragraphs)).Append('.');
        }
        return text.ToString();
    }

    /// <summary>Words a user would type to find something: a few taken from a message they remember.</summary>
    public static List<string> ContentWordsOf(string text) =>
        text.Split([' ', '\n', '.', '?', ','], StringSplitOptions.RemoveEmptyEntries)
            .Where(w => SearchTerms.Terms(w).Count == 1)
            .Distinct()
            .ToList();

    private string Text(Random random, int words)
    {
        var text = new StringBuilder();
        for (var i = 0; i < words; i++)
        {
            if (i > 0) text.Append(' ');
            text.Append(Word(random));
        }
        foreach (var (word, share) in DomainWords)
        {
            if (random.NextDouble() < share)
            {
                text.Append(' ').Append(word);
            }
        }
        return text.ToString();
    }

    private string Word(Random random)
    {
        var index = Array.BinarySearch(_cumulative, random.NextDouble());
        return _vocabulary[index < 0 ? Math.Min(~index, VocabularySize - 1) : index];
    }

    private static string MakeWord(Random random)
    {
        const string consonants = "bcdfghjklmnprstvz";
        const string vowels = "aeiou";
        var syllables = random.Next(2, 5);
        var word = new StringBuilder();
        for (var s = 0; s < syllables; s++)
        {
            word.Append(consonants[random.Next(consonants.Length)]).Append(vowels[random.Next(vowels.Length)]);
        }
        if (random.Next(3) == 0) word.Append(consonants[random.Next(consonants.Length)]);
        return word.ToString();
    }
}
