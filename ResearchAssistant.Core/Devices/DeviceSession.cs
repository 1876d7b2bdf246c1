using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using ResearchAssistant.Core.Accounts;

namespace ResearchAssistant.Core.Devices;

/// <summary>
/// One sign-in: a browser that holds a sign-in cookie naming this row (<see cref="DeviceClaims.SessionId"/>). Signing the
/// device out stamps <see cref="SignedOutAt"/>; from then on its cookie is refused and its open pages are sent to the
/// sign-in page. Rows are kept after sign-out only until the user's next sign-in tidies them away.
/// </summary>
public sealed class DeviceSession
{
    public const int MaxNameLength = 64;
    /// <summary>An IPv6 address in text, with a zone id, fits in 64 characters.</summary>
    public const int MaxIpAddressLength = 64;

    public Guid Id { get; set; }
    public required string UserId { get; set; }
    /// <summary>What the user sees, e.g. "Phone (Android, Chrome)": built from known words only (<see cref="DeviceName"/>), never the raw user agent.</summary>
    public required string Name { get; set; }
    /// <summary>The address the device signed in from, as the app saw it.</summary>
    public string? IpAddress { get; set; }
    public DateTimeOffset FirstSeenAt { get; set; }
    /// <summary>Updated at most every <see cref="DeviceSessionCheck.ActivityWriteInterval"/>, not on every request.</summary>
    public DateTimeOffset LastActiveAt { get; set; }
    public DateTimeOffset? SignedOutAt { get; set; }
    public DeviceSignOutReason? SignOutReason { get; set; }
}

public enum DeviceSignOutReason
{
    /// <summary>The device itself logged out.</summary>
    LoggedOut = 0,
    /// <summary>The user signed it out from another device (the Devices page).</summary>
    SignedOutByUser = 1,
    /// <summary>The user's password changed on another device.</summary>
    PasswordChanged = 2,
    /// <summary>An administrator signed the user out everywhere.</summary>
    SignedOutByAdmin = 3,
}

internal sealed class DeviceSessionConfiguration : IEntityTypeConfiguration<DeviceSession>
{
    public void Configure(EntityTypeBuilder<DeviceSession> device)
    {
        device.HasKey(d => d.Id);
        device.Property(d => d.UserId).HasMaxLength(64);
        device.Property(d => d.Name).HasMaxLength(DeviceSession.MaxNameLength);
        device.Property(d => d.IpAddress).HasMaxLength(DeviceSession.MaxIpAddressLength);
        // The Devices page lists one user's devices; the cookie check reads by primary key.
        device.HasIndex(d => d.UserId);
        device.HasOne<AppUser>().WithMany().HasForeignKey(d => d.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}
