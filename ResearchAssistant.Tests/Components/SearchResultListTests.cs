using Bunit;
using ResearchAssistant.Core.Search;
using ResearchAssistant.Core.Sessions;
using ResearchAssistant.Web.Components.Search;

namespace ResearchAssistant.Tests.Components;

/// <summary>The search results as the sidebar shows them: links into the conversation, marked matches, safe text.</summary>
public sealed class SearchResultListTests : IDisposable
{
    private readonly BunitContext _context = new();

    public SearchResultListTests() => _context.AddRadzenServices();

    [Fact]
    public void Each_hit_links_to_its_message_and_marks_the_matched_words()
    {
        var hit = Hit([new("Two ", false), new("Studies", true), new(" of the ", false), new("Café", true), new(" effect", false)]);
        var cut = Render(new SearchResponse([hit], ["studi", "cafe"], false, null));

        var list = cut.Find("ul[aria-label='Search results']");
        var link = list.QuerySelector("a")!;
        Assert.Equal($"chat/{hit.SessionId}?m={hit.MessageId}", link.GetAttribute("href"));
        Assert.Equal(["Studies", "Café"], link.QuerySelectorAll("mark").Select(m => m.TextContent));
        Assert.Equal("Two Studies of the Café effect", link.QuerySelector(".search-hit-snippet")!.TextContent.Trim());
        Assert.Equal("Coffee research", link.QuerySelector(".search-hit-title")!.TextContent);
        Assert.Equal("You", link.QuerySelector(".search-hit-role")!.TextContent);
        Assert.Equal("2026-03-04T05:06:07.0000000Z", link.QuerySelector("time")!.GetAttribute("datetime"));
        Assert.Contains("1 result", cut.Find("[role=status]").TextContent);
    }

    [Fact]
    public void Message_text_in_a_snippet_is_text_never_markup()
    {
        var cut = Render(new SearchResponse([Hit([new("<img src=x onerror=alert(1)>", false), new("<b>bold</b>", true)])], ["bold"], false, null));

        Assert.Empty(cut.FindAll(".search-results img, .search-results b, [onerror]"));
        Assert.Equal("<b>bold</b>", cut.Find("mark").TextContent);
    }

    [Fact]
    public void A_query_with_nothing_to_search_shows_the_hint_and_no_list()
    {
        var cut = Render(new SearchResponse([], [], false, SearchService.NothingToSearchHint), "the and");

        Assert.Equal(SearchService.NothingToSearchHint, cut.Find(".search-hint").TextContent);
        Assert.Empty(cut.FindAll("ul"));
        Assert.Empty(cut.FindAll(".search-empty"));
    }

    [Fact]
    public void A_search_that_finds_nothing_says_so()
    {
        var cut = Render(new SearchResponse([], ["quasar"], false, null), "quasars");

        Assert.Equal("No messages match “quasars”.", cut.Find(".search-empty").TextContent);
    }

    private IRenderedComponent<SearchResultList> Render(SearchResponse response, string query = "q") =>
        _context.Render<SearchResultList>(p => p.Add(c => c.Response, response).Add(c => c.Query, query));

    private static SearchHit Hit(IReadOnlyList<SnippetPart> snippet) => new(
        Guid.NewGuid(), Guid.NewGuid(), "Coffee research", MessageRole.User,
        new DateTimeOffset(2026, 3, 4, 5, 6, 7, TimeSpan.Zero), 1.5, snippet);

    public void Dispose() => _context.Dispose();
}
