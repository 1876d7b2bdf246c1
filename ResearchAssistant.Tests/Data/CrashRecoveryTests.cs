using ResearchAssistant.Core.Sessions;
using ResearchAssistant.Testing;
using ResearchAssistant.Tests.Chat;
using ResearchAssistant.Tests.Support;
using Xunit.Abstractions;

namespace ResearchAssistant.Tests.Data;

/// <summary>
/// What a crash or a stop leaves behind is repaired, never lost: an answer cut off while streaming is sealed as
/// interrupted (and can be retried), and a message that was waiting for its turn still gets answered.
/// </summary>
public abstract class CrashRecoveryTests(TestDatabase database, ITestOutputHelper output) : ChatTestBase(database, output)
{
    [Fact]
    public async Task An_answer_left_streaming_by_a_crash_is_sealed_as_interrupted_at_start_up_and_can_be_retried()
    {
        var user = await NewUserAsync();
        var (sessionId, questionId, answerId) = await InsertAsync(user, answerStatus: EventStatus.Streaming, answerText: "Half an ans");

        await Core.Initializer.InitializeAsync(CancellationToken.None);

        var view = await Chat.GetConversationAsync(user, sessionId);
        Assert.NotNull(view);
        Assert.False(view.IsGenerating);
        var answer = view.Messages[^1];
        Assert.Equal((answerId, EventStatus.Interrupted, "Half an ans"), (answer.Id, answer.Status, answer.Text));
        Assert.Contains("stopped while this answer was being written", answer.FailureReason);
        Assert.True(answer.CanRetry);
        Assert.Equal((questionId, EventStatus.Complete), (view.Messages[0].Id, view.Messages[0].Status));

        await Chat.RegenerateAsync(user, sessionId, answerId);
        var retried = await Core.WaitForAsync(user, sessionId, v => CoreHarness.IsIdle(v) && v.Messages[^1].Id != answerId, "the retried answer");
        Assert.Equal((ExpectedQuickAnswer, EventStatus.Complete), (retried.Messages[^1].Text, retried.Messages[^1].Status));
        // A retry answers the question afresh: the branch it is written on ends at the question.
        Assert.Equal(["system", "user"], Model.Requests[^1].Messages.Select(m => m.Role));
        await AssertSeqIsGapFreeAsync(sessionId);
    }

    [Fact]
    public async Task Start_up_leaves_sealed_answers_alone()
    {
        var user = await NewUserAsync();
        var (sessionId, _, answerId) = await InsertAsync(user, answerStatus: EventStatus.Complete, answerText: "A finished answer.");

        await Core.Initializer.InitializeAsync(CancellationToken.None);

        var stored = await StoredEventsAsync(sessionId);
        Assert.Equal((EventStatus.Complete, "A finished answer.", null), (stored[1].Status, (await CipherAsync(user)).Decrypt(stored[1].ContentCipher), stored[1].FailureReason));
        Assert.Equal(answerId, stored[1].Id);
    }

    [Fact]
    public async Task A_message_left_waiting_by_a_crash_is_answered_when_the_app_starts_again()
    {
        var user = await NewUserAsync();
        var (sessionId, _, _) = await InsertAsync(user, answerStatus: EventStatus.Complete, answerText: "Earlier answer.");
        var waitingId = await InsertQueuedAsync(sessionId, user, "asked just before the crash");

        // A new process: its turn runner looks for queued messages when it starts.
        await using var restarted = await CoreHarness.StartAsync(Database, Model.Endpoint, Output);
        var view = await restarted.WaitForAsync(user, sessionId,
            v => CoreHarness.IsIdle(v) && v.Messages.Count == 4, "the waiting message to be answered");

        Assert.Equal(waitingId, view.Messages[2].Id);
        Assert.Equal(("asked just before the crash", EventStatus.Complete), (view.Messages[2].Text, view.Messages[2].Status));
        Assert.Equal((ExpectedQuickAnswer, EventStatus.Complete), (view.Messages[3].Text, view.Messages[3].Status));
        Assert.Empty(restarted.LoggedErrors);
        await AssertSeqIsGapFreeAsync(sessionId);
    }

