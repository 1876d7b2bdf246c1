using Xunit.Sdk;

namespace ResearchAssistant.Tests.Support;

/// <summary>Bounded polling for conditions nothing announces (a request reaching the fake server).</summary>
public static class Wait
{
    public static Task UntilAsync(Func<bool> condition, string what, TimeSpan? timeout = null) =>
        UntilAsync(() => Task.FromResult(condition()), what, timeout);

    /// <summary>The same for a condition that has to ask the database; polled every 50 ms.</summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        var limit = timeout ?? TimeSpan.FromSeconds(10);
        using var deadline = new CancellationTokenSource(limit);
        while (!await condition())
        {
            try
            {
                await Task.Delay(50, deadline.Token);
            }
            catch (OperationCanceledException)
            {
                throw new XunitException($"Timed out after {limit.TotalSeconds:0} s waiting for {what}.");
            }
        }
    }
}
