using ResearchAssistant.Core.Llm;
using ResearchAssistant.Core.Sessions;

namespace ResearchAssistant.Core.Context;

/// <summary>
/// Builds what the model sees for a turn: the system prompt, then the branch's messages ending at the question.
/// Token budgets, summaries and recall come with the context-window work; until then the newest messages are kept
/// up to a fixed count, so a long conversation never sends its whole history.
/// </summary>
public sealed class ContextAssembler(LlmOptions options)
{
    public const int MaxRecentMessages = 40;

    /// <summary>Sent after an interrupted answer's text when the user asks to continue it.</summary>
    public const string ContinueInstruction =
        "Your previous answer was cut off. Continue it exactly where it stopped, without repeating what you already wrote.";

    internal ModelPrompt Assemble(IReadOnlyList<MessageView> branchEndingAtQuestion)
    {
        var messages = new List<PromptMessage>(MaxRecentMessages + 1)
        {
            new(PromptRole.System, options.SystemPrompt),
        };
        foreach (var evt in branchEndingAtQuestion.TakeLast(MaxRecentMessages))
        {
            // A failed attempt has nothing worth sending; a stopped or interrupted one is what the user saw.
            if (evt.Role == MessageRole.Assistant && (evt.Status == EventStatus.Failed || evt.Text.Length == 0))
            {
                continue;
            }
            messages.Add(new PromptMessage(evt.Role == MessageRole.User ? PromptRole.User : PromptRole.Assistant, evt.Text));
        }
        return new ModelPrompt(messages);
    }
}
