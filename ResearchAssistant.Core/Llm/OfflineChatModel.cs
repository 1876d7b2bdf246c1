using System.Runtime.CompilerServices;
using System.Text;

namespace ResearchAssistant.Core.Llm;

/// <summary>
/// The model used when none is configured. It does not pretend to be one: it says so, says how to configure a real
/// model, and does the one useful thing it honestly can, which is to find what the user already wrote on the subject.
/// </summary>
public sealed class OfflineChatModel(LlmOptions options) : IChatModel
{
    public const string ModelName = "offline";
    private const int MaxQuotes = 3;
    private const int MaxQuoteLength = 280;

    public string Name => ModelName;

    public async IAsyncEnumerable<ModelUpdate> StreamAsync(ModelPrompt prompt, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var answer = Compose(prompt);
        var delay = TimeSpan.FromMilliseconds(Math.Max(0, options.OfflineDelayMilliseconds));
        var outputTokens = 0;
        foreach (var piece in SplitKeepingSpaces(answer))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (delay > TimeSpan.Zero)
            {
                await Task.Delay(delay, cancellationToken);
            }
            outputTokens++;
            yield return ModelUpdate.Text(piece);
        }
        var inputTokens = prompt.Messages.Sum(m => SplitKeepingSpaces(m.Text).Count());
        yield return ModelUpdate.Final(new ModelUsage(inputTokens, outputTokens));
    }

    internal static string Compose(ModelPrompt prompt)
    {
        var question = prompt.LastUserMessage?.Text ?? "";
        var text = new StringBuilder();
        text.AppendLine("**No language model is configured**, so this is the built-in offline assistant answering. ")
            .AppendLine("It cannot reason about your question, but it can look through what you wrote before.")
            .AppendLine();

        var earlier = FindRelatedEarlierMessages(prompt, question);
        if (earlier.Count > 0)
        {
            text.AppendLine("Your earlier messages in this conversation that share words with this one:").AppendLine();
            foreach (var (quote, shared) in earlier)
            {
                text.Append("> ").AppendLine(quote.ReplaceLineEndings(" ")).AppendLine(">")
                    .Append("> *shared words: ").Append(string.Join(", ", shared)).AppendLine("*").AppendLine();
            }
        }
        else
        {
            text.AppendLine("None of your earlier messages in this conversation share words with this one.").AppendLine();
        }

        // The how-to is in the conversation's first offline answer already; after that a pointer is enough.
        if (prompt.Messages.Any(m => m.Role == PromptRole.Assistant))
        {
            text.AppendLine("To get real answers, connect a model: see the `Llm` settings in the README.");
            return text.ToString();
        }
        text.AppendLine("To get real answers, connect a model in `appsettings.json` or the environment:").AppendLine()
            .AppendLine("```")
            .AppendLine("Llm__Provider=OpenAI")
            .AppendLine("Llm__Endpoint=http://localhost:11434/v1   # Ollama; or your Azure OpenAI / OpenAI endpoint")
            .AppendLine("Llm__Model=llama3.1")
            .AppendLine("Llm__ApiKey=...")
            .AppendLine("```");
        return text.ToString();
    }

    private static List<(string Quote, IReadOnlyList<string> Shared)> FindRelatedEarlierMessages(ModelPrompt prompt, string question)
    {
        var questionWords = TextTerms.ContentWords(question);
        if (questionWords.Count == 0)
        {
            return [];
        }

        // The user's earlier messages in the prompt: those recalled from further back (system messages quoting them),
        // then the recent ones; the last user message is the question itself.
        var recalled = prompt.Messages.Select(m => m.RecalledUserText).OfType<string>();
        var recent = prompt.Messages.Where(m => m.Role == PromptRole.User).SkipLast(1).Select(m => m.Text);
        return recalled.Concat(recent)
            .Select((text, index) => (Text: text, Index: index, Shared: TextTerms.ContentWords(text).Intersect(questionWords).Order(StringComparer.Ordinal).ToList()))
            .Where(x => x.Shared.Count > 0)
            .OrderByDescending(x => x.Shared.Count).ThenByDescending(x => x.Index)
            .Take(MaxQuotes)
            .Select(x => (Shorten(x.Text), (IReadOnlyList<string>)x.Shared))
            .ToList();
    }

    private static string Shorten(string text) =>
        text.Length <= MaxQuoteLength ? text : text[..MaxQuoteLength].TrimEnd() + "…";

    private static IEnumerable<string> SplitKeepingSpaces(string text)
    {
        var start = 0;
        for (var i = 1; i < text.Length; i++)
        {
            if (char.IsWhiteSpace(text[i - 1]) && !char.IsWhiteSpace(text[i]))
            {
                yield return text[start..i];
                start = i;
            }
        }
        if (start < text.Length)
        {
            yield return text[start..];
        }
    }
}
