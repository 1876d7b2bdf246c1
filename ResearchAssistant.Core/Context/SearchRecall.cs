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
/// does not grow with it.
/// </summary>
internal sealed class SearchRecall(SearchService search, IDbContextFactory<AppDbContext> contexts, ContentProtector protector) : IMessageRecall
{
    public async Task<IReadOnlyList<MessageView>> RecallAsync(string userId, Guid sessionId, string question, Guid candidatesAbove, IReadOnlySet<Guid> exclude, int take, CancellationToken ct)
    {
        if (take <= 0)
        {
            return [];
        }
        await using var db = await contexts.CreateDbContextAsync(ct);
        // The window's own messages match the question best and are skipped by depth (they lie at or below
        // candidatesAbove), so ask for as many more as are excluded, and test the best take * 4 of those above: some of
        // them are on other branches. The turn's conversation was checked to be the user's when the turn was asked for.
        var candidates = take * 4;
        if (await search.RecallDocumentsAsync(db, userId, sessionId, question, candidates + exclude.Count, ct) is not { } found)
        {
            return [];
        }
        var onBranch = await BranchAncestors.ReadAmongDocumentsAsync(db, candidatesAbove, found.IndexId, found.Top.Select(t => t.Number).ToList(), candidates, ct);
        var chosen = onBranch.Where(e => e.SessionId == sessionId && !exclude.Contains(e.Id)).Take(take).ToList();
        if (chosen.Count == 0)
        {
            return [];
        }
        var cipher = await protector.ForUserAsync(userId, ct);
        return chosen.Select(e => BranchReader.ToView(e, null, cipher)).ToList();
    }
}
