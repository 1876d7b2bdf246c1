using System.Runtime.InteropServices;

namespace ResearchAssistant.SearchBenchmarks;

/// <summary>
/// CPU time used by this process (getrusage, microsecond resolution). On a shared machine a call's wall-clock time
/// includes waiting for a core; its CPU time does not. SQLite runs inside the process, so for SQLite calls this is the
/// work itself (plus anything the runtime did meanwhile); for PostgreSQL it is only the client's part.
/// </summary>
internal static partial class CpuTime
{
    private const int RusageSelf = 0;

    public static TimeSpan Now()
    {
        if (!OperatingSystem.IsLinux() || getrusage(RusageSelf, out var usage) != 0)
        {
            return TimeSpan.Zero;
        }
        return TimeSpan.FromMicroseconds(usage.UserSeconds * 1_000_000 + usage.UserMicroseconds + usage.SystemSeconds * 1_000_000 + usage.SystemMicroseconds);
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int getrusage(int who, out RUsage usage);

    // struct rusage on 64-bit Linux: two timevals (long, long), then 14 longs this driver does not read.
    [StructLayout(LayoutKind.Sequential)]
    private struct RUsage
    {
        public long UserSeconds;
        public long UserMicroseconds;
        public long SystemSeconds;
        public long SystemMicroseconds;
        public long MaxRss, IxRss, IdRss, IsRss, MinFlt, MajFlt, NSwap, InBlock, OuBlock, MsgSnd, MsgRcv, NSignals, NvCsw, NivCsw;
    }
}
