using ResearchAssistant.Core.Llm;
using ResearchAssistant.Testing;
using ResearchAssistant.Tests.Support;

namespace ResearchAssistant.Tests.Llm;

/// <summary>
/// The production client (OpenAI SDK underneath) against the fake endpoint: what it sends, what it yields, and how each
/// kind of failure reaches the person waiting for an answer.
/// </summary>
public sealed class OpenAiChatModelTests : IAsyncLifetime
{
    private static readonly ModelPrompt Prompt = new(
    [
        new PromptMessage(PromptRole.System, "You are terse."),
        new PromptMessage(PromptRole.User, "What is the capital of France?"),
        new PromptMessage(PromptRole.Assistant, "Paris."),
        new PromptMessage(PromptRole.User, "And of Italy?"),
    ]);

    private FakeOpenAiServer _server = null!;

    public async Task InitializeAsync() => _server = await FakeOpenAiServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private OpenAiChatModel Model(Action<LlmOptions>? configure = null)
    {
        var options = new LlmOptions
        {
            Provider = LlmProvider.OpenAI,
            Endpoint = _server.Endpoint.ToString(),
            Model = "fake-model",
            ApiKey = "sk-secret",
            // Failure tests must fail at once, not after the SDK's back-off.
            MaxRetries = 0,
            TimeoutSeconds = 15,
        };
        configure?.Invoke(options);
        return new OpenAiChatModel(options);
    }

    private static async Task<(List<string> Deltas, List<ModelUsage> Usages)> CollectAsync(IChatModel model, CancellationToken ct = default)
    {
        var deltas = new List<string>();
        var usages = new List<ModelUsage>();
        await foreach (var update in model.StreamAsync(Prompt, ct))
        {
            if (update.Delta is { } delta)
            {
                deltas.Add(delta);
            }
            if (update.Usage is { } usage)
            {
                usages.Add(usage);
            }
        }
        return (deltas, usages);
    }

    [Fact]
    public async Task Streams_the_tokens_in_order_then_reports_the_usage_once()
    {
        string[] tokens = ["Rome", " is", " the", " capital", "."];
        _server.Behavior = new FakeBehavior { Tokens = tokens, TokenDelay = TimeSpan.FromMilliseconds(5) };

        var (deltas, usages) = await CollectAsync(Model());

        Assert.Equal(tokens, deltas);
        var usage = Assert.Single(usages);
        Assert.Equal(tokens.Length, usage.OutputTokens);
        var promptWords = Prompt.Messages.Sum(m => m.Text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Equal(promptWords, usage.InputTokens);
    }

    [Fact]
    public async Task Sends_the_prompt_with_roles_and_the_configured_model()
    {
        _server.Behavior = new FakeBehavior { TokenDelay = TimeSpan.Zero };

        await CollectAsync(Model(o => o.Model = "my-deployment"));

        var request = Assert.Single(_server.Requests);
        Assert.Equal("/v1/chat/completions", request.Path);
        Assert.Equal("my-deployment", request.Model);
        Assert.Equal(
            [("system", "You are terse."), ("user", "What is the capital of France?"), ("assistant", "Paris."), ("user", "And of Italy?")],
            request.Messages);
    }

    [Fact]
    public async Task Sends_the_key_as_a_bearer_token_by_default()
    {
        _server.Behavior = new FakeBehavior { TokenDelay = TimeSpan.Zero };

        await CollectAsync(Model());

        var request = Assert.Single(_server.Requests);
        Assert.Equal("Bearer sk-secret", request.Headers["Authorization"]);
        Assert.False(request.Headers.ContainsKey("api-key"));
    }

    [Fact]
    public async Task Sends_the_key_in_the_configured_header_and_no_Authorization()
    {
        _server.Behavior = new FakeBehavior { TokenDelay = TimeSpan.Zero };

        await CollectAsync(Model(o => o.ApiKeyHeader = "api-key"));

        var request = Assert.Single(_server.Requests);
        Assert.Equal("sk-secret", request.Headers["api-key"]);
        Assert.False(request.Headers.ContainsKey("Authorization"), "The key must not also travel as a bearer token.");
    }

    [Theory]
    [InlineData(401, "API key")]
    [InlineData(429, "rate limit")]
    [InlineData(500, "internal error")]
    public async Task An_HTTP_error_becomes_a_readable_ModelException_naming_the_status(int status, string explanation)
    {
        _server.Behavior = new FakeBehavior { FailWithStatus = status };

        var ex = await Assert.ThrowsAsync<ModelException>(() => CollectAsync(Model()));

        Assert.Contains($"HTTP {status}", ex.Message);
        Assert.Contains(explanation, ex.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task An_endpoint_that_is_not_listening_is_reported_as_unreachable()
    {
        var model = Model();
        await _server.StopAsync();

        var ex = await Assert.ThrowsAsync<ModelException>(() => CollectAsync(model));

        Assert.Contains("Could not reach the model endpoint", ex.Message);
        Assert.Contains($"127.0.0.1:{_server.Port}", ex.Message);
    }

    [Fact]
    public async Task A_stream_cut_mid_way_fails_after_the_tokens_that_arrived()
    {
        _server.Behavior = new FakeBehavior { Tokens = ["one", " two", " three", " four"], TokenDelay = TimeSpan.Zero, CutAfterTokens = 2 };
        var deltas = new List<string>();

        var ex = await Assert.ThrowsAsync<ModelException>(async () =>
        {
            await foreach (var update in Model().StreamAsync(Prompt, CancellationToken.None))
            {
                deltas.Add(update.Delta ?? "");
            }
        });

        Assert.Equal(["one", " two"], deltas);
        Assert.Contains("dropped", ex.Message);
    }

    [Fact]
    public async Task An_endpoint_that_never_answers_times_out_with_a_ModelException()
    {
        _server.Behavior = new FakeBehavior { Hang = true };

        var ex = await Assert.ThrowsAsync<ModelException>(() => CollectAsync(Model(o => o.TimeoutSeconds = 1)));

        Assert.Contains("did not answer within 1 second", ex.Message);
    }

    [Fact]
    public async Task Cancellation_by_the_caller_is_not_reported_as_a_model_failure()
    {
        _server.Behavior = new FakeBehavior { Tokens = [.. Enumerable.Repeat("word ", 200)], TokenDelay = TimeSpan.FromMilliseconds(50) };
        using var cancel = new CancellationTokenSource();
        var received = 0;

        var ex = await Record.ExceptionAsync(async () =>
        {
            await foreach (var update in Model().StreamAsync(Prompt, cancel.Token))
            {
                // Cancel mid-stream, once the answer is flowing: the case of a user pressing Stop.
                if (++received == 2)
                {
                    await cancel.CancelAsync();
                }
            }
        });

        Assert.IsAssignableFrom<OperationCanceledException>(ex);
        Assert.Equal(2, received);
    }

    [Fact]
    public async Task Cancellation_before_the_first_token_is_not_reported_as_a_model_failure()
    {
        _server.Behavior = new FakeBehavior { Hang = true };
        using var cancel = new CancellationTokenSource();
        var streaming = CollectAsync(Model(), cancel.Token);
        await Wait.UntilAsync(() => _server.Requests.Count == 1, "the request to reach the fake");

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => streaming);
    }
}
