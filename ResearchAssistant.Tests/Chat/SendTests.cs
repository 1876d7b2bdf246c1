using System.Text.RegularExpressions;
using ResearchAssistant.Core.Chat;
using ResearchAssistant.Core.Sessions;
using ResearchAssistant.Testing;
using ResearchAssistant.Tests.Support;
using Xunit.Abstractions;

namespace ResearchAssistant.Tests.Chat;

/// <summary>Sending a message: the session, the answer, the order, idempotency and input limits.</summary>
public abstract partial class SendTests(TestDatabase database, ITestOutputHelper output) : ChatTestBase(database, output)
{
    [Fact]
    public async Task Sending_to_a_new_session_creates_it_and_the_answer_arrives_complete()
    {
        var user = await NewUserAsync();
        var sessionId = Guid.NewGuid();

        var sent = await Chat.SendAsync(user, sessionId, "What is the capital of Italy?", NewClientId(), createIfMissing: true);
        var view = await Core.WaitUntilIdleAsync(user, sessionId);

        Assert.False(sent.WasDuplicate);
        Assert.Equal(sessionId, sent.SessionId);
        Assert.Equal("What is the capital of Italy?", view.Title);
        Assert.Collection(view.Messages,
            question =>
            {
                Assert.Equal(sent.MessageId, question.Id);
                Assert.Equal(MessageRole.User, question.Role);
                Assert.Equal("What is the capital of Italy?", question.Text);
                Assert.Equal(EventStatus.Complete, question.Status);
            },
            answer =>
            {
                Assert.Equal(MessageRole.Assistant, answer.Role);
                Assert.Equal(ExpectedQuickAnswer, answer.Text);
                Assert.Equal(EventStatus.Complete, answer.Status);
                Assert.Equal("fake-model", answer.Author);
                Assert.Equal(sent.MessageId, answer.ParentId);
            });

        // The model saw the system prompt, then the question.
        var request = Assert.Single(Model.Requests);
        Assert.Equal("system", request.Messages[0].Role);
        Assert.Equal(("user", "What is the capital of Italy?"), request.Messages[^1]);
    }

    [Fact]
    public async Task Sending_to_a_session_that_does_not_exist_without_createIfMissing_is_not_found()
    {
        var user = await NewUserAsync();
        var sessionId = Guid.NewGuid();

        await Assert.ThrowsAsync<SessionNotFoundException>(() => Chat.SendAsync(user, sessionId, "hello", NewClientId()));

        Assert.Null(await Chat.GetConversationAsync(user, sessionId));
    }

    [Fact]
    public async Task The_conversation_shows_each_question_then_its_answer_in_order()
    {
        Model.Behavior = QuickAnswer with { Respond = r => ["Answer to: ", r.Messages[^1].Content] };
        var user = await NewUserAsync();
        var sessionId = Guid.NewGuid();
        string[] questions = ["first question", "second question", "third question"];

        foreach (var question in questions)
        {
            await Chat.SendAsync(user, sessionId, question, NewClientId(), createIfMissing: true);
            await Core.WaitUntilIdleAsync(user, sessionId);
        }
        var view = await Chat.GetConversationAsync(user, sessionId);

        Assert.NotNull(view);
        Assert.Equal(
            questions.SelectMany(q => new[] { (MessageRole.User, q), (MessageRole.Assistant, "Answer to: " + q) }),
            view.Messages.Select(m => (m.Role, m.Text)));
        Assert.All(view.Messages, m => Assert.Equal(EventStatus.Complete, m.Status));
        // One branch: every message follows the one before it.
        Assert.Null(view.Messages[0].ParentId);
        Assert.All(view.Messages.Skip(1).Zip(view.Messages), pair => Assert.Equal(pair.Second.Id, pair.First.ParentId));
        // The model is given the history, not only the latest question.
        Assert.Equal(
            ["first question", "Answer to: first question", "second question", "Answer to: second question", "third question"],
            Model.Requests[^1].Messages.Skip(1).Select(m => m.Content));
    }

    [Fact]
    public async Task A_read_while_a_turn_starts_and_ends_always_shows_every_message_sent()
    {
        var user = await NewUserAsync();
        var sessionId = Guid.NewGuid();
        var inconsistent = new List<string>();

        for (var round = 1; round <= 8; round++)
        {
            await Chat.SendAsync(user, sessionId, $"question {round}", NewClientId(), createIfMissing: true);
            // Read as fast as a busy UI would while the question is admitted, answered and sealed.
            while (true)
            {
                var view = await Chat.GetConversationAsync(user, sessionId);
                Assert.NotNull(view);
                var questions = view.Messages.Count(m => m.Role == MessageRole.User);
                if (questions != round)
                {
                    inconsistent.Add($"round {round}: {questions} question(s) shown\n{CoreHarness.Describe(view)}");
                }
                if (CoreHarness.IsIdle(view) && view.Messages.Count == 2 * round)
                {
                    break;
                }
            }
        }

        Assert.True(inconsistent.Count == 0, string.Join("\n", inconsistent.Take(3)));
    }

