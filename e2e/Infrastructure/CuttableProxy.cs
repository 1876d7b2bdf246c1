using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace ResearchAssistant.E2E.Infrastructure;

/// <summary>
/// A loopback TCP relay in front of the app whose connections can be cut, like a phone losing its network: Chromium's
/// offline emulation leaves an open WebSocket alone, so a dropped circuit connection has to be made on the wire.
/// While cut, new connections are closed at once (the browser's reconnect attempts fail as they would offline).
/// </summary>
public sealed class CuttableProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly ConcurrentDictionary<TcpClient, TcpClient> _open = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly int _targetPort;
    private volatile bool _cut;

    private CuttableProxy(int targetPort) => _targetPort = targetPort;

    public Uri BaseUrl => new($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/");

    public static CuttableProxy Start(Uri target)
    {
        var proxy = new CuttableProxy(target.Port);
        proxy._listener.Start();
        _ = proxy.AcceptLoopAsync();
        return proxy;
    }

    /// <summary>Drops every open connection and refuses new ones until <see cref="Restore"/>.</summary>
    public void Cut()
    {
        _cut = true;
        foreach (var (client, server) in _open)
        {
            client.Dispose();
            server.Dispose();
        }
        _open.Clear();
    }

    public void Restore() => _cut = false;

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            if (_cut)
            {
                client.Dispose();
                continue;
            }
            _ = RelayAsync(client);
        }
    }

    private async Task RelayAsync(TcpClient client)
    {
        var server = new TcpClient();
        try
        {
            await server.ConnectAsync(IPAddress.Loopback, _targetPort, _stop.Token);
            _open[client] = server;
            var up = client.GetStream().CopyToAsync(server.GetStream(), _stop.Token);
            var down = server.GetStream().CopyToAsync(client.GetStream(), _stop.Token);
            await Task.WhenAny(up, down);
        }
        catch (Exception)
        {
            // A cut, or either side closing: both ends are closed below either way.
        }
        finally
        {
            _open.TryRemove(client, out _);
            client.Dispose();
            server.Dispose();
        }
    }

    public ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        Cut();
        _stop.Dispose();
        return ValueTask.CompletedTask;
    }
}
