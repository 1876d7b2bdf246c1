using Microsoft.EntityFrameworkCore;
using ResearchAssistant.Core.Data;

namespace ResearchAssistant.Core.Sessions;

/// <summary>A window of a branch, oldest first, and whether older messages exist above it.</summary>
internal sealed record BranchSlice(IReadOnlyList<SessionEvent> Messages, bool HasOlder)
{
    public static readonly BranchSlice Empty = new([], false);
}

/// <summary>
/// Reads branches of a session's message tree. Every read walks the tree through the primary key from a known
/// message (recursive CTEs, which SQLite and PostgreSQL both run), so its cost is the size of the window asked for,
/// never the length of the session's history.
/// </summary>
internal static class BranchReader
{
    private const int QueuedStatus = (int)EventStatus.Queued;

    /// <summary>At most <paramref name="limit"/> messages of the branch ending at <paramref name="leafId"/>, oldest first.</summary>
    public static async Task<BranchSlice> ReadEndingAtAsync(AppDbContext db, Guid sessionId, Guid? leafId, int limit, CancellationToken ct)
    {
        if (leafId is null || limit <= 0)
        {
            return BranchSlice.Empty;
        }
        // Depth runs 0..limit: one row more than asked tells whether older messages exist.
        var rows = await db.SessionEvents.FromSql($"""
            WITH RECURSIVE path("Id", "ParentId", "Depth") AS (
                SELECT "Id", "ParentId", 0 FROM "SessionEvents" WHERE "Id" = {leafId} AND "SessionId" = {sessionId}
                UNION ALL
                SELECT e."Id", e."ParentId", p."Depth" + 1
                FROM "SessionEvents" e JOIN path p ON e."Id" = p."ParentId"
                WHERE p."Depth" < {limit}
            )
            SELECT e.* FROM "SessionEvents" e JOIN path p ON e."Id" = p."Id"
            """).AsNoTracking().ToListAsync(ct);

        var byId = rows.ToDictionary(e => e.Id);
        var path = new List<SessionEvent>(rows.Count);
        for (Guid? id = leafId; id is { } current && byId.TryGetValue(current, out var evt); id = evt.ParentId)
        {
            path.Add(evt);
        }
        var hasOlder = path.Count > limit;
        if (hasOlder)
        {
            path.RemoveAt(path.Count - 1);
        }
        path.Reverse();
        return new BranchSlice(path, hasOlder);
    }

    /// <summary>
    /// The leaf reached from <paramref name="messageId"/> by always following its newest child: the branch the user
    /// last worked on below that message. Each step is one probe of the (SessionId, ParentId, Seq) index, so the cost
    /// is the number of messages walked down, whatever the size of the table.
    /// </summary>
    public static Task<Guid> LatestLeafBelowAsync(AppDbContext db, Guid sessionId, Guid messageId, CancellationToken ct) =>
        NewestDescendantAsync(db, sessionId, messageId, int.MaxValue, ct);

    /// <summary>
    /// The message at most <paramref name="maxSteps"/> below <paramref name="messageId"/> on its newest branch (fewer
    /// when the branch ends first). Costs <paramref name="maxSteps"/> lookups, however long the branch goes on.
    /// </summary>
    public static async Task<Guid> NewestDescendantAsync(AppDbContext db, Guid sessionId, Guid messageId, int maxSteps, CancellationToken ct)
    {
        // The child lookup names the session so it can use the (SessionId, ParentId) index: by ParentId alone, each
        // step scanned the table.
        var leaves = await db.Database.SqlQuery<Guid>($"""
            WITH RECURSIVE down("Id", "Depth") AS (
                SELECT e."Id", 0 FROM "SessionEvents" e WHERE e."Id" = {messageId} AND e."SessionId" = {sessionId}
                UNION ALL
                SELECT (SELECT c."Id" FROM "SessionEvents" c
                        WHERE c."SessionId" = {sessionId} AND c."ParentId" = d."Id" AND c."Kind" IN (1, 2) AND c."Status" <> {QueuedStatus}
                        ORDER BY c."Seq" DESC LIMIT 1),
                       d."Depth" + 1
                FROM down d WHERE d."Id" IS NOT NULL AND d."Depth" < {maxSteps}
            )
            SELECT "Id" AS "Value" FROM down WHERE "Id" IS NOT NULL ORDER BY "Depth" DESC LIMIT 1
            """).ToListAsync(ct);
        return leaves.Count == 0 ? messageId : leaves[0];
    }

