using Microsoft.EntityFrameworkCore;
using ResearchAssistant.Core.Sessions;

namespace ResearchAssistant.Benchmarks;

/// <summary>
/// Checks, outside any measurement, that what the paged reads return matches the whole tree: for every message on
/// the pages (the opened page, and for sessions up to 10,000 messages every older page up to the first message),
/// its version number, count and neighbours are those computed from all the session's events.
/// </summary>
internal static class VersionCheck
{
    private const int WalkAllPagesUpTo = 10_000;

    public static async Task<string> RunAsync(BenchHost host, string owner, IEnumerable<SeededSession> sessions, CancellationToken ct)
    {
        int pages = 0, messages = 0, versioned = 0, rootPages = 0;
        foreach (var session in sessions)
        {
            var expected = await ExpectedAsync(host, session.Id, ct);
            var view = await host.Chat.GetConversationAsync(owner, session.Id, ct) ?? throw new InvalidOperationException("Session vanished.");
            Check(view.Messages);
            var (first, hasOlder) = (view.Messages[0], view.HasOlder);
            while (hasOlder && session.Size <= WalkAllPagesUpTo)
            {
                var (older, more) = await host.Chat.GetOlderMessagesAsync(owner, session.Id, first.Id, ct);
                Check(older);
                (first, hasOlder) = (older[0], more);
            }
            if (first.ParentId is null)
            {
                rootPages++;
            }

            void Check(IReadOnlyList<MessageView> page)
            {
                pages++;
                foreach (var message in page.Where(m => m.Status != EventStatus.Queued))
                {
                    messages++;
                    var want = expected[message.Id];
                    if (message.Version != want)
                    {
                        throw new InvalidOperationException(
                            $"Session of {session.Size}: message {message.Seq} shows version {message.Version}, the tree says {want}.");
                    }
                    if (want.Count > 1)
                    {
                        versioned++;
                    }
                }
            }
        }
        return $"{pages:N0} pages, {messages:N0} messages ({versioned} with several versions; {rootPages} walks reached the first message) " +
               "matched the version numbers computed from every event of their session";
    }

    private static async Task<Dictionary<Guid, VersionInfo>> ExpectedAsync(BenchHost host, Guid sessionId, CancellationToken ct)
    {
        await using var db = await host.Contexts.CreateDbContextAsync(ct);
        var all = await db.SessionEvents.AsNoTracking()
            .Where(e => e.SessionId == sessionId)
            .Select(e => new { e.Id, e.ParentId, e.Seq, e.Kind, e.Status })
            .ToListAsync(ct);
        var versions = new Dictionary<Guid, VersionInfo>();
        foreach (var siblings in all.Where(e => e.Kind.IsMessage() && e.Status != EventStatus.Queued).GroupBy(e => e.ParentId))
        {
            var ordered = siblings.OrderBy(e => e.Seq).Select(e => e.Id).ToList();
            for (var i = 0; i < ordered.Count; i++)
            {
                versions[ordered[i]] = new VersionInfo(i + 1, ordered.Count,
                    i > 0 ? ordered[i - 1] : null, i < ordered.Count - 1 ? ordered[i + 1] : null);
            }
        }
        return versions;
    }
}
