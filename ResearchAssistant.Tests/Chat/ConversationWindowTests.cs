using ResearchAssistant.Core.Chat;
using ResearchAssistant.Core.Sessions;
using ResearchAssistant.Tests.Support;
using Xunit.Abstractions;

namespace ResearchAssistant.Tests.Chat;

/// <summary>
/// Opening a conversation at a message (from search): the page around it, however deep it lies, from the branch it is
/// on. Long sessions are written directly (as the app leaves them), since answering hundreds of turns adds nothing.
/// </summary>
public abstract class ConversationWindowTests(TestDatabase database, ITestOutputHelper output) : ChatTestBase(database, output)
{
    [Fact]
    public async Task A_message_deep_in_a_long_conversation_opens_in_a_page_around_it()
    {
        var user = await NewUserAsync();
        var (sessionId, ids) = await InsertLinearAsync(user, 400);
        var target = ids[120];

        var window = await Chat.GetConversationAroundAsync(user, sessionId, target);

        Assert.NotNull(window);
        Assert.False(window.IsLatest);
        Assert.Equal(target, window.FocusId);
        var messages = window.View.Messages;
        Assert.Equal(ChatService.PageSize, messages.Count);
        // The page ends a few messages below the target, and is the branch in order up to there.
        Assert.Equal(ids.Skip(120 + ChatService.MessagesAfterFocus - ChatService.PageSize + 1).Take(ChatService.PageSize), messages.Select(m => m.Id));
        Assert.Equal($"message {120}", messages.Single(m => m.Id == target).Text);
        Assert.True(window.View.HasOlder);

        // Scrolling up from the window loads the page above it, as from the newest page.
        var (older, hasOlder) = await Chat.GetOlderMessagesAsync(user, sessionId, messages[0].Id);
        Assert.Equal(ids.Skip(120 + ChatService.MessagesAfterFocus - 2 * ChatService.PageSize + 1).Take(ChatService.PageSize), older.Select(m => m.Id));
        Assert.True(hasOlder);
    }

    [Fact]
    public async Task Scrolling_down_from_a_deep_window_loads_the_pages_below_it_in_order_to_the_end()
    {
        var user = await NewUserAsync();
        var (sessionId, ids) = await InsertLinearAsync(user, 180);
        var window = await Chat.GetConversationAroundAsync(user, sessionId, ids[10]);
        Assert.NotNull(window);
        var shown = window.View.Messages.Select(m => m.Id).ToList();
        var expectedPages = (ids.Count - shown.Count + ChatService.PageSize - 1) / ChatService.PageSize;

        var pages = 0;
        while (true)
        {
            var (newer, hasNewer) = await Chat.GetNewerMessagesAsync(user, sessionId, shown[^1]);
            shown.AddRange(newer.Select(m => m.Id));
            pages++;
            Assert.True(newer.Count <= ChatService.PageSize);
            if (!hasNewer)
            {
                break;
            }
            Assert.Equal(ChatService.PageSize, newer.Count);
        }

        Assert.Equal(ids, shown);
        Assert.Equal(expectedPages, pages);
        Assert.True(pages >= 3);
        // At the end there is nothing below, and another user's id is not found.
        Assert.Equal(([], false), await Chat.GetNewerMessagesAsync(user, sessionId, ids[^1]) is var (m, h) ? (m.ToArray(), h) : default);
        var stranger = await NewUserAsync();
        await Assert.ThrowsAsync<SessionNotFoundException>(() => Chat.GetNewerMessagesAsync(stranger, sessionId, ids[10]));
    }

    [Fact]
    public async Task A_recent_message_opens_the_usual_newest_page_and_a_first_message_a_page_from_the_start()
    {
        var user = await NewUserAsync();
        var (sessionId, ids) = await InsertLinearAsync(user, 120);

        var recent = await Chat.GetConversationAroundAsync(user, sessionId, ids[^5]);
        Assert.NotNull(recent);
        Assert.True(recent.IsLatest);
        Assert.Equal(ids.TakeLast(ChatService.PageSize), recent.View.Messages.Select(m => m.Id));

        var first = await Chat.GetConversationAroundAsync(user, sessionId, ids[0]);
        Assert.NotNull(first);
        Assert.False(first.IsLatest);
        Assert.False(first.View.HasOlder);
        Assert.Equal(ids.Take(ChatService.MessagesAfterFocus + 1), first.View.Messages.Select(m => m.Id));
    }