    /// <summary>For each message of a window: its place among its siblings (versions), for the version navigator.</summary>
    public static async Task<Dictionary<Guid, VersionInfo>> ReadVersionsAsync(AppDbContext db, Guid sessionId, IReadOnlyList<SessionEvent> messages, CancellationToken ct)
    {
        var parents = messages.Where(m => m.ParentId is not null).Select(m => m.ParentId!.Value).Distinct().ToList();
        var includesRoot = messages.Any(m => m.ParentId is null);
        var messagesOfSession = db.SessionEvents.AsNoTracking()
            .Where(e => e.SessionId == sessionId
                        && (e.Kind == EventKind.UserMessage || e.Kind == EventKind.AssistantMessage)
                        && e.Status != EventStatus.Queued);
        // Two plain lookups on (SessionId, ParentId) rather than one CASE over both: SQLite cannot use the index for
        // a condition inside a CASE, and scanned the whole session's events instead (O(history) for every page).
        var siblings = await messagesOfSession
            .Where(e => e.ParentId != null && parents.Contains(e.ParentId.Value))
            .Select(e => new { e.Id, e.ParentId, e.Seq })
            .ToListAsync(ct);
        if (includesRoot)
        {
            siblings.AddRange(await messagesOfSession.Where(e => e.ParentId == null).Select(e => new { e.Id, e.ParentId, e.Seq }).ToListAsync(ct));
        }

        var versions = new Dictionary<Guid, VersionInfo>();
        foreach (var group in siblings.GroupBy(s => s.ParentId))
        {
            var ordered = group.OrderBy(s => s.Seq).Select(s => s.Id).ToList();
            for (var i = 0; i < ordered.Count; i++)
            {
                versions[ordered[i]] = new VersionInfo(
                    i + 1, ordered.Count,
                    i > 0 ? ordered[i - 1] : null,
                    i < ordered.Count - 1 ? ordered[i + 1] : null);
            }
        }
        return versions;
    }

    public static Task<List<SessionEvent>> ReadQueuedAsync(AppDbContext db, Guid sessionId, CancellationToken ct) =>
        db.SessionEvents.AsNoTracking()
            .Where(e => e.SessionId == sessionId && e.Status == EventStatus.Queued)
            .OrderBy(e => e.Seq)
            .ToListAsync(ct);

    /// <summary>A message as a prompt needs it: no version, and no context plan (parsing an answer's plan costs more than decrypting it).</summary>
    public static MessageView ToPromptView(SessionEvent e, Privacy.UserCipher cipher) => View(e, VersionInfo.Single, cipher, plan: null);

    public static MessageView ToView(SessionEvent e, VersionInfo? version, Privacy.UserCipher cipher) =>
        View(e, version ?? VersionInfo.Single, cipher, Context.ContextPlan.FromJson(e.ContextPlan));

    private static MessageView View(SessionEvent e, VersionInfo version, Privacy.UserCipher cipher, Context.ContextPlan? plan) => new(
        e.Id, e.Seq, e.ParentId,
        e.Kind == EventKind.UserMessage ? MessageRole.User : MessageRole.Assistant,
        cipher.Decrypt(e.ContentCipher), e.Status, e.FailureReason, e.Author, e.CreatedAt,
        version, plan);
}

/// <summary>Which version of a message this is (1-based) among its siblings, and its neighbours.</summary>
public sealed record VersionInfo(int Number, int Count, Guid? PreviousId, Guid? NextId)
{
    public static readonly VersionInfo Single = new(1, 1, null, null);
}
