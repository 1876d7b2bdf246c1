using System.Runtime.CompilerServices;
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
    /// Those of <paramref name="candidates"/> that are ancestors of <paramref name="messageId"/> (the message itself
    /// excluded), read whole, however far up. Each candidate is tested by finding the message's ancestor at the
    /// candidate's depth through the jump pointers (<see cref="MessageTree"/>): O(log depth) steps of two lookups by
    /// primary key each (the current message's jump, then the jump or the parent), all in one statement, so the cost
    /// is the number of candidates times the logarithm of the depth, not the length of the branch.
    /// </summary>
    public static async Task<List<SessionEvent>> ReadAmongAsync(AppDbContext db, Guid messageId, IReadOnlyCollection<Guid> candidates, CancellationToken ct)
    {
        if (candidates.Count == 0)
        {
            return [];
        }
        var arguments = new List<object?> { messageId };
        arguments.AddRange(candidates.Select(c => (object?)c));
        var list = string.Join(", ", Enumerable.Range(1, candidates.Count).Select(i => $"{{{i}}}"));
        // Each row is a step of one candidate's search: the walk stands at "Id" and looks for the ancestor at
        // "TargetDepth". It stops there; the candidate is on the branch when that ancestor is the candidate itself.
        // By primary key only, no session in the condition: an ancestor is in the message's session anyway, and
        // given a session SQLite's planner walks the session's whole index.
        var sql = FormattableStringFactory.Create($$"""
            WITH RECURSIVE walk("Target", "TargetDepth", "Id", "Depth", "JumpId", "ParentId") AS (
                SELECT c."Id", c."Depth", m."Id", m."Depth", m."JumpId", m."ParentId"
                FROM "SessionEvents" m JOIN "SessionEvents" c ON c."Id" IN ({{list}})
                WHERE m."Id" = {0} AND c."Depth" < m."Depth"
                UNION ALL
                SELECT w."Target", w."TargetDepth", n."Id", n."Depth", n."JumpId", n."ParentId"
                FROM walk w
                JOIN "SessionEvents" j ON j."Id" = w."JumpId"
                JOIN "SessionEvents" n ON n."Id" = CASE WHEN j."Depth" >= w."TargetDepth" THEN j."Id" ELSE w."ParentId" END
                WHERE w."Depth" > w."TargetDepth"
            )
            SELECT e.* FROM "SessionEvents" e WHERE e."Id" IN (SELECT "Target" FROM walk WHERE "Id" = "Target")
            """, [.. arguments]);
        return await db.SessionEvents.FromSql(sql).AsNoTracking().ToListAsync(ct);
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
