using Microsoft.EntityFrameworkCore;
using ResearchAssistant.Core.Data;
using ResearchAssistant.Core.Privacy;
using ResearchAssistant.Core.Sessions;

namespace ResearchAssistant.Core.Context;

internal static class SummaryStore
{
    /// <summary>How far above a window the search for its summary goes; the summarizer keeps summaries closer than this.</summary>
    public const int SearchDepth = 400;

    /// <summary>The newest summary of the branch above <paramref name="windowStartId"/>, if the summarizer has made one.</summary>
    public static async Task<BranchSummary?> FindAboveAsync(AppDbContext db, Guid sessionId, Guid windowStartId, UserCipher cipher, CancellationToken ct)
    {
        var ancestors = await BranchAncestors.ReadAsync(db, windowStartId, SearchDepth, ct);
        if (ancestors.Count == 0)
        {
            return null;
        }
        var candidates = await db.Set<Summary>().AsNoTracking()
            .Where(s => s.SessionId == sessionId && ancestors.Contains(s.ToMessageId))
            .ToListAsync(ct);
        var nearest = candidates.MinBy(s => ancestors.IndexOf(s.ToMessageId));
        return nearest is null ? null : new BranchSummary(nearest.Id, cipher.Decrypt(nearest.ContentCipher), nearest.FromSeq, nearest.ToSeq, nearest.ToMessageId, nearest.TokenCount);
    }
}
