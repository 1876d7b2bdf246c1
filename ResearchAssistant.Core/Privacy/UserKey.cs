using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ResearchAssistant.Core.Privacy;

/// <summary>
/// A user's keys, wrapped by the master key: the data key (AES-GCM over their content) and the search key (HMAC over
/// the terms of their search index). Deleting this row makes all the user's content and index unreadable
/// (crypto-shredding).
/// </summary>
public sealed class UserKey
{
    public required string UserId { get; set; }
    public required byte[] WrappedKey { get; set; }
    /// <summary>
    /// A second random key, not derived from the data key: the two never meet in one primitive, and either can be
    /// rotated alone (a new search key means rebuilding the index, not re-encrypting content). Null on rows written
    /// before search existed; created on first use.
    /// </summary>
    public byte[]? WrappedSearchKey { get; set; }
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
