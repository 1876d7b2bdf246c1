using System.Collections.Concurrent;
using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using ResearchAssistant.Core.Data;

namespace ResearchAssistant.Core.Devices;

/// <summary>
/// The check every signed-in request makes: is the cookie's device session still signed in? A primary-key read,
/// remembered for a short while so that a page load's dozen requests cost one read. What is remembered can go stale
/// only briefly: a sign-out on this instance forgets the device at once, and <see cref="SignedOutDeviceWatcher"/>
/// re-reads every remembered device about once a second, so a sign-out on another instance is noticed too.
/// Also records the device's last activity, at most once per <see cref="ActivityWriteInterval"/>.
/// </summary>
public sealed class DeviceSessionCheck(IDbContextFactory<AppDbContext> contexts, TimeProvider clock, ILogger<DeviceSessionCheck> logger)
{
    /// <summary>How long an answer is kept without a request for the device; it bounds memory, not staleness (see above).</summary>
    public static readonly TimeSpan RememberFor = TimeSpan.FromMinutes(1);
    public static readonly TimeSpan ActivityWriteInterval = TimeSpan.FromMinutes(1);

    private readonly ConcurrentDictionary<Guid, Vouched> _signedIn = new();
    private readonly ConcurrentDictionary<Guid, DateTimeOffset> _activityWrittenAt = new();
    private readonly Lock _forgetLock = new();
    // Changed by every Forget: an answer read before a sign-out is then not remembered after it.
    private long _forgetCount;

    /// <summary>Devices this instance currently treats as signed in without asking the database.</summary>
    public IReadOnlyCollection<Guid> RememberedDevices => [.. _signedIn.Keys];

    /// <summary>Whether the device session exists, belongs to <paramref name="userId"/> and is not signed out.</summary>
    public async Task<bool> IsSignedInAsync(Guid deviceSessionId, string userId, CancellationToken ct = default)
    {
        var now = clock.GetUtcNow();
        if (!(_signedIn.TryGetValue(deviceSessionId, out var vouched) && vouched.UserId == userId && now - vouched.CheckedAt < RememberFor))
        {
            var forgetCountBefore = Interlocked.Read(ref _forgetCount);
            await using var db = await contexts.CreateDbContextAsync(ct);
            var row = await db.DeviceSessions.AsNoTracking()
                .Where(d => d.Id == deviceSessionId)
                .Select(d => new { d.UserId, d.SignedOutAt })
                .FirstOrDefaultAsync(ct);
            if (row is null || row.UserId != userId || row.SignedOutAt is not null)
            {
                _signedIn.TryRemove(deviceSessionId, out _);
                return false;
            }
            lock (_forgetLock)
            {
                if (Interlocked.Read(ref _forgetCount) == forgetCountBefore)
                {
                    _signedIn[deviceSessionId] = new Vouched(userId, now);
                }
            }
        }
        await RecordActivityAsync(deviceSessionId, ct);
        return true;
    }

    /// <summary>Stamps the device's last activity, unless that was done less than <see cref="ActivityWriteInterval"/> ago.</summary>
    public async Task RecordActivityAsync(Guid deviceSessionId, CancellationToken ct = default)
    {
        var now = clock.GetUtcNow();
        // Claim the write first, so that concurrent requests of one device do not all write.
        if (_activityWrittenAt.TryGetValue(deviceSessionId, out var last))
        {
            if (now - last < ActivityWriteInterval || !_activityWrittenAt.TryUpdate(deviceSessionId, now, last))
            {
                return;
            }
        }
        else if (!_activityWrittenAt.TryAdd(deviceSessionId, now))
        {
            return;
        }
        try
        {
            await using var db = await contexts.CreateDbContextAsync(ct);
            using (await db.EnterAsync(ct))
            {
                await db.DeviceSessions.Where(d => d.Id == deviceSessionId && d.SignedOutAt == null)
                    .ExecuteUpdateAsync(u => u.SetProperty(d => d.LastActiveAt, now), ct);
            }
        }
        catch (DbException ex)
        {
            // "Last active" is informational: a busy database must not fail the user's request over it.
            logger.LogWarning(ex, "Could not record the last activity of device session {DeviceSessionId}", deviceSessionId);
        }
    }

    /// <summary>Drops what this instance remembers about the device (it was signed out).</summary>
    public void Forget(Guid deviceSessionId)
    {
        lock (_forgetLock)
        {
            Interlocked.Increment(ref _forgetCount);
            _signedIn.TryRemove(deviceSessionId, out _);
        }
        _activityWrittenAt.TryRemove(deviceSessionId, out _);
    }

    /// <summary>Drops answers and activity stamps old enough not to be used again.</summary>
    public void Prune()
    {
        var now = clock.GetUtcNow();
        foreach (var (id, vouched) in _signedIn)
        {
            if (now - vouched.CheckedAt >= RememberFor)
            {
                _signedIn.TryRemove(KeyValuePair.Create(id, vouched));
            }
        }
        foreach (var (id, writtenAt) in _activityWrittenAt)
        {
            if (now - writtenAt >= ActivityWriteInterval)
            {
                _activityWrittenAt.TryRemove(KeyValuePair.Create(id, writtenAt));
            }
        }
    }

    private sealed record Vouched(string UserId, DateTimeOffset CheckedAt);
}
