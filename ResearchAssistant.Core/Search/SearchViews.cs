using ResearchAssistant.Core.Sessions;

namespace ResearchAssistant.Core.Search;

/// <summary>A piece of a snippet; <see cref="IsMatch"/> pieces are the words the query matched (shown highlighted).</summary>
public sealed record SnippetPart(string Text, bool IsMatch);

/// <summary>One message that matched, with where it lives and a snippet around the matched words.</summary>
public sealed record SearchHit(
    Guid SessionId,
    Guid MessageId,
    string ConversationTitle,
    MessageRole Role,
    DateTimeOffset CreatedAt,
    double Score,
    IReadOnlyList<SnippetPart> Snippet);

/// <summary>What a search found, best first.</summary>
/// <param name="Terms">The normalized terms that were searched (empty when the query had none worth searching).</param>
/// <param name="WasShortened">Only the beginning of an over-long query was searched.</param>
/// <param name="Hint">Something to tell the user about the query itself (not an error), or null.</param>
public sealed record SearchResponse(IReadOnlyList<SearchHit> Hits, IReadOnlyList<string> Terms, bool WasShortened, string? Hint);
