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

    /// <summary>The user's cipher, creating their data key (and search key) on first use.</summary>
    public async Task<UserCipher> ForUserAsync(string userId, CancellationToken ct = default)
    {
        if (_ciphers.TryGetValue(userId, out var cached))
        {
            return cached;
        }
        var (dataKey, searchKey) = await LoadOrCreateKeysAsync(userId, ct);
        return _ciphers.GetOrAdd(userId, new UserCipher(userId, dataKey, searchKey));
    }

    /// <summary>Forgets a user's cached keys (after erasure, the wrapped keys are gone too).</summary>
    public void Forget(string userId) => _ciphers.TryRemove(userId, out _);

    private async Task<(byte[] DataKey, byte[] SearchKey)> LoadOrCreateKeysAsync(string userId, CancellationToken ct)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var stored = await db.Set<UserKey>().AsNoTracking().FirstOrDefaultAsync(k => k.UserId == userId, ct);
        if (stored is null)
        {
            var dataKey = RandomNumberGenerator.GetBytes(32);
            var searchKey = RandomNumberGenerator.GetBytes(32);
            db.Set<UserKey>().Add(new UserKey
            {
                UserId = userId,
                WrappedKey = Aead.Seal(masterKey.Key, dataKey, WrapContext(userId)),
                WrappedSearchKey = Aead.Seal(masterKey.Key, searchKey, SearchWrapContext(userId)),
                CreatedAt = clock.GetUtcNow(),
            });
            try
            {
                await db.SaveChangesAsync(ct);
                return (dataKey, searchKey);
            }
            catch (DbUpdateException)
            {
                // Another request created the keys first: use theirs, or content written under two keys would be lost.
                db.ChangeTracker.Clear();
                stored = await db.Set<UserKey>().AsNoTracking().FirstAsync(k => k.UserId == userId, ct);
            }
        }
        if (stored.WrappedSearchKey is null)
        {
            // A key row from before search existed. Only the first writer's key is kept (the IS NULL guard), and
            // everyone reads back the one that won, so no term is ever hashed under a key that was then dropped.
            var candidate = Aead.Seal(masterKey.Key, RandomNumberGenerator.GetBytes(32), SearchWrapContext(userId));
            await db.Set<UserKey>().Where(k => k.UserId == userId && k.WrappedSearchKey == null)
                .ExecuteUpdateAsync(u => u.SetProperty(k => k.WrappedSearchKey, candidate), ct);
            stored = await db.Set<UserKey>().AsNoTracking().FirstAsync(k => k.UserId == userId, ct);
        }
        return (Aead.Open(masterKey.Key, stored.WrappedKey, WrapContext(userId)),
                Aead.Open(masterKey.Key, stored.WrappedSearchKey!, SearchWrapContext(userId)));
    }

    private static byte[] WrapContext(string userId) => Encoding.UTF8.GetBytes("user-key:" + userId);

    // A different context from the data key's: a wrapped search key pasted into the data key column fails to open.
    private static byte[] SearchWrapContext(string userId) => Encoding.UTF8.GetBytes("user-search-key:" + userId);
}

/// <summary>
/// One user's keyed operations: encrypting and decrypting their content, and hashing their search terms.
/// Thread-safe; ciphertexts are bound to the user.
/// </summary>
public sealed class UserCipher
{
    /// <summary>Bytes of HMAC-SHA256 kept per term (see <see cref="HashTerm"/>).</summary>
    public const int TermHashBytes = 8;

    private readonly byte[] _key;
    private readonly byte[] _searchKey;
    private readonly byte[] _context;

    internal UserCipher(string userId, byte[] key, byte[] searchKey)
    {
        _key = key;
        _searchKey = searchKey;
        _context = Encoding.UTF8.GetBytes("content:" + userId);
    }

    public byte[] Encrypt(string plaintext) => Aead.Seal(_key, Encoding.UTF8.GetBytes(plaintext), _context);

    public string Decrypt(byte[] ciphertext) => ciphertext.Length == 0 ? "" : Encoding.UTF8.GetString(Aead.Open(_key, ciphertext, _context));

    /// <summary>
    /// Encrypts text bound to <paramref name="binding"/> as well as to the user (e.g. "this message, at this offset"
    /// for a streaming delta sent to other instances): the ciphertext opens only with the same binding, so it cannot
    /// be replayed as another message's text, at another offset, or as stored content.
    /// </summary>
    internal byte[] Encrypt(string plaintext, string binding) => Aead.Seal(_key, Encoding.UTF8.GetBytes(plaintext), Bound(binding));

    /// <exception cref="CryptographicException">Not sealed by this user's key with this binding.</exception>
    internal string Decrypt(byte[] ciphertext, string binding) => Encoding.UTF8.GetString(Aead.Open(_key, ciphertext, Bound(binding)));

    private byte[] Bound(string binding) => [.. _context, (byte)'|', .. Encoding.UTF8.GetBytes(binding)];

    /// <summary>
    /// HMAC-SHA256(search key, UTF-8 of a normalized term), truncated to its first 64 bits. Without the key a stored
    /// hash says nothing about its term, and no dictionary can be run against it. 64 bits keep the index rows small and
    /// compare as one integer on both providers; at a million distinct terms per user the chance that any two collide
    /// is about 3e-8, and a collision would only add a spurious match to a ranking, never reveal text.
    /// </summary>
    public long HashTerm(string term) => HashTerms([term])[0];

    /// <summary>
    /// <see cref="HashTerm"/> of each term, in order, through one keyed HMAC instance: the one-shot call sets the key
    /// up anew for every term, which made hashing a long answer's ~150 distinct terms cost about twice as much.
    /// </summary>
    public long[] HashTerms(IReadOnlyList<string> terms)
    {
        var hashes = new long[terms.Count];
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, _searchKey);
        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        Span<byte> small = stackalloc byte[256];
        for (var i = 0; i < terms.Count; i++)
        {
            var term = terms[i];
            var maxBytes = Encoding.UTF8.GetMaxByteCount(term.Length);
            var rented = maxBytes <= small.Length ? null : System.Buffers.ArrayPool<byte>.Shared.Rent(maxBytes);
            try
            {
                var buffer = rented is null ? small : rented;
                hmac.AppendData(buffer[..Encoding.UTF8.GetBytes(term, buffer)]);
                hmac.GetHashAndReset(mac);
                hashes[i] = System.Buffers.Binary.BinaryPrimitives.ReadInt64BigEndian(mac);
            }
            finally
            {
                if (rented is not null)
                {
                    System.Buffers.ArrayPool<byte>.Shared.Return(rented);
                }
            }
        }
        return hashes;
    }
}
