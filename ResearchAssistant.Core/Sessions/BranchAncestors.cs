using System.Runtime.CompilerServices;
using System.Text.Json;
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
    /// The messages of search documents <paramref name="rankedDocuments"/> (numbers in the user's index
    /// <paramref name="indexId"/>, best first) that are ancestors of <paramref name="messageId"/>, read whole, best first,
    /// however far up, at most <paramref name="keep"/> of them. Only the first <paramref name="limit"/> documents whose
    /// message lies above the message (by depth) are tested; everything at its depth or below (the message itself, the
    /// messages after it on its branch) is skipped without a test. A candidate that is the only message of the
    /// message's conversation at its depth is an ancestor without a walk: the message has an ancestor at every depth
    /// above it, and at that one it can be no other (one probe of the (SessionId, Depth) index; most conversations
    /// branch nowhere or in few places, by edits and regenerations). Each other one is tested by finding the message's
    /// ancestor at the candidate's depth through the jump pointers (<see cref="MessageTree"/>): O(log depth) steps of two
    /// lookups by primary key each (the current message's jump, then the jump or the parent). All in one statement,
    /// documents to rows: its cost is the number of candidates times the logarithm of the depth, never the length of the
    /// branch.
    /// </summary>
    public static async Task<List<SessionEvent>> ReadAmongDocumentsAsync(
        AppDbContext db, Guid messageId, int indexId, IReadOnlyList<long> rankedDocuments, int limit, CancellationToken ct, int? keep = null)
    {
        if (rankedDocuments.Count == 0 || limit <= 0)
        {
            return [];
        }
        // The ranked numbers travel as one parameter, so the statement's text is the same for every call: EF compiles a
        // FromSql query once per distinct text, and a VALUES list as long as the ranking made each call a new text
        // (milliseconds of compilation, and an ever-growing query cache).
        var ranked = db.Database.IsSqlite()
            ? """SELECT "value", "key" FROM json_each({3})"""
            : """SELECT "Number", "Rank" FROM unnest({3}) WITH ORDINALITY AS n("Number", "Rank")""";
        object numbers = db.Database.IsSqlite() ? JsonSerializer.Serialize(rankedDocuments) : rankedDocuments.ToArray();
        // CROSS JOIN makes SQLite (which has no statistics) start from the ranked numbers and look each document up by
        // its key; with plain joins it walked all of the user's documents by index id. PostgreSQL plans it as a join.
        // A walk row is a step of one candidate's search: it stands at "Id", looking for the ancestor at "TargetDepth",
        // and stops there; the candidate is on the branch when that ancestor is the candidate itself. Everything is found
        // by primary key (no session in any condition: an ancestor is in the message's session anyway, and given a
        // session, SQLite's planner walks the session's whole index).
        var sql = FormattableStringFactory.Create($$"""
            WITH RECURSIVE ranked("Number", "Rank") AS ({{ranked}}),
            candidates("Id", "Depth", "Rank", "Alone") AS (
                SELECT c."Id", c."Depth", r."Rank",
                    c."SessionId" = (SELECT m."SessionId" FROM "SessionEvents" m WHERE m."Id" = {0})
                    AND NOT EXISTS (SELECT 1 FROM "SessionEvents" o WHERE o."SessionId" = c."SessionId" AND o."Depth" = c."Depth" AND o."Id" <> c."Id")
                FROM ranked r
                CROSS JOIN "SearchDocuments" d
                CROSS JOIN "SessionEvents" c
                WHERE d."IndexId" = {1} AND d."Number" = r."Number" AND c."Id" = d."EventId"
                    AND c."Depth" < (SELECT m."Depth" FROM "SessionEvents" m WHERE m."Id" = {0})
                ORDER BY r."Rank"
                LIMIT {2}
            ),
            walk("Target", "TargetDepth", "Id", "Depth", "JumpId", "ParentId") AS (
                SELECT c."Id", c."Depth", m."Id", m."Depth", m."JumpId", m."ParentId"
                FROM "SessionEvents" m JOIN candidates c ON c."Depth" < m."Depth" AND NOT c."Alone"
                WHERE m."Id" = {0}
                UNION ALL
                SELECT w."Target", w."TargetDepth", n."Id", n."Depth", n."JumpId", n."ParentId"
                FROM walk w
                JOIN "SessionEvents" j ON j."Id" = w."JumpId"
                JOIN "SessionEvents" n ON n."Id" = CASE WHEN j."Depth" >= w."TargetDepth" THEN j."Id" ELSE w."ParentId" END
                WHERE w."Depth" > w."TargetDepth"
            )
            SELECT e.* FROM "SessionEvents" e JOIN candidates c ON c."Id" = e."Id"
            WHERE c."Alone" OR e."Id" IN (SELECT "Target" FROM walk WHERE "Id" = "Target")
            ORDER BY c."Rank"
            LIMIT {4}
            """, messageId, indexId, limit, numbers, keep ?? limit);
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
