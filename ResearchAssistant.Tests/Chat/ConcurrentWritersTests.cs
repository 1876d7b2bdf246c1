using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using ResearchAssistant.Core.Sessions;
using ResearchAssistant.Testing;
using ResearchAssistant.Tests.Support;
using Xunit.Abstractions;

namespace ResearchAssistant.Tests.Chat;

/// <summary>
/// The append path under load, through <c>ChatService.SendAsync</c>: many writers into one session while the turn
/// runner admits and answers questions in between. Nothing may be lost or stored twice, and Seq stays 1..N.
/// </summary>
public abstract class ConcurrentWritersTests(TestDatabase database, ITestOutputHelper output) : ChatTestBase(database, output)
{
    private const int Writers = 64;
    private const int AppendsPerWriter = 100;

    /// <summary>An answer as cheap as the fake can make one, so the runner keeps appending while the writers do.</summary>
    private static readonly FakeBehavior InstantAnswer = new() { Tokens = ["ok"], TokenDelay = TimeSpan.Zero };

    /// <summary>Echoes the question, so the order of the answers shows the order the questions were taken in.</summary>
    private static readonly FakeBehavior EchoAnswer = QuickAnswer with { Respond = r => ["Answer to: ", r.Messages[^1].Content] };

    [Fact]
    public async Task Sixty_four_writers_times_one_hundred_appends_to_one_session_lose_nothing_duplicate_nothing_and_keep_Seq_gap_free()
    {
        // A database and a Core of its own: the 6,000-odd questions still queued at the end must not be picked up by
        // the turn runner of the next test in this class.
        var database = await Database.CreateEmptyAsync();
        await TestDatabase.MigrateAsync(database);
        await using var core = await CoreHarness.StartAsync(database, Model.Endpoint, Output);
        Model.Behavior = InstantAnswer;
        var user = await TestUsers.CreateAsync(core.Contexts);
        var sessionId = Guid.NewGuid();
        await core.Chat.SendAsync(user, sessionId, "the session everyone writes to", NewClientId(), createIfMissing: true);
        await core.WaitUntilIdleAsync(user, sessionId);
        var run = Guid.NewGuid().ToString("N");
        var results = new ConcurrentBag<(int Writer, int Index, Guid MessageId, bool WasDuplicate)>();

        var clock = Stopwatch.StartNew();
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var writers = Enumerable.Range(0, Writers).Select(w => Task.Run(async () =>
        {
            await start.Task;
            for (var i = 0; i < AppendsPerWriter; i++)
            {
                var sent = await core.Chat.SendAsync(user, sessionId, TextOf(w, i), ClientIdOf(run, w, i));
                results.Add((w, i, sent.MessageId, sent.WasDuplicate));
            }
        })).ToArray();
        start.SetResult();
        await Task.WhenAll(writers).WaitAsync(TimeSpan.FromSeconds(180));
        var sendsTook = clock.Elapsed;
        var askedWhileWriting = Model.Requests.Count - 1;

        // The runner answered alongside the writers (its appends interleaved with theirs). Answering all 6,400 would
        // take minutes and test nothing more about the append path, so stop it now, the way a host stops: the answer
        // in flight is sealed, and what is still queued stays queued (it would be answered after a restart).
        await core.Turns.StopAsync(CancellationToken.None);
        await Wait.UntilAsync(() => !core.Turns.IsGenerating(sessionId), "the turn runner to let the session go");
        Output.WriteLine($"{Writers} x {AppendsPerWriter} sends took {sendsTook.TotalSeconds:0.0} s " +
                         $"({Writers * AppendsPerWriter / sendsTook.TotalSeconds:0} per second); the model was asked {askedWhileWriting} questions meanwhile");

        // Every send returned its own new message.
        Assert.Equal(Writers * AppendsPerWriter, results.Count);
        Assert.DoesNotContain(results, r => r.WasDuplicate);
        Assert.Equal(results.Count, results.Select(r => r.MessageId).Distinct().Count());

        // Exactly the messages sent are stored, once each, with their own text.
        var stored = await StoredEventsAsync(sessionId, core);
        var cipher = await core.Protector.ForUserAsync(user);
        var sentQuestions = stored.Where(e => e.Kind == EventKind.UserMessage && e.ClientId!.EndsWith(run, StringComparison.Ordinal)).ToList();
        var expected = Enumerable.Range(0, Writers)
            .SelectMany(w => Enumerable.Range(0, AppendsPerWriter).Select(i => (ClientIdOf(run, w, i), TextOf(w, i))));
        Assert.Equal(expected.Order(), sentQuestions.Select(q => (q.ClientId!, cipher.Decrypt(q.ContentCipher))).Order());
        Assert.Equal(results.Select(r => r.MessageId).Order(), sentQuestions.Select(q => q.Id).Order());
        var answers = stored.Where(e => e.Kind == EventKind.AssistantMessage).Skip(1).ToList();
        // The opening exchange, the 6,400 questions and the answers written meanwhile: nothing else.
        Assert.Equal(2 + Writers * AppendsPerWriter + answers.Count, stored.Count);

        // Seq is the log's position: 1..N, no gap, no repeat, and the session's counter agrees.
        await AssertSeqIsGapFreeAsync(sessionId, core);

        // Each writer's messages were stored in the order that writer sent them.
        var seqOf = sentQuestions.ToDictionary(q => q.ClientId!, q => q.Seq);
        Assert.All(Enumerable.Range(0, Writers), w => Assert.True(
            Enumerable.Range(1, AppendsPerWriter - 1).All(i => seqOf[ClientIdOf(run, w, i)] > seqOf[ClientIdOf(run, w, i - 1)]),
            $"writer {w}'s messages are out of order"));

        // The runner took the questions in Seq order, one answer each, and left the rest queued, untouched.
        var admitted = sentQuestions.Where(q => q.Status != EventStatus.Queued).ToList();
        Assert.Equal(sentQuestions.Take(admitted.Count).Select(q => q.Id), admitted.Select(q => q.Id));
        Assert.Equal(admitted.Select(q => q.Id), answers.Select(a => a.ParentId!.Value));
        Assert.All(answers.SkipLast(1), a => Assert.Equal(EventStatus.Complete, a.Status));
        // Writers must not starve the runner: kicked by the first send, it is one writer among 65, so it got to ask
        // the model while the writers were still writing.
        Assert.True(askedWhileWriting > 0, "The model was asked nothing while the writers wrote: they starved the turn runner.");
        Assert.Empty(core.LoggedErrors);
    }

