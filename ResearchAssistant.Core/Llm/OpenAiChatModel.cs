using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using OpenAI;
using OpenAI.Chat;

namespace ResearchAssistant.Core.Llm;

/// <summary>
/// Any OpenAI-compatible chat completions endpoint (Azure OpenAI v1, OpenAI, Ollama, vLLM) through the OpenAI SDK.
/// </summary>
public sealed class OpenAiChatModel : IChatModel
{
    private readonly ChatClient _client;
    private readonly TimeSpan _timeout;
    private readonly string _endpointForMessages;

    public OpenAiChatModel(LlmOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.Model))
        {
            throw new InvalidOperationException("Llm:Model must name the model (or Azure deployment) to use.");
        }

        var clientOptions = new OpenAIClientOptions
        {
            // The SDK's own retries cover 429 and 5xx before any token arrives.
            RetryPolicy = new ClientRetryPolicy(Math.Max(0, options.MaxRetries)),
            NetworkTimeout = TimeSpan.FromSeconds(Math.Max(1, options.TimeoutSeconds)),
        };
        if (!string.IsNullOrWhiteSpace(options.Endpoint))
        {
            clientOptions.Endpoint = new Uri(options.Endpoint);
        }

        var key = string.IsNullOrEmpty(options.ApiKey) ? "not-needed" : options.ApiKey;
        if (!string.IsNullOrWhiteSpace(options.ApiKeyHeader))
        {
            // Last before the transport, so it sees (and removes) the Authorization header the SDK added.
            clientOptions.AddPolicy(new ApiKeyHeaderPolicy(options.ApiKeyHeader, key), PipelinePosition.BeforeTransport);
        }

        _client = new ChatClient(options.Model, new ApiKeyCredential(key), clientOptions);
        _timeout = TimeSpan.FromSeconds(Math.Max(1, options.TimeoutSeconds));
        _endpointForMessages = clientOptions.Endpoint?.GetLeftPart(UriPartial.Authority) ?? "the OpenAI API";
        Name = options.Model;
    }

    public string Name { get; }

    public async IAsyncEnumerable<ModelUpdate> StreamAsync(ModelPrompt prompt, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var messages = prompt.Messages.Select(ToSdkMessage).ToList();
        // A stalled stream must not hold the session's turn forever: the window restarts at every update.
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        idle.CancelAfter(_timeout);

        var options = new ChatCompletionOptions();
        await using var updates = Wrap(() => _client.CompleteChatStreamingAsync(messages, options, idle.Token).GetAsyncEnumerator(idle.Token), cancellationToken);
        while (true)
        {
            StreamingChatCompletionUpdate update;
            try
            {
                if (!await updates.MoveNextAsync())
                {
                    yield break;
                }
                update = updates.Current;
            }
            catch (Exception ex) when (ex is not ModelException)
            {
                throw Classify(ex, cancellationToken);
            }

            idle.CancelAfter(_timeout);
            foreach (var part in update.ContentUpdate)
            {
                if (!string.IsNullOrEmpty(part.Text))
                {
                    yield return ModelUpdate.Text(part.Text);
                }
            }
            if (update.Usage is { } usage)
            {
                yield return ModelUpdate.Final(new ModelUsage(usage.InputTokenCount, usage.OutputTokenCount));
            }
        }
    }

    private static IAsyncEnumerator<StreamingChatCompletionUpdate> Wrap(
        Func<IAsyncEnumerator<StreamingChatCompletionUpdate>> start, CancellationToken cancellationToken)
    {
        try
        {
            return start();
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            throw new ModelException("The model request could not be started: " + ex.Message, ex);
        }
    }

    private static ChatMessage ToSdkMessage(PromptMessage message) => message.Role switch
    {
        PromptRole.System => new SystemChatMessage(message.Text),
        PromptRole.Assistant => new AssistantChatMessage(message.Text),
        _ => new UserChatMessage(message.Text),
    };

    /// <summary>Turns transport and HTTP failures into a reason a person can act on.</summary>
    private Exception Classify(Exception ex, CancellationToken callerToken)
    {
        if (callerToken.IsCancellationRequested && ex is OperationCanceledException)
        {
            return ex; // the user pressed Stop: not a failure
        }

        return ex switch
        {
            ClientResultException { Status: 401 or 403 } =>
                new ModelException($"The model endpoint refused the API key (HTTP {((ClientResultException)ex).Status}). Check Llm:ApiKey.", ex),
            ClientResultException { Status: 404 } =>
                new ModelException($"The model endpoint does not know the model '{Name}' (HTTP 404). Check Llm:Model and Llm:Endpoint.", ex),
            ClientResultException { Status: 429 } =>
                new ModelException("The model endpoint is rate limiting requests (HTTP 429). Wait a moment and retry.", ex),
            ClientResultException { Status: >= 500 } cre =>
                new ModelException($"The model endpoint had an internal error (HTTP {cre.Status}). Retry in a moment.", ex),
            ClientResultException { Status: > 0 } cre =>
                new ModelException($"The model endpoint rejected the request (HTTP {cre.Status}).", ex),
            OperationCanceledException or TimeoutException =>
                new ModelException($"The model did not answer within {_timeout.TotalSeconds:0} second{(_timeout.TotalSeconds == 1 ? "" : "s")}. Retry, or raise Llm:TimeoutSeconds for a slow model.", ex),
            // A reset mid-stream is an IOException wrapping a SocketException: that is a dropped answer, not an
            // unreachable endpoint, so the IOException test must cover the socket case as well.
            _ when (HasInner<SocketException>(ex) || HasInner<HttpRequestException>(ex)) && !HasInner<IOException>(ex) =>
                new ModelException($"Could not reach the model endpoint at {_endpointForMessages}. Is it running?", ex),
            _ when HasInner<IOException>(ex) || ex is System.Text.Json.JsonException =>
                new ModelException("The connection to the model dropped in the middle of the answer.", ex),
            _ => new ModelException("The model request failed: " + ex.Message, ex),
        };
    }

    private static bool HasInner<T>(Exception? ex) where T : Exception
    {
        for (; ex is not null; ex = ex.InnerException)
        {
            if (ex is T)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Sends the key in a custom header (Azure's "api-key", some gateways) instead of Authorization.</summary>
    private sealed class ApiKeyHeaderPolicy(string header, string key) : PipelinePolicy
    {
        public override void Process(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex)
        {
            Apply(message);
            ProcessNext(message, pipeline, currentIndex);
        }

        public override ValueTask ProcessAsync(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex)
        {
            Apply(message);
            return ProcessNextAsync(message, pipeline, currentIndex);
        }

        private void Apply(PipelineMessage message)
        {
            message.Request.Headers.Set(header, key);
            message.Request.Headers.Remove("Authorization");
        }
    }
}
