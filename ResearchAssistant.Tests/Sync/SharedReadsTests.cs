using System.Diagnostics;
using ResearchAssistant.Core.Sync;

namespace ResearchAssistant.Tests.Sync;

/// <summary>
/// Concurrent identical reads are shared, but nobody gets a read that started before its call: that is what lets 100
/// tabs re-read a conversation on one hint with two reads and still see the change the hint announced.
/// </summary>
public sealed class SharedReadsTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    /// <summary>A read that reports the version of the data when it started, and waits for a gate before returning.</summary>
    private sealed class Source
    {
        private int _version;
        private int _reads;
        public TaskCompletionSource Gate { get; set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public int Reads => Volatile.Read(ref _reads);
        public void Change() => Interlocked.Increment(ref _version);

        public async Task<int> ReadAsync(CancellationToken ct)
        {
            Interlocked.Increment(ref _reads);
            var seen = Volatile.Read(ref _version);
            await Gate.Task.WaitAsync(ct);
            return seen;
        }
    }

    [Fact]
    public async Task Callers_arriving_during_a_read_share_the_next_one_which_sees_what_changed_before_they_came()
    {
        var reads = new SharedReads<string, int>();
        var source = new Source();
        var first = reads.ReadAsync("s", source.ReadAsync);

        source.Change(); // committed while the first read runs; the callers below heard of it
        var late = Enumerable.Range(0, 50).Select(_ => reads.ReadAsync("s", source.ReadAsync)).ToList();
        Assert.Equal(1, source.Reads);
        source.Gate.SetResult();

        Assert.Equal(0, await first.WaitAsync(Bound));
        foreach (var read in late)
        {
            Assert.Equal(1, await read.WaitAsync(Bound));
        }
        Assert.Equal(2, source.Reads);
    }

    [Fact]
    public async Task Different_keys_are_not_shared_and_a_lone_caller_reads_for_itself()
    {
        var reads = new SharedReads<string, int>();
        var source = new Source();
        source.Gate.SetResult();

        await reads.ReadAsync("a", source.ReadAsync).WaitAsync(Bound);
        await reads.ReadAsync("a", source.ReadAsync).WaitAsync(Bound);
        var gated = new Source();
        var a = reads.ReadAsync("a", gated.ReadAsync);
        var b = reads.ReadAsync("b", gated.ReadAsync);
        gated.Gate.SetResult();
        await Task.WhenAll(a, b).WaitAsync(Bound);

        Assert.Equal(2, source.Reads);
        Assert.Equal(2, gated.Reads);
    }

    [Fact]
    public async Task A_failed_read_fails_those_sharing_it_and_the_next_call_reads_again()
    {
        var reads = new SharedReads<string, int>();
        var source = new Source();
        var first = reads.ReadAsync("s", source.ReadAsync);
        var failing = new Source();
        var shared = Enumerable.Range(0, 3).Select(_ => reads.ReadAsync("s", failing.ReadAsync)).ToList();
        failing.Gate.SetException(new InvalidOperationException("the database went away"));
        source.Gate.SetResult();

        await first.WaitAsync(Bound);
        foreach (var read in shared)
        {
            await Assert.ThrowsAsync<InvalidOperationException>(() => read.WaitAsync(Bound));
        }
        var healthy = new Source();
        healthy.Gate.SetResult();
        Assert.Equal(0, await reads.ReadAsync("s", healthy.ReadAsync).WaitAsync(Bound));
    }

    [Fact]
    public async Task A_caller_that_gives_up_does_not_stop_the_others()
    {
        var reads = new SharedReads<string, int>();
        var source = new Source();
        var first = reads.ReadAsync("s", source.ReadAsync);
        using var impatient = new CancellationTokenSource();
        var givesUp = reads.ReadAsync("s", source.ReadAsync, impatient.Token);
        var waits = reads.ReadAsync("s", source.ReadAsync);

        await impatient.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => givesUp.WaitAsync(Bound));
        source.Gate.SetResult();

        await first.WaitAsync(Bound);
        Assert.Equal(0, await waits.WaitAsync(Bound));
    }
    [Fact]
    public async Task Callers_answering_a_hint_heard_before_the_running_read_began_share_that_read()
    {
        var reads = new SharedReads<string, int>();
        var source = new Source();
        source.Change(); // committed, then the hint heard: every tab below answers it
        var heardAt = Stopwatch.GetTimestamp();
        var first = reads.ReadAsync("s", source.ReadAsync, heardAt);
        var others = Enumerable.Range(0, 50).Select(_ => reads.ReadAsync("s", source.ReadAsync, heardAt)).ToList();
        source.Gate.SetResult();

        Assert.Equal(1, await first.WaitAsync(Bound));
        foreach (var read in others)
        {
            Assert.Equal(1, await read.WaitAsync(Bound));
        }
        Assert.Equal(1, source.Reads);
    }

    [Fact]
    public async Task A_caller_answering_a_hint_heard_after_the_running_read_began_waits_for_the_next_read()
    {
        var reads = new SharedReads<string, int>();
        var source = new Source();
        var first = reads.ReadAsync("s", source.ReadAsync, Stopwatch.GetTimestamp());
        Assert.Equal(1, source.Reads);

        source.Change(); // committed while the first read runs (which may not see it), then heard
        var heardAt = Stopwatch.GetTimestamp();
        var late = reads.ReadAsync("s", source.ReadAsync, heardAt);
        var joinsFirst = reads.ReadAsync("s", source.ReadAsync, heardAt - Stopwatch.Frequency);
        source.Gate.SetResult();

        Assert.Equal(0, await first.WaitAsync(Bound));
        Assert.Equal(0, await joinsFirst.WaitAsync(Bound));
        Assert.Equal(1, await late.WaitAsync(Bound));
        Assert.Equal(2, source.Reads);
    }

    [Fact]
    public async Task Callers_that_joined_a_read_whose_caller_gave_up_get_a_read_of_their_own()
    {
        var reads = new SharedReads<string, int>();
        var source = new Source();
        var heardAt = Stopwatch.GetTimestamp();
        using var impatient = new CancellationTokenSource();
        var givesUp = reads.ReadAsync("s", source.ReadAsync, heardAt, impatient.Token);
        var joined = Enumerable.Range(0, 3).Select(_ => reads.ReadAsync("s", source.ReadAsync, heardAt)).ToList();

        source.Change(); // the read they joined started before this; the one they get instead starts after
        await impatient.CancelAsync(); // cancels the read itself: it ran on the first caller's token
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => givesUp.WaitAsync(Bound));
        source.Gate.SetResult();

        foreach (var read in joined)
        {
            Assert.Equal(1, await read.WaitAsync(Bound));
        }
        Assert.Equal(2, source.Reads);
    }

    [Fact]
    public async Task A_read_that_just_ended_serves_callers_answering_a_hint_heard_before_it_began()
    {
        // SQLite reads run to their end on the caller's thread: the tabs answering one hint come one after another.
        var reads = new SharedReads<string, int>();
        var source = new Source();
        source.Gate.SetResult();
        source.Change();
        var heardAt = Stopwatch.GetTimestamp();

        Assert.Equal(1, await reads.ReadAsync("s", source.ReadAsync, heardAt).WaitAsync(Bound));
        var later = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => reads.ReadAsync("s", source.ReadAsync, heardAt)));

        Assert.All(later, seen => Assert.Equal(1, seen));
        Assert.Equal(1, source.Reads);
    }

    [Fact]
    public async Task A_read_that_ended_does_not_serve_a_hint_heard_after_it_began_nor_a_plain_call()
    {
        var reads = new SharedReads<string, int>();
        var source = new Source();
        source.Gate.SetResult();
        Assert.Equal(0, await reads.ReadAsync("s", source.ReadAsync, Stopwatch.GetTimestamp()).WaitAsync(Bound));

        source.Change(); // committed after that read began; its hint is heard now
        var heardAt = Stopwatch.GetTimestamp();
        Assert.Equal(1, await reads.ReadAsync("s", source.ReadAsync, heardAt).WaitAsync(Bound));
        source.Change(); // a caller that may just have written reads for itself
        Assert.Equal(2, await reads.ReadAsync("s", source.ReadAsync).WaitAsync(Bound));
        Assert.Equal(3, source.Reads);
    }
}
