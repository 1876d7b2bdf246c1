using System.Data;
using System.Data.Common;
using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using ResearchAssistant.Core.Data;

namespace ResearchAssistant.Core.Search;

/// <summary>
/// Search's hot reads, run as plain ADO.NET commands on the context's connection. Through EF's SqlQuery every distinct
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

    public static async Task<List<T>> QueryAsync<T>(AppDbContext db, string sql, IReadOnlyList<object> args, Func<DbDataReader, T> map, CancellationToken ct)
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
            var rows = new List<T>();
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                rows.Add(map(reader));
            }
            return rows;
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
