using System.Text;
using System.Text.RegularExpressions;
using ResearchAssistant.Core.Llm;
using ResearchAssistant.Core.Sessions;

namespace ResearchAssistant.Core.Context;

/// <summary>Writes a rolling summary: the previous summary plus newer messages, in at most a given number of tokens.</summary>
public interface ISummaryWriter
{
    string Name { get; }
    Task<string> SummarizeAsync(string? previousSummary, IReadOnlyList<MessageView> messages, int maxTokens, CancellationToken ct);
}

/// <summary>
/// An extractive summary: the sentences that carry the most of the conversation's frequent content words, kept in
/// their original order and attributed ("You: ", "Assistant: "). Honest and model-free; the offline mode's summarizer.
/// </summary>
public sealed partial class ExtractiveSummaryWriter(ITokenCounter counter) : ISummaryWriter
{
    public string Name => "extractive";

    public Task<string> SummarizeAsync(string? previousSummary, IReadOnlyList<MessageView> messages, int maxTokens, CancellationToken ct)
    {
        var sentences = new List<(string Text, int Order)>();
        if (!string.IsNullOrWhiteSpace(previousSummary))
        {
            foreach (var line in previousSummary.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                foreach (var sentence in SentenceBoundary().Split(line))
                {
                    if (sentence.Trim().Length > 0)
                    {
                        sentences.Add((sentence.Trim(), sentences.Count));
                    }
                }
            }
        }
        foreach (var message in messages)
        {
            var who = message.Role == MessageRole.User ? "You" : "Assistant";
            foreach (var sentence in SentenceBoundary().Split(message.Text.ReplaceLineEndings(" ")))
            {
                var text = sentence.Trim();
                if (text.Length >= 12)
                {
                    sentences.Add(($"{who}: {text}", sentences.Count));
                }
            }
        }

        var frequency = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var word in sentences.SelectMany(s => TextTerms.ContentWords(s.Text)))
        {
            frequency[word] = frequency.GetValueOrDefault(word) + 1;
        }
        var chosen = new List<(string Text, int Order)>();
        var used = 0;
        foreach (var sentence in sentences.OrderByDescending(s => Score(s.Text, frequency)).ThenBy(s => s.Order))
        {
            var cost = counter.Count(sentence.Text) + 1;
            if (used + cost > maxTokens)
            {
                continue;
            }
            chosen.Add(sentence);
            used += cost;
        }
        var summary = new StringBuilder();
        foreach (var (text, _) in chosen.OrderBy(s => s.Order))
        {
            summary.AppendLine(text);
        }
        return Task.FromResult(summary.ToString().TrimEnd());
    }

    /// <summary>Average frequency of a sentence's content words: dense, on-topic sentences first.</summary>
    private static double Score(string sentence, Dictionary<string, int> frequency)
    {
        var words = TextTerms.ContentWords(sentence);
        return words.Count == 0 ? 0 : words.Sum(w => frequency.GetValueOrDefault(w)) / (double)Math.Max(4, words.Count);
    }

    [GeneratedRegex(@"(?<=[.!?])\s+")]
    private static partial Regex SentenceBoundary();
}

/// <summary>Asks the configured model for the summary; if it fails, the extractive summary stands in.</summary>
public sealed class ModelSummaryWriter(IChatModel model, ExtractiveSummaryWriter fallback, ITokenCounter counter) : ISummaryWriter
{
    public string Name => model.Name;

    public async Task<string> SummarizeAsync(string? previousSummary, IReadOnlyList<MessageView> messages, int maxTokens, CancellationToken ct)
    {
        var transcript = new StringBuilder();
        if (!string.IsNullOrWhiteSpace(previousSummary))
        {
            transcript.AppendLine("Summary so far:").AppendLine(previousSummary).AppendLine().AppendLine("Newer messages:");
        }
        foreach (var message in messages)
        {
            transcript.Append(message.Role == MessageRole.User ? "User: " : "Assistant: ").AppendLine(message.Text);
        }
        var prompt = new ModelPrompt(
        [
            new PromptMessage(PromptRole.System,
                $"Summarize this research conversation for your own later reference in at most {maxTokens * 3 / 4} words. " +
                "Keep facts, figures, names, sources, decisions and open questions; attribute claims to the user or the assistant."),
            new PromptMessage(PromptRole.User, transcript.ToString()),
        ]);
        try
        {
            var text = new StringBuilder();
            await foreach (var update in model.StreamAsync(prompt, ct))
            {
                text.Append(update.Delta);
            }
            var summary = text.ToString().Trim();
            if (summary.Length > 0)
            {
                // Models do not always keep to a length; the cap is what lets the summary fit the prompt budget.
                return counter.Count(model.Name, summary) <= maxTokens
                    ? summary
                    : await fallback.SummarizeAsync(summary, [], maxTokens, ct);
            }
        }
        catch (ModelException)
        {
            // The model being down must not stop summaries: extraction is always possible.
        }
        return await fallback.SummarizeAsync(previousSummary, messages, maxTokens, ct);
    }
}
