using ResearchAssistant.Core.Context;
using ResearchAssistant.Tests.Chat;
using ResearchAssistant.Tests.Support;
using Xunit.Abstractions;

namespace ResearchAssistant.Tests.Context;

/// <summary>
/// A turn reads the newest messages in two steps (a first page, then the rest of the window when the budget has room):
/// a conversation of short messages must still send everything that fits, past the first page.
/// </summary>
public abstract class ContextWindowPagingTests(TestDatabase database, ITestOutputHelper output) : ChatTestBase(database, output)
{
    [Fact]
    public async Task Short_messages_beyond_the_first_page_are_still_sent_when_the_budget_has_room()
    {
        var user = await NewUserAsync();
        var (sessionId, _) = await StartConversationAsync(user, "Turn 1: what is albedo?");
        for (var turn = 2; turn <= 26; turn++)
        {
            await Chat.SendAsync(user, sessionId, $"Turn {turn}: and then?", NewClientId());
            await Core.WaitUntilIdleAsync(user, sessionId);
        }

        var view = await Core.WaitUntilIdleAsync(user, sessionId);
        var recent = Assert.Single(view.Messages[^1].Plan!.Parts, p => p.Kind == ContextPartKind.Recent);

        // 26 questions and 25 earlier answers: 51 messages, more than the 40 of the first page, all of them sent.
        Assert.Equal(51, recent.MessageCount);
        Assert.Contains(Model.Requests[^1].Messages, m => m.Content == "Turn 1: what is albedo?");
    }
}

public sealed class SqliteContextWindowPagingTests(SqliteTestDatabase database, ITestOutputHelper output)
    : ContextWindowPagingTests(database, output), IClassFixture<SqliteTestDatabase>;

public sealed class PostgresContextWindowPagingTests(PostgresTestDatabase database, ITestOutputHelper output)
    : ContextWindowPagingTests(database, output), IClassFixture<PostgresTestDatabase>;