    [Fact]
    public async Task Two_devices_sending_at_the_same_instant_have_both_messages_stored_once_and_answered_in_order()
    {
        var user = await NewUserAsync();
        Model.Behavior = EchoAnswer;
        var (sessionId, _) = await StartConversationAsync(user, "two devices, one conversation");
        const int Rounds = 4;

        for (var round = 1; round <= Rounds; round++)
        {
            // An answer is being written when both devices send, so both questions wait and the runner must choose
            // which to take first.
            var resume = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Model.Behavior = EchoAnswer with { PauseAfterTokens = 1, Resume = resume.Task };
            await Chat.SendAsync(user, sessionId, $"warm-up {round}", NewClientId());
            await Wait.UntilAsync(() => Model.Requests.Count == 1 + 3 * (round - 1) + 1, $"the answer to warm-up {round} to start");
            Model.Behavior = EchoAnswer;

            // Each device is a caller of its own (a circuit each), released together by the barrier.
            using var barrier = new Barrier(2);
            var (laptopText, phoneText) = ($"from the laptop, round {round}", $"from the phone, round {round}");
            var (laptopId, phoneId) = (NewClientId(), NewClientId());
            var laptop = Task.Run(() => { barrier.SignalAndWait(); return Chat.SendAsync(user, sessionId, laptopText, laptopId); });
            var phone = Task.Run(() => { barrier.SignalAndWait(); return Chat.SendAsync(user, sessionId, phoneText, phoneId); });
            var sent = await Task.WhenAll(laptop, phone);
            Assert.DoesNotContain(sent, s => s.WasDuplicate);
            Assert.NotEqual(sent[0].MessageId, sent[1].MessageId);
            var waiting = await Chat.GetConversationAsync(user, sessionId);
            Assert.Equal(2, waiting!.Messages.Count(m => m.Status == EventStatus.Queued));

            resume.SetResult();
            await Core.WaitForAsync(user, sessionId, v => CoreHarness.IsIdle(v) && v.Messages.Count == 2 + 6 * round, $"round {round} to be answered");
        }

        var stored = await StoredEventsAsync(sessionId);
        var cipher = await Core.Protector.ForUserAsync(user);
        var questions = stored.Where(e => e.Kind == EventKind.UserMessage).Skip(1).ToList();
        var questionTexts = questions.Select(q => cipher.Decrypt(q.ContentCipher)).ToList();
        // Each message stored once.
        Assert.Equal(3 * Rounds, questions.Count);
        Assert.Equal(questionTexts.Count, questionTexts.Distinct().Count());
        Assert.All(Enumerable.Range(1, Rounds), round =>
        {
            Assert.Single(questionTexts, $"from the laptop, round {round}");
            Assert.Single(questionTexts, $"from the phone, round {round}");
        });

        // Answered in the order of the questions' Seq: the model was asked them in that order, each with the previous
        // question and its answer in its history, and the conversation reads question, answer, question, answer.
        var asked = Model.Requests.Skip(1).ToList();
        Assert.Equal(questionTexts, asked.Select(r => r.Messages[^1].Content));
        Assert.All(asked.Skip(1).Zip(questionTexts), pair =>
            Assert.Equal(("assistant", "Answer to: " + pair.Second), pair.First.Messages[^2]));
        var view = await Chat.GetConversationAsync(user, sessionId);
        Assert.NotNull(view);
        Assert.Equal(
            questionTexts.SelectMany(q => new[] { q, "Answer to: " + q }),
            view.Messages.Skip(2).Select(m => m.Text));
        Assert.All(view.Messages.Skip(1).Zip(view.Messages), pair => Assert.Equal(pair.Second.Id, pair.First.ParentId));
        await AssertSeqIsGapFreeAsync(sessionId);
    }

    private static string TextOf(int writer, int index) => $"writer {writer} message {index}";

    private static string ClientIdOf(string run, int writer, int index) => $"w{writer:D2}-{index:D3}-{run}";
}

public sealed class SqliteConcurrentWritersTests(SqliteTestDatabase database, ITestOutputHelper output)
    : ConcurrentWritersTests(database, output), IClassFixture<SqliteTestDatabase>;

public sealed class PostgresConcurrentWritersTests(PostgresTestDatabase database, ITestOutputHelper output)
    : ConcurrentWritersTests(database, output), IClassFixture<PostgresTestDatabase>;
