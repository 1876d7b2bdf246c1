using ResearchAssistant.Core.Sessions;
using ResearchAssistant.Testing;
using ResearchAssistant.Tests.Support;
using Xunit.Abstractions;

namespace ResearchAssistant.Tests.Chat;

/// <summary>One answer at a time per session: what is sent meanwhile waits its turn, and Stop keeps what was written.</summary>
public abstract class QueueAndStopTests(TestDatabase database, ITestOutputHelper output) : ChatTestBase(database, output)
{
    /// <summary>
    /// Answers "Answer to: {question}", except that the answer to <paramref name="heldQuestion"/> is held back until
    /// <paramref name="release"/> is set: the test decides when the first answer may proceed, instead of racing it.
    /// </summary>
    private static FakeBehavior HoldingBack(string heldQuestion, ManualResetEventSlim release) => QuickAnswer with
    {
        Respond = request =>
        {
            var question = request.Messages[^1].Content;
            if (question == heldQuestion && !release.Wait(TimeSpan.FromSeconds(30)))
            {
                throw new TimeoutException("The test never released the held answer.");
            }
            return ["Answer to: ", question];
        },
    };

    [Fact]
    public async Task Messages_sent_while_an_answer_streams_are_stored_at_once_and_answered_next_in_order()
    {
        using var release = new ManualResetEventSlim();
        Model.Behavior = HoldingBack("first", release);
        var user = await NewUserAsync();
        var sessionId = Guid.NewGuid();

        await Chat.SendAsync(user, sessionId, "first", NewClientId(), createIfMissing: true);
        await Core.WaitForAsync(user, sessionId, v => v.Messages is [_, { Status: EventStatus.Streaming }], "the first answer to start");
        var second = await Chat.SendAsync(user, sessionId, "second", NewClientId());
        var third = await Chat.SendAsync(user, sessionId, "third", NewClientId());

        // Stored right away, shown after the answer being written, waiting.
        var waiting = await Chat.GetConversationAsync(user, sessionId);
        Assert.NotNull(waiting);
        Assert.True(waiting.IsGenerating);
        Assert.Equal(
            [("first", EventStatus.Complete), ("", EventStatus.Streaming), ("second", EventStatus.Queued), ("third", EventStatus.Queued)],
            waiting.Messages.Select(m => (m.Text, m.Status)));
        Assert.Equal([second.MessageId, third.MessageId], waiting.Messages.Skip(2).Select(m => m.Id));

        release.Set();
        var done = await Core.WaitUntilIdleAsync(user, sessionId);

        Assert.Equal(
            ["first", "Answer to: first", "second", "Answer to: second", "third", "Answer to: third"],
            done.Messages.Select(m => m.Text));
        Assert.All(done.Messages, m => Assert.Equal(EventStatus.Complete, m.Status));
        // Each queued question joined the branch after the answer before it, so each answer saw the one before.
        Assert.All(done.Messages.Skip(1).Zip(done.Messages), pair => Assert.Equal(pair.Second.Id, pair.First.ParentId));
        Assert.Equal(["first", "second", "third"], Model.Requests.Select(r => r.Messages[^1].Content));
        Assert.Contains(("assistant", "Answer to: first"), Model.Requests[1].Messages);
        await AssertSeqIsGapFreeAsync(sessionId);
    }

    [Fact]
    public async Task Stop_keeps_the_text_written_so_far_as_a_stopped_answer()
    {
        string[] tokens = [.. Enumerable.Range(1, 300).Select(i => $"w{i} ")];
        Model.Behavior = new FakeBehavior { Tokens = tokens, TokenDelay = TimeSpan.FromMilliseconds(20) };
        var user = await NewUserAsync();
        var sessionId = Guid.NewGuid();

        await Chat.SendAsync(user, sessionId, "write a long essay", NewClientId(), createIfMissing: true);
        // Text flushed to the database proves tokens have arrived and the answer is mid-way.
        await Core.WaitForAsync(user, sessionId, v => v.Messages is [_, { Status: EventStatus.Streaming, Text.Length: > 0 }], "part of the answer to be written");
        var stopped = await Chat.StopAsync(user, sessionId);
        var view = await Core.WaitUntilIdleAsync(user, sessionId);

        Assert.True(stopped);
        var answer = view.Messages[^1];
        Assert.Equal(EventStatus.Stopped, answer.Status);
        Assert.Null(answer.FailureReason);
        Assert.True(answer.CanRetry);
        Assert.NotEmpty(answer.Text);
        Assert.StartsWith(answer.Text, string.Concat(tokens));
        Assert.True(answer.Text.Length < string.Concat(tokens).Length, "The answer was stopped, so it must be partial.");
    }

    [Fact]
    public async Task After_a_stop_the_next_message_is_answered_with_the_stopped_text_in_its_context()
    {
        Model.Behavior = new FakeBehavior { Tokens = [.. Enumerable.Repeat("slow ", 300)], TokenDelay = TimeSpan.FromMilliseconds(20) };
        var user = await NewUserAsync();
        var sessionId = Guid.NewGuid();
        await Chat.SendAsync(user, sessionId, "go on and on", NewClientId(), createIfMissing: true);
        await Core.WaitForAsync(user, sessionId, v => v.Messages is [_, { Status: EventStatus.Streaming, Text.Length: > 0 }], "part of the answer to be written");
        await Chat.StopAsync(user, sessionId);
        var stopped = (await Core.WaitUntilIdleAsync(user, sessionId)).Messages[^1];

        Model.Behavior = QuickAnswer;
        await Chat.SendAsync(user, sessionId, "shorter please", NewClientId());
        var view = await Core.WaitUntilIdleAsync(user, sessionId);

        Assert.Equal([EventStatus.Complete, EventStatus.Stopped, EventStatus.Complete, EventStatus.Complete], view.Messages.Select(m => m.Status));
        Assert.Equal(ExpectedQuickAnswer, view.Messages[^1].Text);
        // What the user saw of the stopped answer is part of the conversation the model is given.
        Assert.Contains(("assistant", stopped.Text), Model.Requests[^1].Messages);
        await AssertSeqIsGapFreeAsync(sessionId);
    }

    [Fact]
    public async Task Stop_when_nothing_is_being_written_changes_nothing()
    {
        var user = await NewUserAsync();
        var (sessionId, before) = await StartConversationAsync(user, "already answered");

        Assert.False(await Chat.StopAsync(user, sessionId));

        var after = await Chat.GetConversationAsync(user, sessionId);
        Assert.NotNull(after);
        Assert.Equal(before.Messages, after.Messages);
    }
}

public sealed class SqliteQueueAndStopTests(SqliteTestDatabase database, ITestOutputHelper output)
    : QueueAndStopTests(database, output), IClassFixture<SqliteTestDatabase>;

public sealed class PostgresQueueAndStopTests(PostgresTestDatabase database, ITestOutputHelper output)
    : QueueAndStopTests(database, output), IClassFixture<PostgresTestDatabase>;
