using System.Diagnostics;

namespace ResearchAssistant.Core.Sync;

/// <summary>
/// Lets concurrent callers of the same read share it. One change on the session bus makes every tab showing the
/// conversation re-read it (and the sidebar, and the checkpoints) at the same moment: with 100 tabs open, 100 identical
/// reads, each a page of decrypted messages. A caller needs data read after some moment: by default its own call (it
/// may have just written), or, answering a bus hint, the moment the hint was heard (after the commit it announces).
/// A caller joins the running read when that read began after the moment the caller needs; otherwise it waits for the
/// next read, which starts once the running one ends, so after the caller arrived, and is shared by everyone who
/// arrived in the meantime. Every caller gets data read after its moment, as if it had read alone; a burst of
/// identical calls costs at most two reads, and one when the callers answer a hint heard before the first read began.
/// A read that has just completed serves the same way, for <see cref="KeepCompletedFor"/>: on SQLite a read runs to its
/// end on the caller's thread, so the tabs answering one hint rarely find it still running, and without this half of
/// them read again although the read they missed began after their hint.
/// Results are shared between callers, so they must be immutable.
/// </summary>
internal sealed class SharedReads<TKey, TResult> where TKey : notnull
{
    private readonly Lock _lock = new();
    private readonly Dictionary<TKey, Running> _running = [];
    private readonly Dictionary<TKey, Completed> _completed = [];

    /// <summary>
    /// How long a completed read may still serve callers whose moment it began after. Short: only the burst of re-reads
    /// answering one hint needs it, and nobody can be served data older than their moment however long it is kept.
    /// </summary>
    internal static readonly TimeSpan KeepCompletedFor = TimeSpan.FromSeconds(2);

    /// <summary>Data read after this call began.</summary>
    public Task<TResult> ReadAsync(TKey key, Func<CancellationToken, Task<TResult>> read, CancellationToken ct = default) =>
        ReadAsync(key, read, Stopwatch.GetTimestamp(), ct);

    /// <summary>
    /// Data read after <paramref name="readAfter"/> (a <see cref="Stopwatch.GetTimestamp"/> no later than now, such as
    /// <see cref="SessionChange.HeardAt"/>): a read already running that began after it is shared as it is.
    /// </summary>
    public Task<TResult> ReadAsync(TKey key, Func<CancellationToken, Task<TResult>> read, long readAfter, CancellationToken ct = default)
    {
        Running mine;
        lock (_lock)
        {
            if (_completed.TryGetValue(key, out var completed))
            {
                if (completed.StartedAt > readAfter && !completed.IsExpired(Stopwatch.GetTimestamp()))
                {
                    return Task.FromResult(completed.Result);
                }
            }
            if (_running.TryGetValue(key, out var running))
            {
                // Strictly later: a read stamped in the same tick as the moment cannot be told to come after it.
                var joined = running.StartedAt > readAfter ? running : running.Next ??= new Running(read);
                return joined.Result.Task.WaitAsync(ct);
            }
            mine = new Running(read) { StartedAt = Stopwatch.GetTimestamp() };
            _running[key] = mine;
        }
        // Nobody is reading this: read now, on the caller's own terms (its cancellation), and hand over when done.
        return ReadFirstAsync(key, mine, ct);
    }

    private async Task<TResult> ReadFirstAsync(TKey key, Running mine, CancellationToken ct)
    {
        try
        {
            var result = await mine.Read(ct);
            mine.Result.TrySetResult(result);
            Remember(key, mine, result);
            return result;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // This caller gave up: those who joined its read get theirs from a read of their own.
            mine.Rejoin = true;
            throw;
        }
        catch (Exception ex)
        {
            mine.Fail(ex);
            throw;
        }
        finally
        {
            Finish(key, mine);
        }
    }

    /// <summary>The read for <paramref name="key"/> ended: start the one its latecomers wait for, if any.</summary>
    private void Finish(TKey key, Running ended)
    {
        Running? next;
        lock (_lock)
        {
            next = ended.Next;
            if (ended.Rejoin)
            {
                // Those who joined the cancelled read wait on its Result: it becomes the next read's (or a new one).
                next ??= new Running(ended.Read);
                next.Waiting.Add(ended.Result);
            }
            if (next is null)
            {
                _running.Remove(key);
                return;
            }
            next.StartedAt = Stopwatch.GetTimestamp();
            _running[key] = next;
        }
        // On the thread pool: the caller that just finished must not wait for the others' read. Not cancelled by any
        // one of them (each stops waiting on its own token).
        _ = Task.Run(async () =>
        {
            try
            {
                var result = await next.Read(CancellationToken.None);
                next.Complete(result);
                Remember(key, next, result);
            }
            catch (Exception ex)
            {
                next.Fail(ex);
            }
            finally
            {
                Finish(key, next);
            }
        });
    }

    /// <summary>Keeps a successful read for callers arriving just after it, unless a later-begun one is already kept.</summary>
    private void Remember(TKey key, Running read, TResult result)
    {
        var now = Stopwatch.GetTimestamp();
        lock (_lock)
        {
            if (_completed.TryGetValue(key, out var kept) && kept.StartedAt >= read.StartedAt)
            {
                return;
            }
            if (_completed.Count >= 16)
            {
                // Expired entries of other keys go here, so what is kept stays bounded by what was read lately.
                foreach (var expired in _completed.Where(e => e.Value.IsExpired(now)).Select(e => e.Key).ToList())
                {
                    _completed.Remove(expired);
                }
            }
            _completed[key] = new Completed(read.StartedAt, now, result);
        }
    }

    private sealed record Completed(long StartedAt, long CompletedAt, TResult Result)
    {
        public bool IsExpired(long now) => Stopwatch.GetElapsedTime(CompletedAt, now) > KeepCompletedFor;
    }

    private sealed class Running(Func<CancellationToken, Task<TResult>> read)
    {
        public Func<CancellationToken, Task<TResult>> Read { get; } = read;
        public TaskCompletionSource<TResult> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        /// <summary>When the read began (a <see cref="Stopwatch.GetTimestamp"/>, taken before its first statement).</summary>
        public long StartedAt { get; set; }
        public Running? Next { get; set; }
        /// <summary>The first caller cancelled its own read: whoever joined it must be served by the next one.</summary>
        public bool Rejoin { get; set; }
        /// <summary>Results of cancelled reads whose joiners this read serves too.</summary>
        public List<TaskCompletionSource<TResult>> Waiting { get; } = [];

        public void Complete(TResult result)
        {
            Result.TrySetResult(result);
            Waiting.ForEach(w => w.TrySetResult(result));
        }

        public void Fail(Exception ex)
        {
            Result.TrySetException(ex);
            // Observed here: a read nobody joined must not surface later as an unobserved task exception.
            _ = Result.Task.Exception;
            Waiting.ForEach(w => w.TrySetException(ex));
        }
    }
}
