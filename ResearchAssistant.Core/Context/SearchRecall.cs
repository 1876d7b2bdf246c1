using Microsoft.EntityFrameworkCore;
using ResearchAssistant.Core.Data;
using ResearchAssistant.Core.Privacy;
using ResearchAssistant.Core.Search;
using ResearchAssistant.Core.Sessions;

namespace ResearchAssistant.Core.Context;

/// <summary>
/// Recall through the keyed search index: the session's messages most relevant to the question, kept only when they
/// lie on the active branch above the recent window (an answer on an abandoned branch is not what the user built on).
/// The search's best documents go to one statement that keeps those above the window and tests them through the jump
/// pointers (<see cref="BranchAncestors.ReadAmongDocumentsAsync"/>), so recall reaches the whole branch at a cost that
/// does not grow with it. Each step on a context of its own, so the ranking can run beside the turn's other reads.
/// </summary>
internal sealed class SearchRecall(SearchService search, IDbContextFactory<AppDbContext> contexts, ContentProtector protector) : IMessageRecall
{
    /// <summary>How many more of the ranking are tested on the branch than are recalled: some lie on other branches.</summary>
    public const int CandidatesPerRecalled = 4;

    public async Task<RecallRanking?> RankAsync(string userId, Guid sessionId, string question, int take, CancellationToken ct)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        // The turn's conversation was checked to be the user's when the turn was asked for.
        return await search.RecallDocumentsAsync(db, userId, sessionId, question, take, ct) is { } found
            ? new RecallRanking(found.IndexId, found.Top.Select(t => t.Number).ToList())
            : null;
    }

    public async Task<IReadOnlyList<MessageView>> RecallAsync(string userId, Guid sessionId, RecallRanking ranking, Guid candidatesAbove, IReadOnlySet<Guid> exclude, int take, CancellationToken ct)
    {
        if (take <= 0 || ranking.Documents.Count == 0)
        {
            return [];
        }
        await using var db = await contexts.CreateDbContextAsync(ct);
        // The window's own messages match the question best and are skipped by depth (they lie at or below
        // candidatesAbove); of those above, the best take * 4 are tested, and of those on the branch (ancestors of
        // candidatesAbove: of this conversation, not in the window) only the best `take` are read.
        var onBranch = await BranchAncestors.ReadAmongDocumentsAsync(db, candidatesAbove, ranking.IndexId, ranking.Documents, take * CandidatesPerRecalled, ct, keep: take);
        var chosen = onBranch.Where(e => e.SessionId == sessionId && !exclude.Contains(e.Id)).Take(take).ToList();
        if (chosen.Count == 0)
        {
            return [];
        }
        var cipher = await protector.ForUserAsync(userId, ct);
        return chosen.Select(e => BranchReader.ToPromptView(e, cipher)).ToList();
    }
}
