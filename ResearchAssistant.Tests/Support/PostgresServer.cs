using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace ResearchAssistant.Tests.Support;

/// <summary>
/// The PostgreSQL server of this test run. <c>RA_TEST_POSTGRES</c> (an admin connection string) names an existing
/// server; otherwise a throwaway cluster is created with initdb and started with pg_ctl once per test process, and
/// stopped at the end of the run (see <see cref="TestRunFramework"/>). Failing to get a server is an error, never a reason to skip: a green run must
/// mean PostgreSQL was tested.
/// </summary>
public sealed class PostgresServer
{
    public const string EnvironmentVariable = "RA_TEST_POSTGRES";

    /// <summary>Overrides where initdb and pg_ctl are looked for (default: the newest /usr/lib/postgresql/*/bin).</summary>
    public const string BinEnvironmentVariable = "RA_TEST_PG_BIN";

    private static readonly Lazy<Task<PostgresServer>> Shared = new(StartOrConnectAsync, LazyThreadSafetyMode.ExecutionAndPublication);
    private static readonly string RunsRoot = Path.Combine(Path.GetTempPath(), "ra-test-postgres");

    // Set for a cluster this run started; taken (once) by whoever stops it first.
    private Func<Task>? _stop;

    private PostgresServer(string adminConnectionString, string description)
    {
        AdminConnectionString = adminConnectionString;
        Description = description;
    }

    public string AdminConnectionString { get; }

    /// <summary>Where the server came from, for failure messages.</summary>
    public string Description { get; }

    public static Task<PostgresServer> GetAsync() => Shared.Value;

    /// <summary>Stops the throwaway cluster, if this run started one; an external server is left alone.</summary>
    public static async Task StopThrowawayClusterAsync()
    {
        if (Shared.IsValueCreated && Shared.Value is { IsCompletedSuccessfully: true } started)
        {
            await started.Result.StopOwnClusterAsync();
        }
    }

    private Task StopOwnClusterAsync() => Interlocked.Exchange(ref _stop, null)?.Invoke() ?? Task.CompletedTask;

