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
    public void Whitespace_is_collapsed()
    {
        var parts = Snippets.Build("First line\n\n  second\tline", Query("second"));
        Assert.Equal("First line second line", string.Concat(parts.Select(p => p.Text)));
    }

    [Fact]
    public void An_answers_snippet_is_its_plain_text_with_the_matched_words_marked()
    {
        const string answer = """
            ## Results of the *quasar* survey

            The **survey** used `redshift` data from [the archive](https://example.org/quasar-archive "Archive"), see <https://example.org/notes>.
            """;

        var parts = Snippets.Build(MarkdownText.ToPlain(answer), Query("quasar survey redshift archive"));

        Assert.Equal(
            "Results of the quasar survey The survey used redshift data from the archive, see https://example.org/notes.",
            string.Concat(parts.Select(p => p.Text)));
        Assert.Equal(["quasar", "survey", "survey", "redshift", "archive"], parts.Where(p => p.IsMatch).Select(p => p.Text));
    }

    [Fact]
    public void Markdown_syntax_is_dropped_and_the_text_kept()
    {
        const string answer = """
            # Heading
            1. first **bold** item
            - [x] done _task_
            > quoted ~~old~~ text

            | col A | col B |
            |---|---|
            | a1 | b1 |

            ```csharp
            var x = 2 * 3;
            ```

            ![a diagram](https://example.org/d.png) and [a link][ref] \*literal stars\* &amp; more
            ***
            [ref]: https://example.org/ref
            """;

        var plain = MarkdownText.ToPlain(answer);

        Assert.Equal(
            "Heading first bold item done task quoted old text col A col B a1 b1 var x = 2 * 3; a diagram and a link *literal stars* & more",
            string.Join(' ', plain.Split((char[])[' ', '\n'], StringSplitOptions.RemoveEmptyEntries)));
        Assert.DoesNotContain("https://example.org/ref", plain);
        Assert.DoesNotContain("](", plain);
    }

    [Fact]
    public void Html_in_an_answer_stays_text()
    {
        // The chat shows raw HTML in an answer as text, and so does a snippet: the characters are kept, as text that the
        // UI escapes (SearchResultListTests), never as markup.
        Assert.Equal("<img src=x onerror=alert(1)> and <b>bold</b>", MarkdownText.ToPlain("<img src=x onerror=alert(1)> and <b>bold</b>"));
    }

    [Fact]
    public void A_question_is_shown_as_typed()
    {
        // Questions are not Markdown in the chat: their asterisks and hashes are the user's own characters.
        var parts = Snippets.Build("Is C# faster than F# for 2*3*4 sized inputs?", Query("faster"));
        Assert.Equal("Is C# faster than F# for 2*3*4 sized inputs?", string.Concat(parts.Select(p => p.Text)));
    }
}
