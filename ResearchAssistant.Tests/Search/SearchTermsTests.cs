using ResearchAssistant.Core.Search;

namespace ResearchAssistant.Tests.Search;

/// <summary>Normalization: what a message and a query are reduced to before hashing. Both go through the same code.</summary>
public sealed class SearchTermsTests
{
    [Theory]
    [InlineData("Hello WORLD", new[] { "hello", "world" })]
    [InlineData("Café NAÏVE façade", new[] { "cafe", "naive", "facade" })] // diacritics folded, lower-cased
    [InlineData("ﬁnance ＡＢＣ１２３ x²", new[] { "finance", "abc123", "x2" })] // NFKC: ligature, full-width, superscript
    [InlineData("Straße Ærø Łódź", new[] { "strasse", "aero", "lodz" })] // letters with no decomposition, spelled out
    [InlineData("state-of-the-art, e-mail/URL", new[] { "state", "art", "mail", "url" })] // split on non-letters; "e" too short
    [InlineData("Darwin's theory isn't", new[] { "darwin", "theori" })] // possessive dropped; "isnt" is a stop word
    [InlineData("The and of to a in is", new string[0])] // stop words only
    [InlineData("!!! ??? *** --- ... 🙂", new string[0])] // symbols and emoji only
    [InlineData("born 1859, page 3", new[] { "born", "1859", "page", "3" })] // numbers kept, even a single digit
    [InlineData("東京の大学", new[] { "東", "京", "の", "大", "学" })] // Han and kana: one term per character
    public void Text_is_normalized_to_these_terms(string text, string[] expected) =>
        Assert.Equal(expected, SearchTerms.Terms(text));

    [Theory]
    [InlineData("studies", "study")]
    [InlineData("running", "run")]
    [InlineData("models", "modeling")]
    [InlineData("Hoping", "hope")]
    [InlineData("caresses", "caress")]
    [InlineData("agreed", "agree")]
    [InlineData("Ponies", "pony")]
    public void Word_forms_share_a_stem(string a, string b) =>
        Assert.Equal(SearchTerms.Terms(a), SearchTerms.Terms(b));

    [Fact]
    public void Repeats_are_kept_for_term_frequency()
    {
        Assert.Equal(["quasar", "quasar", "nebula"], SearchTerms.Terms("Quasar, quasars; the NEBULA!"));
    }

    [Fact]
    public void A_very_long_word_is_cut()
    {
        var term = Assert.Single(SearchTerms.Terms(new string('k', 5_000)));
        Assert.Equal(SearchTerms.MaxTermLength, term.Length);
    }

    [Fact]
    public void Word_positions_point_into_the_original_text()
    {
        const string text = "Voilà: l’été, don't!";
        var words = SearchTerms.Words(text).Select(w => text.Substring(w.Start, w.Length)).ToList();
        Assert.Equal(["Voilà", "l’été", "don't"], words);
    }

    [Fact]
    public void A_query_keeps_distinct_terms_in_order()
    {
        var query = SearchTerms.ParseQuery("Nebula quasar NEBULAE the nebula");
        Assert.Equal(["nebula", "quasar", "nebulae"], query.Terms);
        Assert.False(query.WasShortened);
    }

    [Fact]
    public void A_10000_character_query_is_cut_to_512_characters_and_32_terms()
    {
        var words = Enumerable.Range(0, 2_000).Select(i => $"word{i}");
        var query = SearchTerms.ParseQuery(string.Join(' ', words)[..10_000]);

        Assert.True(query.WasShortened);
        Assert.Equal(SearchTerms.MaxQueryTerms, query.Terms.Count);
        Assert.Equal(Enumerable.Range(0, 32).Select(i => $"word{i}"), query.Terms);

        // Few distinct words but many characters: only the first 512 characters are read.
        var repeated = SearchTerms.ParseQuery(new string(' ', 600) + "hidden");
        Assert.True(repeated.WasShortened);
        Assert.Empty(repeated.Terms);
    }

    [Fact]
    public void Cutting_a_query_never_splits_a_surrogate_pair()
    {
        var query = SearchTerms.ParseQuery(new string('a', SearchTerms.MaxQueryCharacters - 1) + "𠀀𠀀");
        Assert.True(query.WasShortened);
        Assert.Equal([new string('a', SearchTerms.MaxTermLength)], query.Terms);
    }
}
