using System.Security.Cryptography;
using Microsoft.Extensions.Configuration;

namespace ResearchAssistant.Core.Privacy;

/// <summary>
/// The key that wraps every user's data key. From <c>Encryption:MasterKey</c> (base64, 32 bytes) when set;
/// otherwise from a key file in the data directory, generated with owner-only permissions on first run.
/// </summary>
public sealed class MasterKey
{
    public const string ConfigurationKey = "Encryption:MasterKey";
    public const string FileName = "master.key";
    public const int KeySize = 32;

    private MasterKey(byte[] key, string source)
    {
        Key = key;
        Source = source;
    }

    internal byte[] Key { get; }
    /// <summary>Where the key came from, for error messages (never the key itself).</summary>
    public string Source { get; }

    public static MasterKey Load(IConfiguration configuration, string dataDirectory)
    {
        var configured = configuration[ConfigurationKey];
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return new MasterKey(Decode(configured, ConfigurationKey), ConfigurationKey);
        }

        var path = Path.Combine(dataDirectory, FileName);
        if (File.Exists(path))
        {
            return new MasterKey(Decode(File.ReadAllText(path).Trim(), path), path);
        }

        var key = RandomNumberGenerator.GetBytes(KeySize);
        Directory.CreateDirectory(dataDirectory);
        // Create owner-only from the start, so the key is never readable by others even for a moment.
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        using (var file = new StreamWriter(path, options))
        {
            file.Write(Convert.ToBase64String(key));
        }
        return new MasterKey(key, path);
    }

    internal static MasterKey FromBytes(byte[] key, string source) => new(key, source);

    private static byte[] Decode(string base64, string source)
    {
        byte[] key;
        try
        {
            key = Convert.FromBase64String(base64);
        }
        catch (FormatException)
        {
            throw new InvalidOperationException($"The master key in {source} is not base64. It must be 32 random bytes, base64-encoded (e.g. `openssl rand -base64 32`).");
        }
        if (key.Length != KeySize)
        {
            throw new InvalidOperationException($"The master key in {source} is {key.Length} bytes; it must be {KeySize} bytes (base64 of 32 random bytes).");
        }
        return key;
    }
}
