using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using ResearchAssistant.Core.Data;

namespace ResearchAssistant.Core.Privacy;

/// <summary>
/// Encrypts and decrypts a user's content (message text, titles, checkpoint names) with that user's data key.
/// Data keys are created on first use, stored wrapped by the master key, and cached unwrapped in memory.
/// </summary>
public sealed class ContentProtector(IDbContextFactory<AppDbContext> contexts, MasterKey masterKey, TimeProvider clock)
{
    private static readonly byte[] CheckPlaintext = "ResearchAssistant master key check v1"u8.ToArray();
    private static readonly byte[] CheckContext = "master-key-check"u8.ToArray();
    private readonly ConcurrentDictionary<string, UserCipher> _ciphers = new(StringComparer.Ordinal);

    /// <summary>Fails with a clear message when the master key is not the one this database was encrypted with.</summary>
    public async Task VerifyMasterKeyAsync(CancellationToken ct)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var check = await db.Set<MasterKeyCheck>().AsNoTracking().FirstOrDefaultAsync(c => c.Id == 1, ct);
        if (check is null)
        {
            db.Set<MasterKeyCheck>().Add(new MasterKeyCheck { Id = 1, Sealed = Aead.Seal(masterKey.Key, CheckPlaintext, CheckContext) });
            await db.SaveChangesAsync(ct);
            return;
        }
        try
        {
            if (Aead.Open(masterKey.Key, check.Sealed, CheckContext).AsSpan().SequenceEqual(CheckPlaintext))
            {
                return;
            }
        }
        catch (CryptographicException)
        {
        }
        throw new InvalidOperationException(
            $"The master key from {masterKey.Source} is not the key this database was encrypted with, so its content cannot be read. " +
            $"Restore the original key (the {MasterKey.FileName} file in the data directory, or {MasterKey.ConfigurationKey}); " +
            "the app does not start rather than show unreadable data.");
    }

    /// <summary>The user's cipher, creating their data key on first use.</summary>
    public async Task<UserCipher> ForUserAsync(string userId, CancellationToken ct = default)
    {
        if (_ciphers.TryGetValue(userId, out var cached))
        {
            return cached;
        }
        var cipher = new UserCipher(userId, await LoadOrCreateKeyAsync(userId, ct));
        return _ciphers.GetOrAdd(userId, cipher);
    }

    /// <summary>Forgets a user's cached key (after erasure, the wrapped key is gone too).</summary>
    public void Forget(string userId) => _ciphers.TryRemove(userId, out _);

    private async Task<byte[]> LoadOrCreateKeyAsync(string userId, CancellationToken ct)
    {
        var context = WrapContext(userId);
        await using var db = await contexts.CreateDbContextAsync(ct);
        var stored = await db.Set<UserKey>().AsNoTracking().FirstOrDefaultAsync(k => k.UserId == userId, ct);
        if (stored is not null)
        {
            return Aead.Open(masterKey.Key, stored.WrappedKey, context);
        }

        var key = RandomNumberGenerator.GetBytes(32);
        db.Set<UserKey>().Add(new UserKey { UserId = userId, WrappedKey = Aead.Seal(masterKey.Key, key, context), CreatedAt = clock.GetUtcNow() });
        try
        {
            await db.SaveChangesAsync(ct);
            return key;
        }
        catch (DbUpdateException)
        {
            // Another request created the key first: use theirs, or content written under two keys would be lost.
            await using var again = await contexts.CreateDbContextAsync(ct);
            var winner = await again.Set<UserKey>().AsNoTracking().FirstAsync(k => k.UserId == userId, ct);
            return Aead.Open(masterKey.Key, winner.WrappedKey, context);
        }
    }

    private static byte[] WrapContext(string userId) => Encoding.UTF8.GetBytes("user-key:" + userId);
}

/// <summary>Encrypts and decrypts one user's content. Thread-safe; the ciphertext is bound to the user.</summary>
public sealed class UserCipher
{
    private readonly byte[] _key;
    private readonly byte[] _context;

    internal UserCipher(string userId, byte[] key)
    {
        _key = key;
        _context = Encoding.UTF8.GetBytes("content:" + userId);
    }

    public byte[] Encrypt(string plaintext) => Aead.Seal(_key, Encoding.UTF8.GetBytes(plaintext), _context);

    public string Decrypt(byte[] ciphertext) => ciphertext.Length == 0 ? "" : Encoding.UTF8.GetString(Aead.Open(_key, ciphertext, _context));
}
