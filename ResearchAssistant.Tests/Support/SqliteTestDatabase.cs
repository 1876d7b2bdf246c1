using Microsoft.Data.Sqlite;
using ResearchAssistant.Core.Data;

namespace ResearchAssistant.Tests.Support;

/// <summary>SQLite database files in a temporary directory that belongs to one test class.</summary>
public sealed class SqliteTestDatabase : TestDatabase
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "ra-tests", "sqlite-" + Guid.NewGuid().ToString("N"));
    private readonly List<string> _connectionStrings = [];

    public override DatabaseProvider Provider => DatabaseProvider.Sqlite;

    public override Task<DatabaseSettings> CreateEmptyAsync()
    {
        Directory.CreateDirectory(_directory);
        var file = Path.Combine(_directory, $"db-{_connectionStrings.Count + 1}.db");
        var settings = new DatabaseSettings(DatabaseProvider.Sqlite, DatabaseSettings.SqliteConnectionStringFor(file));
        _connectionStrings.Add(settings.ConnectionString);
        return Task.FromResult(settings);
    }

    public override Task DisposeAsync()
    {
        // Pooled connections keep the files open; only this class's pools are cleared, other classes keep theirs.
        foreach (var connectionString in _connectionStrings)
        {
            SqliteConnection.ClearPool(new SqliteConnection(connectionString));
        }
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A file still held open stays in the temp directory; not worth failing the run for.
        }
        return Task.CompletedTask;
    }
}
