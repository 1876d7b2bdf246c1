using Xunit.Sdk;

namespace ResearchAssistant.Tests.Support;

/// <summary>Bounded polling for conditions nothing announces (a request reaching the fake server).</summary>
public static class Wait
{
    public static Task UntilAsync(Func<bool> condition, string what, TimeSpan? timeout = null) =>
        UntilAsync(() => Task.FromResult(condition()), what, timeout);

    /// <summary>The same for a condition that has to be read (a database query); checked every <paramref name="interval"/>.</summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null, TimeSpan? interval = null)
    {
        var limit = timeout ?? TimeSpan.FromSeconds(10);
        using var deadline = new CancellationTokenSource(limit);
        while (!await condition())
        {
            try
            {
                await Task.Delay(interval ?? TimeSpan.FromMilliseconds(10), deadline.Token);
            }
            catch (OperationCanceledException)
            {
                throw new XunitException($"Timed out after {limit.TotalSeconds:0} s waiting for {what}.");
            }
        }
    }
}
