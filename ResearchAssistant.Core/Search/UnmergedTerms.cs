using System.Buffers.Binary;

namespace ResearchAssistant.Core.Search;

/// <summary>
/// A document's distinct terms packed for <see cref="SearchUnmergedTerms.Terms"/>: per term its hash (8 bytes) and
/// frequency (4 bytes), little-endian, in no particular order (the merger sorts a batch's postings itself). Hashes
/// only, like the postings: nothing here is plaintext.
/// </summary>
internal static class UnmergedTerms
{
    private const int EntrySize = 12;

    /// <param name="frequencies">Each distinct term's hash and frequency.</param>
    public static byte[] Pack(IReadOnlyDictionary<long, int> frequencies)
    {
        var bytes = new byte[frequencies.Count * EntrySize];
        var offset = 0;
        foreach (var (hash, frequency) in frequencies)
        {
            BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(offset), hash);
            BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(offset + 8), frequency);
            offset += EntrySize;
        }
        return bytes;
    }

    public static List<(long Hash, int Frequency)> Unpack(byte[] bytes)
    {
        if (bytes.Length % EntrySize != 0)
        {
            throw new InvalidDataException($"Unmerged search terms of {bytes.Length} bytes are not whole entries of {EntrySize}.");
        }
        var terms = new List<(long, int)>(bytes.Length / EntrySize);
        for (var offset = 0; offset < bytes.Length; offset += EntrySize)
        {
            terms.Add((BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(offset)), BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(offset + 8))));
        }
        return terms;
    }

    /// <summary>The frequency of each of <paramref name="wanted"/> that the packed document holds (a query's terms).</summary>
    public static Dictionary<long, int> Find(byte[] bytes, IReadOnlySet<long> wanted)
    {
        var found = new Dictionary<long, int>();
        for (var offset = 0; offset + EntrySize <= bytes.Length; offset += EntrySize)
        {
            var hash = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(offset));
            if (wanted.Contains(hash))
            {
                found[hash] = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(offset + 8));
            }
        }
        return found;
    }
}
