using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ResearchAssistant.Core.Sync;

/// <summary>
/// One browser tab showing one conversation, so that the user's other devices can say "Also open on: …". Kept in the
/// database (not in memory) so that every app instance sees the tabs connected to the others. A row whose
/// <see cref="SeenAt"/> is older than <see cref="PresenceService.Stale"/> belongs to an instance that died: ignored.
/// </summary>
public sealed class PresenceEntry
{
    public Guid Id { get; set; }
    public required string UserId { get; set; }
    public Guid SessionId { get; set; }
    /// <summary>The device sign-in the tab belongs to (null when unknown): tabs of the same device are told apart.</summary>
    public Guid? DeviceSessionId { get; set; }
    /// <summary>A readable device name such as "Phone (Android, Chrome)"; not secret, derived from the user agent.</summary>
    public required string DeviceName { get; set; }
    public DateTimeOffset SeenAt { get; set; }
}

internal sealed class PresenceEntryConfiguration : IEntityTypeConfiguration<PresenceEntry>
{
    public void Configure(EntityTypeBuilder<PresenceEntry> entry)
    {
        entry.HasKey(e => e.Id);
        entry.Property(e => e.UserId).HasMaxLength(64);
        entry.Property(e => e.DeviceName).HasMaxLength(64);
        entry.HasIndex(e => new { e.UserId, e.SessionId });
        entry.HasOne<Accounts.AppUser>().WithMany().HasForeignKey(e => e.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}
