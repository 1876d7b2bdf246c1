using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using ResearchAssistant.Core.Data;
using ResearchAssistant.Core.Privacy;

namespace ResearchAssistant.Core.Sync;

/// <summary>
/// Joins the <see cref="SessionBus"/> of every app instance sharing one PostgreSQL database through LISTEN/NOTIFY.
/// What is published here is also sent to the others (<see cref="NotifySender"/>); what they send is published here,
/// to the owner's circuits only; an instance ignores its own notifications. A notification is a hint: receivers
/// read the database, so a lost one costs latency, never data. Losses happen only while a connection is down, so
/// after every reconnect of the listener every local subscriber is told to re-read (<see cref="SessionChangeKind.Resync"/>),
/// and a sender that failed begins its next send with a resync notice for the others.
/// </summary>
public sealed class PostgresSessionBridge : IHostedService, IAsyncDisposable
{
    public const string Channel = "ra_session_sync";

    /// <summary>How long the listener waits in silence before checking that its connection still works.</summary>
    private static readonly TimeSpan IdleCheck = TimeSpan.FromSeconds(10);
    /// <summary>Start-up waits this long for the first LISTEN, so an instance that answers requests also hears the others.</summary>
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(10);

    private readonly SessionBus _bus;
    private readonly ILogger<PostgresSessionBridge> _logger;
    private readonly string _listenConnectionString;
    private readonly string _connectionString;
    private readonly NpgsqlDataSource _dataSource;
    private readonly NotifySender _sender;
    private readonly RemoteStreams _streams;
    private readonly Channel<object> _inbound = System.Threading.Channels.Channel.CreateUnbounded<object>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _listeningLock = new();
    private TaskCompletionSource _listeningSignal = NewSignal();
    private Task _sending = Task.CompletedTask;
    private Task _listening = Task.CompletedTask;
    private int _stopped;
    private volatile int _listenerProcessId;
    private long _reconnects;

    public PostgresSessionBridge(
        SessionBus bus,
        DatabaseSettings database,
        NpgsqlDataSource dataSource,
        ContentProtector protector,
        IDbContextFactory<AppDbContext> contexts,
        ILogger<PostgresSessionBridge> logger)
    {
        _bus = bus;
        _logger = logger;
        _connectionString = database.ConnectionString;
        _dataSource = dataSource;
        // Its own unpooled connection: a broken listener must be thrown away, never handed back to a pool. (Without
        // a pool there is no multiplexing either, which LISTEN could not use anyway.)
        _listenConnectionString = new NpgsqlConnectionStringBuilder(database.ConnectionString)
        {
            Pooling = false,
            Multiplexing = false,
            ApplicationName = "ResearchAssistant sync listener",
        }.ConnectionString;
        _sender = new NotifySender(dataSource, protector, InstanceId, logger);
        _streams = new RemoteStreams(bus, protector, contexts, _inbound.Writer, logger);
    }

    /// <summary>This instance, as named in its notifications.</summary>
    public Guid InstanceId { get; } = Guid.NewGuid();

    /// <summary>The backend process id of the listening connection while it is up (what <c>pg_terminate_backend</c> takes).</summary>
    public int? ListenerProcessId => _listenerProcessId is var pid and > 0 ? pid : null;

    /// <summary>How many times the listener had to connect again after losing its connection.</summary>
    public long Reconnects => Interlocked.Read(ref _reconnects);

    /// <summary>Completes once the listener is listening (at once when it is, or when it is back after a reconnect).</summary>
    public Task WhenListeningAsync(CancellationToken ct = default)
    {
        lock (_listeningLock)
        {
            return _listeningSignal.Task.WaitAsync(ct);
        }
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _bus.ConnectBridge(_sender.Enqueue);
        var ct = _stopping.Token;
        _sending = Task.Run(() => SendAsync(ct), CancellationToken.None);
        _listening = Task.WhenAll(
            Task.Run(() => ListenAsync(ct), CancellationToken.None),
            Task.Run(() => ReceiveAsync(ct), CancellationToken.None));
        try
        {
            await WhenListeningAsync(cancellationToken).WaitAsync(StartTimeout, cancellationToken);
        }
        catch (TimeoutException)
        {
            // Keeps trying in the background; until then this instance only hears itself.
            _logger.LogWarning("The session sync listener is not connected yet; live updates from other instances start once it is");
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _bus.ConnectBridge(null);
        if (Interlocked.Exchange(ref _stopped, 1) == 1)
        {
            return;
        }
        // The seals of answers cut off by this shutdown are the last things the others should hear from here: the
        // sender finishes what is queued (for a second at most) before the loops are cancelled.
        _sender.Complete();
        await Quietly(_sending.WaitAsync(TimeSpan.FromSeconds(1), CancellationToken.None));
        await _stopping.CancelAsync();
        _inbound.Writer.TryComplete();
        await Quietly(Task.WhenAll(_sending, _listening).WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None));
    }

