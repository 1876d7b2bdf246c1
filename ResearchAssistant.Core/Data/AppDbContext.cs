using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using ResearchAssistant.Core.Accounts;
using ResearchAssistant.Core.Sessions;

namespace ResearchAssistant.Core.Data;

/// <summary>
/// Identity plus the session log. Never instantiated directly: each provider has a subclass so that each keeps its
/// own migrations (the SQL of SQLite and PostgreSQL differ) while the rest of the code sees one context type.
/// </summary>
public abstract class AppDbContext(DbContextOptions options) : IdentityDbContext<AppUser>(options)
{
    public DbSet<ChatSession> ChatSessions => Set<ChatSession>();
    public DbSet<SessionEvent> SessionEvents => Set<SessionEvent>();
    public DbSet<Checkpoint> Checkpoints => Set<Checkpoint>();
    public DbSet<Devices.DeviceSession> DeviceSessions => Set<Devices.DeviceSession>();
    public DbSet<Privacy.UserKey> UserKeys => Set<Privacy.UserKey>();
    public DbSet<Search.SearchIndex> SearchIndexes => Set<Search.SearchIndex>();
    public DbSet<Search.SearchDocument> SearchDocuments => Set<Search.SearchDocument>();
    public DbSet<Search.SearchPosting> SearchPostings => Set<Search.SearchPosting>();
    public DbSet<Search.SearchUnmergedTerms> SearchUnmergedTerms => Set<Search.SearchUnmergedTerms>();

    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);
        builder.ApplyConfigurationsFromAssembly(typeof(AppDbContext).Assembly);
    }
}

public sealed class SqliteAppDbContext(DbContextOptions<SqliteAppDbContext> options) : AppDbContext(options)
{
    protected override void ConfigureConventions(ModelConfigurationBuilder configuration)
    {
        // SQLite cannot order or compare DateTimeOffset; all times are UTC, so their binary form orders correctly.
        configuration.Properties<DateTimeOffset>().HaveConversion<Microsoft.EntityFrameworkCore.Storage.ValueConversion.DateTimeOffsetToBinaryConverter>();
        configuration.Properties<DateTimeOffset?>().HaveConversion<Microsoft.EntityFrameworkCore.Storage.ValueConversion.DateTimeOffsetToBinaryConverter>();
    }
}

public sealed class PostgresAppDbContext(DbContextOptions<PostgresAppDbContext> options) : AppDbContext(options);
