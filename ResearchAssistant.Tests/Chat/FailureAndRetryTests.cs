using ResearchAssistant.Core.Sessions;
using ResearchAssistant.Testing;
using ResearchAssistant.Tests.Support;
using Xunit.Abstractions;

namespace ResearchAssistant.Tests.Chat;

/// <summary>
/// When the model fails, the answer says why, the question stays, and Retry writes a fresh answer once the model is
/// back. Nothing is overwritten: the failed attempt stays in the log as a sibling.
/// </summary>
public abstract class FailureAndRetryTests(TestDatabase database, ITestOutputHelper output) : ChatTestBase(database, output)
{
    [Fact]
    public async Task A_model_error_fails_the_answer_readably_and_a_retry_after_recovery_completes_it()
    {
        Model.Behavior = new FakeBehavior { FailWithStatus = 500 };
        var user = await NewUserAsync();
        var sessionId = Guid.NewGuid();
        var sent = await Chat.SendAsync(user, sessionId, "a question for a broken model", NewClientId(), createIfMissing: true);

        var failedView = await Core.WaitUntilIdleAsync(user, sessionId);
        var question = failedView.Messages[0];
        var failed = failedView.Messages[^1];
        Assert.Equal(2, failedView.Messages.Count);
        Assert.Equal((sent.MessageId, "a question for a broken model", EventStatus.Complete), (question.Id, question.Text, question.Status));
        Assert.Equal(EventStatus.Failed, failed.Status);
        Assert.Contains("HTTP 500", failed.FailureReason);
        Assert.True(failed.CanRetry);

        Model.Behavior = QuickAnswer;
        await Chat.RegenerateAsync(user, sessionId, failed.Id);
        var view = await Core.WaitForAsync(user, sessionId,
            v => CoreHarness.IsIdle(v) && v.Messages[^1].Id != failed.Id, "the retried answer");

        Assert.Equal(2, view.Messages.Count);
        Assert.Equal(question, view.Messages[0]);
        var retried = view.Messages[^1];
        Assert.Equal((ExpectedQuickAnswer, EventStatus.Complete, question.Id), (retried.Text, retried.Status, retried.ParentId));
        // The failed attempt is kept (append-only), as a sibling off the active branch.
        var stored = await StoredEventsAsync(sessionId);
        Assert.Equal([question.Id, failed.Id, retried.Id], stored.Select(e => e.Id));
        Assert.Equal(EventStatus.Failed, stored[1].Status);
        // A failed attempt has nothing worth showing the model.
        Assert.Equal(["system", "user"], Model.Requests[^1].Messages.Select(m => m.Role));
        await AssertSeqIsGapFreeAsync(sessionId);
    }

    [Fact]
    public async Task An_unreachable_model_fails_the_answer_and_a_retry_after_it_restarts_completes_it()
    {
        var user = await NewUserAsync();
        var sessionId = Guid.NewGuid();
        var port = Model.Port;
        await Model.StopAsync();

        await Chat.SendAsync(user, sessionId, "is anyone there?", NewClientId(), createIfMissing: true);
        var failedView = await Core.WaitUntilIdleAsync(user, sessionId);
        var failed = failedView.Messages[^1];
        Assert.Equal(EventStatus.Failed, failed.Status);
        Assert.Contains("Could not reach the model endpoint", failed.FailureReason);
        Assert.Equal(("is anyone there?", EventStatus.Complete), (failedView.Messages[0].Text, failedView.Messages[0].Status));

        await using var restarted = await FakeOpenAiServer.StartAsync(port);
        restarted.Behavior = QuickAnswer;
        await Chat.RegenerateAsync(user, sessionId, failed.Id);
        var view = await Core.WaitForAsync(user, sessionId,
            v => CoreHarness.IsIdle(v) && v.Messages[^1].Id != failed.Id, "the retried answer");

        Assert.Equal((ExpectedQuickAnswer, EventStatus.Complete), (view.Messages[^1].Text, view.Messages[^1].Status));
        Assert.Single(restarted.Requests);
    }

    [Fact]
    public async Task A_stream_cut_mid_way_fails_the_answer_but_keeps_what_arrived()
    {
        Model.Behavior = QuickAnswer with { CutAfterTokens = 3 };
        var user = await NewUserAsync();

        var (_, view) = await StartConversationAsync(user, "tell me everything");

        var answer = view.Messages[^1];
        Assert.Equal(EventStatus.Failed, answer.Status);
        Assert.Contains("dropped", answer.FailureReason);
        Assert.Equal(string.Concat(QuickAnswer.Tokens.Take(3)), answer.Text);
    }

    [Fact]
    public async Task A_failed_turn_does_not_block_the_next_message()
    {
        Model.Behavior = new FakeBehavior { FailWithStatus = 429 };
        var user = await NewUserAsync();
        var (sessionId, failedView) = await StartConversationAsync(user, "first try");
        Assert.Contains("HTTP 429", failedView.Messages[^1].FailureReason);

        Model.Behavior = QuickAnswer;
        await Chat.SendAsync(user, sessionId, "second try", NewClientId());
        var view = await Core.WaitUntilIdleAsync(user, sessionId);

        Assert.Equal([EventStatus.Complete, EventStatus.Failed, EventStatus.Complete, EventStatus.Complete], view.Messages.Select(m => m.Status));
        Assert.Equal(ExpectedQuickAnswer, view.Messages[^1].Text);
        await AssertSeqIsGapFreeAsync(sessionId);
    }
}

public sealed class SqliteFailureAndRetryTests(SqliteTestDatabase database, ITestOutputHelper output)
    : FailureAndRetryTests(database, output), IClassFixture<SqliteTestDatabase>;

public sealed class PostgresFailureAndRetryTests(PostgresTestDatabase database, ITestOutputHelper output)
    : FailureAndRetryTests(database, output), IClassFixture<PostgresTestDatabase>;
