using Microsoft.EntityFrameworkCore;
using ResearchAssistant.Core.Data;
using ResearchAssistant.Core.Sessions;
using ResearchAssistant.Core.Sync;
using ResearchAssistant.Testing;
using ResearchAssistant.Tests.Chat;
using ResearchAssistant.Tests.Support;
using Xunit.Abstractions;

namespace ResearchAssistant.Tests.Sync;

/// <summary>
/// A hint names what its commit may have touched, and tabs skip the re-reads it rules out (the sidebar, the
/// checkpoints). That is only safe if the names are true: a part left out must read the same before and after.
/// </summary>
public abstract class HintPartsTests(TestDatabase database, ITestOutputHelper output) : ChatTestBase(database, output)
{
    [Fact]
    public async Task An_answers_hints_name_what_they_touched_and_what_they_leave_out_reads_the_same_before_and_after()
    {
        var resume = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Model.Behavior = QuickAnswer with { PauseAfterTokens = 2, Resume = resume.Task };
        var user = await NewUserAsync();
        var sessionId = Guid.NewGuid();
        using var heard = new BusRecorder(Core.Bus, user);

        var sent = await Chat.SendAsync(user, sessionId, "what do hints say?", NewClientId(), createIfMissing: true);
        await heard.WaitForAsync(h => h.Change.Kind == SessionChangeKind.Streaming && h.Change.SessionId == sessionId, "the answer streaming");
        // The answer has started (its row is appended): what the later hints say they leave alone, as it is now.
        var listing = await Core.Organizer.ListAsync(user);
        var checkpoints = await Core.Branches.ListCheckpointsAsync(user, sessionId);
        resume.SetResult();
        var done = await Core.WaitUntilIdleAsync(user, sessionId);
        var answerId = done.Messages[1].Id;
        await heard.WaitForAsync(h => h.Change is { Kind: SessionChangeKind.Changed, MessageId: null } c && c.SessionId == sessionId, "the worker's leaving hint");

        var changes = heard.All.Select(h => h.Change).Where(c => c.Kind == SessionChangeKind.Changed && c.SessionId == sessionId).ToList();
        Assert.Equal(SessionParts.Conversation | SessionParts.Listing, Assert.Single(changes, c => c.MessageId == sent.MessageId).Parts);
        var answerHints = changes.Where(c => c.MessageId == answerId).ToList();
        Assert.Equal(2, answerHints.Count);
        Assert.Contains(answerHints, c => c.Parts == (SessionParts.Conversation | SessionParts.Listing)); // its start
        Assert.Contains(answerHints, c => c.Parts == SessionParts.Conversation); // its seal
        Assert.Equal(SessionParts.Conversation, Assert.Single(changes, c => c.MessageId is null).Parts);

        // Neither the seal nor the worker's leaving touched the listing or the checkpoints.
        Assert.Equal(listing, await Core.Organizer.ListAsync(user));
        Assert.Equal(checkpoints, await Core.Branches.ListCheckpointsAsync(user, sessionId));
    }

    [Fact]
    public async Task Renaming_and_saving_a_checkpoint_are_hinted_as_touching_everything()
    {
        var user = await NewUserAsync();
        using var heard = new BusRecorder(Core.Bus, user);
        var (sessionId, view) = await StartConversationAsync(user, "a question to mark");
        await heard.WaitForAsync(h => h.Change is { Kind: SessionChangeKind.Changed, MessageId: null }, "the worker's leaving hint");
        var before = heard.All.Count;

        await Core.Organizer.RenameAsync(user, sessionId, "Renamed");
        await Core.Branches.SaveCheckpointAsync(user, sessionId, view.Messages[1].Id, "here");

        await heard.WaitForAsync(h => h.Change.Kind == SessionChangeKind.Changed, "the rename's hint", skip: before);
        await heard.WaitForAsync(h => h.Change.Kind == SessionChangeKind.Changed, "the checkpoint's hint", skip: before + 1);
        Assert.All(heard.All.Skip(before), h => Assert.Equal(SessionParts.All, h.Change.Parts));
    }

    [Fact]
    public async Task A_view_says_it_reflects_a_hint_heard_before_its_read_began_and_not_one_heard_after()
    {
        var user = await NewUserAsync();
        var (sessionId, _) = await StartConversationAsync(user, "a question");
        using var heard = new BusRecorder(Core.Bus, user);

        await Core.Organizer.RenameAsync(user, sessionId, "Before the read");
        // (The worker's leaving hint of the first answer may come in too: a rename's says it touched everything.)
        var before = (await heard.WaitForAsync(h => h.Change is { Kind: SessionChangeKind.Changed, Parts: SessionParts.All }, "the first rename's hint")).Change;
        var view = (await Chat.GetConversationAsync(user, sessionId, before))!;
        Assert.Equal("Before the read", view.Title);
        Assert.True(view.Reflects(before));
        Assert.False(view.Reflects(before with { SessionId = Guid.NewGuid() }), "A view reflects hints of its own conversation only.");

        await Core.Organizer.RenameAsync(user, sessionId, "After the read");
        var after = (await heard.WaitForAsync(h => h.Change is { Kind: SessionChangeKind.Changed, Parts: SessionParts.All }, "the second rename's hint",
            skip: heard.All.ToList().FindIndex(h => ReferenceEquals(h.Change, before)) + 1)).Change;
        Assert.False(view.Reflects(after));
        var reread = (await Chat.GetConversationAsync(user, sessionId, after))!;
        Assert.True(reread.Reflects(after));
        Assert.Equal("After the read", reread.Title);
    }

    [Fact]
    public async Task A_read_in_a_snapshot_does_not_see_a_commit_made_while_it_runs()
    {
        var user = await NewUserAsync();
        var (sessionId, _) = await StartConversationAsync(user, "a question");
        await using var reader = await Core.Contexts.CreateDbContextAsync();
        Guid before;
        await using (await reader.BeginSnapshotReadAsync(CancellationToken.None))
        {
            before = await reader.ChatSessions.AsNoTracking().Where(s => s.Id == sessionId).Select(s => s.Version).SingleAsync();
            await Core.Organizer.RenameAsync(user, sessionId, "Renamed meanwhile"); // commits on its own connection
            var during = await reader.ChatSessions.AsNoTracking().Where(s => s.Id == sessionId).Select(s => s.Version).SingleAsync();
            Assert.Equal(before, during);
        }
        // Once it ended, the same context sees the commit.
        Assert.NotEqual(before, await reader.ChatSessions.AsNoTracking().Where(s => s.Id == sessionId).Select(s => s.Version).SingleAsync());
        Assert.Equal("Renamed meanwhile", (await Chat.GetConversationAsync(user, sessionId))!.Title);
    }
}

public sealed class SqliteHintPartsTests(SqliteTestDatabase database, ITestOutputHelper output)
    : HintPartsTests(database, output), IClassFixture<SqliteTestDatabase>;

public sealed class PostgresHintPartsTests(PostgresTestDatabase database, ITestOutputHelper output)
    : HintPartsTests(database, output), IClassFixture<PostgresTestDatabase>;
