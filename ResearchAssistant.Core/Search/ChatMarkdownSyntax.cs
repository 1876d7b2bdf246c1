using Markdig;

namespace ResearchAssistant.Core.Search;

/// <summary>
/// The Markdown the chat understands, in one place: the page renders answers with it (Web's MarkdownRenderer) and
/// search snippets strip it (<see cref="MarkdownText"/>), so the two always agree. Raw HTML is never HTML.
/// </summary>
public static class ChatMarkdownSyntax
{
    public static MarkdownPipelineBuilder Builder() => new MarkdownPipelineBuilder()
        .DisableHtml()
        .UsePipeTables()
        .UseEmphasisExtras()
        .UseTaskLists()
        .UseAutoLinks();
}
