using Microsoft.EntityFrameworkCore;
using ResearchAssistant.Core.Data;
using ResearchAssistant.Core.Privacy;
using ResearchAssistant.Core.Search;
using ResearchAssistant.Core.Sessions;

namespace ResearchAssistant.Core.Context;

/// <summary>
/// Recall through the keyed search index: the session's messages most relevant to the question, kept only when they
/// lie on the active branch above the recent window (an answer on an abandoned branch is not what the user built on).
/// The branch check walks at most <see cref="ContextOptions.RecallDepth"/> ancestors, so its cost is bounded.
/// </summary>
internal sealed class SearchRecall(SearchService search, IDbContextFactory<AppDbContext> contexts, ContentProtector protector, ContextOptions options) : IMessageRecall
{
    public async Task<IReadOnlyList<MessageView>> RecallAsync(string userId, Guid sessionId, string question, Guid candidatesAbove, IReadOnlySet<Guid> exclude, int take, CancellationToken ct)
    {
        if (take <= 0)
        {
            return [];
        }
        // Ask for more than needed: some hits are on other branches or inside the window.
        var hits = await search.RecallAsync(userId, sessionId, question, exclude, take * 4, ct);
        if (hits.Count == 0)
        {
            return [];
        }
        await using var db = await contexts.CreateDbContextAsync(ct);
        var candidates = hits.Select(h => h.EventId).Where(id => !exclude.Contains(id)).ToList();
        var onBranch = await BranchAncestors.FilterAsync(db, candidatesAbove, options.RecallDepth, candidates, ct);
        var chosen = hits.Where(h => onBranch.Contains(h.EventId) && !exclude.Contains(h.EventId)).Take(take).ToList();
        if (chosen.Count == 0)
        {
            return [];
        }
        var ids = chosen.Select(h => h.EventId).ToList();
        // By primary key only, the session checked after: given both, SQLite's planner walks the session's index
        // (every event of the session) instead of looking up a handful of ids.
        var events = (await db.SessionEvents.AsNoTracking().Where(e => ids.Contains(e.Id)).ToListAsync(ct))
            .Where(e => e.SessionId == sessionId).ToDictionary(e => e.Id);
        var cipher = await protector.ForUserAsync(userId, ct);
        return chosen.Where(h => events.ContainsKey(h.EventId)).Select(h => BranchReader.ToView(events[h.EventId], null, cipher)).ToList();
    }
}