    [Fact]
    public async Task A_message_on_another_branch_opens_with_the_branch_through_it()
    {
        var user = await NewUserAsync();
        var (sessionId, view) = await StartConversationAsync(user, "original question");
        var original = view.Messages[0].Id;
        await Chat.EditAsync(user, sessionId, original, "edited question", NewClientId());
        var edited = await Core.WaitUntilIdleAsync(user, sessionId);
        Assert.Equal("edited question", edited.Messages[0].Text);

        var window = await Chat.GetConversationAroundAsync(user, sessionId, original);

        Assert.NotNull(window);
        Assert.False(window.IsLatest);
        Assert.Equal(["original question", ExpectedQuickAnswer], window.View.Messages.Select(m => m.Text));
        Assert.Equal(new VersionInfo(1, 2, null, edited.Messages[0].Id), window.View.Messages[0].Version);
    }

    [Fact]
    public async Task A_missing_or_foreign_message_or_conversation_is_handled_like_elsewhere()
    {
        var user = await NewUserAsync();
        var other = await NewUserAsync("other");
        var (sessionId, view) = await StartConversationAsync(user, "mine");
        var (otherSession, otherView) = await StartConversationAsync(other, "theirs");

        Assert.Null(await Chat.GetConversationAroundAsync(other, sessionId, view.Messages[0].Id));
        var unknown = await Chat.GetConversationAroundAsync(user, sessionId, otherView.Messages[0].Id);
        Assert.NotNull(unknown);
        Assert.Null(unknown.FocusId);
        Assert.True(unknown.IsLatest);
        Assert.Equal(view.Messages.Select(m => m.Id), unknown.View.Messages.Select(m => m.Id));
        _ = otherSession;
    }

    /// <summary>One branch of alternating questions and answers, "message 0" to "message n-1", Seq 1..n.</summary>
    private async Task<(Guid SessionId, List<Guid> Ids)> InsertLinearAsync(string user, int count)
    {
        var cipher = await Core.Protector.ForUserAsync(user);
        var sessionId = Guid.NewGuid();
        var time = DateTimeOffset.UtcNow.AddHours(-1);
        var ids = new List<Guid>();
        await using var db = await Core.Contexts.CreateDbContextAsync();
        Guid? parent = null;
        var events = new List<SessionEvent>();
        for (var i = 0; i < count; i++)
        {
            var id = Guid.CreateVersion7(time.AddSeconds(i));
            events.Add(new SessionEvent
            {
                Id = id, SessionId = sessionId, Seq = i + 1, Kind = i % 2 == 0 ? EventKind.UserMessage : EventKind.AssistantMessage,
                ParentId = parent, Author = i % 2 == 0 ? user : "fake-model", ContentCipher = cipher.Encrypt($"message {i}"),
                Status = EventStatus.Complete, CreatedAt = time.AddSeconds(i),
            });
            ids.Add(id);
            parent = id;
        }
        db.ChatSessions.Add(new ChatSession
        {
            Id = sessionId, OwnerId = user, TitleCipher = cipher.Encrypt("long"), CreatedAt = time, LastActivityAt = time,
            LastSeq = count, ActiveLeafId = parent, Version = Guid.NewGuid(),
        });
        db.SessionEvents.AddRange(TreePlacer.PlaceAll(events));
        await db.SaveChangesAsync();
        return (sessionId, ids);
    }
}

public sealed class SqliteConversationWindowTests(SqliteTestDatabase database, ITestOutputHelper output)
    : ConversationWindowTests(database, output), IClassFixture<SqliteTestDatabase>;

public sealed class PostgresConversationWindowTests(PostgresTestDatabase database, ITestOutputHelper output)
    : ConversationWindowTests(database, output), IClassFixture<PostgresTestDatabase>;
