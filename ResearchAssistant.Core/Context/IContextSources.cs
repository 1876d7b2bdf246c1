using ResearchAssistant.Core.Sessions;

namespace ResearchAssistant.Core.Context;

/// <summary>A summary of the older part of a branch: the messages up to and including <see cref="ToMessageId"/>.</summary>
public sealed record BranchSummary(Guid Id, string Text, long FromSeq, long ToSeq, Guid ToMessageId, int Tokens);

/// <summary>Finds older messages of the active branch relevant to a question (the search index provides it).</summary>
public interface IMessageRecall
{
    /// <param name="candidatesAbove">Only messages that are ancestors of this message (the oldest of the recent window) qualify.</param>
    Task<IReadOnlyList<MessageView>> RecallAsync(string userId, Guid sessionId, string question, Guid candidatesAbove, IReadOnlySet<Guid> exclude, int take, CancellationToken ct);
}
