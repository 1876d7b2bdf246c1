using Microsoft.EntityFrameworkCore;
using ResearchAssistant.Core.Accounts;
using ResearchAssistant.Core.Chat;
using ResearchAssistant.Core.Context;
using ResearchAssistant.Core.Sessions;
using ResearchAssistant.Tests.Chat;
using ResearchAssistant.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace ResearchAssistant.Tests.Context;

/// <summary>The context window through the real turn: plans, preferences, budget refusals and summaries.</summary>
public abstract class ContextIntegrationTests(TestDatabase database, ITestOutputHelper output) : ChatTestBase(database, output)
{
    // A small window, so a few turns are enough to need summaries.
    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Context:MaxPromptTokens"] = "700",
        ["Context:ReservedForAnswer"] = "100",
        ["Context:SummarizeAfterTokens"] = "120",
        ["Context:MaxSummaryTokens"] = "120",
    };

    [Fact]
    public async Task Each_answer_stores_the_plan_of_exactly_what_the_model_received()
    {
        var user = await NewUserAsync();
        var (sessionId, _) = await StartConversationAsync(user, "What limits phytoplankton growth?");
        await Chat.SendAsync(user, sessionId, "And in the Southern Ocean?", NewClientId());
        var view = await Core.WaitUntilIdleAsync(user, sessionId);

        var plan = view.Messages[^1].Plan;
        Assert.NotNull(plan);
        var request = Model.Requests[^1];
        var recent = Assert.Single(plan.Parts, p => p.Kind == ContextPartKind.Recent);
        Assert.Equal(3, recent.MessageCount);
        Assert.Equal(request.Messages.Count(m => m.Role != "system"), recent.MessageCount);
        Assert.Equal(request.Messages.Count(m => m.Role == "system"), plan.Parts.Count(p => p.Kind != ContextPartKind.Recent));
        Assert.True(plan.TotalTokens <= plan.Budget);
        Assert.Equal(600, plan.Budget);
    }

    [Fact]
    public async Task The_users_preferences_are_sent_with_every_question()
    {
        var user = await NewUserAsync();
        await Core.Services.GetRequiredService<UserProfileService>().SavePreferencesAsync(user, "I am a hydrologist; answer in SI units.");

        var (_, view) = await StartConversationAsync(user, "How fast does groundwater move?");

        Assert.Contains(Model.Requests[^1].Messages, m => m.Role == "system" && m.Content.Contains("I am a hydrologist; answer in SI units."));
        Assert.Contains(view.Messages[^1].Plan!.Parts, p => p.Kind == ContextPartKind.Preferences);
    }

    [Fact]
    public async Task A_message_too_large_for_the_prompt_budget_is_refused_before_it_is_stored()
    {
        var user = await NewUserAsync();
        var (sessionId, _) = await StartConversationAsync(user, "Hello");
        // Far over the budget whatever the calibration learned from the fake's (word-count) usage figures.
        var huge = string.Join(' ', Enumerable.Repeat("sediment", 3_000));

        var refusal = await Assert.ThrowsAsync<ChatInputException>(() => Chat.SendAsync(user, sessionId, huge, NewClientId()));

        Assert.Contains("600", refusal.Message);
        Assert.Equal(2, (await StoredEventsAsync(sessionId)).Count);
    }

    [Fact]
    public async Task Older_turns_are_summarized_in_the_background_and_the_summary_is_sent()
    {
        var user = await NewUserAsync();
        Model.Behavior = QuickAnswer with { Tokens = [.. Enumerable.Repeat("Deep water formation matters for carbon storage. ", 40)] };
        var (sessionId, _) = await StartConversationAsync(user, "Tell me about deep water formation and carbon storage in the North Atlantic.");
        for (var i = 2; i <= 8; i++)
        {
            await Chat.SendAsync(user, sessionId, $"Question {i}: how does deep water formation change carbon storage over decades?", NewClientId());
            await Core.WaitUntilIdleAsync(user, sessionId);
        }
        await Wait.UntilAsync(async () => await SummariesAsync(sessionId) > 0, "a summary to be written");

        await Chat.SendAsync(user, sessionId, "Remind me what we established so far.", NewClientId());
        var view = await Core.WaitUntilIdleAsync(user, sessionId);

        var summary = Assert.Single(view.Messages[^1].Plan!.Parts, p => p.Kind == ContextPartKind.Summary);
        Assert.Equal(1, summary.FromSeq);
        Assert.True(summary.Tokens <= 120 + 30, $"The summary costs {summary.Tokens} tokens; its cap is 120 plus its heading.");
        // The summarizer talks to the model too: pick the request that carried the question.
        var answerRequest = Model.Requests.Last(r => r.Messages[^1].Content == "Remind me what we established so far.");
        Assert.Contains(answerRequest.Messages, m => m.Role == "system" && m.Content.StartsWith("Summary of the earlier part of this conversation", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_branch_that_left_the_summarized_messages_does_not_use_their_summary()
    {
        var user = await NewUserAsync();
        Model.Behavior = QuickAnswer with { Tokens = [.. Enumerable.Repeat("Sea ice albedo feedback amplifies warming. ", 40)] };
        var (sessionId, first) = await StartConversationAsync(user, "Explain the sea ice albedo feedback.");
        for (var i = 2; i <= 8; i++)
        {
            await Chat.SendAsync(user, sessionId, $"Question {i}: how strong is the albedo feedback in the Arctic?", NewClientId());
            await Core.WaitUntilIdleAsync(user, sessionId);
        }
        await Wait.UntilAsync(async () => await SummariesAsync(sessionId) > 0, "a summary to be written");
        var before = await Chat.GetConversationAsync(user, sessionId);

        // Editing the first question starts a branch that shares none of the summarized messages.
        await Chat.EditAsync(user, sessionId, first.Messages[0].Id, "Explain permafrost carbon instead.", NewClientId());
        var edited = await Core.WaitUntilIdleAsync(user, sessionId);

        await using var db = await Core.Contexts.CreateDbContextAsync();
        var cipher = await Core.Protector.ForUserAsync(user);
        Assert.NotNull(await SummaryStore.FindAboveAsync(db, sessionId, before!.Messages[^1].Id, cipher, CancellationToken.None));
        Assert.Null(await SummaryStore.FindAboveAsync(db, sessionId, edited.Messages[^1].Id, cipher, CancellationToken.None));
        Assert.DoesNotContain(edited.Messages[^1].Plan!.Parts, p => p.Kind == ContextPartKind.Summary);
    }

    [Fact]
    public async Task Recall_brings_back_an_old_message_of_the_active_branch_but_not_one_from_an_abandoned_branch()
    {
        var user = await NewUserAsync();
        Model.Behavior = QuickAnswer with { Tokens = [.. Enumerable.Repeat("Noted, moving on with the plan. ", 8)] };
        var (sessionId, first) = await StartConversationAsync(user, "The carbon cycle: how does weathering of silicate rock draw down atmospheric carbon?");
        var active = first.Messages[0].Id;

        // A question that is edited away: the original stays in the log but leaves the active branch.
        await Chat.SendAsync(user, sessionId, "Does the carbon cycle in peat bogs store more carbon than forests?", NewClientId());
        var withAbandoned = await Core.WaitUntilIdleAsync(user, sessionId);
        var abandoned = withAbandoned.Messages[^2].Id;
        await Chat.EditAsync(user, sessionId, abandoned, "Which instruments measure ocean salinity?", NewClientId());
        await Core.WaitUntilIdleAsync(user, sessionId);

        // Enough later turns that the first question is far outside the recent window.
        for (var i = 1; i <= 8; i++)
        {
            await Chat.SendAsync(user, sessionId, $"Filler topic {i}: list the field equipment for the survey.", NewClientId());
            await Core.WaitUntilIdleAsync(user, sessionId);
        }
        await Chat.SendAsync(user, sessionId, "What did you say about the carbon cycle?", NewClientId());
        var view = await Core.WaitUntilIdleAsync(user, sessionId);

        var plan = view.Messages[^1].Plan!;
        var recent = Assert.Single(plan.Parts, p => p.Kind == ContextPartKind.Recent);
        Assert.True(recent.MessageCount < view.Messages.Count, "The whole conversation fit: the test needs the first question outside the window.");
        var recalled = plan.Parts.Where(p => p.Kind == ContextPartKind.Recalled).Select(p => p.MessageId).ToList();
        Assert.Contains(active, recalled);
        Assert.DoesNotContain(abandoned, recalled);
        var request = Model.Requests.Last(r => r.Messages[^1].Content == "What did you say about the carbon cycle?");
        Assert.Contains(request.Messages, m => m.Content.Contains("weathering of silicate rock", StringComparison.Ordinal));
        Assert.DoesNotContain(request.Messages, m => m.Content.Contains("peat bogs", StringComparison.Ordinal));
    }

    private async Task<int> SummariesAsync(Guid sessionId)
    {
        await using var db = await Core.Contexts.CreateDbContextAsync();
        return await db.Set<Summary>().CountAsync(s => s.SessionId == sessionId);
    }
}

public sealed class SqliteContextIntegrationTests(SqliteTestDatabase database, ITestOutputHelper output)
    : ContextIntegrationTests(database, output), IClassFixture<SqliteTestDatabase>;

public sealed class PostgresContextIntegrationTests(PostgresTestDatabase database, ITestOutputHelper output)
    : ContextIntegrationTests(database, output), IClassFixture<PostgresTestDatabase>;
