using System.Collections.Concurrent;

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
}

/// <summary>A hint that a session moved on. The database stays the truth; a subscriber re-reads what it needs.</summary>
public sealed record SessionChange(string OwnerId, Guid SessionId, SessionChangeKind Kind, Guid? MessageId = null, LiveText? LiveText = null);

/// <summary>
/// Fans session changes out to the circuits of the session's owner. Subscriptions are per user, so a circuit can
/// only ever hear about its own user's sessions. In-process; several instances are bridged in a later step.
/// </summary>
public sealed class SessionBus
{
    private readonly ConcurrentDictionary<string, ImmutableSubscribers> _byUser = new(StringComparer.Ordinal);

    public IDisposable Subscribe(string userId, Action<SessionChange> handler)
    {
        var subscription = new Subscription(this, userId, handler);
        _byUser.AddOrUpdate(userId, _ => new ImmutableSubscribers([subscription]), (_, list) => list.Add(subscription));
        return subscription;
    }

    /// <summary>
    /// Hands the change to each of the owner's subscribers on a thread-pool work item of its own, never on the caller's
    /// thread, and returns at once. A circuit's handler calls InvokeAsync, which runs the work inline when the circuit is
    /// idle: called from here, every open tab's re-read ran on the publisher's thread one after the other, so a send (or
    /// the turn runner, between two tokens) waited for all of them. Handlers may run concurrently and in any order;
    /// that is safe because a change is only a hint to re-read (the database stays the truth).
    /// </summary>
    public void Publish(SessionChange change)
    {
        if (!_byUser.TryGetValue(change.OwnerId, out var subscribers))
        {
            return;
        }
        foreach (var subscriber in subscribers.Items)
        {
            ThreadPool.UnsafeQueueUserWorkItem(new Delivery(subscriber, change), preferLocal: false);
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

/// <summary>
/// The text of an answer while it streams, shared by the writer and every circuit showing it. Readers take a
/// snapshot only when they render, so a token costs an append, not a copy per subscriber.
/// </summary>
public sealed class LiveText
{
    private readonly System.Text.StringBuilder _text = new();
    private readonly Lock _lock = new();
    private string? _snapshot = "";

    public void Append(string delta)
    {
        lock (_lock)
        {
            _text.Append(delta);
            _snapshot = null;
        }
    }

    public string Snapshot()
    {
        lock (_lock)
        {
            return _snapshot ??= _text.ToString();
        }
    }
}
