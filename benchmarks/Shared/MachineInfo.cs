using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;

namespace ResearchAssistant.Benchmarks;

/// <summary>
/// What every driver's report states about the machine it ran on. Compile-linked by the load drivers under
/// benchmarks/ (one copy of the code, no shared assembly to version).
/// </summary>
internal static partial class MachineInfo
{
    /// <summary>CPU, core count, memory, OS and runtime, as Markdown bullet lines.</summary>
    public static string Describe()
    {
        var cpu = Read("/proc/cpuinfo", t => t.Split('\n').FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim());
        var memory = Read("/proc/meminfo", t =>
        {
            var line = t.Split('\n').FirstOrDefault(l => l.StartsWith("MemTotal:", StringComparison.Ordinal));
            return line is null ? null : $"{long.Parse(Digits().Match(line).Value, CultureInfo.InvariantCulture) / 1024.0 / 1024.0:F1} GiB";
        });
        var kernel = Read("/proc/sys/kernel/osrelease", t => t.Trim());
        var os = Read("/etc/os-release", t => t.Split('\n').FirstOrDefault(l => l.StartsWith("PRETTY_NAME=", StringComparison.Ordinal))?.Split('=', 2)[1].Trim('"'));
        return $"""
            - CPU: {cpu}, {Environment.ProcessorCount} logical cores (nproc), shared with other work on the machine
            - Memory: {memory}
            - OS: {os}, Linux kernel {kernel}
            - .NET: {RuntimeInformation.FrameworkDescription}, {RuntimeInformation.ProcessArchitecture}, server GC {System.Runtime.GCSettings.IsServerGC}, Release build: {!IsDebug()}
            """;
    }

    /// <summary>The 1, 5 and 15 minute load averages and the runnable/total task counts (/proc/loadavg).</summary>
    public static string LoadAverage() => Read("/proc/loadavg", t => t.Trim());

    private static string Read(string path, Func<string, string?> pick)
    {
        try
        {
            return File.Exists(path) ? pick(File.ReadAllText(path)) ?? "n/a" : "n/a";
        }
        catch (IOException)
        {
            return "n/a";
        }
    }

    private static bool IsDebug()
    {
#if DEBUG
        return true;
#else
        return false;
#endif
    }

    [GeneratedRegex(@"\d+")]
    private static partial Regex Digits();
}
