using System.Data;
using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace ResearchAssistant.Core.Data;

/// <summary>
/// Read-only transactions in which every statement sees the same snapshot of the database, so that a read made of
/// several statements (a session row, then its events) never straddles a writer's commit.
/// </summary>
internal static class SnapshotRead
{
    /// <summary>
    /// Begins a transaction whose statements all see the database as of its first one; disposing it ends it (rolled
    /// back: it wrote nothing). PostgreSQL: REPEATABLE READ (a read-only transaction there never fails to serialize).
    /// SQLite: a deferred BEGIN, which takes no lock until it reads and then keeps its WAL snapshot; never BEGIN
    /// IMMEDIATE (Microsoft.Data.Sqlite's default), which would queue the read behind every writer.
    /// </summary>
    public static async Task<IAsyncDisposable> BeginSnapshotReadAsync(this AppDbContext db, CancellationToken ct)
    {
        if (!db.Database.IsSqlite())
        {
            return await db.Database.BeginTransactionAsync(IsolationLevel.RepeatableRead, ct);
        }
        await db.Database.OpenConnectionAsync(ct);
        var transaction = ((SqliteConnection)db.Database.GetDbConnection()).BeginTransaction(deferred: true);
        // EF Core does not own a transaction it was handed: this ends both.
        return new OwnedTransaction(await db.Database.UseTransactionAsync(transaction, ct), transaction);
    }

    private sealed class OwnedTransaction(IDbContextTransaction? used, DbTransaction transaction) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            if (used is not null)
            {
                await used.DisposeAsync();
            }
            await transaction.DisposeAsync();
        }
    }
}
