using System.Buffers.Binary;

namespace ResearchAssistant.Core.Search;

/// <summary>
/// A document's distinct terms packed for <see cref="SearchUnmergedTerms.Terms"/>: per term its hash (8 bytes) and
/// frequency (4 bytes), little-endian, in ascending hash order (the order the merger inserts postings in). Hashes
/// only, like the postings: nothing here is plaintext.
/// </summary>
internal static class UnmergedTerms
{
    private const int EntrySize = 12;

    public static byte[] Pack(IReadOnlyList<(long Hash, int Frequency)> terms)
    {
        var bytes = new byte[terms.Count * EntrySize];
        for (var i = 0; i < terms.Count; i++)
        {
            BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(i * EntrySize), terms[i].Hash);
            BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(i * EntrySize + 8), terms[i].Frequency);
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
