using ResearchAssistant.Core.Llm;
using ResearchAssistant.Core.Sessions;

namespace ResearchAssistant.Core.Context;

/// <summary>What the assembler may draw on for one turn, read by the turn runner.</summary>
/// <param name="Branch">The newest messages of the active branch, oldest first, ending with the question.</param>
/// <param name="HasOlder">Messages older than <paramref name="Branch"/> exist on the branch.</param>
public sealed record ContextSources(
    string? Preferences,
    IReadOnlyList<MessageView> Branch,
    bool HasOlder,
    Func<Guid, Task<BranchSummary?>> FindSummaryAbove,
    Func<Guid, IReadOnlySet<Guid>, Task<IReadOnlyList<MessageView>>> RecallAbove);

/// <summary>
/// Builds the prompt within <see cref="ContextOptions.PromptBudget"/> tokens, by priority: the system prompt, the
/// user's preferences, the newest messages of the active branch, a summary of the older part, and older messages
/// recalled for their relevance to the question. What does not fit is dropped in reverse priority. The work is
/// bounded by the window read (<see cref="ContextOptions.MaxRecentMessages"/>), never by the session's length.
/// </summary>
public sealed class ContextAssembler(LlmOptions llm, ContextOptions options, ITokenCounter counter)
{
    /// <summary>Sent after an interrupted answer's text when the user asks to continue it.</summary>
    public const string ContinueInstruction =
        "Your previous answer was cut off. Continue it exactly where it stopped, without repeating what you already wrote.";

    public ContextOptions Options => options;

    /// <summary>Tokens a text costs as one prompt message for <paramref name="model"/>.</summary>
    public int Cost(string model, string text) => counter.Count(model, text) + EstimatingTokenCounter.PerMessageOverhead;

    /// <summary>Refuses a question that could not be sent even with nothing but the system prompt.</summary>
    public void EnsureFits(string model, string question)
    {
        var needed = Cost(model, llm.SystemPrompt) + Cost(model, question);
        if (needed > options.PromptBudget)
        {
            throw new ContextTooLargeException(
                $"This message is about {needed - Cost(model, llm.SystemPrompt):N0} tokens; with the system prompt it needs {needed:N0}, " +
                $"but a prompt may use at most {options.PromptBudget:N0} ({options.MaxPromptTokens:N0} for the model's window minus " +
                $"{options.ReservedForAnswer:N0} kept for the answer). Shorten it or split it into parts.");
        }
    }

    /// <summary>
    /// Whether messages older than <paramref name="branch"/> (oldest first, ending with the question) could still
    /// change the prompt. They cannot once the messages above the question already cost more than the whole budget:
    /// the recent window is filled newest first and stops at the first message that does not fit, so it would stop
    /// inside this part. Lets a turn read a small window first and more only when the budget could use it.
    /// </summary>
    public bool CouldUseOlderThan(string model, IReadOnlyList<MessageView> branch)
    {
        var tokens = 0;
        for (var i = branch.Count - 2; i >= 0; i--)
        {
            if (Sendable(branch[i]))
            {
                tokens += Cost(model, branch[i].Text);
                if (tokens > options.PromptBudget)
                {
                    return false;
                }
            }
        }
        return true;
    }

