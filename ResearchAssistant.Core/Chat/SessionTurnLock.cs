using Npgsql;

namespace ResearchAssistant.Core.Chat;

/// <summary>
/// Who may write a session's answers right now. In one process the turn runner's per-session worker is enough;
/// several instances sharing PostgreSQL also need the database to say which of them holds the turn.
/// </summary>
public interface ISessionTurnLock
{
    /// <summary>The turn, held until disposed; null when another instance holds it.</summary>
    Task<IAsyncDisposable?> TryAcquireAsync(Guid sessionId, CancellationToken ct);
}

/// <summary>SQLite is embedded: one process, whose worker per session already serializes turns.</summary>
internal sealed class InProcessTurnLock : ISessionTurnLock
{
    private static readonly IAsyncDisposable Held = new NothingToRelease();

    public Task<IAsyncDisposable?> TryAcquireAsync(Guid sessionId, CancellationToken ct) => Task.FromResult<IAsyncDisposable?>(Held);

    private sealed class NothingToRelease : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}

/// <summary>
/// A PostgreSQL session-level advisory lock per chat session, held on its own connection for as long as the turn
/// runs. If the instance dies, its connection closes and PostgreSQL releases the lock by itself.
/// </summary>
internal sealed class PostgresTurnLock(NpgsqlDataSource dataSource) : ISessionTurnLock
{
    public async Task<IAsyncDisposable?> TryAcquireAsync(Guid sessionId, CancellationToken ct)
    {
        var connection = await dataSource.OpenConnectionAsync(ct);
        try
        {
            await using var command = new NpgsqlCommand("SELECT pg_try_advisory_lock($1)", connection);
            command.Parameters.Add(new NpgsqlParameter { Value = KeyOf(sessionId) });
            if (await command.ExecuteScalarAsync(ct) is true)
            {
                return new Held(connection, KeyOf(sessionId));
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

    private sealed class Held(NpgsqlConnection connection, long key) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            try
            {
                await using var command = new NpgsqlCommand("SELECT pg_advisory_unlock($1)", connection);
                command.Parameters.Add(new NpgsqlParameter { Value = key });
                await command.ExecuteScalarAsync();
            }
            finally
            {
                // Closing the connection releases the lock even if the unlock failed.
                await connection.DisposeAsync();
            }
        }
    }
}
