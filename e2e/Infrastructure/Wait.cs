using System.Diagnostics;

namespace ResearchAssistant.E2E.Infrastructure;

public static class Wait
{
    /// <summary>
    /// Polls a condition that Playwright's Expect cannot express (e.g. geometry) until it holds, bounded by
    /// <paramref name="timeout"/>; fails with <paramref name="failure"/> otherwise.
    /// </summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, string failure, TimeSpan? timeout = null)
    {
        var limit = timeout ?? TimeSpan.FromSeconds(15);
        var stopwatch = Stopwatch.StartNew();
        while (!await condition())
        {
            if (stopwatch.Elapsed > limit) Assert.Fail($"{failure} (waited {limit.TotalSeconds:0} s)");
            await Task.Delay(100);
        }
    }
}
