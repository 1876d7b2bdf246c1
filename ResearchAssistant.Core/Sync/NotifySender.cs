using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Npgsql;
using ResearchAssistant.Core.Privacy;

namespace ResearchAssistant.Core.Sync;

/// <summary>
/// Sends this instance's session changes to the others with NOTIFY, from one loop so they arrive in the order they
/// were published. Streaming is sent as deltas: while tokens come, the loop waits <see cref="DeltaBatchWindow"/> and
/// sends what the answer gained meanwhile as one notification (a token each would cost a notification each).
/// Changes are sent as they come, batched only with what is already waiting. When a send fails the batch is lost,
/// so the next successful send begins with a resync notice: receivers re-read, and nothing is missed for good.
/// </summary>
internal sealed class NotifySender(NpgsqlDataSource dataSource, ContentProtector protector, Guid instance, ILogger logger)
{
    /// <summary>How long tokens are gathered into one delta notification.</summary>
    public static readonly TimeSpan DeltaBatchWindow = TimeSpan.FromMilliseconds(5);

    /// <summary>Plaintext per delta notification: encrypted and base64-encoded it stays well under the payload limit.</summary>
    internal const int MaxDeltaBytes = 4000;

    /// <summary>Streams not heard of for this long are forgotten (their seal's hint was lost, or they were cut off).</summary>
    private static readonly TimeSpan ForgetStreamAfter = TimeSpan.FromMinutes(5);

    private readonly Channel<SessionChange> _queue = Channel.CreateUnbounded<SessionChange>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Dictionary<Guid, StreamCursor> _cursors = [];
    private bool _owesResync;

    public void Enqueue(SessionChange change)
    {
        // Resync is an instruction to this instance's own circuits; it never travels.
        if (change.Kind != SessionChangeKind.Resync)
        {
            _queue.Writer.TryWrite(change);
        }
    }

    public async Task RunAsync(CancellationToken ct)
    {
        var batch = new List<SessionChange>();
        var backoff = new Backoff();
        while (!ct.IsCancellationRequested)
        {
            // Owing a resync, keep trying even when nothing new is published: others may be waiting for it.
            if (!_owesResync && !await _queue.Reader.WaitToReadAsync(ct))
            {
                return;
            }
            batch.Clear();
            Drain(batch);
            if (batch.Exists(c => c.Kind == SessionChangeKind.Streaming))
            {
                await Task.Delay(DeltaBatchWindow, ct);
                Drain(batch);
            }
            if (await TrySendAsync(batch, ct))
            {
                backoff.Reset();
            }
            else
            {
                await Task.Delay(backoff.Next(), ct);
            }
        }
    }

    /// <summary>
    /// At shutdown: nothing more is taken, and <see cref="RunAsync"/> returns once it has sent what is waiting (the
    /// seals of answers cut off by the shutdown), or when cancelled.
    /// </summary>
    public void Complete() => _queue.Writer.TryComplete();

    private void Drain(List<SessionChange> batch)
    {
        while (_queue.Reader.TryRead(out var change))
        {
            batch.Add(change);
        }
    }

    private async Task<bool> TrySendAsync(List<SessionChange> batch, CancellationToken ct)
    {
        try
        {
            var payloads = await BuildAsync(batch, ct);
            if (_owesResync)
            {
                payloads.Insert(0, new SyncNotice { Instance = instance, Kind = SyncNotice.ResyncKind }.ToPayload());
            }
            if (payloads.Count > 0)
            {
                await SendAsync(payloads, ct);
            }
            _owesResync = false;
            return true;
        }
        catch (Exception ex) when (!ct.IsCancellationRequested)
        {
            if (!_owesResync)
            {
                logger.LogWarning(ex, "Sending session changes to the other instances failed; they will be told to re-read once the database answers");
            }
            _owesResync = true;
            return false;
        }
    }

