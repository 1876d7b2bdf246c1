using System.Security.Cryptography;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using ResearchAssistant.Core;
using ResearchAssistant.Core.Data;
using ResearchAssistant.Core.Privacy;
using ResearchAssistant.Core.Privacy.KeyRing;
using ResearchAssistant.Tests.Support;

namespace ResearchAssistant.Tests.Privacy;

/// <summary>
/// The Data Protection key ring (what protects sign-in cookies) lives in the database, its secrets encrypted under
/// the master key: every instance on the database shares it, and the database alone does not give it away.
/// </summary>
public abstract class KeyRingTests(TestDatabase database)
{
    protected TestDatabase Database => database;

    [Fact]
    public async Task A_payload_protected_on_one_instance_opens_on_another()
    {
        await using var first = await StartInstanceAsync(database.Settings);
        await using var second = await StartInstanceAsync(database.Settings);

        var cookie = Protector(first).Protect("the sign-in ticket");

        Assert.Equal("the sign-in ticket", Protector(second).Unprotect(cookie));
    }

    [Fact]
    public async Task Keys_are_stored_encrypted_and_do_not_open_under_another_master_key()
    {
        await using var first = await StartInstanceAsync(database.Settings);
        var cookie = Protector(first).Protect("the sign-in ticket");

        await using (var db = await ((IDbContextFactory<AppDbContext>)database.Contexts).CreateDbContextAsync())
        {
            var stored = await db.Set<DataProtectionKey>().AsNoTracking().ToListAsync();
            Assert.NotEmpty(stored);
            Assert.All(stored, key =>
            {
                // The key manager's plaintext form of a key's secret is a <masterKey> element with the secret in clear.
                Assert.DoesNotMatch(@"<masterKey[\s>]", key.Xml);
                Assert.Matches($@"<{MasterKeyXmlEncryptor.ElementName}[\s>]", key.Xml);
            });
        }

        var otherMasterKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(MasterKey.KeySize));
        await using var stranger = await StartInstanceAsync(database.Settings, otherMasterKey, ensureKey: false);
        Assert.ThrowsAny<CryptographicException>(() => Protector(stranger).Unprotect(cookie));
    }

    /// <summary>What the app does at start-up, as a second Core would: its services, and a key in the ring.</summary>
    protected static async Task<ServiceProvider> StartInstanceAsync(DatabaseSettings settings, string? masterKey = null, bool ensureKey = true)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Database:Provider"] = settings.Provider.ToString(),
            ["ConnectionStrings:Default"] = settings.ConnectionString,
            ["Llm:Provider"] = "Offline",
            [MasterKey.ConfigurationKey] = masterKey ?? TestDatabase.MasterKeyBase64,
        }).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddResearchAssistantCore(configuration, Path.GetTempPath());
        services.AddDataProtection().SetApplicationName("ResearchAssistant").PersistKeysToAppDatabase();
        var provider = services.BuildServiceProvider();
        if (ensureKey)
        {
            await provider.EnsureDataProtectionKeyAsync(CancellationToken.None);
        }
        return provider;
    }

    private static IDataProtector Protector(IServiceProvider services) =>
        services.GetRequiredService<IDataProtectionProvider>().CreateProtector("ResearchAssistant.Tests.KeyRing");
}

public sealed class SqliteKeyRingTests(SqliteTestDatabase database) : KeyRingTests(database), IClassFixture<SqliteTestDatabase>;

public sealed class PostgresKeyRingTests(PostgresTestDatabase database) : KeyRingTests(database), IClassFixture<PostgresTestDatabase>
{
    [Fact]
    public async Task Instances_starting_together_on_an_empty_database_agree_on_one_first_key()
    {
        var settings = await Database.CreateEmptyAsync();
        await TestDatabase.MigrateAsync(settings);

        var instances = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => StartInstanceAsync(settings))));
        try
        {
            await using var db = await ((IDbContextFactory<AppDbContext>)new AppDbContextFactory(settings)).CreateDbContextAsync();
            Assert.Equal(1, await db.Set<DataProtectionKey>().CountAsync());
        }
        finally
        {
            foreach (var instance in instances)
            {
                await instance.DisposeAsync();
            }
        }
    }
}
