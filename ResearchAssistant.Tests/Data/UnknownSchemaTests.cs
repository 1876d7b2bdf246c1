using Microsoft.EntityFrameworkCore;
using ResearchAssistant.Tests.Chat;
using ResearchAssistant.Tests.Support;
using Xunit.Abstractions;

namespace ResearchAssistant.Tests.Data;

/// <summary>A database made by another build (a schema history this build does not know) is refused with a clear reason.</summary>
public abstract class UnknownSchemaTests(TestDatabase database, ITestOutputHelper output) : ChatTestBase(database, output)
{
    [Fact]
    public async Task Start_up_refuses_a_database_whose_schema_history_this_build_does_not_know()
    {
        await using (var db = await Core.Contexts.CreateDbContextAsync())
        {
            await db.Database.ExecuteSqlRawAsync(
                """INSERT INTO "__EFMigrationsHistory" ("MigrationId", "ProductVersion") VALUES ('20990101000000_FromAnotherBuild', '10.0.0')""");
        }

        var refusal = await Assert.ThrowsAsync<InvalidOperationException>(() => Core.Initializer.InitializeAsync(CancellationToken.None));

        Assert.Contains("20990101000000_FromAnotherBuild", refusal.Message);
        Assert.Contains("another build", refusal.Message);
    }
}

public sealed class SqliteUnknownSchemaTests(SqliteTestDatabase database, ITestOutputHelper output)
    : UnknownSchemaTests(database, output), IClassFixture<SqliteTestDatabase>;

public sealed class PostgresUnknownSchemaTests(PostgresTestDatabase database, ITestOutputHelper output)
    : UnknownSchemaTests(database, output), IClassFixture<PostgresTestDatabase>;
