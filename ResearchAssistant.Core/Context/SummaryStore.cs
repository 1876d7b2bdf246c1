using Microsoft.EntityFrameworkCore;
using ResearchAssistant.Core.Data;
using ResearchAssistant.Core.Privacy;
using ResearchAssistant.Core.Sessions;

namespace ResearchAssistant.Core.Context;

internal static class SummaryStore
{
    /// <summary>How far above a window the search for its summary goes; the summarizer keeps summaries closer than this.</summary>
    public const int SearchDepth = 400;

    /// <summary>
    /// The newest summary of the branch above <paramref name="windowStartId"/>, if the summarizer has made one: the
    /// nearest of the message's ancestors (up to <see cref="SearchDepth"/>) that a summary ends at. One statement: the
    /// walk up the branch stays in the database, each ancestor probing the (SessionId, ToMessageId) index.
    /// </summary>
    public static async Task<BranchSummary?> FindAboveAsync(AppDbContext db, Guid sessionId, Guid windowStartId, UserCipher cipher, CancellationToken ct)
    {
        var found = await db.Set<Summary>().FromSql($"""
            WITH RECURSIVE up("Id", "ParentId", "Depth") AS (
                SELECT "Id", "ParentId", 0 FROM "SessionEvents" WHERE "Id" = {windowStartId}
                UNION ALL
                SELECT e."Id", e."ParentId", u."Depth" + 1
                FROM "SessionEvents" e JOIN up u ON e."Id" = u."ParentId"
                WHERE u."Depth" < {SearchDepth}
            )
            SELECT s.* FROM up u JOIN "Summary" s ON s."SessionId" = {sessionId} AND s."ToMessageId" = u."Id"
            WHERE u."Depth" > 0
            ORDER BY u."Depth"
            LIMIT 1
            """).AsNoTracking().ToListAsync(ct);
        var nearest = found.FirstOrDefault();
        return nearest is null ? null : new BranchSummary(nearest.Id, cipher.Decrypt(nearest.ContentCipher), nearest.FromSeq, nearest.ToSeq, nearest.ToMessageId, nearest.TokenCount);
    }
}
