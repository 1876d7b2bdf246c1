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
        session.HasIndex(s => new { s.OwnerId, s.LastOpenedAt });
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
        // Indexes end with Seq so that the queries that filter on their leading columns and order by Seq are served by
        // them alone. SQLite plans without statistics (the app never runs ANALYZE) and otherwise prefers
        // (SessionId, Seq), which avoids the sort but walks the whole session: 40-130 ms at 100,000 messages.
        // Children of a message, newest first: versions, answers kept below a rewind, the newest branch's leaf.
        evt.HasIndex(e => new { e.SessionId, e.ParentId, e.Seq });
        // Queued messages of a session in Seq order (open, the turn runner); start-up looks for messages a crash
        // left streaming, and for sessions with queued messages.
        evt.HasIndex(e => new { e.Status, e.SessionId, e.Seq });
        // The latest event of a kind (the last move of the active leaf, for "Show later messages").
        evt.HasIndex(e => new { e.SessionId, e.Kind, e.Seq });
        // Whether a message is the only one at its depth, so on every branch that goes deeper (recall's branch check).
        evt.HasIndex(e => new { e.SessionId, e.Depth });
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
