using Microsoft.Extensions.Configuration;
using Npgsql;
using ResearchAssistant.Core.Data;
using ResearchAssistant.Tests.Support;

namespace ResearchAssistant.Tests.Data;

/// <summary>
/// The app's PostgreSQL sessions run without parallel query and prepare the statements they repeat, unless the operator's
/// connection string says otherwise.
/// </summary>
public sealed class PostgresSessionSettingsTests
{
    [Fact]
    public async Task Sessions_opened_with_the_configured_connection_string_run_without_parallel_workers()
    {
        var server = await PostgresServer.GetAsync();
        var settings = FromConfiguration(server.AdminConnectionString);

        Assert.Equal("0", await ShowAsync(settings.ConnectionString, "max_parallel_workers_per_gather"));
        // The server's own default is left alone for everyone else.
        Assert.NotEqual("0", await ShowAsync(server.AdminConnectionString, "max_parallel_workers_per_gather"));
    }

    [Fact]
    public async Task A_statement_run_twice_on_a_connection_is_prepared_on_the_server()
    {
        var server = await PostgresServer.GetAsync();
        var settings = FromConfiguration(server.AdminConnectionString);

        Assert.Equal(1, await PreparedAfterRunningTwiceAsync(settings.ConnectionString));
        Assert.Equal(0, await PreparedAfterRunningTwiceAsync(server.AdminConnectionString));
    }

    [Fact]
    public async Task An_operators_own_settings_in_the_connection_string_are_kept()
    {
        var server = await PostgresServer.GetAsync();
        var own = new NpgsqlConnectionStringBuilder(server.AdminConnectionString)
        {
            Options = "-c max_parallel_workers_per_gather=1 -c work_mem=8MB",
        };
        var settings = FromConfiguration(own.ConnectionString + ";Max Auto Prepare=0");

        Assert.Equal("1", await ShowAsync(settings.ConnectionString, "max_parallel_workers_per_gather"));
        Assert.Equal("8MB", await ShowAsync(settings.ConnectionString, "work_mem"));
        Assert.Equal(0, await PreparedAfterRunningTwiceAsync(settings.ConnectionString));
    }

    /// <summary>Runs one statement twice on a fresh physical connection; how many of its statements the server then holds prepared.</summary>
    private static async Task<long> PreparedAfterRunningTwiceAsync(string connectionString)
    {
        // Its own pool, so the connection has no statements prepared by another test.
        await using var connection = new NpgsqlConnection(connectionString + ";Application Name=prepare-" + Guid.NewGuid().ToString("N"));
        await connection.OpenAsync();
        for (var i = 0; i < 2; i++)
        {
            await using var repeated = new NpgsqlCommand("SELECT count(*) FROM pg_class WHERE relname = 'pg_type'", connection);
            await repeated.ExecuteScalarAsync();
        }
        await using var count = new NpgsqlCommand("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE '%relname = ''pg_type''%'", connection);
        return (long)(await count.ExecuteScalarAsync())!;
    }

    private static DatabaseSettings FromConfiguration(string connectionString) =>
        DatabaseSettings.FromConfiguration(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Database:Provider"] = "Postgres",
            ["ConnectionStrings:Default"] = connectionString,
        }).Build(), Path.GetTempPath());

    private static async Task<string> ShowAsync(string connectionString, string setting)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"SHOW {setting}", connection);
        return (string)(await command.ExecuteScalarAsync())!;
    }
}
