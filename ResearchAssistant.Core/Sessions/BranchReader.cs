using Microsoft.EntityFrameworkCore;
using ResearchAssistant.Core.Data;

namespace ResearchAssistant.Core.Sessions;

/// <summary>Reads the active branch of a session: the path of messages from the root to a leaf.</summary>
internal static class BranchReader
{
    /// <summary>
    /// The path ending at <paramref name="leafId"/>, oldest first. Reads the session's messages and walks parents;
    /// positional slicing for very long sessions replaces this read in the session-engine work.
    /// </summary>
    public static async Task<List<SessionEvent>> ReadPathAsync(AppDbContext db, Guid sessionId, Guid? leafId, CancellationToken ct)
    {
        if (leafId is null)
        {
            return [];
        }
        var events = await db.SessionEvents.AsNoTracking()
            .Where(e => e.SessionId == sessionId && e.Status != EventStatus.Queued)
            .ToDictionaryAsync(e => e.Id, ct);

        var path = new List<SessionEvent>();
        for (var id = leafId; id is { } current && events.TryGetValue(current, out var evt); id = evt.ParentId)
        {
            path.Add(evt);
        }
        path.Reverse();
        return path;
    }

    public static Task<List<SessionEvent>> ReadQueuedAsync(AppDbContext db, Guid sessionId, CancellationToken ct) =>
        db.SessionEvents.AsNoTracking()
            .Where(e => e.SessionId == sessionId && e.Status == EventStatus.Queued)
            .OrderBy(e => e.Seq)
            .ToListAsync(ct);

    public static MessageView ToView(SessionEvent e) => new(
        e.Id, e.Seq, e.ParentId,
        e.Kind == EventKind.UserMessage ? MessageRole.User : MessageRole.Assistant,
        e.Content, e.Status, e.FailureReason, e.Author, e.CreatedAt);
}
