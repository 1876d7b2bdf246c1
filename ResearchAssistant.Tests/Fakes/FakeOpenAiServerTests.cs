using System.ClientModel;
using System.Net.Sockets;
using OpenAI;
using OpenAI.Chat;
using ResearchAssistant.Testing;
using ResearchAssistant.Tests.Support;

namespace ResearchAssistant.Tests.Fakes;

/// <summary>
/// The fake is only worth something if the real SDK accepts what it sends; these tests talk to it with the bare
/// OpenAI SDK (no Core code in between), so a wire-format mistake shows up here and not as a puzzling Core failure.
/// </summary>
public sealed class FakeOpenAiServerTests
{
    private static ChatClient ClientFor(FakeOpenAiServer server, string model = "fake-model") =>
        new(model, new ApiKeyCredential("sk-test"), new OpenAIClientOptions
        {
            Endpoint = server.Endpoint,
            RetryPolicy = new System.ClientModel.Primitives.ClientRetryPolicy(0),
        });

    [Fact]
    public async Task The_SDK_streams_the_tokens_then_a_stop_finish_reason_and_the_usage()
    {
        await using var server = await FakeOpenAiServer.StartAsync();
        server.Behavior = new FakeBehavior { Tokens = ["One", " two", " three"], TokenDelay = TimeSpan.Zero };

        var texts = new List<string>();
        ChatFinishReason? finish = null;
        ChatTokenUsage? usage = null;
        await foreach (var update in ClientFor(server).CompleteChatStreamingAsync([new UserChatMessage("count to three please")]))
        {
            texts.AddRange(update.ContentUpdate.Select(p => p.Text));
            finish ??= update.FinishReason;
            usage ??= update.Usage;
        }

        Assert.Equal(["One", " two", " three"], texts);
        Assert.Equal(ChatFinishReason.Stop, finish);
        Assert.NotNull(usage);
        Assert.Equal(3, usage.OutputTokenCount);
        Assert.Equal(4, usage.InputTokenCount); // the fake counts the prompt's words
        Assert.Equal(usage.InputTokenCount + usage.OutputTokenCount, usage.TotalTokenCount);
    }

    [Fact]
    public async Task A_non_streaming_completion_is_answered_too()
    {
        await using var server = await FakeOpenAiServer.StartAsync();
        server.Behavior = new FakeBehavior { Tokens = ["Plain", " answer"], TokenDelay = TimeSpan.Zero };

        ChatCompletion completion = await ClientFor(server).CompleteChatAsync([new UserChatMessage("hi")]);

        Assert.Equal("Plain answer", completion.Content[0].Text);
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
    }

    [Fact]
    public async Task A_request_records_the_requests_still_being_answered_when_it_arrived()
    {
        await using var server = await FakeOpenAiServer.StartAsync();
        server.Behavior = new FakeBehavior { Hang = true };
        var client = ClientFor(server);
        using var cancel = new CancellationTokenSource();
        var hanging = Task.Run(async () =>
        {
            await foreach (var _ in client.CompleteChatStreamingAsync([new UserChatMessage("first")], cancellationToken: cancel.Token))
            {
            }
        });
        await Wait.UntilAsync(() => server.Requests.Count == 1, "the first request to arrive");

        server.Behavior = new FakeBehavior { TokenDelay = TimeSpan.Zero };
        await foreach (var _ in client.CompleteChatStreamingAsync([new UserChatMessage("second, while the first hangs")]))
        {
        }
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => hanging);
        await Wait.UntilAsync(() => server.InFlight.Count == 0, "the server to see the first request go");
        await foreach (var _ in client.CompleteChatStreamingAsync([new UserChatMessage("third, after both")]))
        {
        }