    private async Task<List<string>> BuildAsync(List<SessionChange> batch, CancellationToken ct)
    {
        var payloads = new List<string>(batch.Count);
        var hinted = new HashSet<(string, Guid, SessionChangeKind, Guid?, SessionParts)>();
        var now = Environment.TickCount64;
        foreach (var change in batch)
        {
            switch (change.Kind)
            {
                case SessionChangeKind.Streaming when change is { MessageId: { } messageId, LiveText: { } live }:
                    if (!_cursors.TryGetValue(messageId, out var cursor) || !ReferenceEquals(cursor.Live, live))
                    {
                        _cursors[messageId] = cursor = new StreamCursor(change.OwnerId, change.SessionId, messageId, live);
                    }
                    cursor.LastUsed = now;
                    await AddDeltasAsync(cursor, payloads, ct);
                    break;
                case SessionChangeKind.Changed or SessionChangeKind.Deleted or SessionChangeKind.Presence:
                    // A message's last hint (its seal) follows its last text, so receivers never see a sealed answer grow.
                    if (change.MessageId is { } changedId && _cursors.Remove(changedId, out var ended))
                    {
                        await AddDeltasAsync(ended, payloads, ct);
                    }
                    if (hinted.Add((change.OwnerId, change.SessionId, change.Kind, change.MessageId, change.Parts)))
                    {
                        payloads.Add(new SyncNotice
                        {
                            Instance = instance,
                            Kind = change.Kind switch
                            {
                                SessionChangeKind.Deleted => SyncNotice.DeletedKind,
                                SessionChangeKind.Presence => SyncNotice.PresenceKind,
                                _ => SyncNotice.ChangedKind,
                            },
                            Owner = change.OwnerId,
                            Session = change.SessionId,
                            Message = change.MessageId,
                            Parts = change.Kind == SessionChangeKind.Changed && change.Parts != SessionParts.All ? (int)change.Parts : null,
                        }.ToPayload());
                    }
                    break;
            }
        }
        foreach (var (id, cursor) in _cursors)
        {
            if (TimeSpan.FromMilliseconds(now - cursor.LastUsed) > ForgetStreamAfter)
            {
                _cursors.Remove(id);
            }
        }
        return payloads;
    }

    /// <summary>What the answer gained since the last send, in pieces that each fit a notification.</summary>
    private async Task AddDeltasAsync(StreamCursor cursor, List<string> payloads, CancellationToken ct)
    {
        var text = cursor.Live.Since(cursor.Sent);
        if (text.Length == 0)
        {
            return;
        }
        var cipher = await protector.ForUserAsync(cursor.Owner, ct);
        var start = 0;
        while (start < text.Length)
        {
            var end = PieceEnd(text, start, MaxDeltaBytes);
            var offset = cursor.Sent + start;
            payloads.Add(new SyncNotice
            {
                Instance = instance,
                Kind = SyncNotice.DeltaKind,
                Owner = cursor.Owner,
                Session = cursor.Session,
                Message = cursor.Message,
                Offset = offset,
                Text = cipher.Encrypt(text[start..end], SyncNotice.DeltaBinding(cursor.Message, offset)),
            }.ToPayload());
            start = end;
        }
        cursor.Sent += text.Length;
    }

    /// <summary>The end of the longest piece from <paramref name="start"/> within <paramref name="maxBytes"/> of UTF-8, never splitting a surrogate pair.</summary>
    internal static int PieceEnd(string text, int start, int maxBytes)
    {
        var bytes = 0;
        var i = start;
        while (i < text.Length)
        {
            var c = text[i];
            var pair = char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]);
            var size = pair ? 4 : c < 0x80 ? 1 : c < 0x800 ? 2 : 3;
            if (bytes + size > maxBytes)
            {
                break;
            }
            bytes += size;
            i += pair ? 2 : 1;
        }
        return i;
    }

    private async Task SendAsync(List<string> payloads, CancellationToken ct)
    {
        // One round trip and one implicit transaction: PostgreSQL delivers them together, in this order.
        await using var command = dataSource.CreateBatch();
        foreach (var payload in payloads)
        {
            var notify = new NpgsqlBatchCommand("SELECT pg_notify($1, $2)");
            notify.Parameters.Add(new NpgsqlParameter { Value = PostgresSessionBridge.Channel });
            notify.Parameters.Add(new NpgsqlParameter { Value = payload });
            command.BatchCommands.Add(notify);
        }
        await command.ExecuteNonQueryAsync(ct);
    }

    private sealed class StreamCursor(string owner, Guid session, Guid message, LiveText live)
    {
        public string Owner { get; } = owner;
        public Guid Session { get; } = session;
        public Guid Message { get; } = message;
        public LiveText Live { get; } = live;
        /// <summary>Characters of <see cref="Live"/> already sent.</summary>
        public int Sent { get; set; }
        public long LastUsed { get; set; }
    }
}

/// <summary>Short, growing waits between reconnection attempts: quick after a blip, gentle on a database that is down.</summary>
internal sealed class Backoff
{
    private static readonly TimeSpan First = TimeSpan.FromMilliseconds(50);
    /// <summary>Low enough that a database back from a restart is found again well within the 2 s catch-up budget.</summary>
    private static readonly TimeSpan Longest = TimeSpan.FromMilliseconds(500);
    private TimeSpan _next = First;

    public TimeSpan Next()
    {
        var wait = _next;
        _next = TimeSpan.FromTicks(Math.Min(_next.Ticks * 2, Longest.Ticks));
        // Jitter, so instances cut off together do not all knock at the same moment.
        return wait * (0.8 + Random.Shared.NextDouble() * 0.4);
    }

    public void Reset() => _next = First;
}
