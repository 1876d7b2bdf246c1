// A local, OpenAI-compatible chat completions server for tests. Self-contained on purpose: the e2e project
// compile-links this one file, so it depends on nothing but ASP.NET Core (no xunit, no project types) and states its
// own usings and nullable context instead of relying on the including project's settings.
#nullable enable

using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ResearchAssistant.Testing;

/// <summary>
/// Serves <c>POST {/v1}/chat/completions</c> like an OpenAI-compatible endpoint, streaming (server-sent events, with
/// a final usage chunk) or not, on 127.0.0.1. What it answers is set by <see cref="Behavior"/>, which can be swapped
/// at any time and applies to the requests that arrive afterwards; every request is recorded in <see cref="Requests"/>.
/// The real OpenAI SDK talks to it, so tests exercise the production client code, not a stub of it.
/// </summary>
public sealed class FakeOpenAiServer : IAsyncDisposable
{
    private readonly Lock _gate = new();
    private readonly List<FakeRequest> _requests = [];
    private readonly List<FakeRequest> _inFlight = [];
    // Cancelled by StopAsync: ends streams and hangs in flight, so stopping never waits on a request that never ends.
    private readonly CancellationTokenSource _stopping = new();
    private FakeBehavior _behavior = new();
    private WebApplication? _app;
    private Task? _stopped;
    private long _completionIds;

    private static readonly TimeSpan CutGrace = TimeSpan.FromMilliseconds(100);

    private FakeOpenAiServer()
    {
    }

    /// <summary>Starts listening on 127.0.0.1:<paramref name="port"/> (0 picks a free port). Restart a stopped server with its <see cref="Port"/>.</summary>
    public static async Task<FakeOpenAiServer> StartAsync(int port = 0)
    {
        var server = new FakeOpenAiServer();
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            // Production and a fixed application name: the including project's environment (Development, static web
            // assets, appsettings.json, ASPNETCORE_URLS) must not leak into the fake.
            EnvironmentName = "Production",
            ApplicationName = typeof(FakeOpenAiServer).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Configuration.Sources.Clear();
        builder.Logging.ClearProviders();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(5));
        builder.WebHost.ConfigureKestrel(o => o.Listen(IPAddress.Loopback, port));

