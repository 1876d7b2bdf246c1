using Microsoft.EntityFrameworkCore;
using ResearchAssistant.Core.Accounts;
using ResearchAssistant.Core.Data;

namespace ResearchAssistant.Core.Devices;

/// <summary>
/// What an administrator may do about other people's sign-ins. Every call checks the actor's Admin role in the database
/// (not only in their cookie, which may predate a demotion) and refuses with <see cref="AdminRoleRequiredException"/>.
/// </summary>
public sealed class DeviceAdminService(IDbContextFactory<AppDbContext> contexts, DeviceSessionService devices, TimeProvider clock)
{
    public const int MaxListed = 500;
    private static readonly string AdminRoleNormalized = AppRoles.Admin.ToUpperInvariant();

    /// <summary>Accounts by name, each with its number of signed-in devices.</summary>
    public async Task<IReadOnlyList<UserSignInsView>> ListUsersAsync(string adminId, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        await RequireAdminAsync(db, adminId, ct);
        var expired = clock.GetUtcNow() - DeviceSessionService.IdleLifetime;
        return await db.Users.AsNoTracking()
            .OrderBy(u => u.NormalizedUserName)
            .Take(MaxListed)
            .Select(u => new UserSignInsView(
                u.Id,
                u.UserName ?? u.Id,
                u.CreatedAt,
                db.DeviceSessions.Count(d => d.UserId == u.Id && d.SignedOutAt == null && d.LastActiveAt >= expired)))
            .ToListAsync(ct);
    }

    /// <summary>Signs every device of the user out; returns how many were signed in. An unknown user has none.</summary>
    public async Task<int> SignOutEverywhereAsync(string adminId, string userId, CancellationToken ct = default)
    {
        await using (var db = await contexts.CreateDbContextAsync(ct))
        {
            await RequireAdminAsync(db, adminId, ct);
        }
        return (await devices.SignOutEverywhereAsync(userId, adminId, ct)).Count;
    }

    private static async Task RequireAdminAsync(AppDbContext db, string userId, CancellationToken ct)
    {
        var isAdmin = await db.UserRoles.AnyAsync(
            ur => ur.UserId == userId && db.Roles.Any(r => r.Id == ur.RoleId && r.NormalizedName == AdminRoleNormalized), ct);
        if (!isAdmin)
        {
            throw new AdminRoleRequiredException();
        }
    }
}
