using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ResearchAssistant.Core.Sessions;

internal sealed class ChatSessionConfiguration : IEntityTypeConfiguration<ChatSession>
{
    public void Configure(EntityTypeBuilder<ChatSession> session)
    {
        session.HasKey(s => s.Id);
        session.Property(s => s.OwnerId).HasMaxLength(64);
        session.Property(s => s.Version).IsConcurrencyToken();
        // The sidebar lists a user's sessions by recent activity.
        session.HasIndex(s => new { s.OwnerId, s.LastActivityAt });
        session.HasOne<Accounts.AppUser>().WithMany().HasForeignKey(s => s.OwnerId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class SessionEventConfiguration : IEntityTypeConfiguration<SessionEvent>
{
    public void Configure(EntityTypeBuilder<SessionEvent> evt)
    {
        evt.HasKey(e => e.Id);
        evt.HasIndex(e => new { e.SessionId, e.Seq }).IsUnique();
        evt.HasIndex(e => new { e.SessionId, e.ClientId }).IsUnique().HasFilter("\"ClientId\" IS NOT NULL");
        // Children of a message, newest first (versions, the newest branch below a message). With Seq in the index,
        // SQLite answers "children of X by Seq" from it; without, it walked the (SessionId, Seq) index to avoid a
        // sort, reading the whole session for every step down a branch.
        evt.HasIndex(e => new { e.SessionId, e.ParentId, e.Seq });
        // Start-up looks for messages a crash left streaming (Status alone); opening a conversation and the turn runner
        // look for one session's queued messages in Seq order (all three: without Seq, SQLite preferred the
        // (SessionId, Seq) index to save the sort, and read the whole session).
        evt.HasIndex(e => new { e.Status, e.SessionId, e.Seq });
        evt.Property(e => e.Author).HasMaxLength(128);
        evt.Property(e => e.ClientId).HasMaxLength(64);
        evt.Property(e => e.FailureReason).HasMaxLength(1000);
        evt.HasOne<ChatSession>().WithMany().HasForeignKey(e => e.SessionId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class CheckpointConfiguration : IEntityTypeConfiguration<Checkpoint>
{
    public void Configure(EntityTypeBuilder<Checkpoint> checkpoint)
    {
        checkpoint.HasKey(c => c.Id);
        checkpoint.HasIndex(c => new { c.SessionId, c.CreatedAt });
        checkpoint.HasOne<ChatSession>().WithMany().HasForeignKey(c => c.SessionId).OnDelete(DeleteBehavior.Cascade);
    }
}
