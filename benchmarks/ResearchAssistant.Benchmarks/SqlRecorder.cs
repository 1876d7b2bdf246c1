using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace ResearchAssistant.Benchmarks;

/// <summary>
/// One SQL command EF Core ran: its text, how it was executed, how long it took including reading its rows, and the
/// rows it returned (-1 when unknown; 0 for commands that return none).
/// </summary>
internal sealed record SqlStatement(string Text, DbCommandMethod Method, TimeSpan Duration, int RowsRead)
{
    /// <summary>A SQL command; otherwise a connection open or a transaction begin/commit, timed but not counted as a command.</summary>
    public bool IsCommand { get; init; } = true;

    /// <summary>Copies of the command's parameters, kept only while <see cref="SqlRecorder.CaptureParameters"/> is on.</summary>
    public IReadOnlyList<System.Data.Common.DbParameter>? Parameters { get; init; }
}

/// <summary>
/// Counts and times every SQL command EF Core executes in this process, by listening to EF's DiagnosticSource events
/// (the same events its logging uses). Nothing in the app's context factory changes: the real options, the real
/// provider. The driver runs one operation at a time, so the delta of <see cref="Executed"/> around an operation is
/// exactly that operation's commands.
/// </summary>
internal sealed class SqlRecorder : IObserver<DiagnosticListener>, IObserver<KeyValuePair<string, object?>>, IDisposable
{
    private static readonly string Executed_ = RelationalEventId.CommandExecuted.Name!;
    private static readonly string Error = RelationalEventId.CommandError.Name!;
    private static readonly string ReaderDisposing = RelationalEventId.DataReaderDisposing.Name!;
    private static readonly string ConnectionOpened = RelationalEventId.ConnectionOpened.Name!;
    private static readonly string TransactionStarted = RelationalEventId.TransactionStarted.Name!;
    private static readonly string TransactionCommitted = RelationalEventId.TransactionCommitted.Name!;

    private readonly IDisposable _allListeners;
    private readonly List<IDisposable> _subscriptions = [];
    private readonly Lock _lock = new();
    private int _executed;
    private int _failed;
    private List<SqlStatement> _statements = [];
    private (string Text, DbCommandMethod Method, TimeSpan Duration, IReadOnlyList<System.Data.Common.DbParameter>? Parameters)? _openReader;

    public SqlRecorder() => _allListeners = DiagnosticListener.AllListeners.Subscribe(this);

    /// <summary>Keep copies of each command's parameters (to EXPLAIN it afterwards with the same values).</summary>
    public bool CaptureParameters { get; set; }

    /// <summary>Commands executed so far (successful ones).</summary>
    public int Executed => Volatile.Read(ref _executed);

    /// <summary>Commands that failed so far.</summary>
    public int Failed => Volatile.Read(ref _failed);

    /// <summary>The statements since the last call, in order, with their durations.</summary>
    public List<SqlStatement> TakeStatements()
    {
        lock (_lock)
        {
            FlushOpenReader();
            var taken = _statements;
            _statements = [];
            return taken;
        }
    }

    void IObserver<DiagnosticListener>.OnNext(DiagnosticListener listener)
    {
        if (listener.Name == DbLoggerCategory.Name)
        {
            lock (_lock)
            {
                _subscriptions.Add(listener.Subscribe(this, name => name == Executed_ || name == Error || name == ReaderDisposing
                    || name == ConnectionOpened || name == TransactionStarted || name == TransactionCommitted));
            }
        }
    }

    void IObserver<KeyValuePair<string, object?>>.OnNext(KeyValuePair<string, object?> e)
    {
        lock (_lock)
        {
            if (e.Key == Executed_ && e.Value is CommandExecutedEventData executed)
            {
                _executed++;
                FlushOpenReader();
                var text = executed.Command.CommandText;
                var parameters = CaptureParameters ? ParameterCopies.Of(executed.Command) : null;
                if (executed.ExecuteMethod == DbCommandMethod.ExecuteReader)
                {
                    // Rows are read after this event; the statement's full cost is known when the reader is disposed.
                    _openReader = (text, executed.ExecuteMethod, executed.Duration, parameters);
                }
                else
                {
                    _statements.Add(new SqlStatement(text, executed.ExecuteMethod, executed.Duration, 0) { Parameters = parameters });
                }
            }
            else if (e.Key == ReaderDisposing && e.Value is DataReaderDisposingEventData disposing && _openReader is { } open)
            {
                // EF times the execution (CommandExecuted) and the reading (from the reader's creation to its disposal)
                // separately. ReadCount counts Read() calls, including the last one that found no row.
                _statements.Add(new SqlStatement(open.Text, open.Method, open.Duration + disposing.Duration, Math.Max(0, disposing.ReadCount - 1)) { Parameters = open.Parameters });
                _openReader = null;
            }
            else if (e.Key == ConnectionOpened && e.Value is ConnectionEndEventData opened)
            {
                FlushOpenReader();
                _statements.Add(new SqlStatement("(open connection)", default, opened.Duration, -1) { IsCommand = false });
            }
            else if ((e.Key == TransactionStarted || e.Key == TransactionCommitted) && e.Value is TransactionEndEventData transaction)
            {
                FlushOpenReader();
                _statements.Add(new SqlStatement(e.Key == TransactionStarted ? "(begin transaction)" : "(commit)", default, transaction.Duration, -1) { IsCommand = false });
            }
            else if (e.Key == Error)
            {
                _failed++;
            }
        }
    }

    private void FlushOpenReader()
    {
        if (_openReader is { } open)
        {
            _statements.Add(new SqlStatement(open.Text, open.Method, open.Duration, -1) { Parameters = open.Parameters });
            _openReader = null;
        }
    }

    void IObserver<DiagnosticListener>.OnCompleted() { }
    void IObserver<DiagnosticListener>.OnError(Exception error) { }
    void IObserver<KeyValuePair<string, object?>>.OnCompleted() { }
    void IObserver<KeyValuePair<string, object?>>.OnError(Exception error) { }

    public void Dispose()
    {
        _allListeners.Dispose();
        lock (_lock)
        {
            foreach (var subscription in _subscriptions)
            {
                subscription.Dispose();
            }
        }
    }
}
