using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using ResearchAssistant.Core.Llm;

namespace ResearchAssistant.SyncBenchmarks;

/// <summary>One round's answer: when each piece of text arrived at the model client, and how long the text was then.</summary>
internal sealed class StreamProbe(string question)
{
    private readonly Lock _lock = new();
    private readonly List<(long At, int Length)> _tokens = [];
    private int _length;
    private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string Question { get; } = question;
    public Task Ended => _ended.Task;

    public void Arrived(int deltaLength)
    {
        lock (_lock)
        {
            _length += deltaLength;
            _tokens.Add((Stopwatch.GetTimestamp(), _length));
        }
    }

    public void End() => _ended.TrySetResult();

    public List<(long At, int Length)> Tokens
    {
        get
        {
            lock (_lock)
            {
                return [.. _tokens];
            }
        }
    }
}

/// <summary>
/// The app's model client (the OpenAI SDK against the fake server) with a clock on it: each text delta is stamped as
/// the client hands it to the TurnRunner, which is "the token's arrival at the model client". Answers to a question
/// a round registered are recorded in that round's <see cref="StreamProbe"/>; others pass through untouched.
/// </summary>
internal sealed class StampedModel(IChatModel inner) : IChatModel
{
    private readonly ConcurrentDictionary<string, StreamProbe> _probes = new(StringComparer.Ordinal);

    public string Name => inner.Name;

    public StreamProbe Watch(string question) => _probes[question] = new StreamProbe(question);

    public void Forget(StreamProbe probe) => _probes.TryRemove(probe.Question, out _);

    public async IAsyncEnumerable<ModelUpdate> StreamAsync(ModelPrompt prompt, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var probe = prompt.LastUserMessage is { } question && _probes.TryGetValue(question.Text, out var found) ? found : null;
        try
        {
            await foreach (var update in inner.StreamAsync(prompt, cancellationToken).WithCancellation(cancellationToken))
            {
                if (probe is not null && update.Delta is { Length: > 0 } delta)
                {
                    probe.Arrived(delta.Length);
                }
                yield return update;
            }
        }
        finally
        {
            probe?.End();
        }
    }
}

/// <summary>When a send's transaction committed.</summary>
internal sealed class CommitProbe
{
    private long _committed;

    public long Committed => Interlocked.Read(ref _committed);

    /// <summary>Keeps the first commit only: the send's own. (Work it starts, such as the answer turn, inherits the probe.)</summary>
    public void Stamp(long at) => Interlocked.CompareExchange(ref _committed, at, 0);
}

/// <summary>
/// Stamps the commit of a send: EF Core's TransactionCommitted event (DiagnosticSource, raised right after the
/// database confirmed the commit, on the committing flow), for the flow that <see cref="Watch"/> marked. Nothing in the
/// app's context factory changes.
/// </summary>
internal sealed class CommitClock : IObserver<DiagnosticListener>, IObserver<KeyValuePair<string, object?>>, IDisposable
{
    private static readonly AsyncLocal<CommitProbe?> Current = new();
    private static readonly string Committed = RelationalEventId.TransactionCommitted.Name!;
    private static readonly string Executed = RelationalEventId.CommandExecuted.Name!;
    private static long _statements;

    private readonly IDisposable _all;
    private readonly List<IDisposable> _subscriptions = [];
    private readonly Lock _lock = new();

    public CommitClock() => _all = DiagnosticListener.AllListeners.Subscribe(this);

    /// <summary>Marks the calling flow (and what it starts): its next commit is stamped into <paramref name="probe"/>.</summary>
    public static void Watch(CommitProbe? probe) => Current.Value = probe;

    /// <summary>
    /// SQL statements EF Core has executed in this process so far (every instance, every flow): a count of the work a
    /// round costs the database that, unlike its timings, hardly depends on how loaded the machine is.
    /// </summary>
    public static long Statements => Interlocked.Read(ref _statements);

    void IObserver<DiagnosticListener>.OnNext(DiagnosticListener listener)
    {
        if (listener.Name == DbLoggerCategory.Name)
        {
            lock (_lock)
            {
                _subscriptions.Add(listener.Subscribe(this, name => name == Committed || name == Executed));
            }
        }
    }

    void IObserver<KeyValuePair<string, object?>>.OnNext(KeyValuePair<string, object?> e)
    {
        if (e.Key == Executed)
        {
            Interlocked.Increment(ref _statements);
        }
        else if (e.Key == Committed && Current.Value is { } probe)
        {
            probe.Stamp(Stopwatch.GetTimestamp());
        }
    }

    void IObserver<DiagnosticListener>.OnCompleted() { }
    void IObserver<DiagnosticListener>.OnError(Exception error) { }
    void IObserver<KeyValuePair<string, object?>>.OnCompleted() { }
    void IObserver<KeyValuePair<string, object?>>.OnError(Exception error) { }

    public void Dispose()
    {
        _all.Dispose();
        lock (_lock)
        {
            foreach (var subscription in _subscriptions)
            {
                subscription.Dispose();
            }
        }
    }
}
