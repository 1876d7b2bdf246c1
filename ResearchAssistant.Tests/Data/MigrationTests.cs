using Microsoft.EntityFrameworkCore;
using ResearchAssistant.Core.Data;
using ResearchAssistant.Tests.Support;

namespace ResearchAssistant.Tests.Data;

/// <summary>
/// Each provider has its own hand-kept migrations; a model change without a matching migration would only show up
/// as a broken database in production. Migrating an empty database and comparing with the model catches it.
/// </summary>
public abstract class MigrationTests(TestDatabase database)
{
    [Fact]
    public async Task Migrating_an_empty_database_leaves_no_pending_migration_or_model_change()
    {
        var settings = await database.CreateEmptyAsync();
        await using (var before = new AppDbContextFactory(settings).CreateDbContext())
        {
            Assert.NotEmpty(await before.Database.GetPendingMigrationsAsync());
        }

        await TestDatabase.MigrateAsync(settings);

        await using var db = new AppDbContextFactory(settings).CreateDbContext();
        Assert.Empty(await db.Database.GetPendingMigrationsAsync());
        Assert.Equal(db.Database.GetMigrations(), await db.Database.GetAppliedMigrationsAsync());
        Assert.False(db.Database.HasPendingModelChanges(),
            $"The {database.Provider} model differs from its migrations' snapshot: add a migration for {database.Provider}.");
    }

    [Fact]
    public async Task The_migrated_schema_can_be_queried_through_the_model()
    {
        await using var db = database.Contexts.CreateDbContext();

        // Every mapped table exists with the columns the model expects (a query selects them all).
        Assert.Empty(await db.Users.Where(u => u.Id == "nobody").ToListAsync());
        Assert.Empty(await db.ChatSessions.Where(s => s.OwnerId == "nobody").ToListAsync());
        Assert.Empty(await db.SessionEvents.Where(e => e.Author == "nobody").ToListAsync());
    }

    [Fact]
    public async Task Each_provider_uses_its_own_migrations()
    {
        await using var db = database.Contexts.CreateDbContext();

        var expected = database.Provider == DatabaseProvider.Sqlite ? typeof(SqliteAppDbContext) : typeof(PostgresAppDbContext);
        Assert.IsType(expected, db);
        Assert.All(db.Database.GetMigrations(), id => Assert.Matches(@"^\d{14}_\w+$", id));
    }
}

public sealed class SqliteMigrationTests(SqliteTestDatabase database) : MigrationTests(database), IClassFixture<SqliteTestDatabase>;

public sealed class PostgresMigrationTests(PostgresTestDatabase database) : MigrationTests(database), IClassFixture<PostgresTestDatabase>;
