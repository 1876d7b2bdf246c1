using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using ResearchAssistant.Core.Sessions;

namespace ResearchAssistant.Core.Search;

internal sealed class SearchIndexConfiguration : IEntityTypeConfiguration<SearchIndex>
{
    public void Configure(EntityTypeBuilder<SearchIndex> index)
    {
        index.HasKey(i => i.Id);
        index.Property(i => i.UserId).HasMaxLength(64);
        index.HasIndex(i => i.UserId).IsUnique();
        // Erasing a user removes their index with them.
        index.HasOne<Accounts.AppUser>().WithMany().HasForeignKey(i => i.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class SearchDocumentConfiguration : IEntityTypeConfiguration<SearchDocument>
{
    public void Configure(EntityTypeBuilder<SearchDocument> document)
    {
        document.HasKey(d => new { d.IndexId, d.Number });
        // One document per event: indexing twice (a retry, or the start-up catch-up racing another instance) fails.
        document.HasIndex(d => d.EventId).IsUnique();
        // Deleting a conversation finds its documents by session.
        document.HasIndex(d => d.SessionId);
        document.HasOne<SearchIndex>().WithMany().HasForeignKey(d => d.IndexId).OnDelete(DeleteBehavior.Cascade);
        document.HasOne<SessionEvent>().WithMany().HasForeignKey(d => d.EventId).OnDelete(DeleteBehavior.Cascade);
        document.HasOne<ChatSession>().WithMany().HasForeignKey(d => d.SessionId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class SearchUnmergedTermsConfiguration : IEntityTypeConfiguration<SearchUnmergedTerms>
{
    public void Configure(EntityTypeBuilder<SearchUnmergedTerms> unmerged)
    {
        // Search reads a user's rows, the merger the oldest: both by this key, a handful of rows at any time.
        unmerged.HasKey(u => new { u.IndexId, u.Number });
        unmerged.HasOne<SearchDocument>().WithOne().HasForeignKey<SearchUnmergedTerms>(u => new { u.IndexId, u.Number }).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class SearchPostingConfiguration : IEntityTypeConfiguration<SearchPosting>
{
    public void Configure(EntityTypeBuilder<SearchPosting> posting)
    {
        // The key serves deletes (all postings of a document) and keeps a term to one row per document.
        posting.HasKey(p => new { p.IndexId, p.DocumentNumber, p.TermHash });
        // The search path: one range per query term, best postings first (ImpactKey), covering everything BM25 needs,
        // so no table row is read and a common term's range can be read only as far as needed.
        posting.HasIndex(p => new { p.IndexId, p.TermHash, p.ImpactKey, p.DocumentNumber, p.TermFrequency, p.DocumentLength })
            .HasDatabaseName("IX_SearchPostings_Term");
        // No foreign key to the document, on purpose: checking one for each of a message's ~60 postings was about a
        // quarter of PostgreSQL's indexing time (benchmarks/SEARCH-RESULTS.md), and nothing ever deletes documents but
        // SearchIndexer, which deletes their postings first, explicitly. Whatever else deletes documents (erasing a
        // user, say) must do the same: SearchIndexer.RemoveUserAsync.
    }
}
