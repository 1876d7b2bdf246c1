using Microsoft.EntityFrameworkCore;
using ResearchAssistant.Core.Sessions;
using ResearchAssistant.Testing;
using ResearchAssistant.Tests.Chat;
using ResearchAssistant.Tests.Support;
using Xunit.Abstractions;

namespace ResearchAssistant.Tests.Sessions;

/// <summary>
/// Tamper evidence: every final event is hashed over its fields and the hash before it, in Seq order. A history
/// written only through Core verifies; any change made behind Core's back is reported, at the first event it breaks.
/// </summary>
public abstract class HashChainTests(TestDatabase database, ITestOutputHelper output) : ChatTestBase(database, output)
{
    public enum Tampering
    {
        ContentOfAMiddleEvent,
        StatusOfAFailedAnswer,
        ParentOfAMiddleEvent,
        StoredHashOfAMiddleEvent,
        SeqOrderOfTwoMiddleEvents,
        DeletionOfAMiddleEvent,
    }

    /// <summary>
    /// Two questions, the second answered only at the second try (the first attempt fails), then edited and answered
    /// again; a rewind, a checkpoint and a rename. Returns the session once everything is final.
    /// </summary>
    private async Task<(string User, Guid SessionId)> ConversationWithEditsFailureAndRetryAsync()
    {
        var user = await NewUserAsync();
        var (sessionId, first) = await StartConversationAsync(user, "q1");
        Model.Behavior = new FakeBehavior { FailWithStatus = 503 };
        await Chat.SendAsync(user, sessionId, "q2", NewClientId());
        var failed = await Core.WaitForAsync(user, sessionId, v => CoreHarness.IsIdle(v) && v.Messages.Count == 4, "the failed answer");
        Assert.Equal(EventStatus.Failed, failed.Messages[^1].Status);
        Model.Behavior = QuickAnswer;
        await Chat.RegenerateAsync(user, sessionId, failed.Messages[^1].Id);
        await Core.WaitForAsync(user, sessionId, v => CoreHarness.IsIdle(v) && v.Messages[^1].Status == EventStatus.Complete, "the retried answer");
        var edited = await Chat.EditAsync(user, sessionId, failed.Messages[2].Id, "q2, edited", NewClientId());
        await Core.WaitForAsync(user, sessionId, v => CoreHarness.IsIdle(v) && v.Messages[^1].ParentId == edited.MessageId, "the edit's answer");
        await Core.Branches.RewindAsync(user, sessionId, first.Messages[1].Id);
        await Core.Branches.SaveCheckpointAsync(user, sessionId, first.Messages[1].Id, "after q1");
        await Core.Organizer.RenameAsync(user, sessionId, "renamed");
        return (user, sessionId);
    }

    [Fact]
    public async Task A_history_with_edits_a_failed_answer_and_a_retry_verifies_intact_with_every_event_hashed()
    {
        var (user, sessionId) = await ConversationWithEditsFailureAndRetryAsync();

        var verification = await Core.Branches.VerifyHistoryAsync(user, sessionId);

        var stored = await StoredEventsAsync(sessionId);
        Assert.True(verification.IsIntact, verification.Summary);
        Assert.Null(verification.FirstBrokenSeq);
        Assert.Equal(stored.Count, verification.HashedEvents);
        Assert.All(stored, e => Assert.NotNull(e.Hash));
        Assert.Contains(stored, e => e.Status == EventStatus.Failed);
        // q1, a1, q2, its failed answer, the retry, the edit, its answer, the rewind, the checkpoint and the rename.
        Assert.Equal(
            [EventKind.UserMessage, EventKind.AssistantMessage, EventKind.UserMessage, EventKind.AssistantMessage, EventKind.AssistantMessage,
             EventKind.UserMessage, EventKind.AssistantMessage, EventKind.Rewound, EventKind.CheckpointSaved, EventKind.SessionUpdated],
            stored.Select(e => e.Kind));
        // A fresh Core (another instance, or after a restart) verifies the same stored history.
        await using var elsewhere = await CoreHarness.StartAsync(Database, Model.Endpoint, Output);
        Assert.Equal(verification, await elsewhere.Branches.VerifyHistoryAsync(user, sessionId));
    }

