using Npgsql;

namespace ResearchAssistant.Core.Chat;

/// <summary>
/// Who may write a session's answers right now. In one process the turn runner's per-session worker is enough;
/// several instances sharing PostgreSQL also need the database to say which of them holds the turn.
/// </summary>
public interface ISessionTurnLock
{
    /// <summary>The turn, held until disposed; null when another instance holds it.</summary>
    Task<ISessionTurn?> TryAcquireAsync(Guid sessionId, CancellationToken ct);
}

/// <summary>A session's turn, held by this instance until disposed.</summary>
public interface ISessionTurn : IAsyncDisposable
{
    /// <summary>
    /// Whether this instance still holds the turn. A turn held by a database connection is lost with the connection
    /// (a database restart, a killed backend); it is taken again if nobody else took it meanwhile. False means another
    /// instance holds it now: stop writing. Throws while the database cannot be reached.
    /// </summary>
    Task<bool> ConfirmAsync(CancellationToken ct);
}

/// <summary>SQLite is embedded: one process, whose worker per session already serializes turns.</summary>
internal sealed class InProcessTurnLock : ISessionTurnLock
{
    private static readonly ISessionTurn Held = new AlwaysHeld();

    public Task<ISessionTurn?> TryAcquireAsync(Guid sessionId, CancellationToken ct) => Task.FromResult<ISessionTurn?>(Held);

    private sealed class AlwaysHeld : ISessionTurn
    {
        public Task<bool> ConfirmAsync(CancellationToken ct) => Task.FromResult(true);

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}

/// <summary>
/// A PostgreSQL session-level advisory lock per chat session, held on its own connection for as long as the turn
/// runs. If the instance dies, its connection closes and PostgreSQL releases the lock by itself.
/// </summary>
internal sealed class PostgresTurnLock(NpgsqlDataSource dataSource) : ISessionTurnLock
{
    public async Task<ISessionTurn?> TryAcquireAsync(Guid sessionId, CancellationToken ct)
    {
        var key = KeyOf(sessionId);
        var connection = await TryLockAsync(dataSource, key, ct);
        return connection is null ? null : new Held(dataSource, connection, key);
    }

    /// <summary>A connection holding the lock, or null when another session of PostgreSQL holds it.</summary>
    private static async Task<NpgsqlConnection?> TryLockAsync(NpgsqlDataSource dataSource, long key, CancellationToken ct)
    {
        var connection = await dataSource.OpenConnectionAsync(ct);
        try
        {
            await using var command = new NpgsqlCommand("SELECT pg_try_advisory_lock($1)", connection);
            command.Parameters.Add(new NpgsqlParameter { Value = key });
            if (await command.ExecuteScalarAsync(ct) is true)
            {
                return connection;
            }
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
        await connection.DisposeAsync();
        return null;
    }

    /// <summary>64 bits of the session id: collisions only make two sessions take turns, never mix them.</summary>
    private static long KeyOf(Guid sessionId) => BitConverter.ToInt64(sessionId.ToByteArray(), 0);

    private sealed class Held(NpgsqlDataSource dataSource, NpgsqlConnection connection, long key) : ISessionTurn
    {
        private NpgsqlConnection? _connection = connection;

        public async Task<bool> ConfirmAsync(CancellationToken ct)
        {
            if (_connection is { } current)
            {
                try
                {
                    // The session lives, so its lock does.
                    await using var ping = new NpgsqlCommand("SELECT 1", current) { CommandTimeout = 5 };
                    await ping.ExecuteScalarAsync(ct);
                    return true;
                }
                catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException)
                {
                    // The connection is gone, and the lock with it.
                    _connection = null;
                    await current.DisposeAsync();
                }
            }
            _connection = await TryLockAsync(dataSource, key, ct);
            return _connection is not null;
        }

        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _connection, null) is not { } current)
            {
                return;
            }
            try
            {
                await using var command = new NpgsqlCommand("SELECT pg_advisory_unlock($1)", current);
                command.Parameters.Add(new NpgsqlParameter { Value = key });
                await command.ExecuteScalarAsync();
            }
            catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException)
            {
                // A broken connection has already released the lock with its session.
            }
            finally
            {
                // Pooled: the connection goes back with its session reset before reuse.
                await current.DisposeAsync();
            }
        }
    }
}
