using Microsoft.EntityFrameworkCore;
using ResearchAssistant.Core.Chat;
using ResearchAssistant.Core.Sessions;
using ResearchAssistant.Tests.Chat;
using ResearchAssistant.Tests.Support;
using Xunit.Abstractions;

namespace ResearchAssistant.Tests.Sessions;

/// <summary>
/// The message tree: an edit or a regenerate adds a sibling, never overwrites; switching versions, rewinding and
/// resuming from a checkpoint only move the active leaf (and are recorded in the log). Nothing is ever deleted.
/// </summary>
public abstract class BranchTests(TestDatabase database, ITestOutputHelper output) : ChatTestBase(database, output)
{
    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        // Answers name their question, so each branch can be read off the texts.
        Model.Behavior = QuickAnswer with { Respond = r => ["Answer to: ", r.Messages[^1].Content] };
    }

    private static string AnswerTo(string question) => "Answer to: " + question;

    /// <summary>q1, a1, q2, a2 on one branch.</summary>
    private async Task<(string User, Guid SessionId, ConversationView View)> TwoExchangesAsync(string name = "user")
    {
        var user = await NewUserAsync(name);
        var (sessionId, _) = await StartConversationAsync(user, "q1");
        await Chat.SendAsync(user, sessionId, "q2", NewClientId());
        var view = await Core.WaitForAsync(user, sessionId, v => CoreHarness.IsIdle(v) && v.Messages.Count == 4, "the second answer");
        Assert.Equal(["q1", AnswerTo("q1"), "q2", AnswerTo("q2")], view.Messages.Select(m => m.Text));
        return (user, sessionId, view);
    }

    private Task<ConversationView> WaitForAnswerToAsync(string user, Guid sessionId, Guid questionId) =>
        Core.WaitForAsync(user, sessionId, v => CoreHarness.IsIdle(v) && v.Messages[^1].ParentId == questionId, "the answer to the new version");

    [Fact]
    public async Task Editing_a_question_adds_a_sibling_answered_on_the_active_branch_and_keeps_the_original_and_its_answer()
    {
        var (user, sessionId, before) = await TwoExchangesAsync();
        var (a1, q2, a2) = (before.Messages[1], before.Messages[2], before.Messages[3]);

        var edited = await Chat.EditAsync(user, sessionId, q2.Id, "q2, better worded", NewClientId());
        var view = await WaitForAnswerToAsync(user, sessionId, edited.MessageId);

        Assert.Equal(["q1", AnswerTo("q1"), "q2, better worded", AnswerTo("q2, better worded")], view.Messages.Select(m => m.Text));
        var newVersion = view.Messages[2];
        Assert.Equal(edited.MessageId, newVersion.Id);
        Assert.Equal(a1.Id, newVersion.ParentId); // a sibling of the original: same parent
        Assert.Equal(new VersionInfo(2, 2, q2.Id, null), newVersion.Version);
        Assert.Equal(newVersion.Id, view.Messages[3].ParentId);
        Assert.Equal(view.Messages[3].Id, (await StoredSessionAsync(sessionId))!.ActiveLeafId);
        // The original and its answer are still stored, unchanged.
        var stored = await StoredEventsAsync(sessionId);
        Assert.Contains(stored, e => e.Id == q2.Id && e.ParentId == a1.Id && e.Status == EventStatus.Complete);
        Assert.Contains(stored, e => e.Id == a2.Id && e.ParentId == q2.Id && e.Status == EventStatus.Complete);
        await AssertSeqIsGapFreeAsync(sessionId);
    }

    [Fact]
    public async Task Regenerating_an_answer_adds_a_sibling_answer_and_keeps_the_first()
    {
        var (user, sessionId, before) = await TwoExchangesAsync();
        var (q2, a2) = (before.Messages[2], before.Messages[3]);

        await Chat.RegenerateAsync(user, sessionId, a2.Id);
        var view = await Core.WaitForAsync(user, sessionId, v => CoreHarness.IsIdle(v) && v.Messages[^1].Id != a2.Id, "the regenerated answer");

        var regenerated = view.Messages[^1];
        Assert.Equal(4, view.Messages.Count);
        Assert.Equal((q2.Id, AnswerTo("q2"), EventStatus.Complete), (regenerated.ParentId, regenerated.Text, regenerated.Status));
        Assert.Equal(new VersionInfo(2, 2, a2.Id, null), regenerated.Version);
        Assert.Contains(await StoredEventsAsync(sessionId), e => e.Id == a2.Id && e.ParentId == q2.Id && e.Status == EventStatus.Complete);
        // The model was asked the same question again, from the same history.
        Assert.Equal(Model.Requests[1].Messages, Model.Requests[2].Messages);
    }

    [Fact]
    public async Task Switching_back_to_the_original_shows_it_with_the_newest_branch_below_it_and_is_recorded()
    {
        var (user, sessionId, before) = await TwoExchangesAsync();
        var (q2, a2) = (before.Messages[2], before.Messages[3]);
        // Below the original q2: a2, then a newer a2' (regenerated). Then q2 is edited: the active branch leaves q2.
        await Chat.RegenerateAsync(user, sessionId, a2.Id);
        var newestBelow = (await Core.WaitForAsync(user, sessionId, v => CoreHarness.IsIdle(v) && v.Messages[^1].Id != a2.Id, "a2'")).Messages[^1];
        var edited = await Chat.EditAsync(user, sessionId, q2.Id, "q2 edited", NewClientId());
        var onEdit = await WaitForAnswerToAsync(user, sessionId, edited.MessageId);
        Assert.Equal(new VersionInfo(2, 2, q2.Id, null), onEdit.Messages[2].Version);

        await Core.Branches.SwitchToVersionAsync(user, sessionId, q2.Id);

        var view = await Chat.GetConversationAsync(user, sessionId);
        Assert.NotNull(view);
        Assert.Equal([before.Messages[0].Id, before.Messages[1].Id, q2.Id, newestBelow.Id], view.Messages.Select(m => m.Id));
        Assert.Equal(new VersionInfo(1, 2, null, edited.MessageId), view.Messages[2].Version);
        Assert.Equal(new VersionInfo(2, 2, a2.Id, null), view.Messages[3].Version);
        var switched = (await StoredEventsAsync(sessionId))[^1];
        Assert.Equal((EventKind.VersionSwitched, newestBelow.Id, user), (switched.Kind, switched.TargetId, switched.Author));
        Assert.Equal(newestBelow.Id, (await StoredSessionAsync(sessionId))!.ActiveLeafId);

        // And forward again to the edit, with its answer.
        await Core.Branches.SwitchToVersionAsync(user, sessionId, edited.MessageId);
        Assert.Equal(onEdit.Messages.Select(m => m.Id), (await Chat.GetConversationAsync(user, sessionId))!.Messages.Select(m => m.Id));
        await AssertSeqIsGapFreeAsync(sessionId);
    }

    [Fact]
    public async Task Rewinding_makes_the_message_the_leaf_for_every_later_reader_and_keeps_what_followed()
    {
        var (user, sessionId, before) = await TwoExchangesAsync();
        var (q1, a1, q2, a2) = (before.Messages[0], before.Messages[1], before.Messages[2], before.Messages[3]);

        await Core.Branches.RewindAsync(user, sessionId, a1.Id);

        // A fresh read, by another Core on the same database (another device, or after a restart).
        await using var elsewhere = await CoreHarness.StartAsync(Database, Model.Endpoint, Output);
        var view = await elsewhere.Chat.GetConversationAsync(user, sessionId);
        Assert.NotNull(view);
        Assert.Equal([q1.Id, a1.Id], view.Messages.Select(m => m.Id));
        Assert.Equal(1, view.LaterMessages);
        Assert.Equal(a2.Id, view.LatestLaterLeafId);
        Assert.False(view.IsGenerating);
        var stored = await StoredEventsAsync(sessionId);
        Assert.Contains(stored, e => e.Id == q2.Id);
        Assert.Contains(stored, e => e.Id == a2.Id);
        Assert.Equal((EventKind.Rewound, a1.Id), (stored[^1].Kind, stored[^1].TargetId));

        // The next question continues from the rewound leaf: a new branch beside q2.
        await Chat.SendAsync(user, sessionId, "q3", NewClientId());
        var after = await Core.WaitForAsync(user, sessionId, v => CoreHarness.IsIdle(v) && v.Messages.Count == 4, "the answer to q3");
        Assert.Equal(["q1", AnswerTo("q1"), "q3", AnswerTo("q3")], after.Messages.Select(m => m.Text));
        Assert.Equal(a1.Id, after.Messages[2].ParentId);
        Assert.Equal(["q1", AnswerTo("q1"), "q3"], Model.Requests[^1].Messages.Skip(1).Select(m => m.Content));
        Assert.Empty(elsewhere.LoggedErrors);
    }

    [Fact]
    public async Task Resuming_from_a_checkpoint_starts_the_next_message_on_a_new_branch_at_the_checkpoint()
    {
        var (user, sessionId, before) = await TwoExchangesAsync();
        var (a1, q2) = (before.Messages[1], before.Messages[2]);
        var saved = await Core.Branches.SaveCheckpointAsync(user, sessionId, a1.Id, "  before the detour  ");

        Assert.Equal(("before the detour", a1.Id), (saved.Name, saved.MessageId));
        var listed = Assert.Single(await Core.Branches.ListCheckpointsAsync(user, sessionId));
        // (CreatedAt as stored has the database's precision, not the clock's.)
        Assert.Equal((saved.Id, saved.Name, saved.MessageId), (listed.Id, listed.Name, listed.MessageId));
        Assert.Equal((EventKind.CheckpointSaved, a1.Id), ((await StoredEventsAsync(sessionId))[^1].Kind, (await StoredEventsAsync(sessionId))[^1].TargetId));
        // Saving does not move anything.
        Assert.Equal(before.Messages, (await Chat.GetConversationAsync(user, sessionId))!.Messages);

        await Core.Branches.ResumeFromCheckpointAsync(user, sessionId, saved.Id);

        var resumed = await Chat.GetConversationAsync(user, sessionId);
        Assert.Equal([before.Messages[0].Id, a1.Id], resumed!.Messages.Select(m => m.Id));
        Assert.Equal((EventKind.ResumedFromCheckpoint, a1.Id), ((await StoredEventsAsync(sessionId))[^1].Kind, (await StoredEventsAsync(sessionId))[^1].TargetId));

        var sent = await Chat.SendAsync(user, sessionId, "a different direction", NewClientId());
        var view = await Core.WaitForAsync(user, sessionId, v => CoreHarness.IsIdle(v) && v.Messages.Count == 4, "the answer on the new branch");

        Assert.Equal(["q1", AnswerTo("q1"), "a different direction", AnswerTo("a different direction")], view.Messages.Select(m => m.Text));
        Assert.Equal(sent.MessageId, view.Messages[2].Id);
        Assert.Equal(a1.Id, view.Messages[2].ParentId); // a sibling of what followed the checkpoint
        Assert.Equal(new VersionInfo(2, 2, q2.Id, null), view.Messages[2].Version);
        await AssertSeqIsGapFreeAsync(sessionId);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   \t ")]
    [InlineData(null)]
    public async Task An_empty_checkpoint_name_is_refused_and_nothing_is_stored(string? name)
    {
        var (user, sessionId, before) = await TwoExchangesAsync();
        var storedBefore = await SnapshotAsync(sessionId);

        await Assert.ThrowsAsync<ChatInputException>(() => Core.Branches.SaveCheckpointAsync(user, sessionId, before.Messages[1].Id, name!));

        Assert.Equal(storedBefore, await SnapshotAsync(sessionId));
    }

    [Fact]
    public async Task A_checkpoint_name_over_the_limit_is_refused_and_one_at_the_limit_is_kept_whole()
    {
        var (user, sessionId, before) = await TwoExchangesAsync();
        var storedBefore = await SnapshotAsync(sessionId);
        var limit = BranchService.MaxCheckpointNameLength;

        var ex = await Assert.ThrowsAsync<ChatInputException>(() =>
            Core.Branches.SaveCheckpointAsync(user, sessionId, before.Messages[1].Id, new string('n', limit + 1)));

        Assert.Contains($"{limit + 1}", ex.Message);
        Assert.Contains($"{limit}", ex.Message);
        Assert.Equal(storedBefore, await SnapshotAsync(sessionId));
        var atLimit = await Core.Branches.SaveCheckpointAsync(user, sessionId, before.Messages[1].Id, new string('n', limit));
        Assert.Equal(new string('n', limit), Assert.Single(await Core.Branches.ListCheckpointsAsync(user, sessionId)).Name);
        Assert.Equal(limit, atLimit.Name.Length);
    }

    [Fact]
    public async Task Editing_an_answer_is_refused_and_nothing_is_stored()
    {
        var (user, sessionId, before) = await TwoExchangesAsync();
        var storedBefore = await SnapshotAsync(sessionId);

        await Assert.ThrowsAsync<ChatInputException>(() => Chat.EditAsync(user, sessionId, before.Messages[3].Id, "my words now", NewClientId()));

        Assert.Equal(storedBefore, await SnapshotAsync(sessionId));
        Assert.Equal(2, Model.Requests.Count);
    }

    [Fact]
    public async Task Another_users_id_is_not_found_for_every_branch_operation_and_changes_nothing()
    {
        var (owner, sessionId, view) = await TwoExchangesAsync("owner");
        var intruder = await NewUserAsync("intruder");
        var (a1, q2, a2) = (view.Messages[1], view.Messages[2], view.Messages[3]);
        var checkpoint = await Core.Branches.SaveCheckpointAsync(owner, sessionId, a1.Id, "mine");
        var storedBefore = await SnapshotAsync(sessionId);

        await AssertNotFoundAsync(
            () => Chat.EditAsync(intruder, sessionId, q2.Id, "hijacked", NewClientId()),
            () => Chat.RegenerateAsync(intruder, sessionId, a2.Id),
            () => Core.Branches.SwitchToVersionAsync(intruder, sessionId, q2.Id),
            () => Core.Branches.RewindAsync(intruder, sessionId, a1.Id),
            () => Core.Branches.SaveCheckpointAsync(intruder, sessionId, a1.Id, "theirs"),
            () => Core.Branches.ListCheckpointsAsync(intruder, sessionId),
            () => Core.Branches.ResumeFromCheckpointAsync(intruder, sessionId, checkpoint.Id),
            () => Core.Branches.VerifyHistoryAsync(intruder, sessionId));

        Assert.Equal(storedBefore, await SnapshotAsync(sessionId));
        await Core.WaitUntilIdleAsync(owner, sessionId);
        Assert.Equal(2, Model.Requests.Count);
    }

    [Fact]
    public async Task An_unknown_message_or_checkpoint_or_one_of_another_session_is_not_found_and_changes_nothing()
    {
        var (user, sessionId, _) = await TwoExchangesAsync();
        var (_, otherView) = await StartConversationAsync(user, "another conversation of the same user");
        var elsewhere = otherView.Messages[0].Id;
        var otherCheckpoint = await Core.Branches.SaveCheckpointAsync(user, otherView.Id, elsewhere, "over there");
        var storedBefore = await SnapshotAsync(sessionId);

        foreach (var messageId in new[] { Guid.NewGuid(), elsewhere })
        {
            await AssertNotFoundAsync(
                () => Chat.EditAsync(user, sessionId, messageId, "edit of nothing", NewClientId()),
                () => Chat.RegenerateAsync(user, sessionId, messageId),
                () => Core.Branches.SwitchToVersionAsync(user, sessionId, messageId),
                () => Core.Branches.RewindAsync(user, sessionId, messageId),
                () => Core.Branches.SaveCheckpointAsync(user, sessionId, messageId, "nowhere"));
        }
        await AssertNotFoundAsync(
            () => Core.Branches.ResumeFromCheckpointAsync(user, sessionId, Guid.NewGuid()),
            () => Core.Branches.ResumeFromCheckpointAsync(user, sessionId, otherCheckpoint.Id));

        Assert.Equal(storedBefore, await SnapshotAsync(sessionId));
        await Core.WaitUntilIdleAsync(user, sessionId);
        Assert.Equal(3, Model.Requests.Count);
    }

    private static async Task AssertNotFoundAsync(params Func<Task>[] operations)
    {
        foreach (var operation in operations)
        {
            await Assert.ThrowsAsync<SessionNotFoundException>(operation);
        }
    }

    /// <summary>Everything about a session that any branch operation could change.</summary>
    private async Task<string> SnapshotAsync(Guid sessionId)
    {
        var session = await StoredSessionAsync(sessionId);
        var events = await StoredEventsAsync(sessionId);
        await using var db = await Core.Contexts.CreateDbContextAsync();
        var checkpoints = await db.Checkpoints.AsNoTracking().Where(c => c.SessionId == sessionId).Select(c => c.Id).ToListAsync();
        return $"leaf={session!.ActiveLeafId} lastSeq={session.LastSeq} version={session.Version} checkpoints=[{string.Join(",", checkpoints.Order())}]\n" +
               string.Join("\n", events.Select(e => $"#{e.Seq} {e.Id} {e.Kind} parent={e.ParentId} target={e.TargetId} {e.Status} {Convert.ToHexString(e.ContentCipher)}"));
    }
}

public sealed class SqliteBranchTests(SqliteTestDatabase database, ITestOutputHelper output)
    : BranchTests(database, output), IClassFixture<SqliteTestDatabase>;

public sealed class PostgresBranchTests(PostgresTestDatabase database, ITestOutputHelper output)
    : BranchTests(database, output), IClassFixture<PostgresTestDatabase>;