    /// <summary>Creates an empty database and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string name)
    {
        await using (var admin = new NpgsqlConnection(AdminConnectionString))
        {
            await admin.OpenAsync();
            await using var create = new NpgsqlCommand($"""CREATE DATABASE "{name}" """, admin);
            await create.ExecuteNonQueryAsync();
        }
        return new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = name }.ConnectionString;
    }

    public async Task DropDatabaseAsync(string name, string connectionString)
    {
        // Pooled connections to the database would block DROP; FORCE ends any that remain.
        NpgsqlConnection.ClearPool(new NpgsqlConnection(connectionString));
        await using var admin = new NpgsqlConnection(AdminConnectionString);
        await admin.OpenAsync();
        await using var drop = new NpgsqlCommand($"""DROP DATABASE IF EXISTS "{name}" WITH (FORCE)""", admin);
        await drop.ExecuteNonQueryAsync();
    }

    private static async Task<PostgresServer> StartOrConnectAsync()
    {
        var external = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(external))
        {
            // Failure messages name the server, never its password.
            var shown = new NpgsqlConnectionStringBuilder(external) { Password = null }.ConnectionString;
            var server = new PostgresServer(external, $"{EnvironmentVariable}={shown}");
            await server.CheckReachableAsync();
            return server;
        }
        return await ThrowawayCluster.StartAsync();
    }

    private async Task CheckReachableAsync()
    {
        try
        {
            await using var connection = new NpgsqlConnection(AdminConnectionString);
            await connection.OpenAsync();
            await using var version = new NpgsqlCommand("SELECT version()", connection);
            await version.ExecuteScalarAsync();
        }
        catch (Exception ex)
        {
            throw new InvalidOperationException(
                $"PostgreSQL tests need a server, and the one given by {Description} cannot be reached: {ex.Message}", ex);
        }
    }

    /// <summary>A cluster in a temporary directory, owned by the postgres user when the tests run as root.</summary>
    private static class ThrowawayCluster
    {
        private const int Attempts = 3;

        public static async Task<PostgresServer> StartAsync()
        {
            var bin = FindBinDirectory();
            // PostgreSQL refuses to run as root; as any other user it runs as that user.
            var asPostgresUser = Environment.IsPrivilegedProcess;
            await CleanUpAbandonedRunsAsync(bin, asPostgresUser);

            var run = Path.Combine(RunsRoot, $"run-{Environment.ProcessId}-{Guid.NewGuid():N}"[..40]);
            Directory.CreateDirectory(run);
            if (asPostgresUser && !OperatingSystem.IsWindows())
            {
                // The postgres user must be able to reach its cluster directory under this root-created one.
                File.SetUnixFileMode(RunsRoot, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                    | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
                await RequireAsync("give the cluster directory to the postgres user",
                    await ProcessRunner.RunAsync("chown", ["postgres:postgres", run], TimeSpan.FromSeconds(10)));
            }

            var data = Path.Combine(run, "data");
            var log = Path.Combine(run, "server.log");
            await RequireAsync("initdb",
                await RunAsync(bin, "initdb", asPostgresUser,
                    ["-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"],
                    TimeSpan.FromSeconds(60)));

            var failures = new List<string>();
            for (var attempt = 1; attempt <= Attempts; attempt++)
            {
                // The port is free when picked but could be taken before the server binds it: then try another.
                var port = FreePort();
                var options = $"-F -p {port} -k {data} -c listen_addresses=127.0.0.1 -c max_connections=300 " +
                              "-c synchronous_commit=off -c full_page_writes=off";
                var started = await RunAsync(bin, "pg_ctl", asPostgresUser,
                    ["-D", data, "-l", log, "-w", "-t", "30", "-o", options, "start"], TimeSpan.FromSeconds(45));
                if (started.Succeeded)
                {
                    var connectionString = $"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres;Pooling=true;Timeout=15";
                    var server = new PostgresServer(connectionString, $"the throwaway cluster in {run}")
                    {
                        _stop = () => StopAsync(bin, asPostgresUser, run, data),
                    };
                    // Normally stopped by TestRunFramework before the run ends; this is the fallback for other hosts.
                    // The test host may be killed about 100 ms after exit begins, so this is best effort, and whatever
                    // survives is stopped by the next run (CleanUpAbandonedRunsAsync).
                    AppDomain.CurrentDomain.ProcessExit += (_, _) => server.StopOwnClusterAsync().GetAwaiter().GetResult();
                    await server.CheckReachableAsync();
                    return server;
                }
                failures.Add($"attempt {attempt} on port {port}: {started.Output.Trim()}\n{ReadLog(log)}");
            }
            throw new InvalidOperationException(
                $"Could not start a throwaway PostgreSQL cluster in {run} with {bin}:\n{string.Join("\n", failures)}\n" +
                $"Fix the local PostgreSQL installation or set {EnvironmentVariable} to an admin connection string.");
        }

        private static string FindBinDirectory()
        {
            var configured = Environment.GetEnvironmentVariable(BinEnvironmentVariable);
            if (!string.IsNullOrWhiteSpace(configured))
            {
                return File.Exists(Path.Combine(configured, "initdb")) ? configured : throw new InvalidOperationException(
                    $"{BinEnvironmentVariable}={configured} does not contain initdb.");
            }
            var candidates = Directory.Exists("/usr/lib/postgresql")
                ? Directory.GetDirectories("/usr/lib/postgresql")
                    .Select(d => Path.Combine(d, "bin"))
                    .Where(d => File.Exists(Path.Combine(d, "initdb")) && File.Exists(Path.Combine(d, "pg_ctl")))
                    .OrderByDescending(d => int.TryParse(Path.GetFileName(Path.GetDirectoryName(d)), out var v) ? v : 0)
                    .ToList()
                : [];
            return candidates.FirstOrDefault() ?? throw new InvalidOperationException(
                "PostgreSQL tests need a server: no initdb/pg_ctl under /usr/lib/postgresql/*/bin. " +
                $"Install PostgreSQL (apt-get install postgresql), set {BinEnvironmentVariable} to its bin directory, " +
                $"or set {EnvironmentVariable} to an admin connection string (e.g. \"Host=127.0.0.1;Port=5432;Username=postgres\").");
        }

        /// <summary>A test process that was killed never ran its exit handler: stop the clusters it left behind.</summary>
        private static async Task CleanUpAbandonedRunsAsync(string bin, bool asPostgresUser)
        {
            if (!Directory.Exists(RunsRoot))
            {
                return;
            }
            foreach (var run in Directory.GetDirectories(RunsRoot, "run-*"))
            {
                var parts = Path.GetFileName(run).Split('-');
                if (parts.Length < 2 || !int.TryParse(parts[1], out var pid) || IsAlive(pid))
                {
                    continue;
                }
                var data = Path.Combine(run, "data");
                if (File.Exists(Path.Combine(data, "postmaster.pid")))
                {
                    await RunAsync(bin, "pg_ctl", asPostgresUser, ["-D", data, "-m", "immediate", "-w", "stop"], TimeSpan.FromSeconds(15));
                }
                TryDelete(run);
            }
        }

        private static async Task StopAsync(string bin, bool asPostgresUser, string run, string data)
        {
            await RunAsync(bin, "pg_ctl", asPostgresUser, ["-D", data, "-m", "immediate", "-w", "stop"], TimeSpan.FromSeconds(15));
            TryDelete(run);
        }

        private static Task<ProcessRunner.Result> RunAsync(string bin, string tool, bool asPostgresUser, string[] arguments, TimeSpan timeout) =>
            asPostgresUser
                ? ProcessRunner.RunAsync("runuser", ["-u", "postgres", "--", Path.Combine(bin, tool), .. arguments], timeout)
                : ProcessRunner.RunAsync(Path.Combine(bin, tool), arguments, timeout);

        private static Task RequireAsync(string step, ProcessRunner.Result result) => result.Succeeded
            ? Task.CompletedTask
            : throw new InvalidOperationException(
                $"Could not start a throwaway PostgreSQL cluster: {step} failed (exit code {result.ExitCode}):\n{result.Output.Trim()}\n" +
                $"Fix the local PostgreSQL installation or set {EnvironmentVariable} to an admin connection string.");

        private static int FreePort()
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        private static bool IsAlive(int pid)
        {
            try
            {
                using var process = System.Diagnostics.Process.GetProcessById(pid);
                return !process.HasExited;
            }
            catch (ArgumentException)
            {
                return false;
            }
        }

        private static string ReadLog(string log)
        {
            try
            {
                return File.Exists(log) ? "server log:\n" + File.ReadAllText(log) : "";
            }
            catch (IOException)
            {
                return "";
            }
        }

        private static void TryDelete(string directory)
        {
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Left for the next run's clean-up; a temp directory is not worth failing a run for.
            }
        }
    }
}
