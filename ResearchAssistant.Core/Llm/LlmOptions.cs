namespace ResearchAssistant.Core.Llm;

public enum LlmProvider
{
    Offline,
    OpenAI,
}

/// <summary>The <c>Llm</c> configuration section.</summary>
public sealed class LlmOptions
{
    public const string Section = "Llm";

    public LlmProvider Provider { get; set; } = LlmProvider.Offline;
    /// <summary>Base URL of an OpenAI-compatible API, e.g. https://RESOURCE.openai.azure.com/openai/v1/ or http://localhost:11434/v1.</summary>
    public string? Endpoint { get; set; }
    /// <summary>Model (or Azure deployment) name.</summary>
    public string Model { get; set; } = "gpt-4o-mini";
    public string? ApiKey { get; set; }
    /// <summary>Header that carries the key when the server does not take "Authorization: Bearer" (e.g. "api-key").</summary>
    public string? ApiKeyHeader { get; set; }
    public string SystemPrompt { get; set; } =
        "You are ResearchAssistant, a careful research assistant. Answer clearly, say when you are unsure, and use Markdown.";
    /// <summary>How long to wait for the first token, and then between tokens, before giving up.</summary>
    public int TimeoutSeconds { get; set; } = 60;
    /// <summary>Retries the SDK makes on 429 and 5xx before the first token.</summary>
    public int MaxRetries { get; set; } = 2;
    /// <summary>Pause between the offline model's words, so its answer streams like a real one.</summary>
    public int OfflineDelayMilliseconds { get; set; } = 25;
}
