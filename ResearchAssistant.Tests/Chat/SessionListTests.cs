using ResearchAssistant.Tests.Support;
using Xunit.Abstractions;

namespace ResearchAssistant.Tests.Chat;

/// <summary>The sidebar: a user's own sessions, most recently active first.</summary>
public abstract class SessionListTests(TestDatabase database, ITestOutputHelper output) : ChatTestBase(database, output)
{
    // Activity times come from this clock, so "newest first" does not depend on how fast the machine runs.
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 3, 1, 9, 0, 0, TimeSpan.Zero));

    protected override TimeProvider Clock => _clock;

    [Fact]
    public async Task Lists_only_the_users_sessions_newest_activity_first()
    {
        var user = await NewUserAsync();
        var someoneElse = await NewUserAsync("someone-else");

        var (oldest, _) = await StartConversationAsync(user, "oldest conversation");
        _clock.Advance(TimeSpan.FromMinutes(1));
        var (middle, _) = await StartConversationAsync(user, "middle conversation");
        _clock.Advance(TimeSpan.FromMinutes(1));
        var (theirs, _) = await StartConversationAsync(someoneElse, "not yours");
        _clock.Advance(TimeSpan.FromMinutes(1));
        var (newest, _) = await StartConversationAsync(user, "newest conversation");

        var list = await Core.Organizer.ListAsync(user);
        Assert.Equal([newest, middle, oldest], list.Select(s => s.Id));
        Assert.Equal(["newest conversation", "middle conversation", "oldest conversation"], list.Select(s => s.Title));

        // New activity moves a conversation to the top.
        _clock.Advance(TimeSpan.FromMinutes(1));
        await Chat.SendAsync(user, oldest, "back to this one", NewClientId());
        await Core.WaitUntilIdleAsync(user, oldest);

        var reordered = await Core.Organizer.ListAsync(user);
        Assert.Equal([oldest, newest, middle], reordered.Select(s => s.Id));
        Assert.Equal(_clock.GetUtcNow(), reordered[0].LastActivityAt);
        Assert.Equal([theirs], (await Core.Organizer.ListAsync(someoneElse)).Select(s => s.Id));
    }

    [Fact]
    public async Task Renaming_pinning_and_archiving_are_not_activity()
    {
        var user = await NewUserAsync();
        var (oldest, _) = await StartConversationAsync(user, "oldest conversation");
        _clock.Advance(TimeSpan.FromMinutes(1));
        var (newest, _) = await StartConversationAsync(user, "newest conversation");
        _clock.Advance(TimeSpan.FromMinutes(1));

        await Core.Organizer.RenameAsync(user, oldest, "renamed");
        Assert.Equal([newest, oldest], (await Core.Organizer.ListAsync(user)).Select(s => s.Id));

        // Pinned goes first while pinned, and back to its place by activity when unpinned.
        await Core.Organizer.SetPinnedAsync(user, oldest, true);
        Assert.Equal([oldest, newest], (await Core.Organizer.ListAsync(user)).Select(s => s.Id));
        await Core.Organizer.SetPinnedAsync(user, oldest, false);
        Assert.Equal([newest, oldest], (await Core.Organizer.ListAsync(user)).Select(s => s.Id));

        await Core.Organizer.SetArchivedAsync(user, oldest, true);
        await Core.Organizer.SetArchivedAsync(user, oldest, false);
        var list = await Core.Organizer.ListAsync(user);
        Assert.Equal([newest, oldest], list.Select(s => s.Id));
        Assert.True(list[1].LastActivityAt < list[0].LastActivityAt);
        Assert.Equal("renamed", list[1].Title);
    }

    [Fact]
    public async Task A_user_without_sessions_gets_an_empty_list()
    {
        var user = await NewUserAsync();

        Assert.Empty(await Core.Organizer.ListAsync(user));
    }
}

public sealed class SqliteSessionListTests(SqliteTestDatabase database, ITestOutputHelper output)
    : SessionListTests(database, output), IClassFixture<SqliteTestDatabase>;

public sealed class PostgresSessionListTests(PostgresTestDatabase database, ITestOutputHelper output)
    : SessionListTests(database, output), IClassFixture<PostgresTestDatabase>;
