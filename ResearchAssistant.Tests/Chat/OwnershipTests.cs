using ResearchAssistant.Core.Sessions;
using ResearchAssistant.Tests.Support;
using Xunit.Abstractions;

namespace ResearchAssistant.Tests.Chat;

/// <summary>
/// Ownership is checked in Core, not the UI: someone else's session must look exactly like one that does not exist,
/// for every operation, and must come out untouched.
/// </summary>
public abstract class OwnershipTests(TestDatabase database, ITestOutputHelper output) : ChatTestBase(database, output)
{
    [Fact]
    public async Task Another_users_session_cannot_be_read_written_retried_or_stopped()
    {
        var owner = await NewUserAsync("owner");
        var intruder = await NewUserAsync("intruder");
        var (sessionId, before) = await StartConversationAsync(owner, "my private question");
        var answerId = before.Messages[^1].Id;
        var storedBefore = await StoredEventsAsync(sessionId);

        Assert.Null(await Chat.GetConversationAsync(intruder, sessionId));
        await Assert.ThrowsAsync<SessionNotFoundException>(() => Chat.SendAsync(intruder, sessionId, "let me in", NewClientId()));
        await Assert.ThrowsAsync<SessionNotFoundException>(() => Chat.SendAsync(intruder, sessionId, "let me in", NewClientId(), createIfMissing: true));
        await Assert.ThrowsAsync<SessionNotFoundException>(() => Chat.RegenerateAsync(intruder, sessionId, answerId));
        await Assert.ThrowsAsync<SessionNotFoundException>(() => Chat.StopAsync(intruder, sessionId));
        Assert.Empty(await Core.Organizer.ListAsync(intruder));

        var after = await Core.WaitUntilIdleAsync(owner, sessionId);
        Assert.Equal(before.Messages, after.Messages);
        Assert.Equal(storedBefore.Select(e => (e.Id, e.Seq, e.Status)), (await StoredEventsAsync(sessionId)).Select(e => (e.Id, e.Seq, e.Status)));
        Assert.Single(Model.Requests);
    }

    [Fact]
    public async Task A_session_id_that_does_not_exist_is_reported_the_same_way()
    {
        var user = await NewUserAsync();
        var nowhere = Guid.NewGuid();

        Assert.Null(await Chat.GetConversationAsync(user, nowhere));
        await Assert.ThrowsAsync<SessionNotFoundException>(() => Chat.SendAsync(user, nowhere, "hello?", NewClientId()));
        await Assert.ThrowsAsync<SessionNotFoundException>(() => Chat.RegenerateAsync(user, nowhere, Guid.NewGuid()));
        await Assert.ThrowsAsync<SessionNotFoundException>(() => Chat.StopAsync(user, nowhere));
    }

    [Fact]
    public async Task Retrying_a_message_of_another_session_of_ones_own_is_not_found()
    {
        // The answer id must belong to the session named, not just to the user.
        var user = await NewUserAsync();
        var (first, firstView) = await StartConversationAsync(user, "first conversation");
        var (second, _) = await StartConversationAsync(user, "second conversation");

        await Assert.ThrowsAsync<SessionNotFoundException>(() => Chat.RegenerateAsync(user, second, firstView.Messages[^1].Id));

        Assert.Equal(2, (await StoredEventsAsync(first)).Count);
        Assert.Equal(2, (await StoredEventsAsync(second)).Count);
    }
}

public sealed class SqliteOwnershipTests(SqliteTestDatabase database, ITestOutputHelper output)
    : OwnershipTests(database, output), IClassFixture<SqliteTestDatabase>;

public sealed class PostgresOwnershipTests(PostgresTestDatabase database, ITestOutputHelper output)
    : OwnershipTests(database, output), IClassFixture<PostgresTestDatabase>;