    [Fact]
    public async Task Stopping_the_app_mid_answer_seals_it_as_interrupted_with_the_text_so_far()
    {
        var user = await NewUserAsync();
        var sessionId = Guid.NewGuid();
        await using var slowModel = await FakeOpenAiServer.StartAsync();
        slowModel.Behavior = new FakeBehavior { Tokens = [.. Enumerable.Repeat("more ", 300)], TokenDelay = TimeSpan.FromMilliseconds(20) };
        var stopping = await CoreHarness.StartAsync(Database, slowModel.Endpoint, Output);
        await stopping.Chat.SendAsync(user, sessionId, "a long answer please", NewClientId(), createIfMissing: true);
        await stopping.WaitForAsync(user, sessionId, v => v.Messages is [_, { Status: EventStatus.Streaming, Text.Length: > 0 }], "part of the answer to be written");

        await stopping.DisposeAsync();

        var view = await Chat.GetConversationAsync(user, sessionId);
        Assert.NotNull(view);
        var answer = view.Messages[^1];
        Assert.Equal(EventStatus.Interrupted, answer.Status);
        Assert.StartsWith("more ", answer.Text);
        Assert.Contains("stopped", answer.FailureReason);
        Assert.Empty(stopping.LoggedErrors);
    }

    private Task<ResearchAssistant.Core.Privacy.UserCipher> CipherAsync(string user) => Core.Protector.ForUserAsync(user);

    /// <summary>A session with one question and one answer in the given state, written as a crashed process left it.</summary>
    private async Task<(Guid SessionId, Guid QuestionId, Guid AnswerId)> InsertAsync(string user, EventStatus answerStatus, string answerText)
    {
        var now = DateTimeOffset.UtcNow;
        var cipher = await CipherAsync(user);
        var (sessionId, questionId, answerId) = (Guid.NewGuid(), Guid.CreateVersion7(), Guid.CreateVersion7());
        await using var db = await Core.Contexts.CreateDbContextAsync();
        db.ChatSessions.Add(new ChatSession
        {
            Id = sessionId, OwnerId = user, TitleCipher = cipher.Encrypt("before the crash"), CreatedAt = now, LastActivityAt = now,
            LastSeq = 2, ActiveLeafId = answerId, Version = Guid.NewGuid(),
        });
        db.SessionEvents.AddRange(TreePlacer.PlaceAll(
            new SessionEvent
            {
                Id = questionId, SessionId = sessionId, Seq = 1, Kind = EventKind.UserMessage, Author = user,
                ContentCipher = cipher.Encrypt("What happened?"), Status = EventStatus.Complete, ClientId = "crash-q", CreatedAt = now,
            },
            new SessionEvent
            {
                Id = answerId, SessionId = sessionId, Seq = 2, Kind = EventKind.AssistantMessage, ParentId = questionId,
                Author = "fake-model", ContentCipher = cipher.Encrypt(answerText), Status = answerStatus, CreatedAt = now,
            }));
        await db.SaveChangesAsync();
        return (sessionId, questionId, answerId);
    }

    private async Task<Guid> InsertQueuedAsync(Guid sessionId, string user, string text)
    {
        var id = Guid.CreateVersion7();
        await using var db = await Core.Contexts.CreateDbContextAsync();
        var session = await db.ChatSessions.FindAsync(sessionId);
        Assert.NotNull(session);
        session.LastSeq++;
        db.SessionEvents.Add(new SessionEvent
        {
            Id = id, SessionId = sessionId, Seq = session.LastSeq, Kind = EventKind.UserMessage, Author = user,
            ContentCipher = (await CipherAsync(user)).Encrypt(text), Status = EventStatus.Queued, ClientId = "crash-queued", CreatedAt = DateTimeOffset.UtcNow,
        });
        await db.SaveChangesAsync();
        return id;
    }
}

public sealed class SqliteCrashRecoveryTests(SqliteTestDatabase database, ITestOutputHelper output)
    : CrashRecoveryTests(database, output), IClassFixture<SqliteTestDatabase>;

public sealed class PostgresCrashRecoveryTests(PostgresTestDatabase database, ITestOutputHelper output)
    : CrashRecoveryTests(database, output), IClassFixture<PostgresTestDatabase>;
