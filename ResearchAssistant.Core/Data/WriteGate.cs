using System.Collections.Concurrent;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace ResearchAssistant.Core.Data;

/// <summary>
/// Write transactions. SQLite has one writer at a time, and Microsoft.Data.Sqlite waits for a busy database by
/// sleeping the calling thread and polling every 150 ms: with many concurrent writers that is unfair (a writer can
/// lose every poll until its 30 s timeout) and blocks thread-pool threads (starving everything else in the process).
/// So on SQLite a process queues its writers here first, asynchronously and in order, one per database file.
/// PostgreSQL needs no gate: its row locks queue writers in the server.
/// </summary>
internal static class WriteGate
{
    private static readonly ConcurrentDictionary<string, SemaphoreSlim> Gates = new(StringComparer.Ordinal);

    /// <summary>Begins a transaction that writes; on SQLite, after this process's earlier writers are done.</summary>
    public static async Task<IDbContextTransaction> BeginWriteTransactionAsync(this AppDbContext db, CancellationToken ct)
    {
        if (GateOf(db) is not { } gate)
        {
            return await db.Database.BeginTransactionAsync(ct);
        }
        await gate.WaitAsync(ct);
        try
        {
            return new GatedTransaction(await db.Database.BeginTransactionAsync(ct), gate);
        }
        catch
        {
            gate.Release();
            throw;
        }
    }

    /// <summary>For a single write statement outside a transaction: held until disposed.</summary>
    public static async Task<IDisposable> EnterAsync(this AppDbContext db, CancellationToken ct)
    {
        if (GateOf(db) is not { } gate)
        {
            return NothingHeld.Instance;
        }
        await gate.WaitAsync(ct);
        return new Held(gate);
    }

    private static SemaphoreSlim? GateOf(AppDbContext db)
    {
        if (!db.Database.IsSqlite())
        {
            return null;
        }
        var file = new SqliteConnectionStringBuilder(db.Database.GetConnectionString()).DataSource;
        var key = file is "" or ":memory:" || file.StartsWith("file:", StringComparison.OrdinalIgnoreCase) ? file : Path.GetFullPath(file);
        return Gates.GetOrAdd(key, _ => new SemaphoreSlim(1, 1));
    }

    private sealed class NothingHeld : IDisposable
    {
        public static readonly NothingHeld Instance = new();

        public void Dispose()
        {
        }
    }

    private sealed class Held(SemaphoreSlim gate) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                gate.Release();
            }
        }
    }

    /// <summary>The transaction, releasing the gate when it is disposed (committed or not).</summary>
    private sealed class GatedTransaction(IDbContextTransaction inner, SemaphoreSlim gate) : IDbContextTransaction
    {
        private readonly Held _held = new(gate);

        public Guid TransactionId => inner.TransactionId;

        public void Commit() => inner.Commit();

        public Task CommitAsync(CancellationToken cancellationToken = default) => inner.CommitAsync(cancellationToken);

        public void Rollback() => inner.Rollback();

        public Task RollbackAsync(CancellationToken cancellationToken = default) => inner.RollbackAsync(cancellationToken);

        public void Dispose()
        {
            try
            {
                inner.Dispose();
            }
            finally
            {
                _held.Dispose();
            }
        }

        public async ValueTask DisposeAsync()
        {
            try
            {
                await inner.DisposeAsync();
            }
            finally
            {
                _held.Dispose();
            }
        }
    }
}
