using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing;

namespace ResearchAssistant.Tests.Web;

/// <summary>The memory endpoint the sync benchmark reads: off by default, and when on, for this machine only.</summary>
public sealed class MemoryDiagnosticsTests : IAsyncLifetime
{
    private const string Path = "/diagnostics/memory";
    private readonly AppFactory _app = new();

    [Fact]
    public async Task It_is_not_there_unless_turned_on()
    {
        var context = await GetAsync(_app, IPAddress.Loopback);

        Assert.Equal(StatusCodes.Status404NotFound, context.Response.StatusCode);
    }

    [Fact]
    public async Task Turned_on_it_reports_the_heap_to_this_machine_only()
    {
        await using var app = _app.WithWebHostBuilder(b => b.UseSetting("Diagnostics:MemoryEndpoint", "true"));

        var local = await GetAsync(app, IPAddress.Loopback);
        var remote = await GetAsync(app, IPAddress.Parse("192.0.2.10"));
        var relayed = await GetAsync(app, IPAddress.Loopback, forwardedFor: "192.0.2.10");

        Assert.Equal(StatusCodes.Status200OK, local.Response.StatusCode);
        using var report = await JsonDocument.ParseAsync(local.Response.Body);
        Assert.True(report.RootElement.GetProperty("managedBytes").GetInt64() > 0);
        Assert.True(report.RootElement.GetProperty("workingSetBytes").GetInt64() > 0);
        Assert.Equal(StatusCodes.Status404NotFound, remote.Response.StatusCode);
        Assert.Equal(StatusCodes.Status404NotFound, relayed.Response.StatusCode);
    }

    private static Task<HttpContext> GetAsync(WebApplicationFactory<Program> app, IPAddress from, string? forwardedFor = null) =>
        app.Server.SendAsync(context =>
        {
            context.Request.Method = HttpMethods.Get;
            context.Request.Path = Path;
            context.Connection.RemoteIpAddress = from;
            if (forwardedFor is not null)
            {
                context.Request.Headers["X-Forwarded-For"] = forwardedFor;
            }
        });

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _app.DisposeAsync();
}
