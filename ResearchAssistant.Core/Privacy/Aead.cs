using System.Security.Cryptography;

namespace ResearchAssistant.Core.Privacy;

/// <summary>
/// AES-256-GCM with a fresh random nonce per message. Layout: version (1 byte) | nonce (12) | tag (16) | ciphertext.
/// The associated data binds a ciphertext to its owner, so a blob moved into another user's row fails to decrypt
/// instead of showing someone else's text. (A move between one user's own rows still decrypts; the session hash
/// chain is what reports that.)
/// </summary>
internal static class Aead
{
    private const byte Version = 1;
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private const int HeaderSize = 1 + NonceSize + TagSize;

    public static byte[] Seal(byte[] key, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associatedData)
    {
        var output = new byte[HeaderSize + plaintext.Length];
        output[0] = Version;
        var nonce = output.AsSpan(1, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(key, TagSize);
        aes.Encrypt(nonce, plaintext, output.AsSpan(HeaderSize), output.AsSpan(1 + NonceSize, TagSize), associatedData);
        return output;
    }

    /// <exception cref="CryptographicException">Wrong key, wrong associated data, or a tampered blob.</exception>
    public static byte[] Open(byte[] key, ReadOnlySpan<byte> sealedData, ReadOnlySpan<byte> associatedData)
    {
        if (sealedData.Length < HeaderSize || sealedData[0] != Version)
        {
            throw new CryptographicException("Not a ResearchAssistant ciphertext (unknown version or too short).");
        }
        var plaintext = new byte[sealedData.Length - HeaderSize];
        using var aes = new AesGcm(key, TagSize);
        aes.Decrypt(sealedData.Slice(1, NonceSize), sealedData[HeaderSize..], sealedData.Slice(1 + NonceSize, TagSize), plaintext, associatedData);
        return plaintext;
    }
}
