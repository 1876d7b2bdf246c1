using System.Globalization;

namespace ResearchAssistant.SyncBenchmarks;

/// <summary>
/// CPU time of a local PostgreSQL cluster (its postmaster, found by the port on its command line, and every backend it
/// forked), from /proc: so that a round's CPU on PostgreSQL includes the database server's work, as it does on SQLite.
/// Backends that exited are counted through the postmaster's cutime/cstime once reaped.
/// </summary>
internal sealed class ServerCpu
{
    /// <summary>USER_HZ: /proc/[pid]/stat counts in these ticks; 100 on every Linux this runs on.</summary>
    private const double TicksPerSecond = 100;

    private readonly int _postmaster;

    private ServerCpu(int postmaster) => _postmaster = postmaster;

    public static ServerCpu? Find(int port)
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }
            try
            {
                var args = File.ReadAllText(Path.Combine(dir, "cmdline")).Split('\0');
                if (Path.GetFileName(args[0]) == "postgres" && args.Zip(args.Skip(1)).Any(a => a.First == "-p" && a.Second == port.ToString(CultureInfo.InvariantCulture)))
                {
                    return new ServerCpu(pid);
                }
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
        return null;
    }

    /// <summary>Milliseconds of CPU the cluster has used so far.</summary>
    public double Milliseconds()
    {
        long ticks = 0;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid) || Stat(pid) is not { } stat)
            {
                continue;
            }
            if (pid == _postmaster)
            {
                ticks += stat.UTime + stat.STime + stat.CUTime + stat.CSTime;
            }
            else if (stat.Parent == _postmaster)
            {
                ticks += stat.UTime + stat.STime;
            }
        }
        return ticks * 1000 / TicksPerSecond;
    }

    private static (int Parent, long UTime, long STime, long CUTime, long CSTime)? Stat(int pid)
    {
        try
        {
            var text = File.ReadAllText($"/proc/{pid}/stat");
            // The command name is in parentheses and may hold spaces: the fields start after the last ')'.
            var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
            long Field(int number) => long.Parse(fields[number - 3], CultureInfo.InvariantCulture);
            return ((int)Field(4), Field(14), Field(15), Field(16), Field(17));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }
}
