using Microsoft.Data.Sqlite;

namespace ResearchAssistant.E2E.Infrastructure;

/// <summary>
/// Reads an app's SQLite file directly, the way an operator would after a crash: no app code involved. Message text is
/// encrypted at rest, so only the plain columns (status, kind) are meaningful here.
/// </summary>
public static class AppDatabase
{
    /// <summary>The app's default SQLite file in its data directory (DatabaseSettings.SqliteFileName in Core).</summary>
    public static string SqlitePath(AppProcess app) => Path.Combine(app.DataDirectory, "researchassistant.db");

    /// <summary>SessionEvents.Status values (Core's EventStatus).</summary>
    public const int Complete = 0, Streaming = 1, Stopped = 2, Interrupted = 3, Failed = 4, Queued = 5;

    /// <summary>How many SessionEvents rows have each status.</summary>
    public static async Task<IReadOnlyDictionary<int, int>> CountEventsByStatusAsync(AppProcess app)
    {
        var path = SqlitePath(app);
        if (!File.Exists(path)) throw new FileNotFoundException($"The app's database is not at {path}.");
        // No pooling: the connection (and its file handles) must be gone once this returns, the app may be restarted.
        var builder = new SqliteConnectionStringBuilder { DataSource = path, Pooling = false, DefaultTimeout = 30 };
        await using var connection = new SqliteConnection(builder.ToString());
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = """SELECT "Status", COUNT(*) FROM "SessionEvents" GROUP BY "Status" """;
        var counts = new Dictionary<int, int>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            counts[reader.GetInt32(0)] = reader.GetInt32(1);
        }
        return counts;
    }

    public static string Describe(IReadOnlyDictionary<int, int> counts) =>
        counts.Count == 0 ? "no events" : string.Join(", ", counts.OrderBy(c => c.Key).Select(c => $"status {c.Key}: {c.Value}"));
}
