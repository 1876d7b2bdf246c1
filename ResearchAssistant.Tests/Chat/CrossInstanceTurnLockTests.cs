using ResearchAssistant.Core.Sessions;
using ResearchAssistant.Testing;
using ResearchAssistant.Tests.Support;
using Xunit.Abstractions;

namespace ResearchAssistant.Tests.Chat;

/// <summary>
/// Two app instances sharing one PostgreSQL database (two service providers, each with its own turn runner): a session
/// still gets one answer at a time, because the turn is a PostgreSQL advisory lock, not just an in-process worker.
/// PostgreSQL only: SQLite is embedded, one process per database.
/// </summary>
public sealed class PostgresCrossInstanceTurnLockTests(PostgresTestDatabase database, ITestOutputHelper output)
    : ChatTestBase(database, output), IClassFixture<PostgresTestDatabase>
{
    [Fact]
    public async Task Questions_sent_alternately_through_two_instances_are_answered_one_at_a_time_once_each_in_order()
    {
        // Slow enough that a question sent through the other instance arrives while an answer is being written.
        Model.Behavior = new FakeBehavior
        {
            TokenDelay = TimeSpan.FromMilliseconds(15),
            Respond = r => ["Answer", " to: ", r.Messages[^1].Content],
        };
        await using var second = await CoreHarness.StartAsync(Database, Model.Endpoint, Output);
        CoreHarness[] instances = [Core, second];
        var user = await NewUserAsync();
        var sessionId = Guid.NewGuid();
        await Chat.SendAsync(user, sessionId, "question 0", NewClientId(), createIfMissing: true);

        const int Questions = 12;
        var questions = Enumerable.Range(0, Questions + 1).Select(i => $"question {i}").ToList();
        for (var i = 1; i <= Questions; i++)
        {
            // Alternately through each instance, without waiting for answers: both runners want the turn.
            await instances[i % 2].Chat.SendAsync(user, sessionId, questions[i], NewClientId());
        }
        var view = await Core.WaitForAsync(user, sessionId,
            v => CoreHarness.IsIdle(v) && v.Messages.Count == 2 * (Questions + 1), "every question to be answered");
        await Wait.UntilAsync(() => instances.All(c => !c.Turns.IsGenerating(sessionId)), "both runners to let the session go");

        // Never two answers of the session being written at once, whichever instance wrote them.
        var asked = Model.Requests;
        var overlaps = asked
            .Where(r => r.InFlightOnArrival.Count > 0)
            .Select(r => $"\"{r.Messages[^1].Content}\" was asked while \"{string.Join("\", \"", r.InFlightOnArrival.Select(o => o.Messages[^1].Content))}\" was being answered")
            .ToList();
        Assert.True(overlaps.Count == 0, string.Join("\n", overlaps));

        // Every question asked once, in the order sent, each with the answer before it in its history.
        Assert.Equal(questions, asked.Select(r => r.Messages[^1].Content));
        Assert.All(asked.Skip(1).Zip(questions), pair => Assert.Equal(("assistant", "Answer to: " + pair.Second), pair.First.Messages[^2]));

        // The conversation: question, its answer, question, its answer..., all complete, on one branch.
        Assert.Equal(questions.SelectMany(q => new[] { q, "Answer to: " + q }), view.Messages.Select(m => m.Text));
        Assert.All(view.Messages, m => Assert.Equal(EventStatus.Complete, m.Status));
        Assert.All(view.Messages.Skip(1).Zip(view.Messages), pair => Assert.Equal(pair.Second.Id, pair.First.ParentId));
        await AssertSeqIsGapFreeAsync(sessionId);
        Assert.Empty(second.LoggedErrors);
    }

    [Fact]
    public async Task Questions_sent_at_once_through_two_instances_are_each_answered_once_and_never_two_at_a_time()
    {
        Model.Behavior = new FakeBehavior
        {
            TokenDelay = TimeSpan.FromMilliseconds(5),
            Respond = r => ["Answer", " to: ", r.Messages[^1].Content],
        };
        await using var second = await CoreHarness.StartAsync(Database, Model.Endpoint, Output);
        CoreHarness[] instances = [Core, second];
        var user = await NewUserAsync();
        var sessionId = Guid.NewGuid();
        await Chat.SendAsync(user, sessionId, "opening question", NewClientId(), createIfMissing: true);

        // Both instances at the same moment, several questions each: both runners race for the one session's turn.
        const int PerInstance = 6;
        var questions = instances.SelectMany((_, i) => Enumerable.Range(0, PerInstance).Select(n => $"question {i}.{n}")).ToList();
        using var go = new ManualResetEventSlim();
        var sending = questions.Select((q, n) => Task.Run(async () =>
        {
            go.Wait();
            await instances[n / PerInstance].Chat.SendAsync(user, sessionId, q, NewClientId());
        })).ToList();
        go.Set();
        await Task.WhenAll(sending);
        var view = await Core.WaitForAsync(user, sessionId,
            v => CoreHarness.IsIdle(v) && v.Messages.Count == 2 * (questions.Count + 1), "every question to be answered");
        await Wait.UntilAsync(() => instances.All(c => !c.Turns.IsGenerating(sessionId)), "both runners to let the session go");

        var asked = Model.Requests;
        Assert.DoesNotContain(asked, r => r.InFlightOnArrival.Count > 0);
        // None lost, none answered twice; each answer right below its question, and each question below the answer before.
        Assert.Equal(["opening question", .. questions.Order()], asked.Select(r => r.Messages[^1].Content).Order());
        Assert.Equal(questions.Count + 1, view.Messages.Count(m => m.Role == MessageRole.User));
        Assert.All(view.Messages.Chunk(2), pair => Assert.Equal("Answer to: " + pair[0].Text, pair[1].Text));
        Assert.All(view.Messages, m => Assert.Equal(EventStatus.Complete, m.Status));
        Assert.All(view.Messages.Skip(1).Zip(view.Messages), pair => Assert.Equal(pair.Second.Id, pair.First.ParentId));
        await AssertSeqIsGapFreeAsync(sessionId);
        Assert.Empty(second.LoggedErrors);
    }
}
