using System.Globalization;
using System.Text;

namespace ResearchAssistant.Core.Search;

/// <summary>A query reduced to the terms that are searched.</summary>
/// <param name="Terms">Distinct normalized terms, in the order typed, at most <see cref="SearchTerms.MaxQueryTerms"/>.</param>
/// <param name="WasShortened">The query was longer than <see cref="SearchTerms.MaxQueryCharacters"/> characters or
/// <see cref="SearchTerms.MaxQueryTerms"/> terms, and only its beginning was searched.</param>
public sealed record SearchQuery(IReadOnlyList<string> Terms, bool WasShortened);

/// <summary>
/// Turns text into index terms, the same way for messages and queries: words are runs of letters, digits and marks
/// (an apostrophe inside a word is part of it); each word is Unicode NFKC-normalized, diacritics are folded ("café" is
/// "cafe"), lower-cased, split again on whatever is not a letter or digit, stop words are dropped and plain English
/// words stemmed. Han and kana characters are words of their own, as those scripts do not separate words by spaces.
/// </summary>
public static class SearchTerms
{
    /// <summary>A query is cut to this many characters: long enough for any real question, cheap to hash.</summary>
    public const int MaxQueryCharacters = 512;
    /// <summary>A query searches at most this many distinct terms (each one is a range scan of the index).</summary>
    public const int MaxQueryTerms = 32;
    /// <summary>Longer "words" (hashes, base64 blobs) are cut to this many characters.</summary>
    public const int MaxTermLength = 64;

    /// <summary>Every term of a text, in order and with repeats (term frequencies and document length come from it).</summary>
    public static List<string> Terms(string text)
    {
        var terms = new List<string>();
        foreach (var (start, length) in Words(text))
        {
            AddTermsOfWord(text.AsSpan(start, length), terms);
        }
        return terms;
    }

