using System.Text.Json;
using System.Text.Json.Serialization;

namespace ResearchAssistant.Core.Context;

public enum ContextPartKind
{
    SystemPrompt,
    Preferences,
    Summary,
    Recalled,
    Recent,
}

/// <summary>One piece of a prompt: what it was, which messages it came from, and what it cost.</summary>
public sealed record ContextPart(ContextPartKind Kind, int Tokens, Guid? MessageId = null, long? FromSeq = null, long? ToSeq = null, int MessageCount = 0);

/// <summary>
/// What was sent to the model for one answer, stored with the answer so the context inspector can show it later.
/// Ids, positions and token counts only: no content, so it is stored as is.
/// </summary>
public sealed record ContextPlan(int Budget, int TotalTokens, IReadOnlyList<ContextPart> Parts, int DroppedRecentMessages)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    // Value equality, parts included: the same plan read twice is the same plan (views are compared by value).
    public bool Equals(ContextPlan? other) =>
        other is not null && Budget == other.Budget && TotalTokens == other.TotalTokens
        && DroppedRecentMessages == other.DroppedRecentMessages && Parts.SequenceEqual(other.Parts);

    public override int GetHashCode() => HashCode.Combine(Budget, TotalTokens, DroppedRecentMessages, Parts.Count);

    public static ContextPlan? FromJson(string? json) => string.IsNullOrEmpty(json) ? null : JsonSerializer.Deserialize<ContextPlan>(json, Json);
}

/// <summary>The prompt for a turn and the plan that explains it.</summary>
public sealed record AssembledContext(Llm.ModelPrompt Prompt, ContextPlan Plan);

/// <summary>The question alone does not fit the prompt budget: no answer can be written for it.</summary>
public sealed class ContextTooLargeException(string message) : Exception(message);
