using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using ResearchAssistant.Core.Data;

namespace ResearchAssistant.Core.Privacy.KeyRing;

public static class KeyRingSetup
{
    /// <summary>
    /// Keeps the Data Protection key ring in the app's database (<see cref="DataProtectionKey"/>), its secrets encrypted
    /// under the master key: instances sharing the database share the keys, and a backup of the data directory is no
    /// longer what keeps sign-ins valid. Needs Core's services (<see cref="CoreServiceCollectionExtensions.AddResearchAssistantCore"/>).
    /// </summary>
    public static IDataProtectionBuilder PersistKeysToAppDatabase(this IDataProtectionBuilder builder)
    {
        builder.Services.AddOptions<KeyManagementOptions>().Configure<IServiceProvider>((options, services) =>
        {
            options.XmlRepository = new DatabaseXmlRepository(services.GetRequiredService<IDbContextFactory<AppDbContext>>());
            options.XmlEncryptor = new MasterKeyXmlEncryptor(services.GetRequiredService<MasterKey>());
        });
        return builder;
    }

    /// <summary>
    /// Makes sure the key ring has a key in use before the app serves requests. Otherwise instances started together on
    /// an empty database would each create a first key on their first request, and until they re-read the ring (up to
    /// a day) a cookie issued by one would not open on another. On PostgreSQL an advisory lock makes the check and the
    /// creation one step across instances; SQLite has one process.
    /// </summary>
    public static async Task EnsureDataProtectionKeyAsync(this IServiceProvider services, CancellationToken ct)
    {
        var keyManager = services.GetRequiredService<IKeyManager>();
        var clock = services.GetRequiredService<TimeProvider>();
        var lifetime = services.GetRequiredService<Microsoft.Extensions.Options.IOptions<KeyManagementOptions>>().Value.NewKeyLifetime;
        NpgsqlConnection? locked = null;
        if (services.GetRequiredService<DatabaseSettings>().Provider == DatabaseProvider.Postgres)
        {
            locked = await services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync(ct);
            await using var command = new NpgsqlCommand("SELECT pg_advisory_lock($1)", locked);
            command.Parameters.Add(new NpgsqlParameter { Value = AdvisoryLockKey });
            await command.ExecuteNonQueryAsync(ct);
        }
        try
        {
            var now = clock.GetUtcNow();
            if (!keyManager.GetAllKeys().Any(k => !k.IsRevoked && k.ActivationDate <= now && k.ExpirationDate > now))
            {
                keyManager.CreateNewKey(activationDate: now, expirationDate: now + lifetime);
            }
        }
        finally
        {
            if (locked is not null)
            {
                // Explicitly: a pooled connection that is closed keeps its session (and lock) until it is reused.
                await using (locked)
                {
                    await using var unlock = new NpgsqlCommand("SELECT pg_advisory_unlock($1)", locked);
                    unlock.Parameters.Add(new NpgsqlParameter { Value = AdvisoryLockKey });
                    await unlock.ExecuteNonQueryAsync(CancellationToken.None);
                }
            }
        }
    }

    /// <summary>"RAKEYRNG" as a number: apart from the per-session turn locks, which take 64 bits of a GUID.</summary>
    private const long AdvisoryLockKey = 0x5241_4B45_5952_4E47;
}
