using Microsoft.EntityFrameworkCore;
using ResearchAssistant.Core.Data;

namespace ResearchAssistant.Core.Sessions;

internal static class BranchAncestors
{
    /// <summary>The ids of up to <paramref name="limit"/> ancestors of a message, nearest first (the message itself excluded).</summary>
    public static async Task<List<Guid>> ReadAsync(AppDbContext db, Guid messageId, int limit, CancellationToken ct)
    {
        var rows = await db.Database.SqlQuery<AncestorRow>($"""
            WITH RECURSIVE up("Id", "ParentId", "Depth") AS (
                SELECT "Id", "ParentId", 0 FROM "SessionEvents" WHERE "Id" = {messageId}
                UNION ALL
                SELECT e."Id", e."ParentId", u."Depth" + 1
                FROM "SessionEvents" e JOIN up u ON e."Id" = u."ParentId"
                WHERE u."Depth" < {limit}
            )
            SELECT "Id", "Depth" FROM up WHERE "Depth" > 0
            """).ToListAsync(ct);
        return rows.OrderBy(r => r.Depth).Select(r => r.Id).ToList();
    }

    private sealed record AncestorRow(Guid Id, int Depth);
}
