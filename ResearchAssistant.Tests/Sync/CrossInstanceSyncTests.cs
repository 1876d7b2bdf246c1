using Microsoft.Extensions.DependencyInjection;
using System.Diagnostics;
using Npgsql;
using ResearchAssistant.Core.Sessions;
using ResearchAssistant.Core.Sync;
using ResearchAssistant.Testing;
using ResearchAssistant.Tests.Chat;
using ResearchAssistant.Tests.Support;
using Xunit.Abstractions;

namespace ResearchAssistant.Tests.Sync;

/// <summary>
/// Two app instances on one PostgreSQL database: the test's Core ("A") and a second Core ("B"), each with its own
/// session bus, turn runner and LISTEN/NOTIFY bridge. What happens on one is seen live on the other, by the owner only.
/// </summary>
public sealed class CrossInstanceSyncTests(PostgresTestDatabase database, ITestOutputHelper output)
    : ChatTestBase(database, output), IClassFixture<PostgresTestDatabase>
{
    private CoreHarness B { get; set; } = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        B = await CoreHarness.StartAsync(Database, Model.Endpoint, Output);
    }

    public override async Task DisposeAsync()
    {
        await B.DisposeAsync();
        await base.DisposeAsync();
        Assert.True(B.LoggedErrors.Count == 0, "B logged errors:\n" + string.Join("\n", B.LoggedErrors));
    }

    [Fact]
    public async Task A_change_made_on_one_instance_reaches_a_subscriber_on_the_other_which_reads_it_from_the_database()
    {
        var user = await NewUserAsync();
        var (sessionId, _) = await StartConversationAsync(user, "a question about lichens");
        using var onB = new BusRecorder(B.Bus, user);

        await Core.Organizer.RenameAsync(user, sessionId, "Renamed on A");
        await onB.WaitForAsync(h => h.Change is { Kind: SessionChangeKind.Changed } c && c.SessionId == sessionId, "the rename's hint on B");
        Assert.Equal("Renamed on A", (await B.Chat.GetConversationAsync(user, sessionId))?.Title);

        await Core.Organizer.DeleteAsync(user, sessionId);
        await onB.WaitForAsync(h => h.Change is { Kind: SessionChangeKind.Deleted } c && c.SessionId == sessionId, "the deletion's hint on B");
        Assert.Null(await B.Chat.GetConversationAsync(user, sessionId));
    }

    [Fact]
    public async Task What_a_change_touched_reaches_the_other_instance_with_it()
    {
        var user = await NewUserAsync();
        using var onB = new BusRecorder(B.Bus, user);
        var (sessionId, view) = await StartConversationAsync(user, "a question about mosses");
        var answerId = view.Messages[1].Id;

        // The seal comes last of the answer's hints; by then B has heard them all, each with what it touched.
        await onB.WaitForAsync(h => h.Change is { Kind: SessionChangeKind.Changed, Parts: SessionParts.Conversation } c && c.MessageId == answerId, "the seal's hint on B");
        await onB.WaitForAsync(h => h.Change is { Kind: SessionChangeKind.Changed, Parts: SessionParts.Conversation | SessionParts.Listing } c && c.MessageId == answerId, "the answer's start on B");
        await onB.WaitForAsync(h => h.Change is { Kind: SessionChangeKind.Changed, Parts: SessionParts.Conversation | SessionParts.Listing } c && c.MessageId == view.Messages[0].Id, "the question's hint on B");
        var before = onB.All.Count;

        await Core.Organizer.RenameAsync(user, sessionId, "Renamed on A");
        var renamed = await onB.WaitForAsync(h => h.Change.Kind == SessionChangeKind.Changed && h.Change.MessageId is null && h.Change.Parts != SessionParts.Conversation,
            "the rename's hint on B", skip: before);
        Assert.Equal(SessionParts.All, renamed.Change.Parts);
    }

    [Fact]
    public async Task A_tab_opening_a_conversation_on_one_instance_is_listed_on_the_other()
    {
        var user = await NewUserAsync();
        var (sessionId, _) = await StartConversationAsync(user, "a question about tundra");
        var presenceOnA = Core.Services.GetRequiredService<PresenceService>();
        var presenceOnB = B.Services.GetRequiredService<PresenceService>();
        var laptopTab = await presenceOnB.EnterAsync(user, sessionId, null, "Laptop (Linux, Firefox)");
        using var onB = new BusRecorder(B.Bus, user);

        var phoneTab = await presenceOnA.EnterAsync(user, sessionId, null, "Phone (Android, Chrome)");
        await onB.WaitForAsync(h => h.Change is { Kind: SessionChangeKind.Presence } c && c.SessionId == sessionId, "the phone's presence hint on B");
        Assert.Equal([new PresenceView("Phone (Android, Chrome)", false)], await presenceOnB.ListOthersAsync(user, sessionId, laptopTab, null));

        var heardBefore = onB.All.Count;
        await presenceOnA.LeaveAsync(phoneTab);
        await onB.WaitForAsync(h => h.Change is { Kind: SessionChangeKind.Presence } c && c.SessionId == sessionId, "the phone's leaving hint on B", skip: heardBefore);
        Assert.Empty(await presenceOnB.ListOthersAsync(user, sessionId, laptopTab, null));
    }

    [Fact]
    public async Task An_answer_streaming_on_one_instance_streams_on_the_other_in_order_with_the_right_text()
    {
        // Multi-byte characters, a surrogate pair, and one token far over a notification's 8000 bytes (sent in pieces).
        string[] tokens = ["Première", " réponse", " 😀", " with", " a", " long", " part: ", new string('ü', 10_000), " and", " the", " end."];
        const int BeforePause = 3;
        var resume = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Model.Behavior = new FakeBehavior { Tokens = tokens, TokenDelay = TimeSpan.FromMilliseconds(3), PauseAfterTokens = BeforePause, Resume = resume.Task };
        var user = await NewUserAsync();
        var sessionId = Guid.NewGuid();
        using var onA = new BusRecorder(Core.Bus, user);
        using var onB = new BusRecorder(B.Bus, user);

        await Chat.SendAsync(user, sessionId, "stream me something", NewClientId(), createIfMissing: true);
        // B shows the text while the answer is still being written (the model is paused), not only at the end.
        var partial = string.Concat(tokens.Take(BeforePause));
        await onB.WaitForAsync(h => h.Change.Kind == SessionChangeKind.Streaming && h.Text == partial, "the first tokens on B");
        Assert.Equal(EventStatus.Streaming, (await B.Chat.GetConversationAsync(user, sessionId))!.Messages[^1].Status);

        resume.SetResult();
        var full = string.Concat(tokens);
        var done = await B.WaitForAsync(user, sessionId, v => CoreHarness.IsIdle(v) && v.Messages.Count == 2, "the answer to be sealed");
        Assert.Equal((full, EventStatus.Complete), (done.Messages[1].Text, done.Messages[1].Status));
        await onB.WaitForAsync(h => h.Change.Kind == SessionChangeKind.Streaming && h.Text == full, "the whole text on B");

        // Every text B's subscriber saw was a prefix of the answer, each at least as long as the one before, the last
        // one the whole answer: in order, with no gap and no repeat shown. And it was B's own text, not A's object.
        var streamed = onB.All.Where(h => h.Change.Kind == SessionChangeKind.Streaming).ToList();
        Assert.All(streamed, h => Assert.StartsWith(h.Text!, full, StringComparison.Ordinal));
        Assert.True(streamed.Zip(streamed.Skip(1)).All(p => p.First.Text!.Length <= p.Second.Text!.Length), "B saw the text shrink");
        Assert.Equal(full, streamed[^1].Text);
        // The answer's hints are its start and its seal: the seal's comes after the last text (a seal heard before
        // it would leave none to wait for here).
        await onB.WaitForAsync(h => h.Change.Kind == SessionChangeKind.Changed && h.Change.MessageId == done.Messages[1].Id, "the seal's hint after the last text on B",
            skip: onB.All.ToList().FindLastIndex(h => h.Change.Kind == SessionChangeKind.Streaming) + 1);
        var aTexts = onA.All.Select(h => h.Change.LiveText).Where(t => t is not null).ToHashSet();
        Assert.DoesNotContain(streamed, h => aTexts.Contains(h.Change.LiveText));
    }

    [Fact]
    public async Task Another_users_subscriber_on_the_other_instance_hears_nothing_of_a_session_it_does_not_own()
    {
        var owner = await NewUserAsync("owner");
        var other = await NewUserAsync("other");
        using var ownerOnB = new BusRecorder(B.Bus, owner);
        using var otherOnB = new BusRecorder(B.Bus, other);

        var (sessionId, view) = await StartConversationAsync(owner, "something private");
        await Core.Organizer.RenameAsync(owner, sessionId, "Private title");
        await ownerOnB.WaitForAsync(h => h.Change.Kind == SessionChangeKind.Streaming, "the answer's text on B (owner)");
        await B.WaitForAsync(owner, sessionId, v => v.Title == "Private title", "the rename, read on B (owner)");

        // A forged delta naming the other user as owner, made with the owner's key (as if copied from the channel and
        // re-addressed): it does not decrypt for the other user, so it is never shown.
        var ownerCipher = await Core.Protector.ForUserAsync(owner);
        var answerId = view.Messages[^1].Id;
        await NotifyAsync(new SyncNotice
        {
            Instance = Guid.NewGuid(), Kind = SyncNotice.DeltaKind, Owner = other, Session = sessionId, Message = answerId, Offset = 0,
            Text = ownerCipher.Encrypt("leaked text", SyncNotice.DeltaBinding(answerId, 0)),
        });
        // Then a genuine change of the other user's own: once it is heard, the forgery before it was handled too.
        var (otherSession, _) = await StartConversationAsync(other, "the other user's own question");
        await otherOnB.WaitForAsync(h => h.Change.SessionId == otherSession && h.Change.Kind == SessionChangeKind.Changed, "the other user's own change on B");

        Assert.DoesNotContain(otherOnB.All, h => h.Change.SessionId == sessionId);
        Assert.DoesNotContain(otherOnB.All, h => h.Text?.Contains("leaked", StringComparison.Ordinal) == true);
        Assert.DoesNotContain(otherOnB.All, h => h.Text?.Contains(ExpectedQuickAnswer, StringComparison.Ordinal) == true && h.Change.SessionId != otherSession);
    }

    [Fact]
    public async Task Stop_pressed_on_one_instance_stops_the_answer_streaming_on_the_other()
    {
        var resume = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Model.Behavior = new FakeBehavior { Tokens = ["Kept", " so", " far", " never", " sent"], TokenDelay = TimeSpan.FromMilliseconds(2), PauseAfterTokens = 3, Resume = resume.Task };
        try
        {
            var user = await NewUserAsync();
            var sessionId = Guid.NewGuid();
            await Chat.SendAsync(user, sessionId, "a long answer please", NewClientId(), createIfMissing: true);
            await B.WaitForAsync(user, sessionId, v => v.Messages is [_, { Status: EventStatus.Streaming, Text: "Kept so far" }], "the flushed start of the answer, read on B");
            Assert.True((await B.Chat.GetConversationAsync(user, sessionId))!.IsGenerating);
            Assert.False(B.Turns.IsGenerating(sessionId));

            var pressed = Stopwatch.StartNew();
            Assert.True(await B.Chat.StopAsync(user, sessionId));
            var stopped = await Core.WaitForAsync(user, sessionId, v => v.Messages is [_, { Status: EventStatus.Stopped }], "A to stop the answer");
            Output.WriteLine($"Stopped on A {pressed.ElapsedMilliseconds} ms after Stop on B");
            Assert.Equal("Kept so far", stopped.Messages[1].Text);
            await B.WaitForAsync(user, sessionId, v => CoreHarness.IsIdle(v) && v.Messages[1].Status == EventStatus.Stopped, "B to show the stopped answer");
            await Wait.UntilAsync(() => !Core.Turns.IsGenerating(sessionId), "A's worker to let the session go");
            await AssertSeqIsGapFreeAsync(sessionId);
        }
        finally
        {
            resume.TrySetResult();
        }
    }

    [Fact]
    public async Task An_instance_starting_up_leaves_alone_the_answer_another_instance_is_writing()
    {
        var resume = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Model.Behavior = new FakeBehavior { Tokens = ["Still", " being", " written."], TokenDelay = TimeSpan.FromMilliseconds(2), PauseAfterTokens = 1, Resume = resume.Task };
        var user = await NewUserAsync();
        var sessionId = Guid.NewGuid();
        await Chat.SendAsync(user, sessionId, "question", NewClientId(), createIfMissing: true);
        await Core.WaitForAsync(user, sessionId, v => v.Messages is [_, { Status: EventStatus.Streaming, Text: "Still" }], "the answer to be streaming");

        // B starts up (again) while A writes: start-up seals only answers whose writer is gone.
        await B.Initializer.InitializeAsync(CancellationToken.None);
        Assert.Equal(EventStatus.Streaming, (await StoredEventsAsync(sessionId)).Single(e => e.Kind == EventKind.AssistantMessage).Status);

        resume.SetResult();
        var done = await Core.WaitUntilIdleAsync(user, sessionId);
        Assert.Equal(("Still being written.", EventStatus.Complete), (done.Messages[1].Text, done.Messages[1].Status));
    }

    [Fact]
    public async Task Work_left_by_an_instance_that_died_is_taken_over_by_another()
    {
        var user = await NewUserAsync();
        var cipher = await Core.Protector.ForUserAsync(user);
        var now = DateTimeOffset.UtcNow;
        var (sessionId, questionId, answerId, waitingId) = (Guid.NewGuid(), Guid.CreateVersion7(), Guid.CreateVersion7(), Guid.CreateVersion7());
        // As a dead instance leaves it: an answer streaming with its last flush (nobody holds the turn any more), and a
        // question queued behind it.
        await using (var db = await Core.Contexts.CreateDbContextAsync())
        {
            db.ChatSessions.Add(new ChatSession
            {
                Id = sessionId, OwnerId = user, TitleCipher = cipher.Encrypt("left behind"), CreatedAt = now, LastActivityAt = now,
                LastSeq = 3, ActiveLeafId = answerId, Version = Guid.NewGuid(),
            });
            db.SessionEvents.AddRange(TreePlacer.PlaceAll(
                new SessionEvent { Id = questionId, SessionId = sessionId, Seq = 1, Kind = EventKind.UserMessage, Author = user, ContentCipher = cipher.Encrypt("first question"), Status = EventStatus.Complete, CreatedAt = now },
                new SessionEvent { Id = answerId, SessionId = sessionId, Seq = 2, Kind = EventKind.AssistantMessage, ParentId = questionId, Author = "fake-model", ContentCipher = cipher.Encrypt("Half an ans"), Status = EventStatus.Streaming, CreatedAt = now },
                new SessionEvent { Id = waitingId, SessionId = sessionId, Seq = 3, Kind = EventKind.UserMessage, Author = user, ContentCipher = cipher.Encrypt("second question"), Status = EventStatus.Queued, CreatedAt = now }));
            await db.SaveChangesAsync();
        }

        // What B's periodic sweep does.
        await B.Turns.SweepOrphansAsync(CancellationToken.None);
        var view = await B.WaitForAsync(user, sessionId, v => CoreHarness.IsIdle(v) && v.Messages.Count == 4, "the left work to be done");

        Assert.Equal(
            [("first question", EventStatus.Complete), ("Half an ans", EventStatus.Interrupted), ("second question", EventStatus.Complete), (ExpectedQuickAnswer, EventStatus.Complete)],
            view.Messages.Select(m => (m.Text, m.Status)));
        Assert.True((await B.Branches.VerifyHistoryAsync(user, sessionId)).IsIntact);
    }

    private async Task NotifyAsync(SyncNotice notice)
    {
        await using var connection = new NpgsqlConnection(Database.Settings.ConnectionString);
        await connection.OpenAsync();
        await using var notify = new NpgsqlCommand("SELECT pg_notify($1, $2)", connection);
        notify.Parameters.Add(new NpgsqlParameter { Value = PostgresSessionBridge.Channel });
        notify.Parameters.Add(new NpgsqlParameter { Value = notice.ToPayload() });
        await notify.ExecuteNonQueryAsync();
    }
}
