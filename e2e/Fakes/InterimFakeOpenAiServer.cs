// INTERIM: a stand-in with the agreed API of ResearchAssistant.Tests/Fakes/FakeOpenAiServer.cs (branch tests-core),
// used only while that file does not exist (see the csproj). Delete once tests-core is merged.
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ResearchAssistant.Testing;

public sealed record FakeBehavior
{
    public IReadOnlyList<string> Tokens { get; init; } = ["Hello", " from", " the", " fake", " model."];
    public TimeSpan TokenDelay { get; init; } = TimeSpan.FromMilliseconds(20);
    public int? FailWithStatus { get; init; }
    public int? CutAfterTokens { get; init; }
    public bool Hang { get; init; }
    public Func<FakeRequest, IReadOnlyList<string>>? Respond { get; init; }
}

public sealed record FakeRequest(string Path, string Body, string? Authorization);

public sealed class FakeOpenAiServer : IAsyncDisposable
{
    private readonly List<FakeRequest> _requests = [];
    private WebApplication? _app;

    private FakeOpenAiServer() { }

    public int Port { get; private set; }
    public Uri Endpoint => new($"http://127.0.0.1:{Port}/v1/");
    public FakeBehavior Behavior { get; set; } = new();
    public IReadOnlyList<FakeRequest> Requests { get { lock (_requests) return _requests.ToArray(); } }

    public static async Task<FakeOpenAiServer> StartAsync(int port = 0)
    {
        var server = new FakeOpenAiServer();
        await server.ListenAsync(port);
        return server;
    }

    private async Task ListenAsync(int port)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().UseUrls($"http://127.0.0.1:{port}");
        builder.Services.AddRoutingCore();
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.MapPost("/v1/chat/completions", HandleAsync);
        await app.StartAsync();
        Port = new Uri(app.Urls.First()).Port;
        _app = app;
    }

    public async Task StopAsync()
    {
        if (_app is null) return;
        var app = _app;
        _app = null;
        using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2))) await app.StopAsync(cts.Token);
        await app.DisposeAsync();
    }

    public ValueTask DisposeAsync() => new(StopAsync());

    private async Task HandleAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body);
        var body = await reader.ReadToEndAsync();
        var request = new FakeRequest(context.Request.Path, body, context.Request.Headers.Authorization.ToString());
        lock (_requests) _requests.Add(request);
        var behavior = Behavior;
        var ct = context.RequestAborted;

        if (behavior.Hang)
        {
            await Task.Delay(Timeout.Infinite, ct).ContinueWith(_ => { });
            return;
        }
        if (behavior.FailWithStatus is int status)
        {
            context.Response.StatusCode = status;
            await context.Response.WriteAsJsonAsync(new { error = new { message = $"fake failure {status}", type = "fake_error" } });
            return;
        }

        var tokens = behavior.Respond?.Invoke(request) ?? behavior.Tokens;
        context.Response.ContentType = "text/event-stream";
        var sent = 0;
        foreach (var token in tokens)
        {
            if (behavior.CutAfterTokens is int cut && sent >= cut)
            {
                context.Abort();
                return;
            }
            await WriteEventAsync(context, Chunk(new { role = "assistant", content = token }, null), ct);
            sent++;
            await Task.Delay(behavior.TokenDelay, ct);
        }
        await WriteEventAsync(context, Chunk(new { }, "stop"), ct);
        await WriteEventAsync(context, JsonSerializer.Serialize(new
        {
            id = "chatcmpl-fake", @object = "chat.completion.chunk", created = 0, model = "fake-model", choices = Array.Empty<object>(),
            usage = new { prompt_tokens = 10, completion_tokens = sent, total_tokens = 10 + sent },
        }), ct);
        await context.Response.WriteAsync("data: [DONE]\n\n", ct);
    }

    private static string Chunk(object delta, string? finishReason) => JsonSerializer.Serialize(new
    {
        id = "chatcmpl-fake", @object = "chat.completion.chunk", created = 0, model = "fake-model",
        choices = new[] { new { index = 0, delta, finish_reason = finishReason } },
    });

    private static async Task WriteEventAsync(HttpContext context, string json, CancellationToken ct)
    {
        await context.Response.WriteAsync($"data: {json}\n\n", ct);
        await context.Response.Body.FlushAsync(ct);
    }
}
