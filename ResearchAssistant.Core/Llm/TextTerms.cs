using System.Globalization;
using System.Text;

namespace ResearchAssistant.Core.Llm;

/// <summary>Splits text into lower-case content words, so two texts can be compared by the words they share.</summary>
public static class TextTerms
{
    private static readonly HashSet<string> StopWords = new(StringComparer.Ordinal)
    {
        "a", "an", "and", "are", "as", "at", "be", "but", "by", "can", "did", "do", "does", "for", "from", "had", "has",
        "have", "how", "i", "if", "in", "into", "is", "it", "its", "me", "my", "no", "not", "of", "on", "or", "our", "say",
        "said", "so", "that", "the", "their", "them", "then", "there", "these", "they", "this", "to", "was", "we", "were",
        "what", "when", "where", "which", "who", "why", "will", "with", "would", "you", "your", "about", "again", "also",
        "please", "tell", "give", "show", "explain",
    };

    public static IReadOnlySet<string> ContentWords(string text)
    {
        var words = new HashSet<string>(StringComparer.Ordinal);
        var current = new StringBuilder();
        foreach (var ch in text.Normalize(NormalizationForm.FormKC))
        {
            if (char.IsLetterOrDigit(ch))
            {
                current.Append(char.ToLower(ch, CultureInfo.InvariantCulture));
                continue;
            }
            Flush();
        }
        Flush();
        return words;

        void Flush()
        {
            if (current.Length >= 3 || current.Length > 0 && char.IsDigit(current[0]))
            {
                var word = current.ToString();
                if (!StopWords.Contains(word))
                {
                    words.Add(word);
                }
            }
            current.Clear();
        }
    }
}
