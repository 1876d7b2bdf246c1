namespace ResearchAssistant.Core.Search;

// The keyed term index. Nothing here holds text: terms are stored only as HMACs under the user's search key, and the
// text of a hit is read from its (encrypted) event. Rows use small integers rather than the user and event ids, since
// a user with 100,000 messages has millions of postings and every byte of a posting is paid for millions of times.

/// <summary>One user's index: the collection statistics BM25 needs, and the counter that numbers their documents.</summary>
public sealed class SearchIndex
{
    public int Id { get; set; }
    public required string UserId { get; set; }
    /// <summary>Indexed messages (N in BM25).</summary>
    public long DocumentCount { get; set; }
    /// <summary>Sum of the documents' lengths in terms; with N gives the average document length.</summary>
    public long TotalLength { get; set; }
    /// <summary>The last document number handed out. Incremented with the statistics in one statement, like a session's Seq.</summary>
    public long LastDocumentNumber { get; set; }
}

/// <summary>An indexed message: the link from a document number back to the event and its session.</summary>
public sealed class SearchDocument
{
    public int IndexId { get; set; }
    /// <summary>Unique within the index.</summary>
    public long Number { get; set; }
    public Guid EventId { get; set; }
    public Guid SessionId { get; set; }
    /// <summary>How many terms the message has (stop words excluded), counting repeats.</summary>
    public int Length { get; set; }
}

/// <summary>
/// A document's terms (<see cref="UnmergedTerms"/>: hash and frequency) until <see cref="SearchMerger"/> has moved them
/// into the postings and deleted this row. Storing a message writes this one row instead of a posting per term, so the
/// message's own commit stays short; search scores these few documents from here, so a message is findable from the
/// commit that stores it. A table of its own, so the documents are never updated (which would leave every document
/// row twice, the old version holding the terms, until vacuumed).
/// </summary>
public sealed class SearchUnmergedTerms
{
    public int IndexId { get; set; }
    public long Number { get; set; }
    public required byte[] Terms { get; set; }
}

/// <summary>A term occurring in a document: the inverted index.</summary>
public sealed class SearchPosting
{
    public int IndexId { get; set; }
    /// <summary>HMAC-SHA256(user's search key, normalized term), first 64 bits (<see cref="Privacy.UserCipher.HashTerm"/>).</summary>
    public long TermHash { get; set; }
    public long DocumentNumber { get; set; }
    public int TermFrequency { get; set; }
    /// <summary>The document's length, copied here (messages are immutable once indexed) so scoring never joins.</summary>
    public int DocumentLength { get; set; }
    /// <summary>
    /// Orders a term's postings best first (ascending) for top-k search that stops early: see <see cref="Bm25.ImpactKey"/>.
    /// </summary>
    public int ImpactKey { get; set; }
}
