using System.Diagnostics;
using System.Net;

namespace ResearchAssistant.Web.Hosting;

/// <summary>
/// <c>GET /diagnostics/memory</c>: the server's managed heap after a full, blocking, compacting collection, and its
/// working set, for the memory benchmark (benchmarks/ResearchAssistant.SyncBenchmarks measures what an open circuit
/// costs). Mapped only when <c>Diagnostics:MemoryEndpoint</c> is true, and then it answers only requests made on this
/// machine directly (a loopback address and no forwarding headers); anyone else gets 404. Each call stalls the server
/// for a full collection, so it is for benchmarking, never for production.
/// </summary>
internal static class MemoryDiagnosticsEndpoint
{
    public const string ConfigurationKey = "Diagnostics:MemoryEndpoint";
    public const string Path = "/diagnostics/memory";

    public static WebApplication MapMemoryDiagnostics(this WebApplication app)
    {
        if (!app.Configuration.GetValue<bool>(ConfigurationKey))
        {
            return app;
        }
        app.MapGet(Path, (HttpContext context) =>
        {
            if (!IsLocal(context))
            {
                return Results.NotFound();
            }
            // Twice, with the finalizers in between: what the finalizers release is collected by the second pass.
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
            var managed = GC.GetTotalMemory(forceFullCollection: false);
            using var process = Process.GetCurrentProcess();
            var info = GC.GetGCMemoryInfo();
            // Generation 4 is the pinned object heap: Kestrel's and SignalR's pooled buffers, which grow and shrink
            // with traffic rather than with what is open.
            var pinned = info.GenerationInfo.Length > 4 ? info.GenerationInfo[4].SizeAfterBytes : 0;
            return Results.Json(new MemoryReport(managed, info.HeapSizeBytes, process.WorkingSet64, process.PrivateMemorySize64, pinned));
        }).AllowAnonymous().ExcludeFromDescription();
        return app;
    }

    /// <summary>From this machine, not relayed: a reverse proxy on the same host connects from loopback too, but says for whom.</summary>
    private static bool IsLocal(HttpContext context) =>
        context.Connection.RemoteIpAddress is { } address && IPAddress.IsLoopback(address)
        && !context.Request.Headers.ContainsKey("X-Forwarded-For") && !context.Request.Headers.ContainsKey("Forwarded");

    /// <param name="ManagedBytes">GC.GetTotalMemory after the collections: live managed objects.</param>
    /// <param name="HeapSizeBytes">The GC heap including fragmentation, as of the last collection.</param>
    /// <param name="WorkingSetBytes">The process's resident memory (RSS).</param>
    /// <param name="PrivateBytes">The process's private memory.</param>
    /// <param name="PinnedHeapBytes">The pinned object heap after the collections (pooled I/O buffers), part of HeapSizeBytes.</param>
    private sealed record MemoryReport(long ManagedBytes, long HeapSizeBytes, long WorkingSetBytes, long PrivateBytes, long PinnedHeapBytes);
}
