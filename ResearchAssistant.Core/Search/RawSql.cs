using System.Data;
using System.Data.Common;
using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using ResearchAssistant.Core.Data;

namespace ResearchAssistant.Core.Search;

/// <summary>
/// Search's hot statements, run as plain ADO.NET commands on the context's connection. Through EF's SqlQuery every distinct
/// SQL text is compiled and cached as a query of its own, and these texts vary with the query's terms: each search paid
/// milliseconds of compilation and the cache filled with one-off entries. Parameters are named @p0, @p1, ...
/// </summary>
internal static class RawSql
{
    /// <summary>Adds a parameter value and returns its placeholder.</summary>
    public static string Arg(List<object> args, object value)
    {
        args.Add(value);
        return "@p" + (args.Count - 1).ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// A Guid as the provider stores it, for comparing with a mapped column: EF keeps Guids as upper-case text on SQLite
    /// (Microsoft.Data.Sqlite would bind a raw Guid as a blob, which equals nothing) and as uuid on PostgreSQL.
    /// </summary>
    public static object Guid(AppDbContext db, Guid value) =>
        db.Database.IsSqlite() ? value.ToString().ToUpperInvariant() : value;

    /// <param name="prepare">As for <see cref="ScalarAsync{T}"/>.</param>
    public static Task<List<T>> QueryAsync<T>(AppDbContext db, string sql, IReadOnlyList<object> args, Func<DbDataReader, T> map, CancellationToken ct, bool prepare = false) =>
        RunAsync(db, sql, args, prepare, async command =>
        {
            var rows = new List<T>();
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                rows.Add(map(reader));
            }
            return rows;
        }, ct);

    /// <param name="prepare">As for <see cref="ScalarAsync{T}"/>.</param>
    public static Task<int> ExecuteAsync(AppDbContext db, string sql, IReadOnlyList<object> args, CancellationToken ct, bool prepare = false) =>
        RunAsync(db, sql, args, prepare, command => command.ExecuteNonQueryAsync(ct), ct);

    /// <summary>
    /// Runs one statement once per row of arguments, prepared once. For SQLite, where an execution is a call into the
    /// library rather than a round trip: binding and stepping a prepared statement per row costs about half as much
    /// as parsing one long multi-row statement.
    /// </summary>
    public static Task ExecuteEachAsync(AppDbContext db, string sql, IReadOnlyList<object[]> rows, CancellationToken ct) =>
        rows.Count == 0 ? Task.CompletedTask : RunAsync(db, sql, rows[0], prepare: true, async command =>
        {
            foreach (var row in rows)
            {
                for (var i = 0; i < row.Length; i++)
                {
                    command.Parameters[i].Value = row[i];
                }
                await command.ExecuteNonQueryAsync(ct);
            }
            return 0;
        }, ct);

    /// <param name="prepare">
    /// Prepare the statement on the server (PostgreSQL), for a constant text run very often: Npgsql keeps it prepared on
    /// the pooled physical connection, so only the first use on each connection pays the extra round trip.
    /// </param>
    public static Task<T> ScalarAsync<T>(AppDbContext db, string sql, IReadOnlyList<object> args, CancellationToken ct, bool prepare = false) =>
        RunAsync(db, sql, args, prepare, async command => (T)(await command.ExecuteScalarAsync(ct))!, ct);

    /// <summary>Runs a command on the context's connection, inside its transaction if it has one; prepared first if asked.</summary>
    private static async Task<T> RunAsync<T>(AppDbContext db, string sql, IReadOnlyList<object> args, bool prepare, Func<DbCommand, Task<T>> run, CancellationToken ct)
    {
        var connection = db.Database.GetDbConnection();
        var opened = connection.State != ConnectionState.Open;
        if (opened)
        {
            await db.Database.OpenConnectionAsync(ct);
        }
        try
        {
            await using var command = connection.CreateCommand();
            command.CommandText = sql;
            command.Transaction = db.Database.CurrentTransaction?.GetDbTransaction();
            for (var i = 0; i < args.Count; i++)
            {
                var parameter = command.CreateParameter();
                parameter.ParameterName = "@p" + i.ToString(CultureInfo.InvariantCulture);
                parameter.Value = args[i];
                command.Parameters.Add(parameter);
            }
            if (prepare)
            {
                await command.PrepareAsync(ct);
            }
            return await run(command);
        }
        finally
        {
            if (opened)
            {
                await db.Database.CloseConnectionAsync();
            }
        }
    }
}
