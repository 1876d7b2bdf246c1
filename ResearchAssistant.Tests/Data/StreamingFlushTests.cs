using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using ResearchAssistant.Core.Chat;
using ResearchAssistant.Core.Sessions;
using ResearchAssistant.Testing;
using ResearchAssistant.Tests.Chat;
using ResearchAssistant.Tests.Support;
using Xunit.Abstractions;

namespace ResearchAssistant.Tests.Data;

/// <summary>
/// The one mutation the log allows: an answer being streamed is a row with status Streaming whose text is flushed
/// every 250 ms at most, so a crash loses at most one flush; once sealed, the row never changes again.
/// </summary>
public abstract class StreamingFlushTests(TestDatabase database, ITestOutputHelper output) : ChatTestBase(database, output)
{
    private static readonly string[] Tokens = ["Partial", " answer", " so far.", " And", " the", " rest."];
    private const int TokensBeforePause = 3;

    [Fact]
    public async Task A_streaming_answer_is_flushed_to_its_row_while_it_streams_and_its_sealed_row_never_changes_again()
    {
        Assert.True(TurnRunner.FlushInterval <= TimeSpan.FromMilliseconds(250), $"flush interval {TurnRunner.FlushInterval}");
        var resume = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // Three tokens, then the stream pauses: the text can reach the database only through the periodic flush.
        Model.Behavior = new FakeBehavior { Tokens = Tokens, TokenDelay = TimeSpan.FromMilliseconds(5), PauseAfterTokens = TokensBeforePause, Resume = resume.Task };
        var user = await NewUserAsync();
        var sessionId = Guid.NewGuid();
        await Chat.SendAsync(user, sessionId, "please answer slowly", NewClientId(), createIfMissing: true);
        await Wait.UntilAsync(() => Model.Requests.Count == 1, "the model to be asked");
        var sinceAsked = Stopwatch.StartNew();

        var partial = string.Concat(Tokens.Take(TokensBeforePause));
        SessionEvent? streaming = null;
        await Wait.UntilAsync(async () => (streaming = await StoredAnswerAsync(sessionId)) is { Status: EventStatus.Streaming } row && await TextAsync(user, row) == partial,
            "the first tokens to be flushed to the answer's row", TimeSpan.FromSeconds(10));
        Output.WriteLine($"flushed {sinceAsked.ElapsedMilliseconds} ms after the model was asked");
        Assert.Null(streaming!.Hash); // not final, so not in the hash chain yet
        // Readers (another device) see the flushed text while it streams.
        var view = await Chat.GetConversationAsync(user, sessionId);
        Assert.Equal((EventStatus.Streaming, partial), (view!.Messages[^1].Status, view.Messages[^1].Text));
        Assert.True(view.IsGenerating);

        resume.SetResult();
        var done = await Core.WaitUntilIdleAsync(user, sessionId);
        Assert.Equal((EventStatus.Complete, string.Concat(Tokens)), (done.Messages[^1].Status, done.Messages[^1].Text));
        var sealedRow = await StoredAnswerAsync(sessionId);
        Assert.Equal(streaming.Id, sealedRow!.Id);
        Assert.NotNull(sealedRow.Hash);
        var sealedState = Describe(sealedRow);

        // More turns on the same session, including a new version of this very answer: its row stays as sealed.
        Model.Behavior = QuickAnswer;
        await Chat.RegenerateAsync(user, sessionId, sealedRow.Id);
        await Core.WaitForAsync(user, sessionId, v => CoreHarness.IsIdle(v) && v.Messages[^1].Id != sealedRow.Id, "the regenerated answer");
        await Chat.SendAsync(user, sessionId, "and another question", NewClientId());
        await Core.WaitForAsync(user, sessionId, v => CoreHarness.IsIdle(v) && v.Messages.Count == 4, "the next answer");
        await Core.Branches.SwitchToVersionAsync(user, sessionId, sealedRow.Id);

        Assert.Equal(sealedState, Describe((await StoredEventsAsync(sessionId)).Single(e => e.Id == sealedRow.Id)));
        Assert.True((await Core.Branches.VerifyHistoryAsync(user, sessionId)).IsIntact);
    }

