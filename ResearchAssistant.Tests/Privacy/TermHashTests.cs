using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using ResearchAssistant.Core.Privacy;

namespace ResearchAssistant.Tests.Privacy;

/// <summary>
/// Term hashes are what the index stores and what a query is matched against: indexing hashes a message's terms in one
/// batch (<see cref="UserCipher.HashTerms"/>), a query hashes its own (<see cref="UserCipher.HashTerm"/>), so both must
/// give exactly HMAC-SHA256 under the search key, first 64 bits, for every term.
/// </summary>
public sealed class TermHashTests
{
    private static readonly byte[] SearchKey = RandomNumberGenerator.GetBytes(32);
    private static readonly UserCipher Cipher = new("user-1", RandomNumberGenerator.GetBytes(32), SearchKey);

    private static long Expected(string term) =>
        BinaryPrimitives.ReadInt64BigEndian(HMACSHA256.HashData(SearchKey, Encoding.UTF8.GetBytes(term)));

    [Fact]
    public void A_batch_hashes_each_term_as_HMAC_SHA256_under_the_search_key()
    {
        // ASCII, accented and CJK text, a repeat, and a term longer than the 256-byte stack buffer in UTF-8.
        string[] terms = ["marmalad", "café", "東", new string('é', 200), "marmalad", "x", new string('a', 300)];

        var batch = Cipher.HashTerms(terms);

        Assert.Equal(terms.Select(Expected), batch);
        Assert.Equal(terms.Select(Cipher.HashTerm), batch);
        Assert.Equal(batch[0], batch[4]);
        Assert.Equal(7, batch.Distinct().Count() + 1);
    }

    [Fact]
    public void An_empty_batch_hashes_nothing() => Assert.Empty(Cipher.HashTerms([]));
}
