namespace ResearchAssistant.Core.Context;

/// <summary>The <c>Context</c> configuration section: how much of the model's window a prompt may use.</summary>
public sealed class ContextOptions
{
    public const string Section = "Context";

    /// <summary>The model's context window as far as this app may use it: prompt plus answer.</summary>
    public int MaxPromptTokens { get; set; } = 8_000;
    /// <summary>Kept free for the answer; the prompt gets the rest.</summary>
    public int ReservedForAnswer { get; set; } = 1_000;
    /// <summary>Share of what is left after system prompt, preferences and question that recent messages may take
    /// before summaries and recall get their turn; whatever those leave unused goes back to recent messages.</summary>
    public double RecentShare { get; set; } = 0.6;
    /// <summary>Most recent messages read per turn, whatever the budget: keeps a turn's cost O(window).</summary>
    public int MaxRecentMessages { get; set; } = 120;
    /// <summary>How many older messages recall may add.</summary>
    public int MaxRecalled { get; set; } = 5;
    /// <summary>Summarize once the messages older than the recent window and not yet summarized pass this many tokens.</summary>
    public int SummarizeAfterTokens { get; set; } = 1_500;
    /// <summary>Longest summary kept; older content is compressed further to stay under it.</summary>
    public int MaxSummaryTokens { get; set; } = 600;

    public int PromptBudget => Math.Max(0, MaxPromptTokens - ReservedForAnswer);
}
