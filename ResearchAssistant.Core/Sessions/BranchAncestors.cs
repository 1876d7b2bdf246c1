using Microsoft.EntityFrameworkCore;
using ResearchAssistant.Core.Data;

namespace ResearchAssistant.Core.Sessions;

internal static class BranchAncestors
{
    /// <summary>The ids of up to <paramref name="limit"/> ancestors of a message, nearest first (the message itself excluded).</summary>
    public static async Task<List<Guid>> ReadAsync(AppDbContext db, Guid messageId, int limit, CancellationToken ct)
    {
        var rows = await Walk(db, messageId, limit).ToListAsync(ct);
        return rows.OrderBy(r => r.Depth).Select(r => r.Id).ToList();
    }

    /// <summary>
    /// Which of <paramref name="candidates"/> are among the first <paramref name="limit"/> ancestors of a message. The
    /// walk stays in the database and only the matches come back, not every ancestor walked past.
    /// </summary>
    public static async Task<HashSet<Guid>> FilterAsync(AppDbContext db, Guid messageId, int limit, IReadOnlyCollection<Guid> candidates, CancellationToken ct)
    {
        if (candidates.Count == 0)
        {
            return [];
        }
        var wanted = candidates.ToArray();
        var rows = await Walk(db, messageId, limit).Where(r => wanted.Contains(r.Id)).ToListAsync(ct);
        return rows.Select(r => r.Id).ToHashSet();
    }

    /// <summary>The ancestors of a message up to <paramref name="limit"/> steps up, each with its distance (1 = parent).</summary>
    private static IQueryable<AncestorRow> Walk(AppDbContext db, Guid messageId, int limit) =>
        db.Database.SqlQuery<AncestorRow>($"""
            WITH RECURSIVE up("Id", "ParentId", "Depth") AS (
                SELECT "Id", "ParentId", 0 FROM "SessionEvents" WHERE "Id" = {messageId}
                UNION ALL
                SELECT e."Id", e."ParentId", u."Depth" + 1
                FROM "SessionEvents" e JOIN up u ON e."Id" = u."ParentId"
                WHERE u."Depth" < {limit}
            )
            SELECT "Id", "Depth" FROM up WHERE "Depth" > 0
            """);

    private sealed record AncestorRow(Guid Id, int Depth);
}
