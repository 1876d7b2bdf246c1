using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ResearchAssistant.Core.Data;

namespace ResearchAssistant.Core.Sync;

/// <summary>Another place a conversation is open: a device name, and whether it is another tab of the asking device.</summary>
public sealed record PresenceView(string DeviceName, bool SameDevice);

/// <summary>
/// Which of a user's tabs show which conversation. A tab enters when it shows a conversation and leaves when it moves
/// on, closes or loses its connection; every change is a <see cref="SessionChangeKind.Presence"/> hint on the bus, so
/// the user's other tabs re-read who is there. This instance refreshes its own entries every
/// <see cref="HeartbeatInterval"/>; entries not refreshed within <see cref="Stale"/> (their instance died) are ignored
/// and swept.
/// </summary>
public sealed class PresenceService(IDbContextFactory<AppDbContext> contexts, SessionBus bus, TimeProvider clock, ILogger<PresenceService> logger)
    : BackgroundService
{
    public static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan Stale = TimeSpan.FromSeconds(95);

    private readonly ConcurrentDictionary<Guid, byte> _mine = new();

    /// <summary>Records that a tab shows <paramref name="sessionId"/>; returns the entry's id, to leave with.</summary>
    public async Task<Guid> EnterAsync(string userId, Guid sessionId, Guid? deviceSessionId, string deviceName, CancellationToken ct = default)
    {
        var entry = new PresenceEntry
        {
            Id = Guid.NewGuid(),
            UserId = userId,
            SessionId = sessionId,
            DeviceSessionId = deviceSessionId,
            DeviceName = deviceName.Length > 64 ? deviceName[..64] : deviceName,
            SeenAt = clock.GetUtcNow(),
        };
        await using (var db = await contexts.CreateDbContextAsync(ct))
        {
            await using var tx = await db.BeginWriteTransactionAsync(ct);
            // Only the owner's own conversations: a foreign or unknown id records nothing and tells no one.
            if (!await db.ChatSessions.AnyAsync(s => s.Id == sessionId && s.OwnerId == userId, ct))
            {
                return Guid.Empty;
            }
            db.Add(entry);
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
        }
        _mine[entry.Id] = 0;
        bus.Publish(new SessionChange(userId, sessionId, SessionChangeKind.Presence));
        return entry.Id;
    }

    /// <summary>Removes a tab's entry (it moved on, closed or went offline). Safe to call twice or with <see cref="Guid.Empty"/>.</summary>
    public async Task LeaveAsync(Guid entryId, CancellationToken ct = default)
    {
        if (entryId == Guid.Empty || !_mine.TryRemove(entryId, out _))
        {
            return;
        }
        await using var db = await contexts.CreateDbContextAsync(ct);
        await using var tx = await db.BeginWriteTransactionAsync(ct);
        var entry = await db.Set<PresenceEntry>().AsNoTracking().FirstOrDefaultAsync(e => e.Id == entryId, ct);
        if (entry is null)
        {
            return;
        }
        await db.Set<PresenceEntry>().Where(e => e.Id == entryId).ExecuteDeleteAsync(ct);
        await tx.CommitAsync(ct);
        bus.Publish(new SessionChange(entry.UserId, entry.SessionId, SessionChangeKind.Presence));
    }

    /// <summary>The other live tabs showing the conversation, one line per device, the asking tab left out.</summary>
    public async Task<IReadOnlyList<PresenceView>> ListOthersAsync(string userId, Guid sessionId, Guid myEntryId, Guid? myDeviceSessionId, CancellationToken ct = default)
    {
        var since = clock.GetUtcNow() - Stale;
        await using var db = await contexts.CreateDbContextAsync(ct);
        var others = await db.Set<PresenceEntry>().AsNoTracking()
            .Where(e => e.UserId == userId && e.SessionId == sessionId && e.Id != myEntryId && e.SeenAt > since)
            .Select(e => new { e.DeviceSessionId, e.DeviceName })
            .ToListAsync(ct);
        return others
            .Select(e => new PresenceView(e.DeviceName, myDeviceSessionId is not null && e.DeviceSessionId == myDeviceSessionId))
            .Distinct()
            .OrderBy(p => p.SameDevice).ThenBy(p => p.DeviceName, StringComparer.Ordinal)
            .ToList();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(HeartbeatInterval, clock);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await HeartbeatAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Keeps this instance's entries fresh and sweeps entries left behind by instances that died.</summary>
    internal async Task HeartbeatAsync(CancellationToken ct)
    {
        try
        {
            var now = clock.GetUtcNow();
            var mine = _mine.Keys.ToList();
            await using var db = await contexts.CreateDbContextAsync(ct);
            await using var tx = await db.BeginWriteTransactionAsync(ct);
            if (mine.Count > 0)
            {
                await db.Set<PresenceEntry>().Where(e => mine.Contains(e.Id)).ExecuteUpdateAsync(u => u.SetProperty(e => e.SeenAt, now), ct);
            }
            var staleBefore = now - Stale;
            await db.Set<PresenceEntry>().Where(e => e.SeenAt < staleBefore).ExecuteDeleteAsync(ct);
            await tx.CommitAsync(ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Presence is a courtesy: a missed heartbeat must not take anything else down.
            logger.LogWarning(ex, "Refreshing presence entries failed");
        }
    }
}
