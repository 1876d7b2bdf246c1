namespace ResearchAssistant.Tests.Support;

/// <summary>
/// A clock the test sets, for orderings that must not depend on how fast the machine is. Only the wall clock is
/// fake: timers (the turn runner's flush loop) keep running in real time, because the base class creates real ones.
/// Microsoft.Extensions.TimeProvider.Testing is not in the registry here.
/// </summary>
public sealed class FakeTimeProvider(DateTimeOffset start) : TimeProvider
{
    private long _utcTicks = start.UtcTicks;

    public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref _utcTicks), TimeSpan.Zero);

    public void Advance(TimeSpan by) => Interlocked.Add(ref _utcTicks, by.Ticks);
}
