using ResearchAssistant.Core.Sessions;
using ResearchAssistant.Core.Sync;
using ResearchAssistant.Tests.Support;
using Xunit.Abstractions;

namespace ResearchAssistant.Tests.Chat;

/// <summary>
/// The chat page re-reads the conversation when the session bus says it changed, and otherwise does nothing. So what
/// it last read after the last announced change is what the user keeps seeing: it must be the final state.
/// </summary>
public abstract class LiveUpdateTests(TestDatabase database, ITestOutputHelper output) : ChatTestBase(database, output)
{
    [Fact]
    public async Task A_reader_that_rereads_on_each_change_ends_with_the_final_state()
    {
        var user = await NewUserAsync();
        var sessionId = Guid.NewGuid();
        var reads = new List<ConversationView?>();
        var pending = new List<Task>();
        using var oneAtATime = new SemaphoreSlim(1);
        // Like the page: every Changed hint triggers a read, reads never overlap, Streaming hints carry text only.
        using var subscription = Core.Bus.Subscribe(user, change =>
        {
            if (change.SessionId != sessionId || change.Kind != SessionChangeKind.Changed)
            {
                return;
            }
            lock (pending)
            {
                pending.Add(Task.Run(async () =>
                {
                    await oneAtATime.WaitAsync();
                    try
                    {
                        var view = await Chat.GetConversationAsync(user, sessionId);
                        lock (reads)
                        {
                            reads.Add(view);
                        }
                    }
                    finally
                    {
                        oneAtATime.Release();
                    }
                }));
            }
        });

        for (var round = 1; round <= 10; round++)
        {
            await Chat.SendAsync(user, sessionId, $"question {round}", NewClientId(), createIfMissing: true);
            await Core.WaitUntilIdleAsync(user, sessionId);

            // With no further action, the reader must come to show the final state: bounded, since a missing
            // announcement would leave it waiting forever.
            var last = await LastReadOnceSettledAsync();
            Assert.True(last is not null && CoreHarness.IsIdle(last),
                $"Round {round}: the reader's last read still shows work in progress:\n{CoreHarness.Describe(last)}");
            Assert.Equal(2 * round, last.Messages.Count);
        }

        async Task<ConversationView?> LastReadOnceSettledAsync()
        {
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            while (true)
            {
                Task[] started;
                lock (pending)
                {
                    started = [.. pending];
                }
                await Task.WhenAll(started);
                ConversationView? last;
                lock (reads)
                {
                    last = reads.Count == 0 ? null : reads[^1];
                }
                if (last is not null && CoreHarness.IsIdle(last) || deadline.IsCancellationRequested)
                {
                    return last;
                }
                await Task.Delay(20, CancellationToken.None);
            }
        }
    }
}

public sealed class SqliteLiveUpdateTests(SqliteTestDatabase database, ITestOutputHelper output)
    : LiveUpdateTests(database, output), IClassFixture<SqliteTestDatabase>;

public sealed class PostgresLiveUpdateTests(PostgresTestDatabase database, ITestOutputHelper output)
    : LiveUpdateTests(database, output), IClassFixture<PostgresTestDatabase>;
