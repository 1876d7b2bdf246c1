using ResearchAssistant.Core.Llm;

namespace ResearchAssistant.Tests.Llm;

/// <summary>
/// The model used when none is configured must be honest about it, tell the user how to fix it, and still be useful
/// by finding what they wrote before on the same subject.
/// </summary>
public sealed class OfflineChatModelTests
{
    private static readonly OfflineChatModel Model = new(new LlmOptions { OfflineDelayMilliseconds = 0 });

    private static async Task<(string Text, ModelUsage? Usage)> AnswerAsync(params (PromptRole Role, string Text)[] messages)
    {
        var prompt = new ModelPrompt([new PromptMessage(PromptRole.System, "system prompt"), .. messages.Select(m => new PromptMessage(m.Role, m.Text))]);
        var text = "";
        ModelUsage? usage = null;
        await foreach (var update in Model.StreamAsync(prompt, CancellationToken.None))
        {
            text += update.Delta;
            usage = update.Usage ?? usage;
        }
        return (text, usage);
    }

    [Fact]
    public async Task Says_that_no_model_is_configured_and_how_to_configure_one()
    {
        var (text, usage) = await AnswerAsync((PromptRole.User, "What is entropy?"));

        Assert.Contains("No language model is configured", text);
        Assert.Contains("Llm__Provider=OpenAI", text);
        Assert.Contains("Llm__Endpoint=", text);
        Assert.Contains("Llm__Model=", text);
        Assert.NotNull(usage);
        Assert.True(usage.OutputTokens > 0);
        Assert.Equal("offline", Model.Name);
    }

    [Fact]
    public async Task Quotes_an_earlier_message_that_shares_words_with_the_question_but_not_one_that_shares_none()
    {
        var (text, _) = await AnswerAsync(
            (PromptRole.User, "Chloroplasts capture sunlight for photosynthesis in leaves."),
            (PromptRole.Assistant, "Indeed."),
            (PromptRole.User, "My grandmother bakes rye bread every Sunday."),
            (PromptRole.Assistant, "Nice."),
            (PromptRole.User, "How do chloroplasts turn sunlight into sugar?"));

        Assert.Contains("> Chloroplasts capture sunlight for photosynthesis in leaves.", text);
        Assert.Contains("chloroplasts, sunlight", text); // the shared words, listed
        Assert.DoesNotContain("grandmother", text);
        Assert.DoesNotContain("> How do chloroplasts", text); // the question itself is not an earlier message
    }

    [Fact]
    public void Quotes_an_earlier_message_the_prompt_recalled_from_further_back()
    {
        var recalled = new PromptMessage(PromptRole.System, "An earlier message that may be relevant (the user, 2026-12-01):\nWeathering of silicate rock draws down carbon.")
        {
            RecalledUserText = "Weathering of silicate rock draws down carbon.",
        };
        var prompt = new ModelPrompt([new PromptMessage(PromptRole.System, "system prompt"), recalled,
            new PromptMessage(PromptRole.User, "Filler topic: list the field equipment."), new PromptMessage(PromptRole.Assistant, "Noted."),
            new PromptMessage(PromptRole.User, "What did you say about weathering of silicate rock?")]);

        var text = OfflineChatModel.Compose(prompt);

        Assert.Contains("> Weathering of silicate rock draws down carbon.", text);
        Assert.DoesNotContain("> An earlier message", text);
        Assert.DoesNotContain("None of your earlier messages", text);
    }

    [Fact]
    public async Task Says_so_when_no_earlier_message_shares_a_word()
    {
        var (text, _) = await AnswerAsync(
            (PromptRole.User, "My grandmother bakes rye bread every Sunday."),
            (PromptRole.Assistant, "Nice."),
            (PromptRole.User, "How do chloroplasts turn sunlight into sugar?"));

        Assert.Contains("None of your earlier messages", text);
        Assert.DoesNotContain("grandmother", text);
    }

    [Fact]
    public async Task Does_not_quote_the_assistant()
    {
        var (text, _) = await AnswerAsync(
            (PromptRole.User, "Tell me something."),
            (PromptRole.Assistant, "Chloroplasts are green."),
            (PromptRole.User, "Why are chloroplasts green?"));

        Assert.DoesNotContain("> Chloroplasts are green.", text);
    }

    [Fact]
    public async Task Stops_when_cancelled()
    {
        using var cancel = new CancellationTokenSource();
        var prompt = new ModelPrompt([new PromptMessage(PromptRole.User, "anything at all")]);
        var received = 0;

        var ex = await Record.ExceptionAsync(async () =>
        {
            await foreach (var _ in Model.StreamAsync(prompt, cancel.Token))
            {
                if (++received == 3)
                {
                    await cancel.CancelAsync();
                }
            }
        });

        Assert.IsAssignableFrom<OperationCanceledException>(ex);
        Assert.Equal(3, received);
    }
}
