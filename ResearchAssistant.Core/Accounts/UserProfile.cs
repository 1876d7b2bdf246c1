using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ResearchAssistant.Core.Accounts;

/// <summary>What a user tells the assistant about themselves and how they want answers; sent with every prompt.</summary>
public sealed class UserProfile
{
    public required string UserId { get; set; }
    /// <summary>Encrypted with the user's data key.</summary>
    public required byte[] PreferencesCipher { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}

internal sealed class UserProfileConfiguration : IEntityTypeConfiguration<UserProfile>
{
    public void Configure(EntityTypeBuilder<UserProfile> profile)
    {
        profile.HasKey(p => p.UserId);
        profile.Property(p => p.UserId).HasMaxLength(64);
        profile.HasOne<AppUser>().WithMany().HasForeignKey(p => p.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}
