using ResearchAssistant.Core.Context;
using ResearchAssistant.Core.Llm;
using ResearchAssistant.Core.Sessions;

namespace ResearchAssistant.Tests.Context;

/// <summary>The assembler's priorities and budget, with a counter where a token is a word (so costs are easy to state).</summary>
public sealed class ContextAssemblerTests
{
    private const string SystemPrompt = "be careful";   // 2 words + 4 overhead = 6

    [Fact]
    public async Task A_short_conversation_is_sent_whole_and_no_summary_is_looked_for()
    {
        var branch = Conversation(6, wordsEach: 5);
        var assembler = Assembler(budget: 1_000);
        var lookedForSummary = false;

        var result = await assembler.AssembleAsync("m", Sources(branch, summary: () => { lookedForSummary = true; return null; }));

        Assert.False(lookedForSummary);
        Assert.Equal(branch.Select(m => m.Text), result.Prompt.Messages.Skip(1).Select(m => m.Text));
        Assert.Equal([ContextPartKind.SystemPrompt, ContextPartKind.Recent], result.Plan.Parts.Select(p => p.Kind));
        Assert.Equal(6 + 6 * 9, result.Plan.TotalTokens);
        Assert.Equal(6, result.Plan.Parts[^1].MessageCount);
    }

    [Fact]
    public async Task A_long_conversation_gets_recent_messages_then_the_summary_then_recalled_messages_in_that_order()
    {
        var branch = Conversation(40, wordsEach: 10);                    // 14 tokens each
        var summary = new BranchSummary(Guid.NewGuid(), Words(30), 1, 20, Guid.NewGuid(), 30);
        var recalled = Message(3, MessageRole.Assistant, Words(10));
        var assembler = Assembler(budget: 300);

        var result = await assembler.AssembleAsync("m", Sources(branch, "prefers metric units", hasOlder: true, () => summary, [recalled]));

        var kinds = result.Plan.Parts.Select(p => p.Kind).ToList();
        Assert.Equal([ContextPartKind.SystemPrompt, ContextPartKind.Preferences, ContextPartKind.Summary, ContextPartKind.Recalled, ContextPartKind.Recent], kinds);
        var texts = result.Prompt.Messages.Select(m => m.Text).ToList();
        Assert.StartsWith("About the user", texts[1]);
        Assert.StartsWith("Summary of the earlier part of this conversation (messages 1–20)", texts[2]);
        Assert.StartsWith("An earlier message that may be relevant", texts[3]);
        Assert.Equal(branch[^1].Text, texts[^1]);
        Assert.True(result.Plan.TotalTokens <= 300, $"{result.Plan.TotalTokens} tokens for a budget of 300");
        // Recent messages are a contiguous tail of the branch.
        var recent = result.Prompt.Messages.Skip(4).Select(m => m.Text).ToList();
        Assert.Equal(branch.TakeLast(recent.Count).Select(m => m.Text), recent);
    }

    [Fact]
    public async Task What_the_summary_and_recall_leave_goes_back_to_the_recent_window()
    {
        var branch = Conversation(40, wordsEach: 10);                    // 14 tokens each, Seq 101-140
        var summary = new BranchSummary(Guid.NewGuid(), Words(10), 1, 60, Guid.NewGuid(), 10);

        var result = await Assembler(budget: 300).AssembleAsync("m", Sources(branch, hasOlder: true, summary: () => summary));

        // 300 - 6 (system) - 14 (question) = 280; the recent share, 60 %, takes 12 messages (168); the summary 24 (its
        // heading is 10 words); the 88 tokens left take 6 more messages, and a seventh would not fit.
        var recent = result.Plan.Parts.Single(p => p.Kind == ContextPartKind.Recent);
        Assert.Equal(12 + 6 + 1, recent.MessageCount);
        Assert.Equal(296, result.Plan.TotalTokens);
        Assert.Equal(39 - 18, result.Plan.DroppedRecentMessages);
        Assert.Equal(branch.TakeLast(19).Select(m => m.Text), result.Prompt.Messages.TakeLast(19).Select(m => m.Text));
    }

    [Fact]
    public async Task The_recent_window_gives_way_to_the_summary_where_the_summarized_part_begins()
    {
        var branch = Conversation(40, wordsEach: 10);                    // Seq 101-140
        var summary = new BranchSummary(Guid.NewGuid(), Words(10), 101, 125, branch[24].Id, 10);

        var result = await Assembler(budget: 300).AssembleAsync("m", Sources(branch, hasOlder: true, summary: () => summary));

        // Room is left, but the messages up to 125 are the summary's: the window ends above them.
        var recent = result.Plan.Parts.Single(p => p.Kind == ContextPartKind.Recent);
        Assert.Equal(126, recent.FromSeq);
        Assert.True(result.Plan.TotalTokens + 14 <= 300);
        Assert.Single(result.Plan.Parts, p => p.Kind == ContextPartKind.Summary);
    }

