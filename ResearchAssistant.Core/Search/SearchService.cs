using Microsoft.EntityFrameworkCore;
using ResearchAssistant.Core.Data;
using ResearchAssistant.Core.Privacy;
using ResearchAssistant.Core.Sessions;

namespace ResearchAssistant.Core.Search;

/// <summary>
/// Searching a user's own conversations. The index holds no text: query terms are hashed with the user's search key
/// and looked up, BM25 ranks the documents in the database, and only the best few messages are read and decrypted to
/// show a snippet. A user can only ever reach their own index (it is found by their user id, and every hit is checked
/// against the conversation's owner).
/// </summary>
public sealed class SearchService(IDbContextFactory<AppDbContext> contexts, ContentProtector protector)
{
    public const int DefaultResults = 20;
    public const int MaxResults = 50;
    public const int MaxRecall = 200;

    public const string NothingToSearchHint =
        "Nothing to search for: very common words (like “the” or “and”) and symbols are not searched. Try a more specific word.";

    public static readonly string ShortenedHint =
        $"Only the beginning of this search was used (the first {SearchTerms.MaxQueryTerms} words, at most {SearchTerms.MaxQueryCharacters} characters).";

    /// <summary>Messages of all the user's conversations matching <paramref name="query"/>, best first.</summary>
    public async Task<SearchResponse> SearchAsync(string userId, string? query, int take = DefaultResults, CancellationToken ct = default)
    {
        var parsed = SearchTerms.ParseQuery(query);
        if (parsed.Terms.Count == 0)
        {
            return new SearchResponse([], [], parsed.WasShortened, NothingToSearchHint);
        }
        var hint = parsed.WasShortened ? ShortenedHint : null;
        take = Math.Clamp(take, 1, MaxResults);

        var cipher = await protector.ForUserAsync(userId, ct);
        await using var db = await contexts.CreateDbContextAsync(ct);
        if (await Bm25.PrepareAsync(db, userId, QueryHashes(cipher, parsed.Terms), ct) is not { } prepared)
        {
            return new SearchResponse([], parsed.Terms, parsed.WasShortened, hint);
        }
        var (stats, terms, unmerged) = prepared;
        var top = await Bm25.TopAsync(db, stats, terms, unmerged, sessionId: null, take, ct);
        var hits = await ReadHitsAsync(db, userId, stats.IndexId, top, cipher, parsed.Terms.ToHashSet(StringComparer.Ordinal), ct);
        return new SearchResponse(hits, parsed.Terms, parsed.WasShortened, hint);
    }

