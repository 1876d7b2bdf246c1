using System.Collections.Concurrent;
using System.Diagnostics;

namespace ResearchAssistant.Core.Sync;

public enum SessionChangeKind
{
    /// <summary>Events were appended or sealed, or the session row changed: re-read from the database.</summary>
    Changed,
    /// <summary>An answer being streamed grew; read <see cref="SessionChange.LiveText"/> for its text so far.</summary>
    Streaming,
    Deleted,
    /// <summary>A tab of the owner started or stopped showing the session: re-read who else has it open.</summary>
    Presence,
    /// <summary>
    /// Changes may have been missed (this instance lost its link to the others for a while and is back): re-read
    /// whatever is shown, whichever session it is. <see cref="SessionChange.SessionId"/> is <see cref="Guid.Empty"/>.
    /// </summary>
    Resync,
}

/// <summary>
/// What a <see cref="SessionChangeKind.Changed"/> hint may have changed, so that a tab re-reads only that. A publisher
/// names only the parts its commit can have touched; anything it does not know for sure is <see cref="All"/>.
/// </summary>
[Flags]
public enum SessionParts
{
    None = 0,
    /// <summary>What the conversation page reads: its messages, the queue, the title, whether an answer is written.</summary>
    Conversation = 1,
    /// <summary>What the sidebar lists: the session's title, pin, archive, and its last activity (the list's order).</summary>
    Listing = 2,
    /// <summary>The session's checkpoints.</summary>
    Checkpoints = 4,
    All = Conversation | Listing | Checkpoints,
}

/// <summary>A hint that a session moved on. The database stays the truth; a subscriber re-reads what it needs.</summary>
public sealed record SessionChange(string OwnerId, Guid SessionId, SessionChangeKind Kind, Guid? MessageId = null, LiveText? LiveText = null, SessionParts Parts = SessionParts.All)
{
    /// <summary>
    /// When this instance's bus heard of the change (a <see cref="Stopwatch.GetTimestamp"/>): after the commit it
    /// announces, so any read that began later sees that commit. Lets a re-read answering this hint share a read that
    /// is already running (see <see cref="SharedReads{TKey, TResult}"/>) instead of waiting for the next one.
    /// </summary>
    public long HeardAt { get; internal init; } = Stopwatch.GetTimestamp();

    /// <summary>Whether this change may have touched <paramref name="part"/>.</summary>
    public bool Touches(SessionParts part) => (Parts & part) != 0;
}

/// <summary>
/// Fans session changes out to the circuits of the session's owner. Subscriptions are per user, so a circuit can
/// only ever hear about its own user's sessions. In-process; with several instances on PostgreSQL a bridge
/// (<see cref="PostgresSessionBridge"/>) forwards what is published here to the others and publishes theirs here.
/// </summary>
public sealed class SessionBus
{
    private readonly ConcurrentDictionary<string, ImmutableSubscribers> _byUser = new(StringComparer.Ordinal);
    private volatile Action<SessionChange>? _forward;
    private readonly bool _inline;

    public SessionBus()
    {
    }

    /// <param name="inlineDelivery">
    /// Call the handlers on the publisher's thread, in order: for tests of code that publishes, which check what each
    /// change carried at the moment it was published. The app never does this (see <see cref="PublishLocal"/>).
    /// </param>
    internal SessionBus(bool inlineDelivery) => _inline = inlineDelivery;

    public IDisposable Subscribe(string userId, Action<SessionChange> handler)
    {
        var subscription = new Subscription(this, userId, handler);
        _byUser.AddOrUpdate(userId, _ => new ImmutableSubscribers([subscription]), (_, list) => list.Add(subscription));
        return subscription;
    }

    /// <summary>
    /// Tells this instance's subscribers (see <see cref="PublishLocal"/>: off this thread), and through the bridge (if
    /// any) every other instance's.
    /// </summary>
    public void Publish(SessionChange change)
    {
        PublishLocal(change);
        _forward?.Invoke(change);
    }

    /// <summary>Whether any circuit of this user listens here: work for users nobody watches is skipped.</summary>
    public bool HasSubscribers(string userId) => _byUser.TryGetValue(userId, out var list) && list.Items.Length > 0;

    /// <summary>
    /// Publishes to this instance's subscribers only (also a change that came from another instance): hands the change
    /// to each of them on a thread-pool work item of its own, never on the caller's thread, and returns at once. A
    /// circuit's handler calls InvokeAsync, which runs the work inline when the circuit is idle: called from here, every
    /// open tab's re-read ran on the publisher's thread one after the other, so a send, the turn runner or the bridge's
    /// listener waited for all of them. Handlers may run concurrently and in any order; that is safe because a change is
    /// only a hint to re-read (the database stays the truth).
    /// </summary>
    internal void PublishLocal(SessionChange change)
    {
        if (!_byUser.TryGetValue(change.OwnerId, out var subscribers))
        {
            return;
        }
        // Stamped here, not only where the publisher made it: whatever came before, this is after the commit.
        change = change with { HeardAt = Stopwatch.GetTimestamp() };
        foreach (var subscriber in subscribers.Items)
        {
            var delivery = new Delivery(subscriber, change);
            if (_inline)
            {
                delivery.Execute();
            }
            else
            {
                ThreadPool.UnsafeQueueUserWorkItem(delivery, preferLocal: false);
            }
        }
    }

    private sealed class Delivery(Subscription subscriber, SessionChange change) : IThreadPoolWorkItem
    {
        public void Execute()
        {
            if (subscriber.IsDisposed)
            {
                return;
            }
            // A subscriber's failure is its own: it must not stop the others from hearing the change.
            try
            {
                subscriber.Handler(change);
            }
            catch (Exception)
            {
                // Handlers marshal to their circuit and catch there; nothing useful to do here.
            }
        }
    }

    /// <summary>Asks every local subscriber to re-read what it shows (see <see cref="SessionChangeKind.Resync"/>).</summary>
    internal void ResyncLocal()
    {
        foreach (var userId in _byUser.Keys)
        {
            PublishLocal(new SessionChange(userId, Guid.Empty, SessionChangeKind.Resync));
        }
    }

    /// <summary>Hands every later <see cref="Publish"/> to <paramref name="forward"/> as well (one bridge per bus).</summary>
    internal void ConnectBridge(Action<SessionChange>? forward) => _forward = forward;

    private void Remove(Subscription subscription)
    {
        _byUser.AddOrUpdate(subscription.UserId, _ => ImmutableSubscribers.Empty, (_, list) => list.Remove(subscription));
        _byUser.TryRemove(KeyValuePair.Create(subscription.UserId, ImmutableSubscribers.Empty));
    }

    private sealed record ImmutableSubscribers(Subscription[] Items)
    {
        public static readonly ImmutableSubscribers Empty = new([]);
        public ImmutableSubscribers Add(Subscription s) => new([.. Items, s]);
        public ImmutableSubscribers Remove(Subscription s)
        {
            var rest = Items.Where(x => x != s).ToArray();
            return rest.Length == 0 ? Empty : new(rest);
        }
    }

    private sealed class Subscription(SessionBus bus, string userId, Action<SessionChange> handler) : IDisposable
    {
        private int _disposed;
        public string UserId => userId;
        public Action<SessionChange> Handler => handler;
        public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                bus.Remove(this);
            }
        }
    }
}
