using ResearchAssistant.Core.Data;

namespace ResearchAssistant.Tests.Support;

/// <summary>Freshly created PostgreSQL databases that belong to one test class, dropped when the class is done.</summary>
public sealed class PostgresTestDatabase : TestDatabase
{
    private readonly List<(string Name, string ConnectionString)> _databases = [];
    private PostgresServer? _server;

    public override DatabaseProvider Provider => DatabaseProvider.Postgres;

    public override async Task<DatabaseSettings> CreateEmptyAsync()
    {
        _server ??= await PostgresServer.GetAsync();
        var name = "ra_test_" + Guid.NewGuid().ToString("N");
        // As the app's configuration would have it (DatabaseSettings.FromConfiguration).
        var connectionString = DatabaseSettings.WithSessionDefaults(await _server.CreateDatabaseAsync(name));
        _databases.Add((name, connectionString));
        return new DatabaseSettings(DatabaseProvider.Postgres, connectionString);
    }

    public override async Task DisposeAsync()
    {
        if (_server is null)
        {
            return;
        }
        foreach (var (name, connectionString) in _databases)
        {
            await _server.DropDatabaseAsync(name, connectionString);
        }
    }
}