    /// <summary>Awaits a shutdown step whose failure or timeout there is nothing left to do about.</summary>
    private static async Task Quietly(Task step)
    {
        try
        {
            await step;
        }
        catch (Exception)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None);
        _stopping.Dispose();
    }

    private async Task ListenAsync(CancellationToken ct)
    {
        var backoff = new Backoff();
        var connectedBefore = false;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(_listenConnectionString);
                connection.Notification += (_, e) => _inbound.Writer.TryWrite(e.Payload);
                await connection.OpenAsync(ct);
                await using (var listen = new NpgsqlCommand($"LISTEN {Channel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(ct);
                }
                _listenerProcessId = connection.ProcessID;
                if (connectedBefore)
                {
                    Interlocked.Increment(ref _reconnects);
                    ClearPools();
                    // Listening again, so whatever commits from now on is heard; what committed while deaf is read
                    // by the subscribers now. Queued behind notifications already received, so the order holds.
                    _inbound.Writer.TryWrite(ResyncMarker.Instance);
                    _logger.LogInformation("The session sync listener is connected again");
                }
                connectedBefore = true;
                backoff.Reset();
                SetListening(true);
                while (!ct.IsCancellationRequested)
                {
                    if (!await connection.WaitAsync(IdleCheck, ct))
                    {
                        // Silence can also be a dead link that nothing reported: ask the server.
                        await using var ping = new NpgsqlCommand("SELECT 1", connection) { CommandTimeout = 5 };
                        await ping.ExecuteScalarAsync(ct);
                    }
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                if (ListenerProcessId is not null)
                {
                    _logger.LogWarning(ex, "The session sync listener lost its connection; reconnecting");
                    ClearPools();
                }
                _listenerProcessId = 0;
                SetListening(false);
                try
                {
                    await Task.Delay(backoff.Next(), ct);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
        _listenerProcessId = 0;
    }

    private async Task ReceiveAsync(CancellationToken ct)
    {
        try
        {
            await foreach (var item in _inbound.Reader.ReadAllAsync(ct))
            {
                try
                {
                    await HandleAsync(item, ct);
                }
                catch (OperationCanceledException) when (ct.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception ex)
                {
                    // One bad notification must not stop the others from being heard.
                    _logger.LogWarning(ex, "Handling a session sync notification failed");
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    private async Task HandleAsync(object item, CancellationToken ct)
    {
        switch (item)
        {
            case string payload:
                if (SyncNotice.Parse(payload) is not { } notice || notice.Instance == InstanceId)
                {
                    return;
                }
                switch (notice.Kind)
                {
                    case SyncNotice.ChangedKind or SyncNotice.DeletedKind or SyncNotice.PresenceKind:
                        // Routed by owner: only that user's circuits hear it, and they re-read with their own identity.
                        _bus.PublishLocal(new SessionChange(notice.Owner!, notice.Session!.Value, notice.Kind switch
                        {
                            SyncNotice.DeletedKind => SessionChangeKind.Deleted,
                            SyncNotice.PresenceKind => SessionChangeKind.Presence,
                            _ => SessionChangeKind.Changed,
                        }, notice.Message, Parts: notice.PartsTouched));
                        break;
                    case SyncNotice.DeltaKind:
                        await _streams.ApplyDeltaAsync(notice, ct);
                        break;
                    case SyncNotice.ResyncKind:
                        Resync();
                        break;
                }
                break;
            case RemoteStreams.Fetched fetched:
                _streams.ApplyFetched(fetched, ct);
                break;
            case ResyncMarker:
                Resync();
                break;
        }
    }

    /// <summary>
    /// The listener's connection dropping usually means the others did too (a server restart): idle pooled connections
    /// would each fail one request before the pool noticed. Dropping them now (and again once the server answers, for
    /// any opened in between) spares the circuits those errors; connections in use are closed when returned.
    /// </summary>
    private void ClearPools()
    {
        NpgsqlConnection.ClearPool(new NpgsqlConnection(_connectionString));
        _dataSource.Clear();
    }

    private void Resync()
    {
        _streams.Clear();
        _bus.ResyncLocal();
    }

    private async Task SendAsync(CancellationToken ct)
    {
        try
        {
            await _sender.RunAsync(ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    private void SetListening(bool listening)
    {
        lock (_listeningLock)
        {
            if (listening)
            {
                _listeningSignal.TrySetResult();
            }
            else if (_listeningSignal.Task.IsCompleted)
            {
                _listeningSignal = NewSignal();
            }
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private sealed class ResyncMarker
    {
        public static readonly ResyncMarker Instance = new();
    }
}
