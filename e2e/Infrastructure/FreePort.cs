using System.Net;
using System.Net.Sockets;

namespace ResearchAssistant.E2E.Infrastructure;

public static class FreePort
{
    /// <summary>A loopback port nothing listens on right now (the OS picks it; the race until the app binds is tiny).</summary>
    public static int Get()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