    public async Task<AssembledContext> AssembleAsync(string model, ContextSources sources)
    {
        if (sources.Branch.Count == 0)
        {
            throw new ArgumentException("The branch must end with the question.", nameof(sources));
        }
        var budget = options.PromptBudget;
        var parts = new List<ContextPart>();
        var system = llm.SystemPrompt;
        var systemTokens = Cost(model, system);
        var question = sources.Branch[^1];
        var questionTokens = Cost(model, question.Text);
        if (systemTokens + questionTokens > budget)
        {
            EnsureFits(model, question.Text);
        }
        parts.Add(new ContextPart(ContextPartKind.SystemPrompt, systemTokens));
        var used = systemTokens + questionTokens;

        string? preferences = null;
        if (!string.IsNullOrWhiteSpace(sources.Preferences))
        {
            var text = "About the user and how they want answers:\n" + sources.Preferences.Trim();
            var cost = Cost(model, text);
            if (used + cost <= budget)
            {
                preferences = text;
                used += cost;
                parts.Add(new ContextPart(ContextPartKind.Preferences, cost));
            }
        }

        // Recent messages, newest first, into their share; if everything older fits as well, no summary is needed.
        var older = sources.Branch.Take(sources.Branch.Count - 1).Where(Sendable).Reverse().Select(m => (Message: m, Tokens: Cost(model, m.Text))).ToList();
        var remaining = budget - used;
        var allOlderTokens = older.Sum(o => o.Tokens);
        var everythingFits = !sources.HasOlder && allOlderTokens <= remaining;
        var recentAllowance = everythingFits ? remaining : (int)(remaining * options.RecentShare);
        var recent = new List<(MessageView Message, int Tokens)>();
        foreach (var candidate in older)
        {
            if (candidate.Tokens > recentAllowance - recent.Sum(r => r.Tokens))
            {
                break;
            }
            recent.Add(candidate);
        }
        used += recent.Sum(r => r.Tokens);
        var dropped = older.Count - recent.Count;
        var windowStart = recent.Count > 0 ? recent[^1].Message : question;

        // The older part: a summary of it, then messages recalled for the question, as far as the budget allows; what
        // they leave goes back to the recent window.
        BranchSummary? summary = null;
        var recalled = new List<(MessageView Message, int Tokens)>();
        if (!everythingFits)
        {
            // Neither read needs the other, so both go at once; the budget then takes the summary first.
            var exclude = recent.Select(r => r.Message.Id).Append(question.Id).ToHashSet();
            var summaryRead = sources.FindSummaryAbove(windowStart.Id);
            var recallRead = sources.RecallAbove(windowStart.Id, exclude);
            summary = await summaryRead;
            if (summary is not null && used + SummaryCost(model, summary) > budget)
            {
                summary = null;
            }
            if (summary is not null)
            {
                used += SummaryCost(model, summary);
            }
            foreach (var message in await recallRead)
            {
                var cost = Cost(model, RecalledText(message));
                if (used + cost > budget)
                {
                    break;
                }
                recalled.Add((message, cost));
                used += cost;
            }
            used = GiveBackToRecent(older, recent, recalled, summary, budget, used);
            dropped = older.Count - recent.Count;
        }

        var prompt = new List<PromptMessage> { new(PromptRole.System, system) };
        if (preferences is not null)
        {
            prompt.Add(new PromptMessage(PromptRole.System, preferences));
        }
        if (summary is not null)
        {
            prompt.Add(new PromptMessage(PromptRole.System, SummaryText(summary)));
            parts.Add(new ContextPart(ContextPartKind.Summary, SummaryCost(model, summary), summary.ToMessageId, summary.FromSeq, summary.ToSeq));
        }
        foreach (var (message, cost) in recalled.OrderBy(r => r.Message.Seq))
        {
            prompt.Add(new PromptMessage(PromptRole.System, RecalledText(message))
            {
                RecalledUserText = message.Role == MessageRole.User ? message.Text : null,
            });
            parts.Add(new ContextPart(ContextPartKind.Recalled, cost, message.Id, message.Seq, message.Seq, 1));
        }
        recent.Reverse();
        foreach (var (message, _) in recent)
        {
            prompt.Add(ToPrompt(message));
        }
        prompt.Add(ToPrompt(question));
        var window = recent.Select(r => r.Message).Append(question).ToList();
        parts.Add(new ContextPart(ContextPartKind.Recent, recent.Sum(r => r.Tokens) + questionTokens, question.Id,
            window.Min(m => m.Seq), window.Max(m => m.Seq), window.Count));

        var plan = new ContextPlan(budget, used, parts, dropped);
        return new AssembledContext(new ModelPrompt(prompt), plan);
    }

    /// <summary>
    /// What the summary and recall leave of the budget goes back to the recent window: the next older messages that fit
    /// are sent rather than dropped, up to the first that does not. It stops where the summary's range begins (the
    /// summary tells those already). A recalled message it reaches moves into the window, where it costs less (no recall
    /// heading) and keeps its place in the conversation. Returns the tokens used.
    /// </summary>
    private static int GiveBackToRecent(List<(MessageView Message, int Tokens)> older, List<(MessageView Message, int Tokens)> recent,
        List<(MessageView Message, int Tokens)> recalled, BranchSummary? summary, int budget, int used)
    {
        foreach (var (message, tokens) in older.Skip(recent.Count))
        {
            // Ancestors are older than their descendants, so the summarized part of the branch (ending at the message
            // whose Seq is ToSeq) is at or below ToSeq.
            if (summary is not null && message.Seq <= summary.ToSeq)
            {
                break;
            }
            var asRecalled = recalled.FindIndex(r => r.Message.Id == message.Id);
            var refund = asRecalled >= 0 ? recalled[asRecalled].Tokens : 0;
            if (used - refund + tokens > budget)
            {
                break;
            }
            if (asRecalled >= 0)
            {
                recalled.RemoveAt(asRecalled);
            }
            recent.Add((message, tokens));
            used += tokens - refund;
        }
        return used;
    }

    /// <summary>A failed attempt has nothing worth sending; a stopped or interrupted one is what the user saw.</summary>
    private static bool Sendable(MessageView message) =>
        !(message.Role == MessageRole.Assistant && (message.Status == EventStatus.Failed || message.Text.Length == 0));

    private static PromptMessage ToPrompt(MessageView message) =>
        new(message.Role == MessageRole.User ? PromptRole.User : PromptRole.Assistant, message.Text);

    private int SummaryCost(string model, BranchSummary summary) => Cost(model, SummaryText(summary));

    private static string SummaryText(BranchSummary summary) =>
        $"Summary of the earlier part of this conversation (messages {summary.FromSeq}–{summary.ToSeq}):\n{summary.Text}";

    private static string RecalledText(MessageView message) =>
        $"An earlier message that may be relevant ({(message.Role == MessageRole.User ? "the user" : "you")}, {message.CreatedAt:yyyy-MM-dd}):\n{message.Text}";
}
