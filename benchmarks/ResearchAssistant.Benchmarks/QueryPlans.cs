using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using ResearchAssistant.Core.Data;

namespace ResearchAssistant.Benchmarks;

/// <summary>Detached copies of a command's parameters, typed as the provider bound them.</summary>
internal static class ParameterCopies
{
    public static IReadOnlyList<DbParameter> Of(DbCommand command)
    {
        var copies = new List<DbParameter>(command.Parameters.Count);
        foreach (DbParameter p in command.Parameters)
        {
            copies.Add(p switch
            {
                NpgsqlParameter npgsql => npgsql.Clone(),
                SqliteParameter sqlite => new SqliteParameter(sqlite.ParameterName, sqlite.SqliteType) { Value = sqlite.Value, Size = sqlite.Size },
                _ => throw new NotSupportedException(p.GetType().Name),
            });
        }
        return copies;
    }
}

/// <summary>
/// The planner's choice for a statement the app ran, with the parameter values it ran with. Only single statements
/// are explained: "EXPLAIN a; b" would explain a and execute b (EF batches several INSERTs into one command). As a
/// second guard, everything runs in a transaction that is rolled back.
/// </summary>
internal static class QueryPlans
{
    public static async Task<string> ExplainAsync(IDbContextFactory<AppDbContext> contexts, SqlStatement statement, CancellationToken ct)
    {
        var text = statement.Text.Trim().TrimEnd(';');
        if (text.Contains(';', StringComparison.Ordinal))
        {
            return "(several statements in one command: not explained)";
        }
        await using var db = await contexts.CreateDbContextAsync(ct);
        var sqlite = db.Database.IsSqlite();
        var connection = db.Database.GetDbConnection();
        await connection.OpenAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = (sqlite ? "EXPLAIN QUERY PLAN " : "EXPLAIN ") + text;
        foreach (var parameter in statement.Parameters ?? [])
        {
            command.Parameters.Add(parameter is NpgsqlParameter npgsql ? npgsql.Clone() : parameter);
        }
        var lines = new List<string>();
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                // SQLite: id, parent, notused, detail. PostgreSQL: one text column per plan line.
                lines.Add(sqlite ? reader.GetString(3) : reader.GetString(0));
            }
        }
        await transaction.RollbackAsync(ct);
        if (sqlite)
        {
            // Parameters cannot be shared between commands.
            command.Parameters.Clear();
        }
        return string.Join("\n", lines);
    }
}
