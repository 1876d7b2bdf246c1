using ResearchAssistant.Core.Sync;
using Xunit.Sdk;

namespace ResearchAssistant.Tests.Sync;

/// <summary>
/// A subscriber that keeps every change it hears, with the streaming text as it stood on arrival (what a circuit
/// rendering then would show), and lets a test wait for a change it expects.
/// </summary>
public sealed class BusRecorder : IDisposable
{
    private readonly List<Heard> _heard = [];
    private readonly SemaphoreSlim _arrived = new(0);
    private readonly IDisposable _subscription;

    public BusRecorder(SessionBus bus, string userId) =>
        _subscription = bus.Subscribe(userId, change =>
        {
            lock (_heard)
            {
                _heard.Add(new Heard(change, change.LiveText?.Snapshot()));
            }
            _arrived.Release();
        });

    public sealed record Heard(SessionChange Change, string? Text);

    public IReadOnlyList<Heard> All
    {
        get
        {
            lock (_heard)
            {
                return [.. _heard];
            }
        }
    }

    /// <summary>
    /// Waits until a change satisfying <paramref name="match"/> has been heard (possibly already, but not among the first
    /// <paramref name="skip"/>) and returns it.
    /// </summary>
    public async Task<Heard> WaitForAsync(Func<Heard, bool> match, string what, TimeSpan? timeout = null, int skip = 0)
    {
        var limit = timeout ?? TimeSpan.FromSeconds(20);
        using var deadline = new CancellationTokenSource(limit);
        while (true)
        {
            if (All.Skip(skip).FirstOrDefault(match) is { } found)
            {
                return found;
            }
            try
            {
                await _arrived.WaitAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                throw new XunitException($"Timed out after {limit.TotalSeconds:0.#} s waiting for {what}. Heard:\n" +
                    string.Join("\n", All.Select(h => $"  {h.Change.Kind} {h.Change.SessionId} {h.Change.MessageId} {(h.Text is null ? "" : $"({h.Text.Length} chars)")}")));
            }
        }
    }

    public void Dispose()
    {
        _subscription.Dispose();
        _arrived.Dispose();
    }
}
