using System.Security.Cryptography;
using Microsoft.Extensions.Logging.Abstractions;
using ResearchAssistant.Core.Data;
using ResearchAssistant.Core.Privacy;

namespace ResearchAssistant.Tests.Support;

/// <summary>
/// A real database for one test class: SQLite in a file, or PostgreSQL. Each class gets its own, migrated the way the
/// app migrates it (<see cref="DatabaseInitializer"/>), so classes can run in parallel without seeing each other.
/// Tests inside a class share it and keep apart by using their own users and sessions.
/// </summary>
public abstract class TestDatabase : IAsyncLifetime
{
    private DatabaseSettings? _settings;

    public abstract DatabaseProvider Provider { get; }

    public DatabaseSettings Settings => _settings ?? throw new InvalidOperationException("The database is not initialized yet.");

    public AppDbContextFactory Contexts => new(Settings);

    public async Task InitializeAsync()
    {
        _settings = await CreateEmptyAsync();
        await MigrateAsync(_settings);
    }

    public abstract Task DisposeAsync();

    /// <summary>Another empty database, for tests that need to see a schema being created from nothing.</summary>
    public abstract Task<DatabaseSettings> CreateEmptyAsync();

    /// <summary>The master key of every test database in this run (what <c>Encryption:MasterKey</c> is set to).</summary>
    public static readonly string MasterKeyBase64 = Convert.ToBase64String(RandomNumberGenerator.GetBytes(MasterKey.KeySize));

    /// <summary>What the app does at start-up: migrate, check the master key, then seal what a crash left streaming.</summary>
    public static Task MigrateAsync(DatabaseSettings settings)
    {
        var contexts = new AppDbContextFactory(settings);
        var protector = new ContentProtector(contexts, MasterKey.FromBytes(Convert.FromBase64String(MasterKeyBase64), "the test run"), TimeProvider.System);
        return new DatabaseInitializer(contexts, protector, NullLogger<DatabaseInitializer>.Instance).InitializeAsync(CancellationToken.None);
    }
}
