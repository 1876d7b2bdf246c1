using System.Text;

namespace ResearchAssistant.Core.Search;

/// <summary>
/// Cuts a short excerpt out of a decrypted message around the words a query matched, and marks those words. Matching
/// uses the same normalization as the index, so "Studies" in the text is marked for a search on "study". The text is
/// what the message shows: an answer's Markdown is turned into its plain text first (<see cref="MarkdownText"/>).
/// </summary>
internal static class Snippets
{
    public const int MaxLength = 180;
    /// <summary>Context kept before the first marked word, so it does not open the snippet.</summary>
    private const int Lead = 40;

    public static IReadOnlyList<SnippetPart> Build(string text, IReadOnlySet<string> terms, int maxLength = MaxLength)
    {
        var matches = FindMatches(text, terms);
        var (start, end) = ChooseWindow(text, matches, maxLength);

        var parts = new List<SnippetPart>();
        var position = start;
        foreach (var (matchStart, matchLength) in matches)
        {
            if (matchStart < start || matchStart + matchLength > end)
            {
                continue;
            }
            AddText(parts, text[position..matchStart], isMatch: false);
            AddText(parts, text.Substring(matchStart, matchLength), isMatch: true);
            position = matchStart + matchLength;
        }
        AddText(parts, text[position..end], isMatch: false);
        if (start > 0)
        {
            parts.Insert(0, new SnippetPart("…", false));
        }
        if (end < text.Length)
        {
            parts.Add(new SnippetPart("…", false));
        }
        return parts;
    }

    private static List<(int Start, int Length)> FindMatches(string text, IReadOnlySet<string> terms)
    {
        var matches = new List<(int, int)>();
        var scratch = new List<string>(2);
        foreach (var (start, length) in SearchTerms.Words(text))
        {
            scratch.Clear();
            SearchTerms.AddTermsOfWord(text.AsSpan(start, length), scratch);
            if (scratch.Exists(terms.Contains))
            {
                matches.Add((start, length));
            }
        }
        return matches;
    }

    /// <summary>The window of at most <paramref name="maxLength"/> characters holding the most matches, on word boundaries.</summary>
    private static (int Start, int End) ChooseWindow(string text, List<(int Start, int Length)> matches, int maxLength)
    {
        if (text.Length <= maxLength)
        {
            return (0, text.Length);
        }
        var start = 0;
        if (matches.Count > 0)
        {
            var best = 0;
            var bestCount = 0;
            for (var i = 0; i < matches.Count; i++)
            {
                var windowEnd = Math.Max(0, matches[i].Start - Lead) + maxLength;
                var count = 0;
                for (var j = i; j < matches.Count && matches[j].Start + matches[j].Length <= windowEnd; j++)
                {
                    count++;
                }
                if (count > bestCount)
                {
                    best = i;
                    bestCount = count;
                }
            }
            start = Math.Max(0, matches[best].Start - Lead);
            // Begin at a word: skip to just after the next space, unless that would pass the match.
            if (start > 0)
            {
                var space = text.IndexOfAny([' ', '\n', '\t'], start, matches[best].Start - start);
                start = space < 0 ? matches[best].Start : space + 1;
            }
        }
        var end = Math.Min(text.Length, start + maxLength);
        if (end < text.Length)
        {
            var space = text.LastIndexOfAny([' ', '\n', '\t'], end - 1, end - start);
            if (space > start + maxLength / 2)
            {
                end = space;
            }
        }
        if (end < text.Length && char.IsHighSurrogate(text[end - 1]))
        {
            end--;
        }
        return (start, end);
    }

    /// <summary>Adds text with its whitespace collapsed (snippets are one line).</summary>
    private static void AddText(List<SnippetPart> parts, string text, bool isMatch)
    {
        if (text.Length == 0)
        {
            return;
        }
        var builder = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            if (char.IsWhiteSpace(c))
            {
                if (builder.Length == 0 || builder[^1] != ' ')
                {
                    builder.Append(' ');
                }
                continue;
            }
            builder.Append(c);
        }
        if (builder.Length > 0)
        {
            parts.Add(new SnippetPart(builder.ToString(), isMatch));
        }
    }
}
