using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace ResearchAssistant.Core.Data;

/// <summary>
/// Creates the provider's context subclass (so the provider's own migrations are found) behind the one
/// <see cref="AppDbContext"/> type the rest of the code uses. Options are built once: they are immutable.
/// </summary>
public sealed class AppDbContextFactory : IDbContextFactory<AppDbContext>
{
    private readonly Func<AppDbContext> _create;

    public AppDbContextFactory(DatabaseSettings settings, ILoggerFactory? loggerFactory = null)
    {
        Settings = settings;
        switch (settings.Provider)
        {
            case DatabaseProvider.Sqlite:
                var sqlite = Configure(new DbContextOptionsBuilder<SqliteAppDbContext>(), loggerFactory)
                    .UseSqlite(settings.ConnectionString).Options;
                _create = () => new SqliteAppDbContext(sqlite);
                break;
            case DatabaseProvider.Postgres:
                var postgres = Configure(new DbContextOptionsBuilder<PostgresAppDbContext>(), loggerFactory)
                    .UseNpgsql(settings.ConnectionString).Options;
                _create = () => new PostgresAppDbContext(postgres);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(settings), settings.Provider, "Unknown database provider.");
        }
    }

    public DatabaseSettings Settings { get; }

    public AppDbContext CreateDbContext() => _create();

    private static DbContextOptionsBuilder<T> Configure<T>(DbContextOptionsBuilder<T> builder, ILoggerFactory? loggerFactory)
        where T : DbContext
    {
        if (loggerFactory is not null)
        {
            builder.UseLoggerFactory(loggerFactory);
        }
        // Parameter values can hold message text: never log them (EnableSensitiveDataLogging stays off).
        return builder;
    }
}