    [Theory]
    [InlineData(Tampering.ContentOfAMiddleEvent)]
    [InlineData(Tampering.StatusOfAFailedAnswer)]
    [InlineData(Tampering.ParentOfAMiddleEvent)]
    [InlineData(Tampering.StoredHashOfAMiddleEvent)]
    [InlineData(Tampering.SeqOrderOfTwoMiddleEvents)]
    [InlineData(Tampering.DeletionOfAMiddleEvent)]
    public async Task Tampering_with_the_stored_log_is_reported_at_the_first_broken_Seq(Tampering tampering)
    {
        var (user, sessionId) = await ConversationWithEditsFailureAndRetryAsync();
        var stored = await StoredEventsAsync(sessionId);
        Assert.True((await Core.Branches.VerifyHistoryAsync(user, sessionId)).IsIntact);
        var middle = stored[stored.Count / 2];

        var brokenAt = await TamperAsync(tampering, stored, middle);

        var verification = await Core.Branches.VerifyHistoryAsync(user, sessionId);
        Assert.False(verification.IsIntact, $"{tampering} went unnoticed: {verification.Summary}");
        Assert.Equal(brokenAt, verification.FirstBrokenSeq);
        Assert.Equal(brokenAt - 1, verification.HashedEvents);
        Assert.Contains($"{brokenAt}", verification.Summary);
    }

    /// <summary>Changes the stored log behind Core's back; returns the Seq where the chain must break.</summary>
    private async Task<long> TamperAsync(Tampering tampering, List<SessionEvent> stored, SessionEvent middle)
    {
        await using var db = await Core.Contexts.CreateDbContextAsync();
        var events = db.SessionEvents.Where(e => e.SessionId == middle.SessionId);
        switch (tampering)
        {
            case Tampering.ContentOfAMiddleEvent:
                var altered = middle.ContentCipher.ToArray();
                altered[^1] ^= 0x01;
                await events.Where(e => e.Id == middle.Id).ExecuteUpdateAsync(u => u.SetProperty(e => e.ContentCipher, altered));
                return middle.Seq;
            case Tampering.StatusOfAFailedAnswer:
                var failed = stored.First(e => e.Status == EventStatus.Failed);
                await events.Where(e => e.Id == failed.Id).ExecuteUpdateAsync(u => u.SetProperty(e => e.Status, EventStatus.Complete));
                return failed.Seq;
            case Tampering.ParentOfAMiddleEvent:
                var child = stored.Skip(stored.Count / 2).First(e => e.ParentId is not null);
                await events.Where(e => e.Id == child.Id).ExecuteUpdateAsync(u => u.SetProperty(e => e.ParentId, stored[0].Id));
                return child.Seq;
            case Tampering.StoredHashOfAMiddleEvent:
                var rehashed = middle.Hash!.ToArray();
                rehashed[0] ^= 0xFF;
                await events.Where(e => e.Id == middle.Id).ExecuteUpdateAsync(u => u.SetProperty(e => e.Hash, rehashed));
                return middle.Seq;
            case Tampering.SeqOrderOfTwoMiddleEvents:
                var next = stored.Single(e => e.Seq == middle.Seq + 1);
                // Through a free Seq, because (SessionId, Seq) is unique.
                await events.Where(e => e.Id == middle.Id).ExecuteUpdateAsync(u => u.SetProperty(e => e.Seq, -1));
                await events.Where(e => e.Id == next.Id).ExecuteUpdateAsync(u => u.SetProperty(e => e.Seq, middle.Seq));
                await events.Where(e => e.Id == middle.Id).ExecuteUpdateAsync(u => u.SetProperty(e => e.Seq, next.Seq));
                return middle.Seq;
            case Tampering.DeletionOfAMiddleEvent:
                await events.Where(e => e.Id == middle.Id).ExecuteDeleteAsync();
                return middle.Seq;
            default:
                throw new ArgumentOutOfRangeException(nameof(tampering));
        }
    }
}

public sealed class SqliteHashChainTests(SqliteTestDatabase database, ITestOutputHelper output)
    : HashChainTests(database, output), IClassFixture<SqliteTestDatabase>;

public sealed class PostgresHashChainTests(PostgresTestDatabase database, ITestOutputHelper output)
    : HashChainTests(database, output), IClassFixture<PostgresTestDatabase>;
