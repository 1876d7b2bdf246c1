namespace ResearchAssistant.Core.Llm;

/// <summary>The one seam to a language model: a prompt in, text deltas and a final usage out.</summary>
public interface IChatModel
{
    /// <summary>Recorded as the author of the answers it writes.</summary>
    string Name { get; }

    /// <summary>
    /// Streams the answer. Failures the user should read surface as <see cref="ModelException"/>;
    /// cancellation surfaces as <see cref="OperationCanceledException"/>.
    /// </summary>
    IAsyncEnumerable<ModelUpdate> StreamAsync(ModelPrompt prompt, CancellationToken cancellationToken);
}

public enum PromptRole
{
    System,
    User,
    Assistant,
}

public sealed record PromptMessage(PromptRole Role, string Text)
{
    /// <summary>
    /// For a system message that recalls an earlier message of the user (context recall): that message's own text. Not
    /// sent anywhere; the offline model quotes it as something the user wrote before.
    /// </summary>
    public string? RecalledUserText { get; init; }
}

public sealed record ModelPrompt(IReadOnlyList<PromptMessage> Messages)
{
    public PromptMessage? LastUserMessage => Messages.LastOrDefault(m => m.Role == PromptRole.User);
}

/// <summary>Either a piece of answer text or, once, the token usage the provider reported.</summary>
public readonly record struct ModelUpdate(string? Delta, ModelUsage? Usage)
{
    public static ModelUpdate Text(string delta) => new(delta, null);
    public static ModelUpdate Final(ModelUsage usage) => new(null, usage);
}

public sealed record ModelUsage(int InputTokens, int OutputTokens);

/// <summary>A model failure with a reason written for the person waiting for the answer.</summary>
public sealed class ModelException(string reason, Exception? inner = null) : Exception(reason, inner);
