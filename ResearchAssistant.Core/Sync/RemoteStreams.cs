using System.Security.Cryptography;
using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using ResearchAssistant.Core.Data;
using ResearchAssistant.Core.Privacy;
using ResearchAssistant.Core.Sessions;

namespace ResearchAssistant.Core.Sync;

/// <summary>
/// Rebuilds, on this instance, the text of answers streaming on another one, as a local <see cref="LiveText"/> that
/// circuits read exactly as they read a local answer's. Deltas carry their offset: a repeat is dropped, an overlap
/// trimmed, and a gap (a lost notification, a reconnect, or a page opened mid-answer) is filled from the text the
/// writer flushes to the database every 200 ms; deltas beyond the gap wait until the flushed text reaches them.
/// Not thread-safe: the bridge calls it from its one inbound loop, and database reads come back through that loop.
/// </summary>
internal sealed class RemoteStreams(
    SessionBus bus,
    ContentProtector protector,
    IDbContextFactory<AppDbContext> contexts,
    ChannelWriter<object> inbound,
    ILogger logger)
{
    /// <summary>How long to wait before reading the flushed text again when it did not reach the gap yet.</summary>
    private static readonly TimeSpan RefetchDelay = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan ForgetAfter = TimeSpan.FromMinutes(2);
    /// <summary>Deltas held beyond a gap, in characters: past this they are dropped and the database fills in later.</summary>
    private const int MaxHeldChars = 1 << 20;

    private readonly Dictionary<Guid, RemoteStream> _streams = [];
    private long _lastSweep = Environment.TickCount64;

    /// <summary>
    /// A database read of a streaming answer, come back to the inbound loop: its flushed text while it streams; a null
    /// text when it is gone, or (with <paramref name="IsStreaming"/>) when the read failed.
    /// </summary>
    public sealed record Fetched(RemoteStream Stream, string? Text, bool IsStreaming);

    public int Count => _streams.Count;

    public async Task ApplyDeltaAsync(SyncNotice notice, CancellationToken ct)
    {
        var owner = notice.Owner!;
        var messageId = notice.Message!.Value;
        var offset = notice.Offset!.Value;
        if (!bus.HasSubscribers(owner))
        {
            // Nobody of this user is here: no text to rebuild, and no key to load.
            _streams.Remove(messageId);
            return;
        }
        string text;
        try
        {
            var cipher = await protector.ForUserAsync(owner, ct);
            text = cipher.Decrypt(notice.Text!, SyncNotice.DeltaBinding(messageId, offset));
        }
        catch (CryptographicException)
        {
            // Not sealed by this user's key for this message and offset: forged or misrouted. Never shown.
            logger.LogWarning("Dropped a streaming notification that does not decrypt for its stated owner and message");
            return;
        }

        if (!_streams.TryGetValue(messageId, out var stream))
        {
            _streams[messageId] = stream = new RemoteStream(owner, notice.Session!.Value, messageId);
        }
        stream.LastHeard = Environment.TickCount64;
        var grew = false;
        if (offset <= stream.Live.Length)
        {
            grew = stream.AppendAt(offset, text);
            grew |= stream.DrainHeld();
        }
        else
        {
            stream.Hold(offset, text, MaxHeldChars);
            RequestFetch(stream, TimeSpan.Zero, ct);
        }
        if (grew)
        {
            Announce(stream);
        }
        SweepIdle();
    }

    public void ApplyFetched(Fetched fetched, CancellationToken ct)
    {
        var stream = fetched.Stream;
        if (!_streams.TryGetValue(stream.Message, out var current) || !ReferenceEquals(current, stream))
        {
            return; // forgotten meanwhile (resync, or idle)
        }
        stream.Fetching = false;
        if (fetched is { Text: null, IsStreaming: true })
        {
            return; // the read failed: the next delta asks again
        }
        if (fetched.Text is null || !fetched.IsStreaming)
        {
            // Sealed (or gone): the database has the final text; have the pages read it.
            _streams.Remove(stream.Message);
            bus.PublishLocal(new SessionChange(stream.Owner, stream.Session, SessionChangeKind.Changed, stream.Message, Parts: SessionParts.Conversation));
            return;
        }
        var grew = false;
        if (fetched.Text.Length > stream.Live.Length)
        {
            // Both are prefixes of the one answer, so the longer extends the shorter.
            stream.Live.Append(fetched.Text[stream.Live.Length..]);
            grew = true;
        }
        grew |= stream.DrainHeld();
        if (stream.HasHeld)
        {
            // The flush has not reached the gap yet: it will within a flush interval.
            RequestFetch(stream, RefetchDelay, ct);
        }
        if (grew)
        {
            Announce(stream);
        }
    }

    /// <summary>After a reconnect nothing held can be trusted to be contiguous: start over from the next delta.</summary>
    public void Clear() => _streams.Clear();

    private void Announce(RemoteStream stream) =>
        bus.PublishLocal(new SessionChange(stream.Owner, stream.Session, SessionChangeKind.Streaming, stream.Message, stream.Live));

    private void RequestFetch(RemoteStream stream, TimeSpan delay, CancellationToken ct)
    {
        if (stream.Fetching)
        {
            return;
        }
        stream.Fetching = true;
        _ = FetchAsync(stream, delay, ct);
    }

    private async Task FetchAsync(RemoteStream stream, TimeSpan delay, CancellationToken ct)
    {
        Fetched result;
        try
        {
            if (delay > TimeSpan.Zero)
            {
                await Task.Delay(delay, ct);
            }
            await using var db = await contexts.CreateDbContextAsync(ct);
            // Owner checked in the query too: only the owner's rows are ever read for the owner's circuits.
            var row = await db.SessionEvents.AsNoTracking()
                .Where(e => e.Id == stream.Message && e.SessionId == stream.Session)
                .Join(db.ChatSessions.Where(s => s.OwnerId == stream.Owner), e => e.SessionId, s => s.Id, (e, s) => new { e.ContentCipher, e.Status })
                .FirstOrDefaultAsync(ct);
            var cipher = await protector.ForUserAsync(stream.Owner, ct);
            result = new Fetched(stream, row is null ? null : cipher.Decrypt(row.ContentCipher), row?.Status == EventStatus.Streaming);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return;
        }
        catch (Exception ex)
        {
            // The database is unreachable for now; the next delta asks again, and a reconnect resyncs anyway.
            logger.LogWarning(ex, "Reading a streaming answer's flushed text failed");
            result = new Fetched(stream, Text: null, IsStreaming: true);
        }
        inbound.TryWrite(result);
    }

    private void SweepIdle()
    {
        var now = Environment.TickCount64;
        if (now - _lastSweep < 10_000)
        {
            return;
        }
        _lastSweep = now;
        foreach (var (id, stream) in _streams)
        {
            if (TimeSpan.FromMilliseconds(now - stream.LastHeard) > ForgetAfter)
            {
                _streams.Remove(id);
            }
        }
    }

    internal sealed class RemoteStream(string owner, Guid session, Guid message)
    {
        private readonly SortedDictionary<int, string> _held = [];
        private int _heldChars;

        public string Owner { get; } = owner;
        public Guid Session { get; } = session;
        public Guid Message { get; } = message;
        public LiveText Live { get; } = new();
        public bool Fetching { get; set; }
        public long LastHeard { get; set; }
        public bool HasHeld => _held.Count > 0;

        /// <summary>Adds what <paramref name="text"/> at <paramref name="offset"/> has beyond the current end (offset must not be past it).</summary>
        public bool AppendAt(int offset, string text)
        {
            var known = Live.Length - offset;
            if (known >= text.Length)
            {
                return false; // a repeat
            }
            Live.Append(known == 0 ? text : text[known..]);
            return true;
        }

        public void Hold(int offset, string text, int maxChars)
        {
            if (_heldChars + text.Length > maxChars)
            {
                _held.Clear();
                _heldChars = 0;
            }
            if (_held.TryAdd(offset, text))
            {
                _heldChars += text.Length;
            }
        }

        /// <summary>Appends held deltas that now join the text, in order.</summary>
        public bool DrainHeld()
        {
            var grew = false;
            while (_held.Count > 0)
            {
                var (offset, text) = _held.First();
                if (offset > Live.Length)
                {
                    break;
                }
                _held.Remove(offset);
                _heldChars -= text.Length;
                grew |= AppendAt(offset, text);
            }
            return grew;
        }
    }
}