    public static SearchQuery ParseQuery(string? query)
    {
        var text = query ?? "";
        var shortened = false;
        if (text.Length > MaxQueryCharacters)
        {
            // Never cut a surrogate pair in half.
            var cut = char.IsHighSurrogate(text[MaxQueryCharacters - 1]) ? MaxQueryCharacters - 1 : MaxQueryCharacters;
            text = text[..cut];
            shortened = true;
        }
        var distinct = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var term in Terms(text))
        {
            if (!seen.Add(term))
            {
                continue;
            }
            if (distinct.Count == MaxQueryTerms)
            {
                shortened = true;
                break;
            }
            distinct.Add(term);
        }
        return new SearchQuery(distinct, shortened);
    }

    /// <summary>The words of a text as (start, length) in the original string, so matches can be highlighted in place.</summary>
    public static IEnumerable<(int Start, int Length)> Words(string text)
    {
        var start = -1;
        var i = 0;
        while (i < text.Length)
        {
            if (!Rune.TryGetRuneAt(text, i, out var rune))
            {
                // A lone surrogate: not part of any word.
                if (start >= 0) { yield return (start, i - start); start = -1; }
                i++;
                continue;
            }
            var width = rune.Utf16SequenceLength;
            if (IsIdeographic(rune))
            {
                if (start >= 0) { yield return (start, i - start); start = -1; }
                yield return (i, width);
            }
            else if (IsWordRune(rune) || IsApostrophe(rune) && start >= 0 && i + width < text.Length && IsWordAt(text, i + width))
            {
                if (start < 0) start = i;
            }
            else if (start >= 0)
            {
                yield return (start, i - start);
                start = -1;
            }
            i += width;
        }
        if (start >= 0)
        {
            yield return (start, text.Length - start);
        }
    }

    /// <summary>The terms one word stands for: usually one, none for a stop word, several when NFKC splits it ("½" is 1⁄2).</summary>
    public static void AddTermsOfWord(ReadOnlySpan<char> word, List<string> into)
    {
        var folded = Fold(word);
        var start = -1;
        for (var i = 0; i <= folded.Length; i++)
        {
            var inPiece = i < folded.Length && (char.IsLetterOrDigit(folded[i]) || char.IsSurrogate(folded[i]));
            if (inPiece)
            {
                if (start < 0) start = i;
                continue;
            }
            if (start >= 0)
            {
                AddPiece(folded.Substring(start, i - start), into);
                start = -1;
            }
        }
    }

    private static void AddPiece(string piece, List<string> into)
    {
        if (piece.Length > MaxTermLength)
        {
            piece = piece[..(char.IsHighSurrogate(piece[MaxTermLength - 1]) ? MaxTermLength - 1 : MaxTermLength)];
        }
        if (StopWords.Contains(piece))
        {
            return;
        }
        var term = EnglishStemmer.Stem(piece);
        // One letter says too little ("x", the "s" of a split "it's"); digits and ideographs do say something.
        if (term.Length >= 2 || term.Length == 1 && char.IsDigit(term[0]) || Rune.TryGetRuneAt(term, 0, out var r) && IsIdeographic(r))
        {
            into.Add(term);
        }
    }

    /// <summary>NFKC, diacritics removed, lower case, a few letters that are not decomposable spelled out, apostrophes gone.</summary>
    private static string Fold(ReadOnlySpan<char> word)
    {
        var builder = new StringBuilder(word.Length);
        if (IsAscii(word))
        {
            // ASCII is already NFKC and has no diacritics: the common case skips Unicode normalization.
            foreach (var c in word)
            {
                builder.Append(char.ToLowerInvariant(c));
            }
        }
        else
        {
            var decomposed = word.ToString().Normalize(NormalizationForm.FormKC).Normalize(NormalizationForm.FormD);
            foreach (var c in decomposed)
            {
                var category = CharUnicodeInfo.GetUnicodeCategory(c);
                if (category is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark)
                {
                    continue;
                }
                var lower = char.ToLowerInvariant(c);
                builder.Append(lower switch
                {
                    'ß' => "ss",
                    'æ' => "ae",
                    'œ' => "oe",
                    'ø' => "o",
                    'đ' or 'ð' => "d",
                    'ł' => "l",
                    'þ' => "th",
                    'ı' => "i",
                    'ħ' => "h",
                    '\u2019' => "'",
                    _ => lower.ToString(),
                });
            }
        }
        // Possessive "'s" says nothing ("Darwin's" is "darwin"); other apostrophes join ("don't" is "dont").
        if (builder.Length > 2 && builder[^1] == 's' && builder[^2] == '\'')
        {
            builder.Length -= 2;
        }
        builder.Replace("'", "");
        var folded = builder.ToString();
        return IsAscii(folded) ? folded : folded.Normalize(NormalizationForm.FormC);
    }

    private static bool IsWordRune(Rune rune) => Rune.GetUnicodeCategory(rune) is
        UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter or
        UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter or
        UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark or
        UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber;

    private static bool IsWordAt(string text, int index) =>
        Rune.TryGetRuneAt(text, index, out var next) && IsWordRune(next) && !IsIdeographic(next);

    private static bool IsApostrophe(Rune rune) => rune.Value is '\'' or '\u2019';

    private static bool IsIdeographic(Rune rune) => rune.Value switch
    {
        >= 0x3040 and <= 0x30FF => true, // Hiragana, Katakana
        >= 0x31F0 and <= 0x31FF => true, // Katakana phonetic extensions
        >= 0x3400 and <= 0x4DBF => true, // CJK extension A
        >= 0x4E00 and <= 0x9FFF => true, // CJK unified ideographs
        >= 0xF900 and <= 0xFAFF => true, // CJK compatibility ideographs
        >= 0xFF66 and <= 0xFF9F => true, // Half-width katakana
        >= 0x20000 and <= 0x2FA1F => true, // CJK extensions B-F, supplement
        _ => false,
    };

    private static bool IsAscii(ReadOnlySpan<char> text)
    {
        foreach (var c in text)
        {
            if (c > 0x7F) return false;
        }
        return true;
    }
}