    [Fact]
    public async Task A_recalled_message_the_recent_window_reaches_moves_into_it_and_is_sent_once()
    {
        var branch = Conversation(40, wordsEach: 10);                    // Seq 101-140
        var recalled = branch[20];                                       // Seq 121, above the recent share's 12

        var result = await Assembler(budget: 300).AssembleAsync("m", Sources(branch, hasOlder: true, recalled: [recalled]));

        Assert.DoesNotContain(ContextPartKind.Recalled, result.Plan.Parts.Select(p => p.Kind));
        Assert.Single(result.Prompt.Messages, m => m.Text.Contains(recalled.Text));
        var recent = result.Plan.Parts.Single(p => p.Kind == ContextPartKind.Recent);
        Assert.True(recent.FromSeq < recalled.Seq);
        Assert.True(result.Plan.TotalTokens <= 300 && result.Plan.TotalTokens + 14 > 300);
        Assert.Equal(branch.TakeLast(recent.MessageCount).Select(m => m.Text), result.Prompt.Messages.TakeLast(recent.MessageCount).Select(m => m.Text));
    }

    [Fact]
    public async Task Under_pressure_recall_goes_first_then_the_summary_and_the_recent_window_stays()
    {
        var branch = Conversation(20, wordsEach: 10);
        var summary = new BranchSummary(Guid.NewGuid(), Words(40), 1, 10, Guid.NewGuid(), 40);
        var recalled = Message(2, MessageRole.User, Words(60));
        var roomForSummaryOnly = await Assembler(budget: 160).AssembleAsync("m", Sources(branch, hasOlder: true, summary: () => summary, recalled: [recalled]));
        var roomForNeither = await Assembler(budget: 80).AssembleAsync("m", Sources(branch, hasOlder: true, summary: () => summary, recalled: [recalled]));

        Assert.Contains(ContextPartKind.Summary, roomForSummaryOnly.Plan.Parts.Select(p => p.Kind));
        Assert.DoesNotContain(ContextPartKind.Recalled, roomForSummaryOnly.Plan.Parts.Select(p => p.Kind));
        Assert.DoesNotContain(ContextPartKind.Summary, roomForNeither.Plan.Parts.Select(p => p.Kind));
        Assert.Contains(ContextPartKind.Recent, roomForNeither.Plan.Parts.Select(p => p.Kind));
        Assert.All([roomForSummaryOnly, roomForNeither], r => Assert.True(r.Plan.TotalTokens <= r.Plan.Budget));
    }

    [Fact]
    public async Task Preferences_are_dropped_before_the_question_when_only_the_question_fits()
    {
        var branch = Conversation(1, wordsEach: 20);                     // the question: 24 tokens
        var result = await Assembler(budget: 35).AssembleAsync("m", Sources(branch, Words(20)));

        Assert.Equal([ContextPartKind.SystemPrompt, ContextPartKind.Recent], result.Plan.Parts.Select(p => p.Kind));
        Assert.Equal(branch[0].Text, result.Prompt.Messages[^1].Text);
    }

    [Fact]
    public async Task A_question_that_does_not_fit_even_alone_is_refused_with_the_numbers()
    {
        var branch = Conversation(3, wordsEach: 50);
        var assembler = Assembler(budget: 40);

        var refusal = await Assert.ThrowsAsync<ContextTooLargeException>(() => assembler.AssembleAsync("m", Sources(branch)));

        Assert.Contains("54", refusal.Message);   // the question: 50 words + overhead
        Assert.Contains("40", refusal.Message);   // the budget
        Assert.Throws<ContextTooLargeException>(() => assembler.EnsureFits("m", Words(50)));
        assembler.EnsureFits("m", Words(20));
    }

    [Fact]
    public async Task Failed_and_empty_answers_are_not_sent_but_stopped_ones_are()
    {
        var question = Message(1, MessageRole.User, "first question");
        var failed = Message(2, MessageRole.Assistant, "", EventStatus.Failed);
        var stopped = Message(3, MessageRole.Assistant, "half an answer", EventStatus.Stopped);
        var next = Message(4, MessageRole.User, "next question");

        var result = await Assembler(budget: 1_000).AssembleAsync("m", Sources([question, failed, stopped, next]));

        Assert.Equal(["be careful", "first question", "half an answer", "next question"], result.Prompt.Messages.Select(m => m.Text));
        Assert.Equal([PromptRole.System, PromptRole.User, PromptRole.Assistant, PromptRole.User], result.Prompt.Messages.Select(m => m.Role));
    }

