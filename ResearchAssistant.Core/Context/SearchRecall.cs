using Microsoft.EntityFrameworkCore;
using ResearchAssistant.Core.Data;
using ResearchAssistant.Core.Privacy;
using ResearchAssistant.Core.Search;
using ResearchAssistant.Core.Sessions;

namespace ResearchAssistant.Core.Context;

/// <summary>
/// Recall through the keyed search index: the session's messages most relevant to the question, kept only when they
/// lie on the active branch above the recent window (an answer on an abandoned branch is not what the user built on).
/// The branch check tests each candidate through the jump pointers (<see cref="BranchAncestors.ReadAmongAsync"/>), so
/// it reaches the whole branch at a cost that does not grow with it.
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
        // Ask for more than needed: some hits are on other branches or inside the window. The turn's conversation
        // was checked to be the user's when the turn was asked for.
        var hits = await search.RecallAsync(db, userId, sessionId, question, exclude, take * 4, ct);
        if (hits.Count == 0)
        {
            return [];
        }
        var candidates = hits.Select(h => h.EventId).Where(id => !exclude.Contains(id)).ToList();
        // The candidates on the branch come back whole: one statement both tests and reads them.
        var onBranch = (await BranchAncestors.ReadAmongAsync(db, candidatesAbove, candidates, ct))
            .Where(e => e.SessionId == sessionId).ToDictionary(e => e.Id);
        var chosen = hits.Where(h => onBranch.ContainsKey(h.EventId) && !exclude.Contains(h.EventId)).Take(take).ToList();
        if (chosen.Count == 0)
        {
            return [];
        }
        var cipher = await protector.ForUserAsync(userId, ct);
        return chosen.Select(h => BranchReader.ToView(onBranch[h.EventId], null, cipher)).ToList();
    }
}
