using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace ResearchAssistant.Benchmarks;

/// <summary>
/// A PostgreSQL database for one run: on the server named by <c>--postgres</c> or RA_TEST_POSTGRES (an admin
/// connection string) when given, otherwise on a throwaway cluster started here from the Debian binaries
/// (127.0.0.1, a free port, trust auth, fsync=off) and removed afterwards. As root, initdb and pg_ctl run as the
/// postgres user, since PostgreSQL refuses to run as root.
/// </summary>
internal sealed class PostgresServer : IAsyncDisposable
{
    private readonly string? _clusterRoot;
    private readonly string? _binDirectory;
    private readonly string _adminConnectionString;
    private readonly string _database;

    private PostgresServer(string adminConnectionString, string database, string? clusterRoot, string? binDirectory, string description)
    {
        _adminConnectionString = adminConnectionString;
        _database = database;
        _clusterRoot = clusterRoot;
        _binDirectory = binDirectory;
        Description = description;
        ConnectionString = new NpgsqlConnectionStringBuilder(adminConnectionString) { Database = database }.ConnectionString;
    }

    public string ConnectionString { get; }
    public string Description { get; }

    public static async Task<PostgresServer> StartAsync(string? adminConnectionString, CancellationToken ct)
    {
        var database = "ra_bench_" + Guid.NewGuid().ToString("N")[..8];
        string? root = null, bin = null;
        string description;
        if (string.IsNullOrWhiteSpace(adminConnectionString))
        {
            bin = FindBinaries();
            root = Directory.CreateTempSubdirectory("ra-bench-pg-").FullName;
            var asRoot = Environment.UserName == "root";
            if (asRoot)
            {
                await RunAsync("chown", ["postgres:postgres", root], ct);
            }
            var data = Path.Combine(root, "data");
            var port = FreePort();
            await RunAsync(asRoot, Path.Combine(bin, "initdb"), ["-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-locale", "--no-sync"], ct);
            await RunAsync(asRoot, Path.Combine(bin, "pg_ctl"),
                ["-D", data, "-l", Path.Combine(root, "server.log"), "-w", "-t", "60",
                 "-o", $"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off", "start"], ct);
            adminConnectionString = $"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres";
            description = $"throwaway cluster started by the driver ({bin}), 127.0.0.1:{port}, fsync=off, other settings default";
        }
        else
        {
            description = "server from RA_TEST_POSTGRES / --postgres";
        }

        await using (var admin = new NpgsqlConnection(adminConnectionString))
        {
            await admin.OpenAsync(ct);
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{database}\"", admin);
            await create.ExecuteNonQueryAsync(ct);
        }
        return new PostgresServer(adminConnectionString, database, root, bin, description);
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        try
        {
            await using var admin = new NpgsqlConnection(_adminConnectionString);
            await admin.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{_database}\" WITH (FORCE)", admin);
            await drop.ExecuteNonQueryAsync();
        }
        catch (Exception ex) when (_clusterRoot is not null)
        {
            // The cluster goes away entirely below.
            Console.Error.WriteLine($"  (could not drop {_database}: {ex.Message})");
        }
        if (_clusterRoot is not null && _binDirectory is not null)
        {
            await RunAsync(Environment.UserName == "root", Path.Combine(_binDirectory, "pg_ctl"),
                ["-D", Path.Combine(_clusterRoot, "data"), "-m", "immediate", "-w", "stop"], CancellationToken.None);
            Directory.Delete(_clusterRoot, recursive: true);
        }
    }

    private static string FindBinaries()
    {
        const string root = "/usr/lib/postgresql";
        var bin = Directory.Exists(root)
            ? Directory.GetDirectories(root)
                .OrderByDescending(d => int.TryParse(Path.GetFileName(d), out var v) ? v : 0)
                .Select(d => Path.Combine(d, "bin"))
                .FirstOrDefault(d => File.Exists(Path.Combine(d, "initdb")))
            : null;
        return bin ?? throw new InvalidOperationException(
            "PostgreSQL binaries not found under /usr/lib/postgresql (apt-get install postgresql), and neither --postgres nor " +
            "RA_TEST_POSTGRES gives a server. Run with --providers sqlite to skip PostgreSQL.");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static Task RunAsync(bool asPostgresUser, string exe, string[] args, CancellationToken ct) =>
        asPostgresUser ? RunAsync("runuser", ["-u", "postgres", "--", exe, .. args], ct) : RunAsync(exe, args, ct);

    private static async Task RunAsync(string exe, string[] args, CancellationToken ct)
    {
        var start = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = "/" };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {exe}");
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{exe} {string.Join(' ', args)} exited with {process.ExitCode}: {await stderr}{await stdout}");
        }
    }
}
