using System.Security.Cryptography;
using Microsoft.Extensions.Configuration;
using ResearchAssistant.Core.Privacy;
using ResearchAssistant.Tests.Support;

namespace ResearchAssistant.Tests.Privacy;

/// <summary>Where the master key comes from: configuration, or a key file generated owner-only on first run.</summary>
public sealed class MasterKeyTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "ra-tests", "master-key-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public void Without_configuration_a_key_file_is_created_owner_only_and_the_same_key_is_loaded_next_time()
    {
        var dataDirectory = Path.Combine(_directory, "data");

        var first = MasterKey.Load(Configuration(), dataDirectory);

        var path = Path.Combine(dataDirectory, MasterKey.FileName);
        Assert.True(File.Exists(path));
        Assert.Equal(path, first.Source);
        Assert.Equal(MasterKey.KeySize, first.Key.Length);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }

        var second = MasterKey.Load(Configuration(), dataDirectory);

        Assert.Equal(first.Key, second.Key);
        Assert.Equal(path, second.Source);
        Assert.Equal(first.Key, Convert.FromBase64String(File.ReadAllText(path).Trim()));
    }

    [Fact]
    public void A_configured_key_is_used_and_no_key_file_is_written()
    {
        var key = RandomNumberGenerator.GetBytes(MasterKey.KeySize);

        var loaded = MasterKey.Load(Configuration(Convert.ToBase64String(key)), _directory);

        Assert.Equal(key, loaded.Key);
        Assert.Equal(MasterKey.ConfigurationKey, loaded.Source);
        Assert.False(File.Exists(Path.Combine(_directory, MasterKey.FileName)));
    }

    [Theory]
    [InlineData("not base64 at all!", "is not base64")]
    [InlineData("c2hvcnQ=", "is 5 bytes; it must be 32 bytes")]
    public void A_malformed_configured_key_is_refused_with_a_clear_message(string configured, string expected)
    {
        var ex = Assert.Throws<InvalidOperationException>(() => MasterKey.Load(Configuration(configured), _directory));

        Assert.Contains(MasterKey.ConfigurationKey, ex.Message);
        Assert.Contains(expected, ex.Message);
        Assert.DoesNotContain(configured, ex.Message);
    }

    [Fact]
    public void A_malformed_key_file_is_refused_naming_the_file()
    {
        Directory.CreateDirectory(_directory);
        var path = Path.Combine(_directory, MasterKey.FileName);
        File.WriteAllText(path, Convert.ToBase64String(new byte[16]));

        var ex = Assert.Throws<InvalidOperationException>(() => MasterKey.Load(Configuration(), _directory));

        Assert.Contains(path, ex.Message);
        Assert.Contains("is 16 bytes; it must be 32 bytes", ex.Message);
    }

    [Fact]
    public async Task The_app_does_not_start_with_a_malformed_configured_key()
    {
        await using var model = await ResearchAssistant.Testing.FakeOpenAiServer.StartAsync();
        var database = new Core.Data.DatabaseSettings(Core.Data.DatabaseProvider.Sqlite,
            Core.Data.DatabaseSettings.SqliteConnectionStringFor(Path.Combine(_directory, "unused.db")));

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => CoreHarness.StartAsync(database, model.Endpoint,
            settings: new Dictionary<string, string?> { [MasterKey.ConfigurationKey] = "definitely-not-a-key" }));

        Assert.Contains($"The master key in {MasterKey.ConfigurationKey} is not base64", ex.Message);
    }

    private static IConfiguration Configuration(string? masterKey = null) =>
        new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [MasterKey.ConfigurationKey] = masterKey }).Build();

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}
