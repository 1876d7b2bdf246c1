using Npgsql;
using ResearchAssistant.Core.Data;

namespace ResearchAssistant.Tests.Support;

/// <summary>
/// A PostgreSQL cluster of one test's own, for what must not happen to the shared one: restarting it. Started and
/// stopped with the repository's scripts/pg-start.sh and pg-stop.sh (what ./test.sh uses), restarted with pg_ctl.
/// </summary>
public sealed class PrivateCluster : IAsyncDisposable
{
    private readonly string _directory;
    private readonly string _scripts;
    private readonly List<string> _databases = [];

    private PrivateCluster(string directory, string scripts, int port)
    {
        _directory = directory;
        _scripts = scripts;
        AdminConnectionString = $"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres;Timeout=15";
    }

    public string AdminConnectionString { get; }

    public static async Task<PrivateCluster> StartAsync()
    {
        var scripts = FindScripts();
        // Under /tmp, not the user's TMPDIR: the postgres user must be able to reach it.
        var directory = Directory.CreateDirectory(Path.Combine("/tmp", $"ra-test-private-pg-{Guid.NewGuid():N}")).FullName;
        var started = await ProcessRunner.RunAsync(Path.Combine(scripts, "pg-start.sh"), [directory], TimeSpan.FromSeconds(90));
        if (!started.Succeeded || !int.TryParse(started.Output.Trim().Split('\n')[^1], out var port))
        {
            await ProcessRunner.RunAsync(Path.Combine(scripts, "pg-stop.sh"), [directory], TimeSpan.FromSeconds(30));
            throw new InvalidOperationException($"scripts/pg-start.sh failed (exit code {started.ExitCode}):\n{started.Output}");
        }
        return new PrivateCluster(directory, scripts, port);
    }

    public async Task<DatabaseSettings> CreateDatabaseAsync(string name)
    {
        await using (var admin = new NpgsqlConnection(AdminConnectionString))
        {
            await admin.OpenAsync();
            await using var create = new NpgsqlCommand($"""CREATE DATABASE "{name}" """, admin);
            await create.ExecuteNonQueryAsync();
        }
        var connectionString = new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = name }.ConnectionString;
        _databases.Add(connectionString);
        return new DatabaseSettings(DatabaseProvider.Postgres, connectionString);
    }

    /// <summary>A fast restart (clients are disconnected, the server stops and starts again); returns once it accepts connections.</summary>
    public async Task RestartAsync()
    {
        var pgCtl = Path.Combine(BinDirectory(), "pg_ctl");
        // With a log file, or the new server would write to (and hold open) this process's output pipe.
        string[] arguments = ["-D", Path.Combine(_directory, "data"), "-l", Path.Combine(_directory, "postgres.log"), "-m", "fast", "-w", "-t", "60", "restart"];
        var result = Environment.IsPrivilegedProcess
            ? await ProcessRunner.RunAsync("runuser", ["-u", "postgres", "--", pgCtl, .. arguments], TimeSpan.FromSeconds(90))
            : await ProcessRunner.RunAsync("sudo", ["-n", "-u", "postgres", "--", pgCtl, .. arguments], TimeSpan.FromSeconds(90));
        if (!result.Succeeded)
        {
            throw new InvalidOperationException($"pg_ctl restart failed (exit code {result.ExitCode}):\n{result.Output}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        // Pooled connections to a server about to vanish; other tests' pools are left alone.
        foreach (var connectionString in _databases.Append(AdminConnectionString))
        {
            NpgsqlConnection.ClearPool(new NpgsqlConnection(connectionString));
        }
        await ProcessRunner.RunAsync(Path.Combine(_scripts, "pg-stop.sh"), [_directory], TimeSpan.FromSeconds(30));
    }

    private static string BinDirectory() =>
        Environment.GetEnvironmentVariable("PG_BINDIR") is { Length: > 0 } configured ? configured
            : Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin"))
                .Where(d => File.Exists(Path.Combine(d, "pg_ctl")))
                .OrderByDescending(d => int.TryParse(Path.GetFileName(Path.GetDirectoryName(d)), out var v) ? v : 0)
                .First();

    private static string FindScripts()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var scripts = Path.Combine(dir.FullName, "scripts");
            if (File.Exists(Path.Combine(scripts, "pg-start.sh")))
            {
                return scripts;
            }
        }
        throw new InvalidOperationException($"scripts/pg-start.sh not found above {AppContext.BaseDirectory}.");
    }
}