        var app = builder.Build();
        app.Run(server.HandleAsync);
        await app.StartAsync();
        server._app = app;

        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.Port = new Uri(address).Port;
        server.Endpoint = new Uri($"http://127.0.0.1:{server.Port}/v1/");
        return server;
    }

    public int Port { get; private set; }

    /// <summary>The base URL to configure as the model endpoint (<c>Llm:Endpoint</c>).</summary>
    public Uri Endpoint { get; private set; } = null!;

    /// <summary>How the following requests are answered. Records are immutable, so swapping is a single atomic write.</summary>
    public FakeBehavior Behavior
    {
        get => Volatile.Read(ref _behavior);
        set => Volatile.Write(ref _behavior, value ?? throw new ArgumentNullException(nameof(value)));
    }

    /// <summary>A snapshot of the requests received so far, oldest first.</summary>
    public IReadOnlyList<FakeRequest> Requests
    {
        get
        {
            lock (_gate)
            {
                return _requests.ToArray();
            }
        }
    }

    /// <summary>The requests being answered right now (their last chunk not sent yet), oldest first.</summary>
    public IReadOnlyList<FakeRequest> InFlight
    {
        get
        {
            lock (_gate)
            {
                return _inFlight.ToArray();
            }
        }
    }

    /// <summary>Stops listening and aborts requests in flight; later connections are refused. Safe to call twice.</summary>
    public Task StopAsync()
    {
        lock (_gate)
        {
            return _stopped ??= StopCoreAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stopping.Dispose();
    }

    private async Task StopCoreAsync()
    {
        await _stopping.CancelAsync();
        if (_app is { } app)
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    private async Task HandleAsync(HttpContext context)
    {
        var request = await ReadRequestAsync(context);
        lock (_gate)
        {
            request = request with { InFlightOnArrival = _inFlight.ToArray() };
            _requests.Add(request);
            _inFlight.Add(request);
        }
        try
        {
            await AnswerAsync(context, request);
        }
        finally
        {
            Answered(request);
        }
    }

    /// <summary>No longer in flight: called before the last chunk goes out, so the client cannot be done before this.</summary>
    private void Answered(FakeRequest request)
    {
        lock (_gate)
        {
            _inFlight.RemoveAll(r => ReferenceEquals(r, request));
        }
    }

    private async Task AnswerAsync(HttpContext context, FakeRequest request)
    {
        var path = context.Request.Path.Value ?? "";
        if (!HttpMethods.IsPost(context.Request.Method) || path.TrimEnd('/') is not ("/v1/chat/completions" or "/chat/completions"))
        {
            await WriteErrorAsync(context, StatusCodes.Status404NotFound, "invalid_request_error", "unknown_url",
                $"Unrecognized request URL ({context.Request.Method} {path}). The fake serves POST /v1/chat/completions.");
            return;
        }

        // Read once: a swap during this request applies to the next one, not to half of this one.
        var behavior = Behavior;
        if (behavior.FailWithStatus is { } status)
        {
            await WriteFailureAsync(context, status);
            return;
        }

        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stopping.Token);
        try
        {
            if (behavior.Hang)
            {
                await StartEventStreamAsync(context, cancel.Token);
                await Task.Delay(Timeout.Infinite, cancel.Token);
                return;
            }

            var tokens = behavior.Respond?.Invoke(request) ?? behavior.Tokens;
            if (!IsStreaming(request.Body))
            {
                await WriteCompletionAsync(context, request, tokens, behavior.TokenDelay, cancel.Token);
                return;
            }
            await StreamAsync(context, request, tokens, behavior, cancel.Token);
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            // The client went away or the server is stopping: drop the connection rather than end the stream cleanly,
            // so a client never mistakes a cut-off answer for a complete one.
            context.Abort();
        }
    }

    private async Task StreamAsync(HttpContext context, FakeRequest request, IReadOnlyList<string> tokens, FakeBehavior behavior, CancellationToken ct)
    {
        var id = NextCompletionId();
        var created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var model = request.Model ?? "fake-model";
        await StartEventStreamAsync(context, ct);

        for (var i = 0; i < tokens.Count; i++)
        {
            if (behavior.CutAfterTokens is { } cut && i >= cut)
            {
                break;
            }
            if (i == behavior.PauseAfterTokens && behavior.Resume is { } resume)
            {
                await resume.WaitAsync(ct);
            }
            if (behavior.TokenDelay > TimeSpan.Zero)
            {
                await Task.Delay(behavior.TokenDelay, ct);
            }
            var delta = new JsonObject { ["content"] = tokens[i] };
            if (i == 0)
            {
                delta["role"] = "assistant";
            }
            await WriteEventAsync(context, Chunk(id, created, model, delta, finishReason: null, usage: null), ct);
        }

        if (behavior.CutAfterTokens is not null)
        {
            // A stream cut mid-way: no finish reason, no [DONE], the connection just drops. Kestrel discards output
            // still queued for the socket when a connection is aborted, so give the flushed tokens a moment to leave
            // first: the client must receive them, then see the connection drop.
            await Task.Delay(CutGrace, ct);
            context.Abort();
            return;
        }

        // The SDK asks for stream_options.include_usage, so the last chunk carries the finish reason and the usage.
        Answered(request);
        await WriteEventAsync(context, Chunk(id, created, model, new JsonObject(), "stop", Usage(request, tokens)), ct);
        await WriteEventAsync(context, "[DONE]", ct);
    }

    private async Task WriteCompletionAsync(HttpContext context, FakeRequest request, IReadOnlyList<string> tokens, TimeSpan tokenDelay, CancellationToken ct)
    {
        if (tokenDelay > TimeSpan.Zero)
        {
            await Task.Delay(tokenDelay * tokens.Count, ct);
        }
        var completion = new JsonObject
        {
            ["id"] = NextCompletionId(),
            ["object"] = "chat.completion",
            ["created"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            ["model"] = request.Model ?? "fake-model",
            ["choices"] = new JsonArray(new JsonObject
            {
                ["index"] = 0,
                ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = string.Concat(tokens), ["refusal"] = null },
                ["logprobs"] = null,
                ["finish_reason"] = "stop",
            }),
            ["usage"] = Usage(request, tokens),
        };
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(completion.ToJsonString(), ct);
    }

    private static async Task StartEventStreamAsync(HttpContext context, CancellationToken ct)
    {
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
        await context.Response.StartAsync(ct);
        await context.Response.Body.FlushAsync(ct);
    }

    private static async Task WriteEventAsync(HttpContext context, string data, CancellationToken ct)
    {
        await context.Response.WriteAsync("data: " + data + "\n\n", ct);
        await context.Response.Body.FlushAsync(ct);
    }

    private static string Chunk(string id, long created, string model, JsonObject delta, string? finishReason, JsonObject? usage) =>
        new JsonObject
        {
            ["id"] = id,
            ["object"] = "chat.completion.chunk",
            ["created"] = created,
            ["model"] = model,
            ["system_fingerprint"] = "fp_fake",
            ["choices"] = new JsonArray(new JsonObject
            {
                ["index"] = 0,
                ["delta"] = delta,
                ["logprobs"] = null,
                ["finish_reason"] = finishReason,
            }),
            ["usage"] = usage,
        }.ToJsonString();

    /// <summary>Word counts stand in for tokens: deterministic, and enough to tell prompts apart.</summary>
    private static JsonObject Usage(FakeRequest request, IReadOnlyList<string> tokens)
    {
        var prompt = request.Messages.Sum(m => m.Content.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length);
        return new JsonObject
        {
            ["prompt_tokens"] = prompt,
            ["completion_tokens"] = tokens.Count,
            ["total_tokens"] = prompt + tokens.Count,
        };
    }

    private static Task WriteFailureAsync(HttpContext context, int status) => status switch
    {
        401 => WriteErrorAsync(context, status, "invalid_request_error", "invalid_api_key", "Incorrect API key provided (fake server)."),
        403 => WriteErrorAsync(context, status, "invalid_request_error", "forbidden", "The API key may not use this model (fake server)."),
        404 => WriteErrorAsync(context, status, "invalid_request_error", "model_not_found", "The model does not exist (fake server)."),
        429 => WriteErrorAsync(context, status, "requests", "rate_limit_exceeded", "Rate limit reached (fake server)."),
        >= 500 => WriteErrorAsync(context, status, "server_error", null, $"The fake server failed on purpose (HTTP {status})."),
        _ => WriteErrorAsync(context, status, "invalid_request_error", null, $"The fake server rejected the request on purpose (HTTP {status})."),
    };

    private static async Task WriteErrorAsync(HttpContext context, int status, string type, string? code, string message)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        var body = new JsonObject
        {
            ["error"] = new JsonObject { ["message"] = message, ["type"] = type, ["param"] = null, ["code"] = code },
        };
        await context.Response.WriteAsync(body.ToJsonString());
    }

    private string NextCompletionId() => "chatcmpl-fake-" + Interlocked.Increment(ref _completionIds);

    private static async Task<FakeRequest> ReadRequestAsync(HttpContext context)
    {
        string body;
        using (var reader = new StreamReader(context.Request.Body, Encoding.UTF8))
        {
            body = await reader.ReadToEndAsync(context.RequestAborted);
        }
        var headers = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        var (messages, model) = ParseChatRequest(body);
        return new FakeRequest(context.Request.Path.Value ?? "", headers, body, messages, model);
    }

    private static (IReadOnlyList<(string Role, string Content)> Messages, string? Model) ParseChatRequest(string body)
    {
        var messages = new List<(string Role, string Content)>();
        try
        {
            using var json = JsonDocument.Parse(body);
            var root = json.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return (messages, null);
            }
            var model = root.TryGetProperty("model", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null;
            if (root.TryGetProperty("messages", out var list) && list.ValueKind == JsonValueKind.Array)
            {
                foreach (var message in list.EnumerateArray())
                {
                    var role = message.TryGetProperty("role", out var r) ? r.GetString() ?? "" : "";
                    var content = message.TryGetProperty("content", out var c) ? ContentText(c) : "";
                    messages.Add((role, content));
                }
            }
            return (messages, model);
        }
        catch (JsonException)
        {
            // Not JSON: still recorded (Body), so a test can see what was sent.
            return (messages, null);
        }
    }

    /// <summary>Content is either a string or an array of parts; only the text parts matter here.</summary>
    private static string ContentText(JsonElement content) => content.ValueKind switch
    {
        JsonValueKind.String => content.GetString() ?? "",
        JsonValueKind.Array => string.Concat(content.EnumerateArray()
            .Where(p => p.ValueKind == JsonValueKind.Object && p.TryGetProperty("text", out _))
            .Select(p => p.GetProperty("text").GetString())),
        _ => "",
    };

    private static bool IsStreaming(string body)
    {
        try
        {
            using var json = JsonDocument.Parse(body);
            return json.RootElement.ValueKind == JsonValueKind.Object
                && json.RootElement.TryGetProperty("stream", out var stream)
                && stream.ValueKind == JsonValueKind.True;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}

/// <summary>How <see cref="FakeOpenAiServer"/> answers. The defaults stream a short, complete answer.</summary>
public sealed record FakeBehavior
{
    public IReadOnlyList<string> Tokens { get; init; } = ["Hello", " from", " the", " fake", " model."];

    /// <summary>Pause before each token, so answers stream over time like a real model's.</summary>
    public TimeSpan TokenDelay { get; init; } = TimeSpan.FromMilliseconds(20);

    /// <summary>Answer with this HTTP status and an OpenAI-style JSON error body instead of a stream (e.g. 401, 429, 500).</summary>
    public int? FailWithStatus { get; init; }

    /// <summary>Drop the connection after this many tokens, without a finish reason or [DONE].</summary>
    public int? CutAfterTokens { get; init; }

    /// <summary>After this many tokens, wait for <see cref="Resume"/> to complete before sending the rest.</summary>
    public int? PauseAfterTokens { get; init; }

    /// <summary>What a stream paused by <see cref="PauseAfterTokens"/> waits for (the test completes it).</summary>
    public Task? Resume { get; init; }

    /// <summary>Send the stream's headers, then nothing, until the client gives up or the server stops.</summary>
    public bool Hang { get; init; }

    /// <summary>Computes the tokens from the request (e.g. to echo the question); overrides <see cref="Tokens"/>.</summary>
    public Func<FakeRequest, IReadOnlyList<string>>? Respond { get; init; }
}

/// <summary>A request the fake received: the raw body, plus the chat messages and model parsed from it.</summary>
public sealed record FakeRequest(
    string Path,
    IReadOnlyDictionary<string, string> Headers,
    string Body,
    IReadOnlyList<(string Role, string Content)> Messages,
    string? Model)
{
    /// <summary>
    /// The requests still being answered when this one arrived (their last chunk not yet sent): two requests overlapped
    /// exactly when one of them is in the other's list.
    /// </summary>
    public IReadOnlyList<FakeRequest> InFlightOnArrival { get; init; } = [];
}
