namespace ResearchAssistant.E2E.Infrastructure;

/// <summary>PostgreSQL for app processes: the throwaway cluster ./test.sh starts and announces in RA_TEST_POSTGRES.</summary>
public static class E2ePostgres
{
    /// <summary>A connection string to a database no one else uses (the app's migrations create it).</summary>
    public static string NewDatabase()
    {
        var server = Environment.GetEnvironmentVariable("RA_TEST_POSTGRES");
        if (string.IsNullOrWhiteSpace(server))
        {
            throw new InvalidOperationException(
                "RA_TEST_POSTGRES is not set. Run ./test.sh (it starts a throwaway cluster), or point it at a server: " +
                "RA_TEST_POSTGRES=\"Host=127.0.0.1;Port=5432;Username=postgres\".");
        }
        return $"{server.TrimEnd(';')};Database=ra_e2e_{Guid.NewGuid():N}";
    }
}
