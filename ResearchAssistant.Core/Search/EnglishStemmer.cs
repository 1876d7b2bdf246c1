namespace ResearchAssistant.Core.Search;

/// <summary>
/// A light English stemmer: steps 1a-1c of Porter's algorithm (plurals, -ed, -ing, final y), so that "studies" and
/// "study", or "models" and "modeling", find each other. The later Porter steps (-ational, -ness...) are left out:
/// they conflate more unrelated words than they help a keyword search. Only plain a-z words are stemmed; the same
/// function runs on indexed text and on queries, which is all that consistency needs.
/// </summary>
internal static class EnglishStemmer
{
    public static string Stem(string word)
    {
        if (word.Length <= 2 || !IsPlainLowerAscii(word))
        {
            return word;
        }
        var w = Step1a(word);
        w = Step1b(w);
        return Step1c(w);
    }

    private static string Step1a(string w)
    {
        if (w.EndsWith("sses", StringComparison.Ordinal) || w.EndsWith("ies", StringComparison.Ordinal))
        {
            return w[..^2];
        }
        if (w.EndsWith("ss", StringComparison.Ordinal))
        {
            return w;
        }
        return w.EndsWith('s') ? w[..^1] : w;
    }

    private static string Step1b(string w)
    {
        if (w.EndsWith("eed", StringComparison.Ordinal))
        {
            return Measure(w.AsSpan(0, w.Length - 3)) > 0 ? w[..^1] : w;
        }
        string stem;
        if (w.EndsWith("ed", StringComparison.Ordinal) && HasVowel(w.AsSpan(0, w.Length - 2)))
        {
            stem = w[..^2];
        }
        else if (w.EndsWith("ing", StringComparison.Ordinal) && HasVowel(w.AsSpan(0, w.Length - 3)))
        {
            stem = w[..^3];
        }
        else
        {
            return w;
        }
        if (stem.EndsWith("at", StringComparison.Ordinal) || stem.EndsWith("bl", StringComparison.Ordinal) || stem.EndsWith("iz", StringComparison.Ordinal))
        {
            return stem + "e";
        }
        if (EndsWithDoubleConsonant(stem) && stem[^1] is not ('l' or 's' or 'z'))
        {
            return stem[..^1];
        }
        if (Measure(stem) == 1 && EndsCvc(stem))
        {
            return stem + "e";
        }
        return stem;
    }

    private static string Step1c(string w) =>
        w.EndsWith('y') && HasVowel(w.AsSpan(0, w.Length - 1)) ? w[..^1] + "i" : w;

    private static bool IsConsonant(ReadOnlySpan<char> w, int i) => w[i] switch
    {
        'a' or 'e' or 'i' or 'o' or 'u' => false,
        'y' => i == 0 || !IsConsonant(w, i - 1),
        _ => true,
    };

    /// <summary>Porter's m: the number of vowel-consonant sequences in [C](VC)^m[V].</summary>
    private static int Measure(ReadOnlySpan<char> w)
    {
        var m = 0;
        var i = 0;
        while (i < w.Length && IsConsonant(w, i)) i++;
        while (i < w.Length)
        {
            while (i < w.Length && !IsConsonant(w, i)) i++;
            if (i >= w.Length) break;
            while (i < w.Length && IsConsonant(w, i)) i++;
            m++;
        }
        return m;
    }

    private static bool HasVowel(ReadOnlySpan<char> w)
    {
        for (var i = 0; i < w.Length; i++)
        {
            if (!IsConsonant(w, i)) return true;
        }
        return false;
    }

    private static bool EndsWithDoubleConsonant(string w) =>
        w.Length >= 2 && w[^1] == w[^2] && IsConsonant(w, w.Length - 1);

    /// <summary>Ends consonant-vowel-consonant, the last not w, x or y (as in "hop", so "hoping" becomes "hope").</summary>
    private static bool EndsCvc(string w)
    {
        var n = w.Length;
        return n >= 3 && IsConsonant(w, n - 3) && !IsConsonant(w, n - 2) && IsConsonant(w, n - 1) && w[n - 1] is not ('w' or 'x' or 'y');
    }

    private static bool IsPlainLowerAscii(string w)
    {
        foreach (var c in w)
        {
            if (c is < 'a' or > 'z') return false;
        }
        return true;
    }
}
