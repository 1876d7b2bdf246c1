using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ResearchAssistant.Core.Context;

/// <summary>
/// A rolling summary of a branch from its first message up to <see cref="ToMessageId"/>. A branch through that
/// message can use it; a branch that left it (an edit above it, a rewind) cannot, and gets its own in time.
/// </summary>
public sealed class Summary
{
    public Guid Id { get; set; }
    public Guid SessionId { get; set; }
    public Guid ToMessageId { get; set; }
    public long FromSeq { get; set; }
    public long ToSeq { get; set; }
    public required string Model { get; set; }
    public int TokenCount { get; set; }
    /// <summary>The summary text, encrypted with the session owner's data key like the messages it summarizes.</summary>
    public required byte[] ContentCipher { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

internal sealed class SummaryConfiguration : IEntityTypeConfiguration<Summary>
{
    public void Configure(EntityTypeBuilder<Summary> summary)
    {
        summary.HasKey(s => s.Id);
        summary.Property(s => s.Model).HasMaxLength(128);
        summary.HasIndex(s => new { s.SessionId, s.ToMessageId });
        summary.HasOne<Sessions.ChatSession>().WithMany().HasForeignKey(s => s.SessionId).OnDelete(DeleteBehavior.Cascade);
    }
}
