using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ResearchAssistant.Core.Privacy;

/// <summary>A user's data key, wrapped by the master key. Deleting this row makes all the user's content unreadable (crypto-shredding).</summary>
public sealed class UserKey
{
    public required string UserId { get; set; }
    public required byte[] WrappedKey { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>One row: a known value sealed with the master key, to tell at start-up whether the configured key is the right one.</summary>
public sealed class MasterKeyCheck
{
    public int Id { get; set; }
    public required byte[] Sealed { get; set; }
}

internal sealed class UserKeyConfiguration : IEntityTypeConfiguration<UserKey>
{
    public void Configure(EntityTypeBuilder<UserKey> key)
    {
        key.HasKey(k => k.UserId);
        key.Property(k => k.UserId).HasMaxLength(64);
        key.HasOne<Accounts.AppUser>().WithMany().HasForeignKey(k => k.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class MasterKeyCheckConfiguration : IEntityTypeConfiguration<MasterKeyCheck>
{
    public void Configure(EntityTypeBuilder<MasterKeyCheck> check)
    {
        check.HasKey(c => c.Id);
        check.Property(c => c.Id).ValueGeneratedNever();
    }
}
