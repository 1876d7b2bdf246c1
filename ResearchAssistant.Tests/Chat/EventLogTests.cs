using ResearchAssistant.Core.Sessions;
using ResearchAssistant.Testing;
using ResearchAssistant.Tests.Support;
using Xunit.Abstractions;

namespace ResearchAssistant.Tests.Chat;

/// <summary>
/// Seq is how devices catch up ("everything after N"), so a gap or a repeat would lose or duplicate a message for
/// someone. It must stay 1..N through every path that writes, including the ones that roll back.
/// </summary>
public abstract class EventLogTests(TestDatabase database, ITestOutputHelper output) : ChatTestBase(database, output)
{
    [Fact]
    public async Task Seq_stays_gap_free_through_duplicates_failures_retries_and_racing_resends()
    {
        var user = await NewUserAsync();
        var sessionId = Guid.NewGuid();
        var firstClientId = NewClientId();

        await Chat.SendAsync(user, sessionId, "one", firstClientId, createIfMissing: true);
        await Core.WaitUntilIdleAsync(user, sessionId);
        await Chat.SendAsync(user, sessionId, "one", firstClientId); // a resend: stores nothing

        Model.Behavior = new FakeBehavior { FailWithStatus = 503 };
        await Chat.SendAsync(user, sessionId, "two", NewClientId());
        var failed = (await Core.WaitUntilIdleAsync(user, sessionId)).Messages[^1];
        Model.Behavior = QuickAnswer;
        await Chat.RegenerateAsync(user, sessionId, failed.Id);
        await Core.WaitForAsync(user, sessionId, v => CoreHarness.IsIdle(v) && v.Messages[^1].Id != failed.Id, "the retried answer");

        // Racing resends roll back their Seq increment when they lose; nothing may be left behind.
        var thirdClientId = NewClientId();
        await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => Task.Run(() => Chat.SendAsync(user, sessionId, "three", thirdClientId))));
        await Core.WaitUntilIdleAsync(user, sessionId);

        var stored = await StoredEventsAsync(sessionId);
        var cipher = await Core.Protector.ForUserAsync(user);
        Assert.Equal(
            [
                (EventKind.UserMessage, "one"), (EventKind.AssistantMessage, ExpectedQuickAnswer),
                (EventKind.UserMessage, "two"), (EventKind.AssistantMessage, ""), (EventKind.AssistantMessage, ExpectedQuickAnswer),
                (EventKind.UserMessage, "three"), (EventKind.AssistantMessage, ExpectedQuickAnswer),
            ],
            stored.Select(e => (e.Kind, cipher.Decrypt(e.ContentCipher))));
        await AssertSeqIsGapFreeAsync(sessionId);
    }
}

public sealed class SqliteEventLogTests(SqliteTestDatabase database, ITestOutputHelper output)
    : EventLogTests(database, output), IClassFixture<SqliteTestDatabase>;

public sealed class PostgresEventLogTests(PostgresTestDatabase database, ITestOutputHelper output)
    : EventLogTests(database, output), IClassFixture<PostgresTestDatabase>;
