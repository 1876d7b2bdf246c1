using Microsoft.Extensions.Configuration;

namespace ResearchAssistant.Core.Data;

public enum DatabaseProvider
{
    Sqlite,
    Postgres,
}

/// <summary>Where the data lives, resolved once from configuration at start-up.</summary>
public sealed record DatabaseSettings(DatabaseProvider Provider, string ConnectionString)
{
    public const string SqliteFileName = "researchassistant.db";

    /// <summary>
    /// Reads <c>Database:Provider</c> and <c>ConnectionStrings:Default</c>. SQLite defaults to a file in the data
    /// directory, so the app runs with no setup; PostgreSQL has no sensible default and must be configured.
    /// </summary>
    public static DatabaseSettings FromConfiguration(IConfiguration configuration, string dataDirectory)
    {
        var providerText = configuration["Database:Provider"];
        var provider = DatabaseProvider.Sqlite;
        if (!string.IsNullOrWhiteSpace(providerText) && !Enum.TryParse(providerText, ignoreCase: true, out provider))
        {
            throw new InvalidOperationException(
                $"Database:Provider is '{providerText}'; it must be 'Sqlite' or 'Postgres'.");
        }

        var connectionString = configuration.GetConnectionString("Default");
        if (provider == DatabaseProvider.Postgres && string.IsNullOrWhiteSpace(connectionString))
        {
            throw new InvalidOperationException(
                "Database:Provider is 'Postgres' but ConnectionStrings:Default is empty. " +
                "Set it, e.g. ConnectionStrings__Default=\"Host=localhost;Database=researchassistant;Username=ra;Password=...\".");
        }

        if (provider == DatabaseProvider.Sqlite && string.IsNullOrWhiteSpace(connectionString))
        {
            connectionString = SqliteConnectionStringFor(Path.Combine(dataDirectory, SqliteFileName));
        }
        if (provider == DatabaseProvider.Postgres)
        {
            connectionString = WithSessionDefaults(connectionString!);
        }

        return new DatabaseSettings(provider, connectionString!);
    }

    public static string SqliteConnectionStringFor(string databasePath) =>
        // Default Timeout is how long a command waits on a locked database before failing (seconds). No shared cache:
        // with WAL each connection reads its own consistent snapshot while one writes; a shared cache replaces that
        // with table locks that readers have to poll for (SQLITE_LOCKED, retried every 150 ms).
        $"Data Source={databasePath};Pooling=True;Default Timeout=30";

    /// <summary>
    /// The app's defaults for its PostgreSQL sessions, each kept out when the connection string sets it already:
    /// <list type="bullet">
    /// <item>No parallel query (<c>Options=-c max_parallel_workers_per_gather=0</c>). Every statement here is a short read of
    /// a few index ranges; when the planner's estimate of one crosses the parallel threshold, starting the workers is what
    /// takes the time: recall's statement, 0.5 ms of work, took 65-155 ms with two workers on a busy two-core server.</item>
    /// <item>Statements prepared once they have run twice on a connection (<c>Max Auto Prepare=64</c>, <c>Auto Prepare Min
    /// Usages=2</c>): the hot ones are recursive walks whose parsing and planning cost as much as running them. Behind a
    /// pooler in transaction mode (PgBouncer before 1.21), set <c>Max Auto Prepare=0</c>.</item>
    /// </list>
    /// </summary>
    public static string WithSessionDefaults(string postgresConnectionString)
    {
        var builder = new Npgsql.NpgsqlConnectionStringBuilder(postgresConnectionString);
        if (builder.Options?.Contains("max_parallel_workers_per_gather", StringComparison.Ordinal) != true)
        {
            builder.Options = $"{builder.Options} -c max_parallel_workers_per_gather=0".TrimStart();
        }
        if (!Sets(postgresConnectionString, "maxautoprepare"))
        {
            builder.MaxAutoPrepare = 64;
            if (!Sets(postgresConnectionString, "autoprepareminusages"))
            {
                builder.AutoPrepareMinUsages = 2;
            }
        }
        return builder.ConnectionString;
    }

    /// <summary>Whether a connection string names a setting, however it spells the keyword ("Max Auto Prepare", "MaxAutoPrepare").</summary>
    private static bool Sets(string connectionString, string keyword) =>
        new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString }.Keys.Cast<string>()
            .Any(key => string.Equals(key.Replace(" ", "", StringComparison.Ordinal), keyword, StringComparison.OrdinalIgnoreCase));
}
