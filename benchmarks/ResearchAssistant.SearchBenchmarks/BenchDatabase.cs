using System.Security.Cryptography;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using ResearchAssistant.Core;
using ResearchAssistant.Core.Chat;
using ResearchAssistant.Core.Data;
using ResearchAssistant.Core.Privacy;
using ResearchAssistant.Core.Search;

namespace ResearchAssistant.SearchBenchmarks;

/// <summary>
/// A fresh database of one provider with Core wired by the app's own <see cref="CoreServiceCollectionExtensions.AddResearchAssistantCore"/>
/// (offline model; no hosted services started: nothing runs in the background while timing).
/// </summary>
internal sealed class BenchDatabase : IAsyncDisposable
{
    private readonly ServiceProvider _services;
    private readonly Func<Task> _drop;

    private BenchDatabase(DatabaseProvider provider, string connectionString, ServiceProvider services, Func<Task> drop)
    {
        Provider = provider;
        ConnectionString = connectionString;
        _services = services;
        _drop = drop;
    }

    public DatabaseProvider Provider { get; }
    public string ConnectionString { get; }
    public ChatService Chat => _services.GetRequiredService<ChatService>();
    public SearchService Search => _services.GetRequiredService<SearchService>();
    public Core.Sessions.SessionOrganizer Organizer => _services.GetRequiredService<Core.Sessions.SessionOrganizer>();
    public ContentProtector Protector => _services.GetRequiredService<ContentProtector>();
    public IDbContextFactory<AppDbContext> Contexts => _services.GetRequiredService<IDbContextFactory<AppDbContext>>();

    public static async Task<BenchDatabase> CreateSqliteAsync(string directory)
    {
        Directory.CreateDirectory(directory);
        var file = Path.Combine(directory, "search-bench.db");
        var connectionString = DatabaseSettings.SqliteConnectionStringFor(file);
        return await StartAsync(DatabaseProvider.Sqlite, connectionString, directory, () =>
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
            return Task.CompletedTask;
        });
    }

    public static async Task<BenchDatabase> CreatePostgresAsync(string serverConnectionString, string directory)
    {
        var name = "ra_searchbench_" + Guid.NewGuid().ToString("N")[..12];
        var admin = new NpgsqlConnectionStringBuilder(serverConnectionString) { Database = "postgres" }.ConnectionString;
        await using (var connection = new NpgsqlConnection(admin))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await create.ExecuteNonQueryAsync();
        }
        var connectionString = new NpgsqlConnectionStringBuilder(serverConnectionString) { Database = name }.ConnectionString;
        Directory.CreateDirectory(directory);
        return await StartAsync(DatabaseProvider.Postgres, connectionString, directory, async () =>
        {
            NpgsqlConnection.ClearAllPools();
            await using var connection = new NpgsqlConnection(admin);
            await connection.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", connection);
            await drop.ExecuteNonQueryAsync();
            Directory.Delete(directory, recursive: true);
        });
    }

    private static async Task<BenchDatabase> StartAsync(DatabaseProvider provider, string connectionString, string dataDirectory, Func<Task> drop)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Database:Provider"] = provider.ToString(),
            ["ConnectionStrings:Default"] = connectionString,
            ["Llm:Provider"] = "Offline",
            [MasterKey.ConfigurationKey] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(MasterKey.KeySize)),
        }).Build();
        var services = new ServiceCollection();
        services.AddLogging(logging =>
        {
            logging.SetMinimumLevel(LogLevel.Warning).AddSimpleConsole();
            if (Environment.GetEnvironmentVariable("RA_BENCH_LOG_SQL") == "1")
            {
                // Each command with its duration: for finding out where time goes, never for the figures.
                logging.AddFilter("Microsoft.EntityFrameworkCore.Database.Command", LogLevel.Information);
            }
        });
        services.AddResearchAssistantCore(configuration, dataDirectory);
        var built = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
        await built.GetRequiredService<DatabaseInitializer>().InitializeAsync(CancellationToken.None);
        return new BenchDatabase(provider, connectionString, built, drop);
    }

    /// <summary>
    /// What the database engine says it is, for the report; for PostgreSQL with its shared_buffers, on which indexing's
    /// time depends (the term index is read at random places, ~0.45 GB per 100,000 messages).
    /// </summary>
    public async Task<string> EngineVersionAsync()
    {
        await using var db = await Contexts.CreateDbContextAsync();
        var sql = Provider == DatabaseProvider.Sqlite
            ? "SELECT 'SQLite ' || sqlite_version() AS \"Value\""
            : "SELECT 'PostgreSQL ' || current_setting('server_version') || ', shared_buffers ' || current_setting('shared_buffers') AS \"Value\"";
        return (await db.Database.SqlQueryRaw<string>(sql).ToListAsync())[0];
    }

    /// <summary>Bytes used by the search tables and their indexes (PostgreSQL), or by the whole file (SQLite).</summary>
    public async Task<string> StorageAsync()
    {
        await using var db = await Contexts.CreateDbContextAsync();
        if (Provider == DatabaseProvider.Sqlite)
        {
            await db.Database.ExecuteSqlRawAsync("PRAGMA wal_checkpoint(TRUNCATE)");
            var path = new SqliteConnectionStringBuilder(ConnectionString).DataSource;
            var file = $"database file {new FileInfo(path).Length / 1048576.0:F0} MiB";
            try
            {
                var pages = await db.Database.SqlQueryRaw<long>("SELECT SUM(pgsize) AS \"Value\" FROM dbstat WHERE name LIKE '%Search%'").ToListAsync();
                return $"{file}, of which search tables and indexes {pages[0] / 1048576.0:F0} MiB";
            }
            catch (SqliteException)
            {
                return file + " (this SQLite build has no dbstat table to split it by table)";
            }
        }
        var sizes = await db.Database.SqlQueryRaw<long>("""
            SELECT pg_total_relation_size('"SearchPostings"') + pg_total_relation_size('"SearchDocuments"') + pg_total_relation_size('"SearchIndexes"') AS "Value"
            """).ToListAsync();
        var total = await db.Database.SqlQueryRaw<long>("SELECT pg_database_size(current_database()) AS \"Value\"").ToListAsync();
        return $"database {total[0] / 1048576.0:F0} MiB, of which search tables and indexes {sizes[0] / 1048576.0:F0} MiB";
    }

    public async ValueTask DisposeAsync()
    {
        await _services.DisposeAsync();
        if (Environment.GetEnvironmentVariable("RA_BENCH_KEEP") == "1")
        {
            Console.WriteLine($"  kept: {ConnectionString}");
            return;
        }
        await _drop();
    }
}
