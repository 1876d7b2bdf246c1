using Microsoft.EntityFrameworkCore;
using ResearchAssistant.Core.Data;

namespace ResearchAssistant.Core.Sessions;

/// <summary>The one ownership check every service call goes through.</summary>
internal static class SessionAccess
{
    /// <summary>The user's session, untracked; someone else's or a missing one is <see cref="SessionNotFoundException"/>.</summary>
    public static async Task<ChatSession> RequireOwnedAsync(AppDbContext db, string userId, Guid sessionId, CancellationToken ct) =>
        await db.ChatSessions.AsNoTracking().FirstOrDefaultAsync(s => s.Id == sessionId && s.OwnerId == userId, ct)
        ?? throw new SessionNotFoundException();

    /// <summary>A message (user or assistant, not queued) of the user's session.</summary>
    public static async Task<SessionEvent> RequireMessageAsync(AppDbContext db, Guid sessionId, Guid messageId, CancellationToken ct) =>
        await db.SessionEvents.AsNoTracking()
            .FirstOrDefaultAsync(e => e.Id == messageId && e.SessionId == sessionId
                                      && (e.Kind == EventKind.UserMessage || e.Kind == EventKind.AssistantMessage)
                                      && e.Status != EventStatus.Queued, ct)
        ?? throw new SessionNotFoundException();
}