    [Fact]
    public async Task An_answer_left_streaming_by_a_crash_keeps_its_last_flush_and_joins_the_hash_chain_when_sealed_at_start_up()
    {
        var resume = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var user = await NewUserAsync();
        var (sessionId, _) = await StartConversationAsync(user, "first question");
        Model.Behavior = new FakeBehavior { Tokens = Tokens, TokenDelay = TimeSpan.FromMilliseconds(5), PauseAfterTokens = TokensBeforePause, Resume = resume.Task };
        await Chat.SendAsync(user, sessionId, "the question the crash interrupts", NewClientId());
        var partial = string.Concat(Tokens.Take(TokensBeforePause));
        await Wait.UntilAsync(async () => await StoredAnswerAsync(sessionId) is { Status: EventStatus.Streaming } row && await TextAsync(user, row) == partial,
            "the first tokens to be flushed", TimeSpan.FromSeconds(10));

        // The process dies here. Stopping Core would seal the answer as interrupted; a crash does not, so put back
        // what a crash leaves: the row streaming with its last flush, and the hash chain stopped before the question
        // (admitted while its answer streams, the question is hashed only when the answer is sealed).
        var cipher = await Core.Protector.ForUserAsync(user);
        var left = (await StoredAnswerAsync(sessionId))!;
        var questionSeq = (await StoredEventsAsync(sessionId)).Single(e => e.Id == left.ParentId).Seq;
        await Core.DisposeAsync();
        await using (var db = Database.Contexts.CreateDbContext())
        {
            await db.SessionEvents.Where(e => e.Id == left.Id)
                .ExecuteUpdateAsync(u => u.SetProperty(e => e.Status, EventStatus.Streaming).SetProperty(e => e.FailureReason, (string?)null));
            await db.SessionEvents.Where(e => e.SessionId == sessionId && e.Seq >= questionSeq)
                .ExecuteUpdateAsync(u => u.SetProperty(e => e.Hash, (byte[]?)null));
        }
        Assert.Equal((EventStatus.Streaming, partial), await StoredAnswerAsync(sessionId) is { } crashed ? (crashed.Status, cipher.Decrypt(crashed.ContentCipher)) : default);

        // The next start: migrate, check the key, seal what was left streaming; then the turn runner.
        await TestDatabase.MigrateAsync(Database.Settings);
        await using var restarted = await CoreHarness.StartAsync(Database, Model.Endpoint, Output);
        var view = await restarted.Chat.GetConversationAsync(user, sessionId);
        var answer = view!.Messages[^1];
        Assert.Equal((left.Id, EventStatus.Interrupted, partial), (answer.Id, answer.Status, answer.Text));
        var verification = await restarted.Branches.VerifyHistoryAsync(user, sessionId);
        Assert.True(verification.IsIntact, verification.Summary);
        Assert.Equal(4, verification.HashedEvents);

        // Retried after the restart: a new complete answer, the chain still intact.
        resume.SetResult();
        Model.Behavior = QuickAnswer;
        await restarted.Chat.RegenerateAsync(user, sessionId, left.Id);
        var retried = await restarted.WaitForAsync(user, sessionId, v => CoreHarness.IsIdle(v) && v.Messages[^1].Id != left.Id, "the retried answer");
        Assert.Equal((ExpectedQuickAnswer, EventStatus.Complete), (retried.Messages[^1].Text, retried.Messages[^1].Status));
        Assert.Equal((true, 5L), await restarted.Branches.VerifyHistoryAsync(user, sessionId) is var v2 ? (v2.IsIntact, v2.HashedEvents) : default);
        Assert.Empty(restarted.LoggedErrors);
    }

    /// <summary>The session's newest answer as stored (read through a context of the test's own, not Core's).</summary>
    private async Task<SessionEvent?> StoredAnswerAsync(Guid sessionId)
    {
        await using var db = Database.Contexts.CreateDbContext();
        return await db.SessionEvents.AsNoTracking()
            .Where(e => e.SessionId == sessionId && e.Kind == EventKind.AssistantMessage)
            .OrderByDescending(e => e.Seq)
            .FirstOrDefaultAsync();
    }

    private async Task<string> TextAsync(string user, SessionEvent row) => (await Core.Protector.ForUserAsync(user)).Decrypt(row.ContentCipher);

    private static string Describe(SessionEvent e) =>
        $"{e.Seq} {e.Kind} {e.Status} {e.ParentId} {e.FailureReason} {e.TokenCount} {e.CreatedAt.UtcTicks} {Convert.ToHexString(e.ContentCipher)} {Convert.ToHexString(e.Hash ?? [])}";
}

public sealed class SqliteStreamingFlushTests(SqliteTestDatabase database, ITestOutputHelper output)
    : StreamingFlushTests(database, output), IClassFixture<SqliteTestDatabase>;

public sealed class PostgresStreamingFlushTests(PostgresTestDatabase database, ITestOutputHelper output)
    : StreamingFlushTests(database, output), IClassFixture<PostgresTestDatabase>;
