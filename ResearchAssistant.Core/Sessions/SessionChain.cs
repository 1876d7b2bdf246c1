using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using ResearchAssistant.Core.Data;

namespace ResearchAssistant.Core.Sessions;

/// <summary>The outcome of checking a session's hash chain.</summary>
/// <param name="HashedEvents">Events covered by the chain (the final ones, in Seq order).</param>
/// <param name="FirstBrokenSeq">The first event whose stored hash does not match its content and its predecessor; null when intact.</param>
public sealed record ChainVerification(bool IsIntact, long HashedEvents, long? FirstBrokenSeq, string Summary);

/// <summary>
/// Tamper evidence: each final event's hash covers its own fields (the ciphertext, not the plaintext, so the check
/// needs no keys and leaks nothing) and the hash of the event before it. Events are hashed in Seq order as soon as
/// every event before them is final; a streaming answer or a queued question holds the chain until it is sealed.
/// </summary>
internal static class SessionChain
{
    private static readonly byte[] Genesis = new byte[32];

    /// <summary>
    /// How many unhashed events one read takes. The unhashed tail is normally one to a few events; the bound keeps
    /// the read an ordered walk of the (SessionId, Seq) index. Unbounded, PostgreSQL estimated "Seq &gt; n" from the
    /// whole table (it assumes SessionId and Seq independent), expected thousands of rows in a session shorter than
    /// others, and chose a parallel bitmap scan and sort: ~15 ms for the 1-2 rows of the tail.
    /// </summary>
    private const int PendingBatch = 64;

    /// <summary>Hashes the events that have become final. Call inside a transaction that holds the session row.</summary>
    public static async Task AdvanceAsync(AppDbContext db, Guid sessionId, CancellationToken ct)
    {
        var last = await db.SessionEvents.AsNoTracking()
            .Where(e => e.SessionId == sessionId && e.Hash != null)
            .OrderByDescending(e => e.Seq)
            .Select(e => new { e.Seq, e.Hash })
            .FirstOrDefaultAsync(ct);
        var previous = last?.Hash ?? Genesis;
        var lastSeq = last?.Seq ?? 0;
        while (true)
        {
            var pending = await db.SessionEvents.AsNoTracking()
                .Where(e => e.SessionId == sessionId && e.Seq > lastSeq)
                .OrderBy(e => e.Seq)
                .Take(PendingBatch)
                .ToListAsync(ct);
            foreach (var evt in pending)
            {
                if (!IsFinal(evt))
                {
                    return;
                }
                var hash = Compute(previous, evt);
                await db.SessionEvents.Where(e => e.Id == evt.Id).ExecuteUpdateAsync(u => u.SetProperty(e => e.Hash, hash), ct);
                previous = hash;
                lastSeq = evt.Seq;
            }
            if (pending.Count < PendingBatch)
            {
                return;
            }
        }
    }

    public static async Task<ChainVerification> VerifyAsync(AppDbContext db, Guid sessionId, CancellationToken ct)
    {
        var previous = Genesis;
        long hashed = 0;
        long expectedSeq = 1;
        var unhashedSeen = false;
        await foreach (var evt in db.SessionEvents.AsNoTracking().Where(e => e.SessionId == sessionId).OrderBy(e => e.Seq).AsAsyncEnumerable().WithCancellation(ct))
        {
            if (evt.Seq != expectedSeq)
            {
                return new(false, hashed, expectedSeq, $"Event {expectedSeq} is missing: the log has a gap.");
            }
            expectedSeq++;
            if (evt.Hash is null)
            {
                // Only the not-yet-final tail may be unhashed.
                unhashedSeen = true;
                continue;
            }
            if (unhashedSeen || !evt.Hash.AsSpan().SequenceEqual(Compute(previous, evt)))
            {
                return new(false, hashed, evt.Seq, $"Event {evt.Seq} does not match its hash: the log was altered.");
            }
            previous = evt.Hash;
            hashed++;
        }
        return new(true, hashed, null, $"All {hashed} final events match their hashes.");
    }

    private static bool IsFinal(SessionEvent evt) => evt.Status is not (EventStatus.Streaming or EventStatus.Queued);

    /// <summary>SHA-256 over the previous hash and a length-prefixed encoding of the event's fields.</summary>
    internal static byte[] Compute(byte[] previous, SessionEvent evt)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var number = new byte[8];
        hash.AppendData(previous);
        AppendLong(evt.Seq);
        AppendLong((long)evt.Kind);
        AppendLong((long)evt.Status);
        AppendLong(evt.CreatedAt.UtcTicks);
        AppendBytes(evt.Id.ToByteArray());
        AppendBytes(evt.ParentId?.ToByteArray() ?? []);
        AppendBytes(evt.TargetId?.ToByteArray() ?? []);
        AppendBytes(Encoding.UTF8.GetBytes(evt.Author));
        AppendBytes(evt.ContentCipher);
        return hash.GetHashAndReset();

        void AppendLong(long value)
        {
            BinaryPrimitives.WriteInt64BigEndian(number, value);
            hash.AppendData(number);
        }

        void AppendBytes(byte[] value)
        {
            AppendLong(value.Length);
            hash.AppendData(value);
        }
    }
}