        var requests = server.Requests;
        Assert.Empty(requests[0].InFlightOnArrival);
        Assert.Equal("first", Assert.Single(requests[1].InFlightOnArrival).Messages[^1].Content);
        Assert.Empty(requests[2].InFlightOnArrival);
    }

    [Fact]
    public async Task Requests_are_recorded_with_path_headers_model_and_messages()
    {
        await using var server = await FakeOpenAiServer.StartAsync();
        server.Behavior = new FakeBehavior { TokenDelay = TimeSpan.Zero };

        await foreach (var _ in ClientFor(server, "my-model").CompleteChatStreamingAsync(
            [new SystemChatMessage("be brief"), new UserChatMessage("first"), new AssistantChatMessage("reply"), new UserChatMessage("second")]))
        {
        }

        var request = Assert.Single(server.Requests);
        Assert.Equal("/v1/chat/completions", request.Path);
        Assert.Equal("my-model", request.Model);
        Assert.Equal("Bearer sk-test", request.Headers["authorization"]);
        Assert.Equal([("system", "be brief"), ("user", "first"), ("assistant", "reply"), ("user", "second")], request.Messages);
        Assert.Contains("\"include_usage\":true", request.Body);
    }

    [Fact]
    public async Task Respond_computes_the_answer_from_the_request()
    {
        await using var server = await FakeOpenAiServer.StartAsync();
        server.Behavior = new FakeBehavior { TokenDelay = TimeSpan.Zero, Respond = r => ["You said: ", r.Messages[^1].Content] };

        var text = "";
        await foreach (var update in ClientFor(server).CompleteChatStreamingAsync([new UserChatMessage("echo me")]))
        {
            text += string.Concat(update.ContentUpdate.Select(p => p.Text));
        }

        Assert.Equal("You said: echo me", text);
    }

    [Fact]
    public async Task A_failure_status_reaches_the_SDK_as_that_status()
    {
        await using var server = await FakeOpenAiServer.StartAsync();
        server.Behavior = new FakeBehavior { FailWithStatus = 429 };

        var ex = await Assert.ThrowsAsync<ClientResultException>(async () =>
        {
            await foreach (var _ in ClientFor(server).CompleteChatStreamingAsync([new UserChatMessage("hi")]))
            {
            }
        });

        Assert.Equal(429, ex.Status);
        Assert.Contains("Rate limit", ex.Message);
    }

    [Fact]
    public async Task A_cut_stream_delivers_the_first_tokens_then_fails()
    {
        await using var server = await FakeOpenAiServer.StartAsync();
        server.Behavior = new FakeBehavior { Tokens = ["a", "b", "c", "d"], TokenDelay = TimeSpan.Zero, CutAfterTokens = 2 };

        var texts = new List<string>();
        var ex = await Record.ExceptionAsync(async () =>
        {
            await foreach (var update in ClientFor(server).CompleteChatStreamingAsync([new UserChatMessage("hi")]))
            {
                texts.AddRange(update.ContentUpdate.Select(p => p.Text));
            }
        });

        Assert.NotNull(ex);
        Assert.Equal(["a", "b"], texts);
    }

    [Fact]
    public async Task Stopping_refuses_connections_and_restarting_on_the_same_port_serves_again()
    {
        var server = await FakeOpenAiServer.StartAsync();
        var port = server.Port;
        Assert.Equal(new Uri($"http://127.0.0.1:{port}/v1/"), server.Endpoint);
        await server.StopAsync();

        using var client = new TcpClient();
        var refused = await Assert.ThrowsAsync<SocketException>(() => client.ConnectAsync("127.0.0.1", port));
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);

        await using var restarted = await FakeOpenAiServer.StartAsync(port);
        restarted.Behavior = new FakeBehavior { Tokens = ["back"], TokenDelay = TimeSpan.Zero };
        var text = "";
        await foreach (var update in ClientFor(restarted).CompleteChatStreamingAsync([new UserChatMessage("hi")]))
        {
            text += string.Concat(update.ContentUpdate.Select(p => p.Text));
        }
        Assert.Equal("back", text);
        await server.DisposeAsync();
    }

    [Fact]
    public async Task Stopping_ends_a_hanging_request_instead_of_waiting_for_it()
    {
        var server = await FakeOpenAiServer.StartAsync();
        server.Behavior = new FakeBehavior { Hang = true };
        var reading = Task.Run(async () =>
        {
            await foreach (var _ in ClientFor(server).CompleteChatStreamingAsync([new UserChatMessage("hi")]))
            {
            }
        });
        await Wait.UntilAsync(() => server.Requests.Count == 1, "the request to reach the fake");

        await server.DisposeAsync();

        // The client sees the dropped connection as an error rather than hanging or a clean end.
        await Assert.ThrowsAnyAsync<Exception>(() => reading);
    }
}