    [Fact]
    public async Task The_same_client_id_sent_twice_stores_the_message_once()
    {
        var user = await NewUserAsync();
        var sessionId = Guid.NewGuid();
        var clientId = NewClientId();

        var first = await Chat.SendAsync(user, sessionId, "only once please", clientId, createIfMissing: true);
        await Core.WaitUntilIdleAsync(user, sessionId);
        var again = await Chat.SendAsync(user, sessionId, "only once please", clientId, createIfMissing: true);
        var view = await Core.WaitUntilIdleAsync(user, sessionId);

        Assert.False(first.WasDuplicate);
        Assert.True(again.WasDuplicate);
        Assert.Equal(first.MessageId, again.MessageId);
        Assert.Equal([MessageRole.User, MessageRole.Assistant], view.Messages.Select(m => m.Role));
        Assert.Single(Model.Requests);
        Assert.Equal(2, (await StoredEventsAsync(sessionId)).Count);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Ten_concurrent_sends_with_one_client_id_store_the_message_once(bool sessionExists)
    {
        var user = await NewUserAsync();
        var sessionId = Guid.NewGuid();
        if (sessionExists)
        {
            await Chat.SendAsync(user, sessionId, "an earlier message", NewClientId(), createIfMissing: true);
            await Core.WaitUntilIdleAsync(user, sessionId);
        }
        var clientId = NewClientId();

        // Released together, as a double click plus a reconnect resend plus a second tab would be.
        using var start = new ManualResetEventSlim();
        var sends = Enumerable.Range(0, 10).Select(_ => Task.Run(async () =>
        {
            start.Wait();
            return await Chat.SendAsync(user, sessionId, "sent ten times at once", clientId, createIfMissing: true);
        })).ToArray();
        start.Set();
        var results = await Task.WhenAll(sends);
        var view = await Core.WaitUntilIdleAsync(user, sessionId);

        Assert.Single(results, r => !r.WasDuplicate);
        Assert.Single(results.Select(r => r.MessageId).Distinct());
        Assert.Single(view.Messages, m => m.Text == "sent ten times at once");
        Assert.Equal(sessionExists ? 4 : 2, view.Messages.Count);
        await AssertSeqIsGapFreeAsync(sessionId);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData(" \n\t \r\n ")]
    public async Task An_empty_message_is_refused_and_nothing_is_stored(string text)
    {
        var user = await NewUserAsync();
        var sessionId = Guid.NewGuid();

        var ex = await Assert.ThrowsAsync<ChatInputException>(() => Chat.SendAsync(user, sessionId, text, NewClientId(), createIfMissing: true));

        Assert.Contains("empty", ex.Message);
        Assert.Null(await StoredSessionAsync(sessionId));
        Assert.Empty(await StoredEventsAsync(sessionId));
        Assert.Empty(Model.Requests);
    }

    [Fact]
    public async Task A_message_over_the_default_limit_is_refused_with_its_length_and_the_limit_and_nothing_is_stored()
    {
        var user = await NewUserAsync();
        var sessionId = Guid.NewGuid();
        var limit = new ChatLimits().MaxMessageLength;
        Assert.Equal(32_000, limit); // the documented default this test is about

        var ex = await Assert.ThrowsAsync<ChatInputException>(() =>
            Chat.SendAsync(user, sessionId, new string('x', limit + 1), NewClientId(), createIfMissing: true));

        Assert.Equal([limit + 1, limit], NumbersIn(ex.Message));
        Assert.Null(await StoredSessionAsync(sessionId));
        Assert.Empty(await StoredEventsAsync(sessionId));
    }

    [Fact]
    public async Task A_message_of_exactly_the_limit_is_accepted_and_surrounding_whitespace_does_not_count()
    {
        var user = await NewUserAsync();
        var text = "  " + new string('y', new ChatLimits().MaxMessageLength) + "\n";

        var (_, view) = await StartConversationAsync(user, text);

        Assert.Equal(text.Trim(), view.Messages[0].Text);
        Assert.Equal(EventStatus.Complete, view.Messages[^1].Status);
    }

    [Fact]
    public async Task The_limit_comes_from_configuration()
    {
        await using var core = await CoreHarness.StartAsync(Database, Model.Endpoint, Output,
            settings: new Dictionary<string, string?> { ["Chat:MaxMessageLength"] = "10" });
        var user = await TestUsers.CreateAsync(core.Contexts);

        var ex = await Assert.ThrowsAsync<ChatInputException>(() =>
            core.Chat.SendAsync(user, Guid.NewGuid(), "eleven char", NewClientId(), createIfMissing: true));

        Assert.Equal([11, 10], NumbersIn(ex.Message));
    }

    /// <summary>The numbers in a message, whatever the culture's digit grouping ("32,001", "32.001", "32 001").</summary>
    private static List<int> NumbersIn(string message) =>
        Number().Matches(message).Select(m => int.Parse(Regex.Replace(m.Value, @"\D", ""))).ToList();

    [GeneratedRegex(@"\d{1,3}(?:[,.\u00A0\u202F ]\d{3})+|\d+")]
    private static partial Regex Number();
}

public sealed class SqliteSendTests(SqliteTestDatabase database, ITestOutputHelper output)
    : SendTests(database, output), IClassFixture<SqliteTestDatabase>;

public sealed class PostgresSendTests(PostgresTestDatabase database, ITestOutputHelper output)
    : SendTests(database, output), IClassFixture<PostgresTestDatabase>;
