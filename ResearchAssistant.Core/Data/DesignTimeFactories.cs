using Microsoft.EntityFrameworkCore.Design;

namespace ResearchAssistant.Core.Data;

// Used only by `dotnet ef migrations add` (see README). The connection strings are placeholders: generating a
// migration never connects.
internal sealed class SqliteDesignTimeFactory : IDesignTimeDbContextFactory<SqliteAppDbContext>
{
    public SqliteAppDbContext CreateDbContext(string[] args) =>
        (SqliteAppDbContext)new AppDbContextFactory(new DatabaseSettings(DatabaseProvider.Sqlite, "Data Source=design.db")).CreateDbContext();
}

internal sealed class PostgresDesignTimeFactory : IDesignTimeDbContextFactory<PostgresAppDbContext>
{
    public PostgresAppDbContext CreateDbContext(string[] args) =>
        (PostgresAppDbContext)new AppDbContextFactory(new DatabaseSettings(DatabaseProvider.Postgres, "Host=localhost;Database=design")).CreateDbContext();
}
