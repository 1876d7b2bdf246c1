using Xunit.Sdk;

namespace ResearchAssistant.Tests.Support;

/// <summary>Bounded polling for conditions nothing announces (a request reaching the fake server).</summary>
public static class Wait
{
    public static async Task UntilAsync(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        var limit = timeout ?? TimeSpan.FromSeconds(10);
        using var deadline = new CancellationTokenSource(limit);
        while (!condition())
        {
            try
            {
                await Task.Delay(10, deadline.Token);
            }
            catch (OperationCanceledException)
            {
                throw new XunitException($"Timed out after {limit.TotalSeconds:0} s waiting for {what}.");
            }
        }
    }
}
