namespace ResearchAssistant.Core.Sync;

/// <summary>
/// Lets concurrent callers of the same read share it. One change on the session bus makes every tab showing the
/// conversation re-read it (and the sidebar, and the checkpoints) at the same moment: with 100 tabs open, 100 identical
/// reads, each a page of decrypted messages. Here a caller that arrives while the same read is running does not take
/// that read's result, which may have started before the change the caller heard of: it waits for the next read,
/// which starts once the running one ends, so after the caller arrived, and is shared by everyone who arrived in the
/// meantime. Every caller gets data read after its call began, as if it had read alone; a burst of identical calls
/// costs at most two reads. Results are shared between callers, so they must be immutable.
/// </summary>
internal sealed class SharedReads<TKey, TResult> where TKey : notnull
{
    private readonly Lock _lock = new();
    private readonly Dictionary<TKey, Running> _running = [];

    public Task<TResult> ReadAsync(TKey key, Func<CancellationToken, Task<TResult>> read, CancellationToken ct = default)
    {
        lock (_lock)
        {
            if (_running.TryGetValue(key, out var running))
            {
                running.Next ??= new Running(read);
                return running.Next.Result.Task.WaitAsync(ct);
            }
            _running[key] = new Running(read);
        }
        // Nobody is reading this: read now, on the caller's own terms (its cancellation), and hand over when done.
        return ReadFirstAsync(key, read, ct);
    }

    private async Task<TResult> ReadFirstAsync(TKey key, Func<CancellationToken, Task<TResult>> read, CancellationToken ct)
    {
        try
        {
            return await read(ct);
        }
        finally
        {
            Finish(key);
        }
    }

    /// <summary>The read for <paramref name="key"/> ended: start the one its latecomers wait for, if any.</summary>
    private void Finish(TKey key)
    {
        Running? next;
        lock (_lock)
        {
            next = _running[key].Next;
            if (next is null)
            {
                _running.Remove(key);
                return;
            }
            _running[key] = next;
        }
        // On the thread pool: the caller that just finished must not wait for the others' read. Not cancelled by any
        // one of them (each stops waiting on its own token).
        _ = Task.Run(async () =>
        {
            try
            {
                next.Result.TrySetResult(await next.Read(CancellationToken.None));
            }
            catch (Exception ex)
            {
                next.Result.TrySetException(ex);
            }
            finally
            {
                Finish(key);
            }
        });
    }

    private sealed class Running(Func<CancellationToken, Task<TResult>> read)
    {
        public Func<CancellationToken, Task<TResult>> Read { get; } = read;
        public TaskCompletionSource<TResult> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public Running? Next { get; set; }
    }
}
