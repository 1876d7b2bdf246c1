using System.Text;
using Microsoft.EntityFrameworkCore;
using ResearchAssistant.Core.Chat;
using ResearchAssistant.Core.Sessions;
using ResearchAssistant.Tests.Chat;
using ResearchAssistant.Tests.Support;
using Xunit.Abstractions;

namespace ResearchAssistant.Tests.Sessions;

/// <summary>The sidebar's operations: rename (stored encrypted), pin, archive, delete, each for the owner only.</summary>
public abstract class SessionOrganizerTests(TestDatabase database, ITestOutputHelper output) : ChatTestBase(database, output)
{
    // Activity times come from this clock, so list order does not depend on how fast the machine runs.
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 5, 1, 9, 0, 0, TimeSpan.Zero));

    protected override TimeProvider Clock => _clock;

    private SessionOrganizer Organizer => Core.Organizer;

    /// <summary>Sessions started a minute apart, oldest first.</summary>
    private async Task<Guid[]> StartSessionsAsync(string user, params string[] titles)
    {
        var ids = new List<Guid>();
        foreach (var title in titles)
        {
            _clock.Advance(TimeSpan.FromMinutes(1));
            ids.Add((await StartConversationAsync(user, title)).SessionId);
        }
        return [.. ids];
    }

    [Fact]
    public async Task A_rename_is_stored_encrypted_and_listed_decrypted()
    {
        var user = await NewUserAsync();
        var (sessionId, _) = await StartConversationAsync(user, "first words as the title");

        await Organizer.RenameAsync(user, sessionId, "  Travel plans: Lisbon  ");

        var listed = Assert.Single(await Organizer.ListAsync(user));
        Assert.Equal("Travel plans: Lisbon", listed.Title);
        Assert.Equal("Travel plans: Lisbon", (await Chat.GetConversationAsync(user, sessionId))!.Title);
        var stored = await StoredSessionAsync(sessionId);
        Assert.False(stored!.TitleIsProvisional);
        Assert.True(stored.TitleCipher.AsSpan().IndexOf("Lisbon"u8) < 0, "the title is stored in clear");
        Assert.Equal("Travel plans: Lisbon", (await Core.Protector.ForUserAsync(user)).Decrypt(stored.TitleCipher));
        // The log records that a rename happened, not the new title.
        var recorded = (await StoredEventsAsync(sessionId))[^1];
        Assert.Equal(EventKind.SessionUpdated, recorded.Kind);
        Assert.Equal("renamed", (await Core.Protector.ForUserAsync(user)).Decrypt(recorded.ContentCipher));
        await AssertSeqIsGapFreeAsync(sessionId);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData(null)]
    public async Task An_empty_name_is_refused_and_the_title_stays(string? title)
    {
        var user = await NewUserAsync();
        var (sessionId, _) = await StartConversationAsync(user, "keep this title");

        await Assert.ThrowsAsync<ChatInputException>(() => Organizer.RenameAsync(user, sessionId, title!));

        Assert.Equal("keep this title", Assert.Single(await Organizer.ListAsync(user)).Title);
        Assert.Equal(2, (await StoredEventsAsync(sessionId)).Count);
    }

    [Fact]
    public async Task A_name_over_the_limit_is_refused()
    {
        var user = await NewUserAsync();
        var (sessionId, _) = await StartConversationAsync(user, "keep this title");
        var limit = new ChatLimits().TitleLength * 2;

        var ex = await Assert.ThrowsAsync<ChatInputException>(() => Organizer.RenameAsync(user, sessionId, new string('t', limit + 1)));

        Assert.Contains($"{limit}", ex.Message);
        Assert.Equal("keep this title", Assert.Single(await Organizer.ListAsync(user)).Title);
        await Organizer.RenameAsync(user, sessionId, new string('t', limit));
        Assert.Equal(new string('t', limit), Assert.Single(await Organizer.ListAsync(user)).Title);
    }

    [Fact]
    public async Task Opening_the_app_resumes_the_conversation_last_opened_on_any_device_but_not_an_archived_one()
    {
        var user = await NewUserAsync();
        Assert.Null(await Organizer.FindResumeTargetAsync(user));
        var (oldest, middle, newest) = await StartSessionsAsync(user, "oldest", "middle", "newest") is [var a, var b, var c] ? (a, b, c) : default;
        Assert.Equal(newest, await Organizer.FindResumeTargetAsync(user));

        // Opened (say on the phone) without writing anything: that is where the user was last.
        _clock.Advance(TimeSpan.FromMinutes(1));
        await Organizer.MarkOpenedAsync(user, oldest);
        Assert.Equal(oldest, await Organizer.FindResumeTargetAsync(user));
        // Opening is not activity: the sidebar order stays.
        Assert.Equal([newest, middle, oldest], (await Organizer.ListAsync(user)).Select(s => s.Id));

        _clock.Advance(TimeSpan.FromMinutes(1));
        await Organizer.SetArchivedAsync(user, oldest, true);
        Assert.Equal(newest, await Organizer.FindResumeTargetAsync(user));

        // Another user's id changes nothing for either of them.
        var stranger = await NewUserAsync();
        _clock.Advance(TimeSpan.FromMinutes(1));
        await Organizer.MarkOpenedAsync(stranger, middle);
        Assert.Equal(newest, await Organizer.FindResumeTargetAsync(user));
        Assert.Null(await Organizer.FindResumeTargetAsync(stranger));
    }

    [Fact]
    public async Task Pinned_sessions_are_listed_first_then_everything_by_latest_activity()
    {
        var user = await NewUserAsync();
        var (oldest, middle, newest) = await StartSessionsAsync(user, "oldest", "middle", "newest") is [var a, var b, var c] ? (a, b, c) : default;

        await Organizer.SetPinnedAsync(user, oldest, true);

        var list = await Organizer.ListAsync(user);
        Assert.Equal([oldest, newest, middle], list.Select(s => s.Id));
        Assert.Equal([true, false, false], list.Select(s => s.IsPinned));

        _clock.Advance(TimeSpan.FromMinutes(1));
        await Organizer.SetPinnedAsync(user, middle, true);
        var twoPinned = await Organizer.ListAsync(user);
        Assert.Equal([middle, oldest, newest], twoPinned.Select(s => s.Id)); // the pinned ones by activity too
        AssertListOrder(twoPinned);

        _clock.Advance(TimeSpan.FromMinutes(1));
        await Organizer.SetPinnedAsync(user, oldest, false);
        await Organizer.SetPinnedAsync(user, middle, false);
        var unpinned = await Organizer.ListAsync(user);
        Assert.All(unpinned, s => Assert.False(s.IsPinned));
        Assert.Equal(new[] { newest, middle, oldest }.Order(), unpinned.Select(s => s.Id).Order());
        AssertListOrder(unpinned);
    }

    /// <summary>The documented order: pinned first, then latest activity first.</summary>
    private static void AssertListOrder(IReadOnlyList<SessionListItem> list) =>
        Assert.Equal(list.OrderByDescending(s => s.IsPinned).ThenByDescending(s => s.LastActivityAt).Select(s => s.Id), list.Select(s => s.Id));

    [Fact]
    public async Task Archiving_hides_a_session_from_the_list_and_lists_it_among_the_archived()
    {
        var user = await NewUserAsync();
        var (kept, archived) = await StartSessionsAsync(user, "kept", "archived") is [var a, var b] ? (a, b) : default;

        await Organizer.SetArchivedAsync(user, archived, true);

        Assert.Equal([kept], (await Organizer.ListAsync(user)).Select(s => s.Id));
        var archivedList = await Organizer.ListAsync(user, archived: true);
        Assert.Equal([(archived, "archived", true)], archivedList.Select(s => (s.Id, s.Title, s.IsArchived)));
        // Archived is not deleted: the conversation is still there.
        Assert.Equal(2, (await Chat.GetConversationAsync(user, archived))!.Messages.Count);

        await Organizer.SetArchivedAsync(user, archived, false);
        Assert.Equal([archived, kept], (await Organizer.ListAsync(user)).Select(s => s.Id));
        Assert.Empty(await Organizer.ListAsync(user, archived: true));
    }

    [Fact]
    public async Task Deleting_removes_every_row_of_the_session_and_nothing_else()
    {
        var user = await NewUserAsync();
        var (doomed, other) = await StartSessionsAsync(user, "to be deleted", "to be kept") is [var a, var b] ? (a, b) : default;
        var doomedView = await Chat.GetConversationAsync(user, doomed);
        await Core.Branches.SaveCheckpointAsync(user, doomed, doomedView!.Messages[^1].Id, "a checkpoint");
        await Organizer.RenameAsync(user, doomed, "renamed before deletion");
        var otherBefore = await StoredEventsAsync(other);

        await Organizer.DeleteAsync(user, doomed);

        await using var db = await Core.Contexts.CreateDbContextAsync();
        Assert.False(await db.ChatSessions.AnyAsync(s => s.Id == doomed));
        Assert.False(await db.SessionEvents.AnyAsync(e => e.SessionId == doomed));
        Assert.False(await db.Checkpoints.AnyAsync(c => c.SessionId == doomed));
        Assert.Null(await Chat.GetConversationAsync(user, doomed));
        Assert.Equal([other], (await Organizer.ListAsync(user)).Select(s => s.Id));
        Assert.Equal(otherBefore.Select(e => (e.Id, e.Seq)), (await StoredEventsAsync(other)).Select(e => (e.Id, e.Seq)));
        await Assert.ThrowsAsync<SessionNotFoundException>(() => Organizer.DeleteAsync(user, doomed));
    }

    [Fact]
    public async Task Another_user_cannot_delete_rename_pin_or_archive_a_session()
    {
        var owner = await NewUserAsync("owner");
        var intruder = await NewUserAsync("intruder");
        var (sessionId, _) = await StartConversationAsync(owner, "not yours");
        var before = await StoredSessionAsync(sessionId);
        var eventsBefore = (await StoredEventsAsync(sessionId)).Count;

        await Assert.ThrowsAsync<SessionNotFoundException>(() => Organizer.DeleteAsync(intruder, sessionId));
        await Assert.ThrowsAsync<SessionNotFoundException>(() => Organizer.RenameAsync(intruder, sessionId, "mine now"));
        await Assert.ThrowsAsync<SessionNotFoundException>(() => Organizer.SetPinnedAsync(intruder, sessionId, true));
        await Assert.ThrowsAsync<SessionNotFoundException>(() => Organizer.SetArchivedAsync(intruder, sessionId, true));

        var after = await StoredSessionAsync(sessionId);
        Assert.NotNull(after);
        Assert.Equal((before!.Version, before.IsPinned, before.IsArchived), (after.Version, after.IsPinned, after.IsArchived));
        Assert.Equal(before.TitleCipher, after.TitleCipher);
        Assert.Equal(eventsBefore, (await StoredEventsAsync(sessionId)).Count);
        Assert.Equal("not yours", Assert.Single(await Organizer.ListAsync(owner)).Title);
    }

    [Fact]
    public async Task A_session_under_legal_hold_cannot_be_deleted()
    {
        var user = await NewUserAsync();
        var (sessionId, _) = await StartConversationAsync(user, "evidence");
        await using (var db = await Core.Contexts.CreateDbContextAsync())
        {
            await db.ChatSessions.Where(s => s.Id == sessionId).ExecuteUpdateAsync(u => u.SetProperty(s => s.LegalHold, true));
        }

        await Assert.ThrowsAsync<ChatInputException>(() => Organizer.DeleteAsync(user, sessionId));

        Assert.NotNull(await StoredSessionAsync(sessionId));
        Assert.Equal(2, (await StoredEventsAsync(sessionId)).Count);
    }
}

public sealed class SqliteSessionOrganizerTests(SqliteTestDatabase database, ITestOutputHelper output)
    : SessionOrganizerTests(database, output), IClassFixture<SqliteTestDatabase>;

public sealed class PostgresSessionOrganizerTests(PostgresTestDatabase database, ITestOutputHelper output)
    : SessionOrganizerTests(database, output), IClassFixture<PostgresTestDatabase>;
