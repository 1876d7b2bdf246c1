using ResearchAssistant.Core.Search;

namespace ResearchAssistant.Tests.Search;

public sealed class SnippetTests
{
    private static HashSet<string> Query(string q) => SearchTerms.ParseQuery(q).Terms.ToHashSet();

    [Fact]
    public void Matched_words_are_marked_in_their_original_form()
    {
        var parts = Snippets.Build("Two Studies of the Café effect.", Query("study cafe"));

        Assert.Equal(
            [new("Two ", false), new("Studies", true), new(" of the ", false), new("Café", true), new(" effect.", false)],
            parts);
    }

    [Fact]
    public void A_long_message_is_cut_around_the_matches_on_word_boundaries()
    {
        var text = string.Join(' ', Enumerable.Repeat("filler words here", 40)) + " the quasar appears " + string.Join(' ', Enumerable.Repeat("more filler text", 40));
        var parts = Snippets.Build(text, Query("quasar"));

        Assert.Equal("…", parts[0].Text);
        Assert.Equal("…", parts[^1].Text);
        Assert.Equal("quasar", Assert.Single(parts, p => p.IsMatch).Text);
        var body = string.Concat(parts.Skip(1).SkipLast(1).Select(p => p.Text));
        Assert.True(body.Length <= Snippets.MaxLength, $"snippet is {body.Length} characters");
        // Whole words at both ends: with spaces around it, the excerpt is still a piece of the text.
        Assert.Contains(" " + body.Trim() + " ", text);
    }

    [Fact]
    public void Whitespace_is_collapsed_and_Markdown_marks_dropped()
    {
        var parts = Snippets.Build("**Bold** claim:\n\n```\ncode\n```", Query("claim"));
        Assert.Equal("Bold claim: code ", string.Concat(parts.Select(p => p.Text)));
    }
}