    /// <summary>
    /// For the context assembler: the messages of one conversation that best match <paramref name="query"/> (BM25 over
    /// the user's index), best first, leaving out <paramref name="exclude"/> (typically what the prompt holds already).
    /// Messages of every branch are candidates; the caller keeps those on the branch it is building. Decrypts nothing.
    /// </summary>
    /// <exception cref="SessionNotFoundException">The conversation does not exist or is someone else's.</exception>
    public async Task<IReadOnlyList<(Guid EventId, double Score)>> RecallAsync(
        string userId, Guid sessionId, string query, IReadOnlySet<Guid> exclude, int take, CancellationToken ct)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        await SessionAccess.RequireOwnedAsync(db, userId, sessionId, ct);
        take = Math.Clamp(take, 0, MaxRecall);
        // Asking for as many more as are excluded still yields the best `take` of the rest.
        if (await RecallDocumentsAsync(db, userId, sessionId, query, take + exclude.Count, ct) is not { } found)
        {
            return [];
        }
        var events = await EventIdsAsync(db, found.IndexId, found.Top, ct);
        return found.Top
            .Where(t => events.ContainsKey(t.Number))
            .Select(t => (EventId: events[t.Number].EventId, t.Score))
            .Where(t => !exclude.Contains(t.EventId))
            .Take(take)
            .ToList();
    }

    /// <summary>
    /// The best <paramref name="take"/> documents of one conversation for <paramref name="query"/> (BM25 over the user's
    /// index, at a bounded cost: <see cref="RecallTopK"/>), best first, as numbers in the user's index; null when nothing
    /// can match. On the caller's context, and
    /// without checking the conversation's owner: for a turn, whose conversation was checked when it was asked for.
    /// Even unchecked it finds nothing of another user's: it reads only <paramref name="userId"/>'s index, whose
    /// documents are all of that user's conversations.
    /// </summary>
    internal async Task<(int IndexId, List<ScoredDocument> Top)?> RecallDocumentsAsync(
        AppDbContext db, string userId, Guid sessionId, string query, int take, CancellationToken ct)
    {
        var parsed = SearchTerms.ParseQuery(query);
        if (parsed.Terms.Count == 0 || take <= 0)
        {
            return null;
        }
        var cipher = await protector.ForUserAsync(userId, ct);
        return await RecallTopK.RunAsync(db, userId, QueryHashes(cipher, parsed.Terms), sessionId, take, ct);
    }

    /// <summary>A query's distinct terms hashed with the user's search key, through one keyed HMAC for them all.</summary>
    private static List<long> QueryHashes(UserCipher cipher, IReadOnlyList<string> terms) =>
        cipher.HashTerms(terms.Distinct(StringComparer.Ordinal).ToList()).Distinct().ToList();

    private static async Task<Dictionary<long, (Guid EventId, Guid SessionId)>> EventIdsAsync(AppDbContext db, int indexId, List<ScoredDocument> top, CancellationToken ct)
    {
        var numbers = top.Select(t => t.Number).ToList();
        var rows = await db.SearchDocuments.AsNoTracking()
            .Where(d => d.IndexId == indexId && numbers.Contains(d.Number))
            .Select(d => new { d.Number, d.EventId, d.SessionId })
            .ToListAsync(ct);
        return rows.ToDictionary(r => r.Number, r => (r.EventId, r.SessionId));
    }

    private static async Task<List<SearchHit>> ReadHitsAsync(AppDbContext db, string userId, int indexId, List<ScoredDocument> top, UserCipher cipher, IReadOnlySet<string> terms, CancellationToken ct)
    {
        if (top.Count == 0)
        {
            return [];
        }
        var documents = await EventIdsAsync(db, indexId, top, ct);
        var eventIds = documents.Values.Select(d => d.EventId).ToList();
        var sessionIds = documents.Values.Select(d => d.SessionId).Distinct().ToList();
        // Two lookups by key rather than one join: joined, SQLite started from the user's sessions and read every
        // event of them to find these few.
        var rows = await db.SessionEvents.AsNoTracking()
            .Where(e => eventIds.Contains(e.Id))
            .Select(e => new { e.Id, e.SessionId, e.Kind, e.ContentCipher, e.CreatedAt })
            .ToListAsync(ct);
        // The owner check: a hit is shown only from a conversation of this user.
        var titleCiphers = await db.ChatSessions.AsNoTracking()
            .Where(s => sessionIds.Contains(s.Id) && s.OwnerId == userId)
            .ToDictionaryAsync(s => s.Id, s => s.TitleCipher, ct);
        var byId = rows.ToDictionary(r => r.Id);
        var titles = new Dictionary<Guid, string>();
        var hits = new List<SearchHit>(top.Count);
        foreach (var scored in top)
        {
            if (!documents.TryGetValue(scored.Number, out var document) || !byId.TryGetValue(document.EventId, out var row)
                || !titleCiphers.TryGetValue(row.SessionId, out var titleCipher))
            {
                continue;
            }
            if (!titles.TryGetValue(row.SessionId, out var title))
            {
                title = titles[row.SessionId] = cipher.Decrypt(titleCipher);
            }
            // The snippet shows the message as the chat does: a question as typed, an answer's Markdown as its text.
            var isUser = row.Kind == EventKind.UserMessage;
            var content = cipher.Decrypt(row.ContentCipher);
            hits.Add(new SearchHit(
                row.SessionId, row.Id, title,
                isUser ? MessageRole.User : MessageRole.Assistant,
                row.CreatedAt, scored.Score,
                Snippets.Build(isUser ? content : MarkdownText.ToPlain(content), terms)));
        }
        return hits;
    }
}
