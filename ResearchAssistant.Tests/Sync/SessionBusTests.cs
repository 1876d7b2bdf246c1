using ResearchAssistant.Core.Sync;

namespace ResearchAssistant.Tests.Sync;

/// <summary>
/// Publishing never runs a subscriber's work on the publisher's thread: a Blazor circuit's handler runs its re-read
/// inline when the circuit is idle, so a send used to wait for every open tab's re-read, one after the other.
/// </summary>
public sealed class SessionBusTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Publish_returns_before_a_slow_subscriber_has_finished()
    {
        var bus = new SessionBus();
        using var publisherDone = new ManualResetEventSlim();
        var heard = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var slow = bus.Subscribe("u", _ => heard.TrySetResult(publisherDone.Wait(Bound)));

        bus.Publish(new SessionChange("u", Guid.NewGuid(), SessionChangeKind.Changed));
        publisherDone.Set();

        Assert.True(await heard.Task.WaitAsync(Bound), "The subscriber ran inside Publish: the publisher waited for it.");
    }

    [Fact]
    public async Task Every_subscriber_of_the_owner_hears_a_change_and_nobody_else_does()
    {
        var bus = new SessionBus();
        var session = Guid.NewGuid();
        var heard = Enumerable.Range(0, 20).Select(_ => new TaskCompletionSource<SessionChange>(TaskCreationOptions.RunContinuationsAsynchronously)).ToList();
        var subscriptions = heard.Select(h => bus.Subscribe("owner", c => h.TrySetResult(c))).ToList();
        var strangerHeard = 0;
        using var stranger = bus.Subscribe("stranger", _ => Interlocked.Increment(ref strangerHeard));
        using var failing = bus.Subscribe("owner", _ => throw new InvalidOperationException("a broken circuit"));

        bus.Publish(new SessionChange("owner", session, SessionChangeKind.Changed));

        foreach (var h in heard)
        {
            Assert.Equal(session, (await h.Task.WaitAsync(Bound)).SessionId);
        }
        Assert.Equal(0, Volatile.Read(ref strangerHeard));
        subscriptions.ForEach(s => s.Dispose());
    }
    [Fact]
    public async Task A_change_is_stamped_when_the_bus_hears_it_and_keeps_what_it_says_it_touched()
    {
        var bus = new SessionBus();
        var heard = new TaskCompletionSource<SessionChange>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var subscription = bus.Subscribe("u", c => heard.TrySetResult(c));
        // Made (say) before its commit, published after it: only the moment of publishing tells reads that follow it.
        var change = new SessionChange("u", Guid.NewGuid(), SessionChangeKind.Changed, Parts: SessionParts.Conversation);
        var beforePublish = System.Diagnostics.Stopwatch.GetTimestamp();

        bus.Publish(change);

        var delivered = await heard.Task.WaitAsync(Bound);
        Assert.True(delivered.HeardAt >= beforePublish, "The hint carries the moment it was made, not the moment it was published.");
        Assert.Equal(SessionParts.Conversation, delivered.Parts);
        Assert.True(delivered.Touches(SessionParts.Conversation));
        Assert.False(delivered.Touches(SessionParts.Listing | SessionParts.Checkpoints));
        Assert.True(new SessionChange("u", Guid.NewGuid(), SessionChangeKind.Changed).Touches(SessionParts.Checkpoints), "A hint that names nothing must mean everything.");
    }
}
