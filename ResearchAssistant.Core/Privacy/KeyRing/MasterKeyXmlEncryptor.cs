using System.Security.Cryptography;
using System.Text;
using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;
using Microsoft.Extensions.DependencyInjection;

namespace ResearchAssistant.Core.Privacy.KeyRing;

/// <summary>
/// Encrypts the secret part of each Data Protection key before it is stored (what DPAPI or a certificate does on
/// other hosts), with AES-256-GCM under a key derived from the app's master key. A database dump alone then cannot
/// forge sign-in cookies: that also needs the master key, which lives apart from the database.
/// </summary>
internal sealed class MasterKeyXmlEncryptor(MasterKey masterKey) : IXmlEncryptor
{
    internal const string ElementName = "masterKeyEncrypted";

    public EncryptedXmlInfo Encrypt(XElement plaintextElement)
    {
        var plaintext = Encoding.UTF8.GetBytes(plaintextElement.ToString(SaveOptions.DisableFormatting));
        var sealedKey = Aead.Seal(KeyRingKey.Derive(masterKey), plaintext, KeyRingKey.Context);
        var element = new XElement(ElementName,
            new XComment(" The key below is encrypted with a key derived from the ResearchAssistant master key. "),
            new XElement("value", Convert.ToBase64String(sealedKey)));
        return new EncryptedXmlInfo(element, typeof(MasterKeyXmlDecryptor));
    }
}

/// <summary>
/// The other half of <see cref="MasterKeyXmlEncryptor"/>. Data Protection creates it by type name when it reads a key,
/// passing the app's services (hence the constructor), so it finds the master key there.
/// </summary>
internal sealed class MasterKeyXmlDecryptor(IServiceProvider services) : IXmlDecryptor
{
    public XElement Decrypt(XElement encryptedElement)
    {
        var masterKey = services.GetRequiredService<MasterKey>();
        var sealedKey = Convert.FromBase64String((string?)encryptedElement.Element("value")
            ?? throw new CryptographicException("A stored Data Protection key has no encrypted value."));
        var plaintext = Aead.Open(KeyRingKey.Derive(masterKey), sealedKey, KeyRingKey.Context);
        return XElement.Parse(Encoding.UTF8.GetString(plaintext));
    }
}

/// <summary>The key-ring key: its own derivation of the master key, so it is never the key that wraps users' keys.</summary>
internal static class KeyRingKey
{
    public static readonly byte[] Context = "data-protection-key-ring"u8.ToArray();
    private static readonly byte[] Info = "ResearchAssistant Data Protection key ring v1"u8.ToArray();

    public static byte[] Derive(MasterKey masterKey) => HKDF.DeriveKey(HashAlgorithmName.SHA256, masterKey.Key, 32, salt: [], info: Info);
}
