using ResearchAssistant.Core.Chat;
using ResearchAssistant.Core.Sessions;
using ResearchAssistant.Testing;
using ResearchAssistant.Tests.Chat;
using ResearchAssistant.Tests.Support;
using Xunit.Abstractions;

namespace ResearchAssistant.Tests.Sessions;

/// <summary>Opening a long conversation reads one page; scrolling up pages back to the start, without gap or overlap.</summary>
public abstract class LongSessionPagingTests(TestDatabase database, ITestOutputHelper output) : ChatTestBase(database, output)
{
    [Fact]
    public async Task A_130_message_session_opens_at_its_newest_page_and_pages_back_to_the_first_message()
    {
        const int Exchanges = 65;
        Model.Behavior = new FakeBehavior { TokenDelay = TimeSpan.Zero, Respond = r => ["Answer to: ", r.Messages[^1].Content] };
        var user = await NewUserAsync();
        var sessionId = Guid.NewGuid();
        var expected = Enumerable.Range(1, Exchanges).SelectMany(i => new[] { $"question {i}", $"Answer to: question {i}" }).ToList();
        // All sent at once: they queue, and each joins the branch when its turn comes, after the answer before it.
        await Chat.SendAsync(user, sessionId, "question 1", NewClientId(), createIfMissing: true);
        for (var i = 2; i <= Exchanges; i++)
        {
            await Chat.SendAsync(user, sessionId, $"question {i}", NewClientId());
        }
        await Wait.UntilAsync(async () => (await Chat.GetConversationAsync(user, sessionId)) is { } v && CoreHarness.IsIdle(v) && v.LastSeq == 2 * Exchanges,
            "all 65 questions to be answered", TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(100));

        var newest = await Chat.GetConversationAsync(user, sessionId);
        Assert.NotNull(newest);
        Assert.Equal(ChatService.PageSize, newest.Messages.Count);
        Assert.True(newest.HasOlder);
        Assert.Equal(expected[^ChatService.PageSize..], newest.Messages.Select(m => m.Text));

        var pages = new List<IReadOnlyList<MessageView>> { newest.Messages };
        var hasOlder = newest.HasOlder;
        while (hasOlder)
        {
            Assert.True(pages.Count < 10, "paging does not end");
            var (older, more) = await Chat.GetOlderMessagesAsync(user, sessionId, pages[^1][0].Id);
            Assert.InRange(older.Count, 1, ChatService.PageSize);
            // Each page ends right above the one read before it.
            Assert.Equal(older[^1].Id, pages[^1][0].ParentId);
            pages.Add(older);
            hasOlder = more;
        }

        Assert.Equal([ChatService.PageSize, ChatService.PageSize, 2 * Exchanges - 2 * ChatService.PageSize], pages.Select(p => p.Count));
        var all = pages.AsEnumerable().Reverse().SelectMany(p => p).ToList();
        Assert.Equal(expected, all.Select(m => m.Text));
        Assert.Equal(all.Count, all.Select(m => m.Id).Distinct().Count());
        Assert.Null(all[0].ParentId);
        Assert.Equal((await StoredEventsAsync(sessionId)).Select(e => e.Id).Order(), all.Select(m => m.Id).Order());
    }
}

public sealed class SqliteLongSessionPagingTests(SqliteTestDatabase database, ITestOutputHelper output)
    : LongSessionPagingTests(database, output), IClassFixture<SqliteTestDatabase>;

public sealed class PostgresLongSessionPagingTests(PostgresTestDatabase database, ITestOutputHelper output)
    : LongSessionPagingTests(database, output), IClassFixture<PostgresTestDatabase>;
