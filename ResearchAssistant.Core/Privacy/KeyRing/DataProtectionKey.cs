using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ResearchAssistant.Core.Privacy.KeyRing;

/// <summary>
/// One ASP.NET Core Data Protection key (what signs and encrypts the sign-in cookie) as the key manager writes it,
/// with its secret part encrypted under the master key (<see cref="MasterKeyXmlEncryptor"/>). In the database, not
/// the data directory, so every instance of the app shares one key ring and a cookie issued by one works on all.
/// </summary>
public sealed class DataProtectionKey
{
    public int Id { get; set; }
    /// <summary>The key manager's name for it ("key-{guid}").</summary>
    public string? FriendlyName { get; set; }
    public required string Xml { get; set; }
}

internal sealed class DataProtectionKeyConfiguration : IEntityTypeConfiguration<DataProtectionKey>
{
    public void Configure(EntityTypeBuilder<DataProtectionKey> key)
    {
        key.ToTable("DataProtectionKeys");
        key.HasKey(k => k.Id);
        key.Property(k => k.FriendlyName).HasMaxLength(200);
    }
}
