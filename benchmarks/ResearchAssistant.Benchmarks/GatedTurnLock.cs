using ResearchAssistant.Core.Chat;

namespace ResearchAssistant.Benchmarks;

/// <summary>
/// Wraps the app's real turn lock (in-process on SQLite, the PostgreSQL advisory lock on PostgreSQL) with a gate the
/// driver controls. SendAsync stores the message and kicks the TurnRunner; the runner's worker asks for the turn
/// before it touches the database, so while the gate is closed the append is measured alone, with none of the
/// answer's queries mixed in. The driver then opens the gate, and the answer is written by the real TurnRunner
/// (offline model, zero delay) and measured as a separate "turn" phase that ends when the turn is released.
/// </summary>
internal sealed class GatedTurnLock(ISessionTurnLock inner) : ISessionTurnLock
{
    private readonly Lock _lock = new();
    private TaskCompletionSource _gate = Opened();
    private TaskCompletionSource? _turnEnded;

    public void Close()
    {
        lock (_lock)
        {
            if (_gate.Task.IsCompleted)
            {
                _gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }
    }

    /// <summary>Opens the gate; the task completes when the next turn taken through it is released.</summary>
    public Task OpenForOneTurn()
    {
        TaskCompletionSource gate, ended;
        lock (_lock)
        {
            ended = _turnEnded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            gate = _gate;
        }
        gate.TrySetResult();
        return ended.Task;
    }

    public async Task<ISessionTurn?> TryAcquireAsync(Guid sessionId, CancellationToken ct)
    {
        Task gate;
        lock (_lock)
        {
            gate = _gate.Task;
        }
        await gate.WaitAsync(ct);
        var held = await inner.TryAcquireAsync(sessionId, ct);
        return held is null ? null : new Held(held, this);
    }

    private void Released()
    {
        TaskCompletionSource? ended;
        lock (_lock)
        {
            ended = _turnEnded;
            _turnEnded = null;
        }
        ended?.TrySetResult();
    }

    private static TaskCompletionSource Opened()
    {
        var open = new TaskCompletionSource();
        open.SetResult();
        return open;
    }

    private sealed class Held(ISessionTurn inner, GatedTurnLock owner) : ISessionTurn
    {
        public Task<bool> ConfirmAsync(CancellationToken ct) => inner.ConfirmAsync(ct);

        public async ValueTask DisposeAsync()
        {
            await inner.DisposeAsync();
            owner.Released();
        }
    }
}