    [Theory]
    [InlineData(50)]
    [InlineData(120)]
    [InlineData(400)]
    [InlineData(2_000)]
    public async Task The_prompt_never_exceeds_the_budget(int budget)
    {
        var random = new Random(budget);
        var branch = Enumerable.Range(1, 80).Select(i => Message(i, i % 2 == 1 ? MessageRole.User : MessageRole.Assistant, Words(random.Next(1, 30)))).ToList();
        var summary = new BranchSummary(Guid.NewGuid(), Words(random.Next(10, 200)), 1, 40, Guid.NewGuid(), 0);
        var recalled = Enumerable.Range(1, 5).Select(i => Message(i, MessageRole.User, Words(random.Next(5, 50)))).ToList();

        var result = await Assembler(budget).AssembleAsync("m", Sources(branch, Words(15), hasOlder: true, () => summary, recalled));

        var counter = new WordCounter();
        var sent = result.Prompt.Messages.Sum(m => counter.Count(m.Text) + EstimatingTokenCounter.PerMessageOverhead);
        Assert.Equal(result.Plan.TotalTokens, sent);
        Assert.True(sent <= budget, $"{sent} tokens sent for a budget of {budget}");
        Assert.Equal(result.Plan.TotalTokens, result.Plan.Parts.Sum(p => p.Tokens));
    }

    [Theory]
    [InlineData(5, 200)]
    [InlineData(5, 340)]
    [InlineData(30, 900)]
    [InlineData(30, 1_100)]
    public async Task A_first_page_that_already_costs_more_than_the_budget_gives_the_same_prompt_as_the_whole_window(int wordsEach, int budget)
    {
        // What the turn reads: the newest 40 messages first, the rest of the window only if they could matter.
        var window = Conversation(120, wordsEach);
        var firstPage = window.TakeLast(40).ToList();
        var assembler = Assembler(budget);

        Assert.False(assembler.CouldUseOlderThan("m", firstPage));
        var fromPage = await assembler.AssembleAsync("m", Sources(firstPage, hasOlder: true));
        var fromWindow = await assembler.AssembleAsync("m", Sources(window, hasOlder: true));

        Assert.Equal(fromWindow.Prompt.Messages.Select(m => m.Text), fromPage.Prompt.Messages.Select(m => m.Text));
        Assert.Equal(fromWindow.Plan.TotalTokens, fromPage.Plan.TotalTokens);
    }

    [Fact]
    public void A_first_page_that_fits_in_the_budget_asks_for_older_messages()
    {
        // 39 messages above the question at 9 tokens each: 351 tokens.
        var firstPage = Conversation(40, wordsEach: 5);

        Assert.True(Assembler(budget: 351).CouldUseOlderThan("m", firstPage));
        Assert.False(Assembler(budget: 350).CouldUseOlderThan("m", firstPage));
    }

    private static ContextAssembler Assembler(int budget) =>
        new(new LlmOptions { SystemPrompt = SystemPrompt }, new ContextOptions { MaxPromptTokens = budget, ReservedForAnswer = 0 }, new WordCounter());

    private static ContextSources Sources(
        IReadOnlyList<MessageView> branch, string? preferences = null, bool hasOlder = false,
        Func<BranchSummary?>? summary = null, IReadOnlyList<MessageView>? recalled = null) =>
        new(preferences, branch, hasOlder,
            _ => Task.FromResult(summary?.Invoke()),
            (_, exclude) => Task.FromResult<IReadOnlyList<MessageView>>((recalled ?? []).Where(m => !exclude.Contains(m.Id)).ToList()));

    private static List<MessageView> Conversation(int count, int wordsEach) =>
        Enumerable.Range(1, count).Select(i => Message(100 + i, i % 2 == 1 ? MessageRole.User : MessageRole.Assistant, Words(wordsEach, i))).ToList();

    private static MessageView Message(long seq, MessageRole role, string text, EventStatus status = EventStatus.Complete) =>
        new(Guid.NewGuid(), seq, null, role, text, status, null, "a", DateTimeOffset.UnixEpoch, VersionInfo.Single);

    private static string Words(int count, int salt = 0) => string.Join(' ', Enumerable.Range(0, count).Select(i => $"w{salt}x{i}"));

    /// <summary>A token is a whitespace-separated word: easy to reason about in a test.</summary>
    private sealed class WordCounter : ITokenCounter
    {
        public int Count(string text) => text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length;
        public int Count(string model, string text) => Count(text);
        public void Calibrate(string model, int estimatedTokens, int actualTokens) { }
    }
}
