using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using ResearchAssistant.Core.Data;
using ResearchAssistant.Core.Privacy;
using ResearchAssistant.Core.Search;
using ResearchAssistant.Core.Sessions;
using ResearchAssistant.Core.Sync;

namespace ResearchAssistant.Core.Chat;

public sealed record SendResult(Guid SessionId, Guid MessageId, bool WasDuplicate);

/// <summary>
/// Reading and writing conversations. Every call takes the signed-in user's id and checks ownership here, not in
/// the UI: a session of someone else's is reported exactly like one that does not exist.
/// </summary>
public sealed class ChatService(
    IDbContextFactory<AppDbContext> contexts,
    TurnRunner turns,
    SessionBus bus,
    ChatLimits limits,
    ContentProtector protector,
    Context.ContextAssembler assembler,
    Llm.IChatModel model,
    Search.SearchMerger merger,
    TimeProvider clock)
{
    /// <summary>How many messages opening a conversation reads; older ones load on demand.</summary>
    public const int PageSize = 50;

    /// <summary>Every tab showing a conversation re-reads it on the same hint: concurrent identical reads are shared.</summary>
    private readonly SharedReads<(string UserId, Guid SessionId), ConversationView?> _conversationReads = new();

    /// <summary>
    /// The newest page of the active branch, or null when the conversation does not exist for this user. Read after
    /// the call began; callers asking for the same conversation at the same time share one read (see <see cref="SharedReads{TKey, TResult}"/>).
    /// </summary>
    public Task<ConversationView?> GetConversationAsync(string userId, Guid sessionId, CancellationToken ct = default) =>
        _conversationReads.ReadAsync((userId, sessionId), token => ReadConversationAsync(userId, sessionId, token), ct);

    /// <summary>
    /// Like <see cref="GetConversationAsync(string, Guid, CancellationToken)"/>, for a tab answering <paramref name="hint"/>:
    /// read after the hint was heard (so after the commit it announces) rather than after this call, so a read that
    /// another tab began after the hint is shared as it runs instead of waited out.
    /// </summary>
    public Task<ConversationView?> GetConversationAsync(string userId, Guid sessionId, SessionChange hint, CancellationToken ct = default) =>
        _conversationReads.ReadAsync((userId, sessionId), token => ReadConversationAsync(userId, sessionId, token), hint.HeardAt, ct);

    private async Task<ConversationView?> ReadConversationAsync(string userId, Guid sessionId, CancellationToken ct)
    {
        // Before the first statement: the view reflects whatever was committed before this moment.
        var startedAt = System.Diagnostics.Stopwatch.GetTimestamp();
        await using var db = await contexts.CreateDbContextAsync(ct);
        var cipher = await protector.ForUserAsync(userId, ct);
        // The session row and its events are read by separate statements. A turn starting in between moves its
        // question from the queue onto the branch and moves the active leaf: read across that commit, the question
        // would be in neither list. So they are read in one snapshot (this used to re-read until the session's
        // Version held still, which under a turn's commits cost a second or third whole read).
        await using var snapshot = await db.BeginSnapshotReadAsync(ct);
        var session = await db.ChatSessions.AsNoTracking()
            .FirstOrDefaultAsync(s => s.Id == sessionId && s.OwnerId == userId, ct);
        if (session is null)
        {
            return null;
        }
        return await ReadViewAsync(db, session, cipher, turns.IsGenerating(sessionId), ct) with { ReadStartedAt = startedAt };
    }

    private static async Task<ConversationView> ReadViewAsync(AppDbContext db, ChatSession session, UserCipher cipher, bool workerBusy, CancellationToken ct)
    {
        var sessionId = session.Id;
        var slice = await BranchReader.ReadEndingAtAsync(db, sessionId, session.ActiveLeafId, PageSize, ct);
        var queued = await BranchReader.ReadQueuedAsync(db, sessionId, ct);
        var messages = await ToViewsAsync(db, sessionId, slice.Messages, cipher, ct);
        messages.AddRange(queued.Select(q => BranchReader.ToView(q, null, cipher)));

        // When the leaf holds the session's last Seq, nothing was appended after it, so nothing hangs below it: the
        // usual case (an answer streaming or sealed, a conversation at rest) is spared a statement. Sound only because
        // the session row and the events are read in one snapshot.
        var leafIsLastEvent = slice.Messages is [.., var last] && last.Id == session.ActiveLeafId && last.Seq == session.LastSeq;
        var later = session.ActiveLeafId is { } leaf && !leafIsLastEvent
            ? await db.SessionEvents.AsNoTracking()
                .Where(e => e.SessionId == sessionId && e.ParentId == leaf && e.Status != EventStatus.Queued)
                .OrderByDescending(e => e.Seq).Select(e => e.Id).Take(100).ToListAsync(ct)
            : [];
        var latestLaterLeaf = later.Count > 0 ? await LaterLeafAsync(db, session, later[0], ct) : (Guid?)null;

        // Busy while a question waits (Queued) or an answer is written (Streaming), and also while the session's
        // worker holds a request not yet in the log (an edit's or a regenerate's answer about to start). The worker
        // announces when it goes, so a reader never keeps a stale "busy".
        var generating = workerBusy || messages.Any(m => m.Status is EventStatus.Streaming or EventStatus.Queued);
        return new ConversationView(session.Id, cipher.Decrypt(session.TitleCipher), messages, generating, slice.HasOlder, later.Count, latestLaterLeaf);
    }

    /// <summary>
    /// Where "Show later messages" leads after a rewind: back to the leaf the user left, when the last move of the
    /// leaf came from below the current one; otherwise the newest branch below.
    /// </summary>
    private static async Task<Guid> LaterLeafAsync(AppDbContext db, ChatSession session, Guid newestChild, CancellationToken ct)
    {
        var lastMove = await db.SessionEvents.AsNoTracking()
            .Where(e => e.SessionId == session.Id && (e.Kind == EventKind.Rewound || e.Kind == EventKind.ResumedFromCheckpoint || e.Kind == EventKind.VersionSwitched))
            .OrderByDescending(e => e.Seq)
            .Select(e => new { e.TargetId, e.PreviousLeafId })
            .FirstOrDefaultAsync(ct);
        if (lastMove is { PreviousLeafId: { } previous } && lastMove.TargetId == session.ActiveLeafId
            && (await BranchAncestors.ReadAsync(db, previous, LaterLeafSearchDepth, ct)).Contains(session.ActiveLeafId!.Value))
        {
            return previous;
        }
        return await BranchReader.LatestLeafBelowAsync(db, session.Id, newestChild, ct);
    }

    /// <summary>How far below the rewound-to message the previous leaf may lie for "Show later messages" to return to it.</summary>
    private const int LaterLeafSearchDepth = 400;

    /// <summary>How many messages below a message jumped to (from search) are shown with it.</summary>
    public const int MessagesAfterFocus = 10;

    /// <summary>
    /// The conversation opened at <paramref name="messageId"/>, however deep in its history: the newest page when the
    /// message is in it; otherwise a page of the branch through the message, ending up to <see cref="MessagesAfterFocus"/>
    /// messages below it (following the newest version at each step). Both cost a page, never the whole history. Null
    /// when the conversation does not exist for this user.
    /// </summary>
    public async Task<ConversationWindow?> GetConversationAroundAsync(string userId, Guid sessionId, Guid messageId, CancellationToken ct = default)
    {
        var latest = await GetConversationAsync(userId, sessionId, ct);
        if (latest is null)
        {
            return null;
        }
        if (latest.Messages.Any(m => m.Id == messageId))
        {
            return new ConversationWindow(latest, messageId, IsLatest: true);
        }
        await using var db = await contexts.CreateDbContextAsync(ct);
        var target = await db.SessionEvents.AsNoTracking()
            .Where(e => e.Id == messageId && e.SessionId == sessionId
                        && (e.Kind == EventKind.UserMessage || e.Kind == EventKind.AssistantMessage) && e.Status != EventStatus.Queued)
            .Select(e => (Guid?)e.Id).FirstOrDefaultAsync(ct);
        if (target is null)
        {
            return new ConversationWindow(latest, null, IsLatest: true);
        }
        var end = await BranchReader.NewestDescendantAsync(db, sessionId, messageId, MessagesAfterFocus, ct);
        var slice = await BranchReader.ReadEndingAtAsync(db, sessionId, end, PageSize, ct);
        var cipher = await protector.ForUserAsync(userId, ct);
        var messages = await ToViewsAsync(db, sessionId, slice.Messages, cipher, ct);
        var window = latest with { Messages = messages, HasOlder = slice.HasOlder, LaterMessages = 0, LatestLaterLeafId = null };
        return new ConversationWindow(window, messageId, IsLatest: false);
    }

    /// <summary>The page of the active branch just above <paramref name="beforeMessageId"/> (scrolling up).</summary>
    public async Task<(IReadOnlyList<MessageView> Messages, bool HasOlder)> GetOlderMessagesAsync(string userId, Guid sessionId, Guid beforeMessageId, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        await SessionAccess.RequireOwnedAsync(db, userId, sessionId, ct);
        var first = await SessionAccess.RequireMessageAsync(db, sessionId, beforeMessageId, ct);
        var slice = await BranchReader.ReadEndingAtAsync(db, sessionId, first.ParentId, PageSize, ct);
        var cipher = await protector.ForUserAsync(userId, ct);
        return (await ToViewsAsync(db, sessionId, slice.Messages, cipher, ct), slice.HasOlder);
    }

    /// <summary>
    /// The page just below <paramref name="afterMessageId"/> (scrolling down a window opened at an earlier message),
    /// following the newest branch as the window did; <c>HasNewer</c> says whether more follow.
    /// </summary>
    public async Task<(IReadOnlyList<MessageView> Messages, bool HasNewer)> GetNewerMessagesAsync(string userId, Guid sessionId, Guid afterMessageId, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        await SessionAccess.RequireOwnedAsync(db, userId, sessionId, ct);
        await SessionAccess.RequireMessageAsync(db, sessionId, afterMessageId, ct);
        var end = await BranchReader.NewestDescendantAsync(db, sessionId, afterMessageId, PageSize, ct);
        if (end == afterMessageId)
        {
            return ([], false);
        }
        // One more than a page, so that the slice reaches up to the message the page continues from.
        var slice = await BranchReader.ReadEndingAtAsync(db, sessionId, end, PageSize + 1, ct);
        var below = slice.Messages.SkipWhile(m => m.Id != afterMessageId).Skip(1).ToList();
        var hasNewer = await BranchReader.NewestDescendantAsync(db, sessionId, end, 1, ct) != end;
        var cipher = await protector.ForUserAsync(userId, ct);
        return (await ToViewsAsync(db, sessionId, below, cipher, ct), hasNewer);
    }

    private static async Task<List<MessageView>> ToViewsAsync(AppDbContext db, Guid sessionId, IReadOnlyList<SessionEvent> messages, UserCipher cipher, CancellationToken ct)
    {
        var versions = await BranchReader.ReadVersionsAsync(db, sessionId, messages, ct);
        return messages.Select(m => BranchReader.ToView(m, versions.GetValueOrDefault(m.Id), cipher)).ToList();
    }

    /// <summary>
    /// Stores the user's message and has it answered. <paramref name="clientId"/> is generated by the client for
    /// each message it sends: sending the same one twice (double click, resend after reconnect) stores it once.
    /// A new conversation is created under <paramref name="sessionId"/> when <paramref name="createIfMissing"/>.
    /// </summary>
    public async Task<SendResult> SendAsync(string userId, Guid sessionId, string text, string clientId, bool createIfMissing = false, CancellationToken ct = default)
    {
        var message = Validate(text);
        ValidateClientId(clientId);
        var cipher = await protector.ForUserAsync(userId, ct);
        var result = await StoreOnceAsync(userId, sessionId, clientId,
            (db, now) => StoreQueuedAsync(db, userId, sessionId, message, cipher, clientId, createIfMissing, now), ct);
        turns.Kick(result.SessionId, userId);
        return result;
    }

    /// <summary>
    /// Edits a user message the only way the log allows: a new version beside the original (a new branch), which
    /// becomes the active branch and is answered. The original and everything below it stay reachable.
    /// </summary>
    public async Task<SendResult> EditAsync(string userId, Guid sessionId, Guid messageId, string text, string clientId, CancellationToken ct = default)
    {
        var message = Validate(text);
        ValidateClientId(clientId);
        var cipher = await protector.ForUserAsync(userId, ct);
        var result = await StoreOnceAsync(userId, sessionId, clientId, async (db, now) =>
        {
            await SessionAccess.RequireOwnedAsync(db, userId, sessionId, ct);
            var original = await SessionAccess.RequireMessageAsync(db, sessionId, messageId, ct);
            if (original.Kind != EventKind.UserMessage)
            {
                throw new ChatInputException("Only your own messages can be edited; regenerate an answer instead.");
            }
            if (await FindDuplicateAsync(db, sessionId, clientId, ct) is { } duplicate)
            {
                return duplicate;
            }
            var edited = await SessionLog.AppendAsync(db, new SessionEvent
            {
                Id = Guid.CreateVersion7(now),
                SessionId = sessionId,
                Kind = EventKind.UserMessage,
                ParentId = original.ParentId,
                Author = userId,
                ContentCipher = cipher.Encrypt(message),
                Status = EventStatus.Complete,
                ClientId = clientId,
            }, now, ct);
            await SearchIndexer.IndexAsync(db, userId, cipher, sessionId, edited.Id, message, ct);
            await SessionLog.SetActiveLeafAsync(db, sessionId, edited.Id, ct);
            return new SendResult(sessionId, edited.Id, WasDuplicate: false);
        }, ct);
        if (!result.WasDuplicate)
        {
            turns.Regenerate(sessionId, userId, result.MessageId);
        }
        return result;
    }

    /// <summary>
    /// Writes a new answer (a sibling of the earlier ones) to a question. <paramref name="messageId"/> is either an
    /// answer (regenerate it, retry it when it failed) or a question left without one.
    /// </summary>
    public async Task RegenerateAsync(string userId, Guid sessionId, Guid messageId, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        await SessionAccess.RequireOwnedAsync(db, userId, sessionId, ct);
        var message = await SessionAccess.RequireMessageAsync(db, sessionId, messageId, ct);
        var questionId = message.Kind == EventKind.UserMessage ? message.Id : message.ParentId;
        if (questionId is null || message.Status == EventStatus.Streaming)
        {
            return;
        }
        turns.Regenerate(sessionId, userId, questionId.Value);
    }

    /// <summary>Carries on an interrupted answer: a new version that starts with its text.</summary>
    public async Task ContinueAsync(string userId, Guid sessionId, Guid answerId, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        await SessionAccess.RequireOwnedAsync(db, userId, sessionId, ct);
        var answer = await SessionAccess.RequireMessageAsync(db, sessionId, answerId, ct);
        if (answer.Kind != EventKind.AssistantMessage || answer.ParentId is not { } questionId || answer.Status == EventStatus.Streaming)
        {
            throw new ChatInputException("Only an answer that was cut off can be continued.");
        }
        turns.Continue(sessionId, userId, questionId, answerId);
    }

    public async Task<bool> StopAsync(string userId, Guid sessionId, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        await SessionAccess.RequireOwnedAsync(db, userId, sessionId, ct);
        return await turns.RequestStopAsync(sessionId, ct);
    }

    private async Task<SendResult> StoreQueuedAsync(AppDbContext db, string userId, Guid sessionId, string message, UserCipher cipher, string clientId, bool createIfMissing, DateTimeOffset now)
    {
        var session = await db.ChatSessions.AsNoTracking().FirstOrDefaultAsync(s => s.Id == sessionId);
        if (session is null && createIfMissing)
        {
            db.ChatSessions.Add(new ChatSession
            {
                Id = sessionId,
                OwnerId = userId,
                TitleCipher = cipher.Encrypt(TitleFrom(message)),
                CreatedAt = now,
                LastActivityAt = now,
                LastOpenedAt = now,
                Version = Guid.NewGuid(),
            });
            await db.SaveChangesAsync();
        }
        else if (session is null || session.OwnerId != userId)
        {
            throw new SessionNotFoundException();
        }
        else if (await FindDuplicateAsync(db, sessionId, clientId, CancellationToken.None) is { } duplicate)
        {
            return duplicate;
        }

        // Stored as queued: the turn runner gives it its place in the conversation when its answer starts.
        var evt = await SessionLog.AppendAsync(db, new SessionEvent
        {
            Id = Guid.CreateVersion7(now),
            SessionId = sessionId,
            Kind = EventKind.UserMessage,
            Author = userId,
            ContentCipher = cipher.Encrypt(message),
            Status = EventStatus.Queued,
            ClientId = clientId,
        }, now, CancellationToken.None);
        // Searchable from the moment it is stored, in the same transaction.
        await SearchIndexer.IndexAsync(db, userId, cipher, sessionId, evt.Id, message, CancellationToken.None);
        return new SendResult(sessionId, evt.Id, WasDuplicate: false);
    }

    /// <summary>Runs a store in a transaction; a send that raced itself (same client id) reports the winner.</summary>
    private async Task<SendResult> StoreOnceAsync(string userId, Guid sessionId, string clientId, Func<AppDbContext, DateTimeOffset, Task<SendResult>> store, CancellationToken ct)
    {
        SendResult result;
        try
        {
            await using var db = await contexts.CreateDbContextAsync(ct);
            await using var tx = await db.BeginWriteTransactionAsync(ct);
            result = await store(db, clock.GetUtcNow());
            await tx.CommitAsync(ct);
            // The message was indexed with it: its terms go into the postings in the background.
            merger.Nudge();
        }
        catch (DbUpdateException ex) when (IsUniqueViolation(ex))
        {
            await using var db = await contexts.CreateDbContextAsync(ct);
            await SessionAccess.RequireOwnedAsync(db, userId, sessionId, ct);
            result = await FindDuplicateAsync(db, sessionId, clientId, ct) ?? throw new SessionNotFoundException();
        }
        if (!result.WasDuplicate)
        {
            // A new message (and maybe a new session): the conversation, and the sidebar's order (its last activity).
            bus.Publish(new SessionChange(userId, result.SessionId, SessionChangeKind.Changed, result.MessageId, Parts: SessionParts.Conversation | SessionParts.Listing));
        }
        return result;
    }

    private string Validate(string? text)
    {
        var message = ValidateLength(text);
        try
        {
            assembler.EnsureFits(model.Name, message);
        }
        catch (Context.ContextTooLargeException ex)
        {
            throw new ChatInputException(ex.Message);
        }
        return message;
    }

    private string ValidateLength(string? text)
    {
        var message = text?.Trim() ?? "";
        if (message.Length == 0)
        {
            throw new ChatInputException("Type a message first: an empty message cannot be sent.");
        }
        if (message.Length > limits.MaxMessageLength)
        {
            throw new ChatInputException(
                $"This message is {message.Length:N0} characters long; the limit is {limits.MaxMessageLength:N0}. Shorten it or split it into parts.");
        }
        return message;
    }

    private static void ValidateClientId(string clientId)
    {
        if (string.IsNullOrWhiteSpace(clientId) || clientId.Length > 64)
        {
            throw new ArgumentException("A client id of 1 to 64 characters is required.", nameof(clientId));
        }
    }

    private string TitleFrom(string message)
    {
        var firstLine = message.Split('\n', 2)[0].Trim();
        return firstLine.Length <= limits.TitleLength ? firstLine : firstLine[..limits.TitleLength].TrimEnd() + "…";
    }

    private static async Task<SendResult?> FindDuplicateAsync(AppDbContext db, Guid sessionId, string clientId, CancellationToken ct)
    {
        var id = await db.SessionEvents.AsNoTracking()
            .Where(e => e.SessionId == sessionId && e.ClientId == clientId)
            .Select(e => (Guid?)e.Id)
            .FirstOrDefaultAsync(ct);
        return id is { } found ? new SendResult(sessionId, found, WasDuplicate: true) : null;
    }

    private static bool IsUniqueViolation(DbUpdateException ex) => ex.InnerException switch
    {
        SqliteException { SqliteErrorCode: 19 } => true, // SQLITE_CONSTRAINT
        PostgresException { SqlState: PostgresErrorCodes.UniqueViolation } => true,
        _ => false,
    };
}
