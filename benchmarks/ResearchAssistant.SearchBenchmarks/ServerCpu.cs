using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace ResearchAssistant.SearchBenchmarks;

/// <summary>
/// CPU time used by the server processes that run a local PostgreSQL database's queries: the postmaster's children
/// whose process title is "postgres: USER DATABASE ..." (client backends; not autovacuum or the background writers,
/// whose work runs on their own schedule), read from /proc/PID/schedstat (nanoseconds). With <see cref="CpuTime"/> it
/// gives the work of a call on PostgreSQL, client and server, without the time spent waiting for a core, which on a
/// shared machine is most of the noise in wall-clock figures.
/// </summary>
internal sealed class ServerCpu
{
    private readonly int _postmaster;
    private readonly string _title;

    private ServerCpu(int postmaster, string title) => (_postmaster, _title) = (postmaster, title);

    /// <summary>Null unless the server is a local PostgreSQL whose processes this user can read.</summary>
    public static async Task<ServerCpu?> FindAsync(BenchDatabase bench)
    {
        if (bench.Provider != Core.Data.DatabaseProvider.Postgres || !OperatingSystem.IsLinux())
        {
            return null;
        }
        var connection = new NpgsqlConnectionStringBuilder(bench.ConnectionString);
        if (connection.Host is not ("127.0.0.1" or "localhost" or "::1"))
        {
            return null;
        }
        await using var db = await bench.Contexts.CreateDbContextAsync();
        var backend = (await db.Database.SqlQueryRaw<int>("SELECT pg_backend_pid() AS \"Value\"").ToListAsync())[0];
        var parent = ParentOf(backend);
        return parent is { } p && Command(backend) == "postgres" && Command(p) == "postgres" && Read(backend) is not null
            ? new ServerCpu(p, $"postgres: {connection.Username} {connection.Database} ")
            : null;
    }

    /// <summary>Each client backend's CPU time so far.</summary>
    public Dictionary<int, long> Snapshot()
    {
        var times = new Dictionary<int, long>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
                && ParentOf(pid) == _postmaster && Title(pid)?.StartsWith(_title, StringComparison.Ordinal) == true
                && Read(pid) is { } nanoseconds)
            {
                times[pid] = nanoseconds;
            }
        }
        return times;
    }

    /// <summary>CPU time the backends used between two snapshots (a process started meanwhile counts whole; one that exited, not at all).</summary>
    public static TimeSpan Between(Dictionary<int, long> before, Dictionary<int, long> after) =>
        TimeSpan.FromMicroseconds(after.Sum(a => a.Value - before.GetValueOrDefault(a.Key)) / 1000.0);

    private static long? Read(int pid)
    {
        try
        {
            // First field: time spent running on a CPU, in nanoseconds.
            var text = File.ReadAllText($"/proc/{pid}/schedstat");
            return long.Parse(text.AsSpan(0, text.IndexOf(' ')), CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or ArgumentOutOfRangeException)
        {
            return null;
        }
    }

    private static int? ParentOf(int pid)
    {
        try
        {
            // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so parse after the last ')'.
            var text = File.ReadAllText($"/proc/{pid}/stat");
            var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
            return int.Parse(fields[1], CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException or ArgumentOutOfRangeException)
        {
            return null;
        }
    }

    /// <summary>The process title PostgreSQL sets ("postgres: user database host(port) state").</summary>
    private static string? Title(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static string? Command(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/comm").Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
