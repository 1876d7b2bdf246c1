using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using ResearchAssistant.Core.Data;

namespace ResearchAssistant.Core.Devices;

/// <summary>
/// A user's signed-in devices: started at sign-in, listed on the Devices page, signed out from there. Every call names
/// the acting user and touches only that user's devices; anyone else's look as if they did not exist. Sign-outs are
/// written to the log by ids only (the audit trail), then announced to this instance's open pages at once.
/// </summary>
public sealed class DeviceSessionService(
    IDbContextFactory<AppDbContext> contexts,
    DeviceSessionCheck check,
    DeviceSignOuts signOuts,
    TimeProvider clock,
    ILogger<DeviceSessionService> logger)
{
    /// <summary>
    /// A device not seen for this long is signed out in effect: its cookie has expired (the cookie's sliding lifetime
    /// is the same). It is no longer listed, and its row is removed at the user's next sign-in.
    /// </summary>
    public static readonly TimeSpan IdleLifetime = TimeSpan.FromDays(14);

    /// <summary>Records a sign-in and returns the id its cookie carries.</summary>
    public async Task<Guid> StartAsync(string userId, string? userAgent, string? ipAddress, CancellationToken ct = default)
    {
        var now = clock.GetUtcNow();
        var device = new DeviceSession
        {
            Id = Guid.NewGuid(),
            UserId = userId,
            Name = DeviceName.FromUserAgent(userAgent),
            IpAddress = ipAddress is { Length: > DeviceSession.MaxIpAddressLength } ? ipAddress[..DeviceSession.MaxIpAddressLength] : ipAddress,
            FirstSeenAt = now,
            LastActiveAt = now,
        };
        var expired = now - IdleLifetime;
        await using var db = await contexts.CreateDbContextAsync(ct);
        await using var tx = await db.BeginWriteTransactionAsync(ct);
        // Tidy up while here: the user's signed-out and expired devices are of no further use.
        await db.DeviceSessions
            .Where(d => d.UserId == userId && (d.SignedOutAt != null || d.LastActiveAt < expired))
            .ExecuteDeleteAsync(ct);
        db.DeviceSessions.Add(device);
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        logger.LogInformation("Device session {DeviceSessionId} of user {UserId} signed in", device.Id, userId);
        return device.Id;
    }

    /// <summary>The name of one of the user's signed-in devices (null for anyone else's, or an unknown one).</summary>
    public async Task<string?> FindNameAsync(string userId, Guid deviceSessionId, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        return await db.DeviceSessions.AsNoTracking()
            .Where(d => d.Id == deviceSessionId && d.UserId == userId && d.SignedOutAt == null)
            .Select(d => d.Name)
            .FirstOrDefaultAsync(ct);
    }

    /// <summary>The user's signed-in devices, most recently active first; <paramref name="currentDeviceId"/> is marked.</summary>
    public async Task<IReadOnlyList<DeviceView>> ListAsync(string userId, Guid? currentDeviceId, CancellationToken ct = default)
    {
        var expired = clock.GetUtcNow() - IdleLifetime;
        await using var db = await contexts.CreateDbContextAsync(ct);
        var rows = await db.DeviceSessions.AsNoTracking()
            .Where(d => d.UserId == userId && d.SignedOutAt == null && d.LastActiveAt >= expired)
            .OrderByDescending(d => d.LastActiveAt)
            .ToListAsync(ct);
        return rows
            // This device first: it is the one the reader holds.
            .OrderByDescending(d => d.Id == currentDeviceId)
            .Select(d => new DeviceView(d.Id, d.Name, d.IpAddress, d.FirstSeenAt, d.LastActiveAt, d.Id == currentDeviceId))
            .ToList();
    }

    /// <summary>Signs one of the user's devices out. Someone else's, an unknown or an already signed-out one: <see cref="DeviceNotFoundException"/>.</summary>
    public async Task SignOutAsync(string userId, Guid deviceSessionId, CancellationToken ct = default)
    {
        var signedOut = await SignOutWhereAsync(userId, [deviceSessionId], DeviceSignOutReason.SignedOutByUser, actorId: userId, ct);
        if (signedOut.Count == 0)
        {
            throw new DeviceNotFoundException();
        }
    }

    /// <summary>Signs out every device of the user but <paramref name="currentDeviceId"/>; returns how many.</summary>
    public async Task<int> SignOutOthersAsync(string userId, Guid currentDeviceId, CancellationToken ct = default) =>
        (await SignOutAllAsync(userId, except: currentDeviceId, DeviceSignOutReason.SignedOutByUser, actorId: userId, ct)).Count;

    /// <summary>After a password change on <paramref name="currentDeviceId"/>: every other device must sign in with the new one.</summary>
    public async Task<int> SignOutOthersAfterPasswordChangeAsync(string userId, Guid currentDeviceId, CancellationToken ct = default) =>
        (await SignOutAllAsync(userId, except: currentDeviceId, DeviceSignOutReason.PasswordChanged, actorId: userId, ct)).Count;

    /// <summary>The device logged out itself. Nothing happens if it is signed out already.</summary>
    public Task EndAsync(string userId, Guid deviceSessionId, CancellationToken ct = default) =>
        SignOutWhereAsync(userId, [deviceSessionId], DeviceSignOutReason.LoggedOut, actorId: userId, ct);

    /// <summary>For <see cref="DeviceAdminService"/>, which has checked the actor's role.</summary>
    internal Task<IReadOnlyList<Guid>> SignOutEverywhereAsync(string userId, string adminId, CancellationToken ct) =>
        SignOutAllAsync(userId, except: null, DeviceSignOutReason.SignedOutByAdmin, actorId: adminId, ct);

    private async Task<IReadOnlyList<Guid>> SignOutAllAsync(string userId, Guid? except, DeviceSignOutReason reason, string actorId, CancellationToken ct)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var ids = await db.DeviceSessions.AsNoTracking()
            .Where(d => d.UserId == userId && d.SignedOutAt == null && d.Id != except)
            .Select(d => d.Id)
            .ToListAsync(ct);
        return ids.Count == 0 ? [] : await SignOutWhereAsync(userId, ids, reason, actorId, ct);
    }

    /// <summary>Signs out those of <paramref name="ids"/> that are the user's and signed in; returns them.</summary>
    private async Task<IReadOnlyList<Guid>> SignOutWhereAsync(string userId, IReadOnlyList<Guid> ids, DeviceSignOutReason reason, string actorId, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        List<Guid> signedOut;
        await using (var db = await contexts.CreateDbContextAsync(ct))
        {
            await using var tx = await db.BeginWriteTransactionAsync(ct);
            // The owner check is part of the statement: a device of someone else's is never touched.
            var mine = db.DeviceSessions.Where(d => ids.Contains(d.Id) && d.UserId == userId && d.SignedOutAt == null);
            signedOut = await mine.Select(d => d.Id).ToListAsync(ct);
            if (signedOut.Count == 0)
            {
                return [];
            }
            await db.DeviceSessions
                .Where(d => signedOut.Contains(d.Id) && d.SignedOutAt == null)
                .ExecuteUpdateAsync(u => u.SetProperty(d => d.SignedOutAt, now).SetProperty(d => d.SignOutReason, reason), ct);
            await tx.CommitAsync(ct);
        }
        foreach (var id in signedOut)
        {
            logger.LogInformation("Device session {DeviceSessionId} of user {UserId} signed out ({Reason}) by user {ActorId}", id, userId, reason, actorId);
            check.Forget(id);
            signOuts.Announce(id);
        }
        return signedOut;
    }
}
