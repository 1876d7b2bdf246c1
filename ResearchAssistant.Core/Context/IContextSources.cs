using ResearchAssistant.Core.Sessions;

namespace ResearchAssistant.Core.Context;

/// <summary>A summary of the older part of a branch: the messages up to and including <see cref="ToMessageId"/>.</summary>
public sealed record BranchSummary(Guid Id, string Text, long FromSeq, long ToSeq, Guid ToMessageId, int Tokens);

/// <summary>A conversation's messages ranked for a question, best first, before anything is known about the branch.</summary>
public sealed class RecallRanking
{
    internal RecallRanking(int indexId, IReadOnlyList<long> documents)
    {
        IndexId = indexId;
        Documents = documents;
    }

    internal int IndexId { get; }
    /// <summary>Document numbers in the user's search index, best first.</summary>
    internal IReadOnlyList<long> Documents { get; }
}

/// <summary>
/// Finds older messages of the active branch relevant to a question (the search index provides it), in two steps, so
/// the first can run while the turn reads its window: rank the conversation's messages for the question, then keep the
/// best of those on the branch above the window.
/// </summary>
public interface IMessageRecall
{
    /// <summary>The conversation's <paramref name="take"/> best messages for <paramref name="question"/>; null when none match.</summary>
    Task<RecallRanking?> RankAsync(string userId, Guid sessionId, string question, int take, CancellationToken ct);

    /// <param name="candidatesAbove">Only messages that are ancestors of this message (the oldest of the recent window) qualify.</param>
    Task<IReadOnlyList<MessageView>> RecallAsync(string userId, Guid sessionId, RecallRanking ranking, Guid candidatesAbove, IReadOnlySet<Guid> exclude, int take, CancellationToken ct);
}
