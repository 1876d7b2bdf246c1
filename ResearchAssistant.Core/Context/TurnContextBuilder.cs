using Microsoft.EntityFrameworkCore;
using ResearchAssistant.Core.Data;
using ResearchAssistant.Core.Llm;
using ResearchAssistant.Core.Privacy;
using ResearchAssistant.Core.Sessions;

namespace ResearchAssistant.Core.Context;

/// <summary>
/// Reads what a turn's prompt may draw on (the window of the branch ending at the question, preferences, the summary
/// above the window, recalled messages) and has the assembler build the prompt. Its cost is bounded by
/// <see cref="ContextOptions.MaxRecentMessages"/>, <see cref="SummaryStore.SearchDepth"/> and recall's bounded search
/// (<see cref="Search.RecallTopK"/>, then each candidate tested in O(log depth), see <see cref="SearchRecall"/>), never by
/// the session's length. Reads that do not depend on each other run at once, each on its own connection: the
/// preferences and recall's search beside the window, the summary beside recall's branch check.
/// </summary>
public sealed class TurnContextBuilder(
    IDbContextFactory<AppDbContext> contexts,
    ContextAssembler assembler,
    IMessageRecall recall,
    Accounts.UserProfileService profiles,
    ContentProtector protector,
    IChatModel model)
{
    public async Task<AssembledContext> BuildAsync(string ownerId, Guid sessionId, Guid questionId, CancellationToken ct)
    {
        var options = assembler.Options;
        var preferences = profiles.GetPreferencesAsync(ownerId, ct);
        var cipher = await protector.ForUserAsync(ownerId, ct);
        await using var db = await contexts.CreateDbContextAsync(ct);
        // Recall's search needs only the question, so it starts as soon as the question is read, beside everything else.
        // Not when the branch is short enough to be in the first page and may fit the budget whole: then recall is
        // likely not needed (and is started when it is, below).
        var asked = await db.SessionEvents.AsNoTracking()
            .Where(e => e.Id == questionId && e.SessionId == sessionId).Select(e => new { e.ContentCipher, e.Depth }).FirstOrDefaultAsync(ct);
        var question = asked is null ? "" : cipher.Decrypt(asked.ContentCipher);
        Task<RecallRanking?>? ranking = null;
        Task<RecallRanking?> Rank() => ranking ??= recall.RankAsync(ownerId, sessionId, question, RankingDepth(options), ct);
        var pageSize = Math.Min(FirstWindowPage, options.MaxRecentMessages);
        if (asked?.Depth >= pageSize)
        {
            _ = Rank();
        }
        var firstPage = await BranchReader.ReadEndingAtAsync(db, sessionId, questionId, pageSize, ct);
        var views = firstPage.Messages.Select(m => BranchReader.ToPromptView(m, cipher)).ToList();
        var couldUseOlder = assembler.CouldUseOlderThan(model.Name, views);
        if (!couldUseOlder)
        {
            _ = Rank();
        }
        try
        {
            var hasOlder = await ReadRestOfWindowAsync(db, sessionId, firstPage, views, couldUseOlder, cipher, options, ct);
            var sources = new ContextSources(
                await preferences,
                views,
                hasOlder,
                windowStart => SummaryStore.FindAboveAsync(db, sessionId, windowStart, cipher, ct),
                async (windowStart, exclude) => await Rank() is { } ranked
                    ? await recall.RecallAsync(ownerId, sessionId, ranked, windowStart, exclude, options.MaxRecalled, ct)
                    : []);
            return await assembler.AssembleAsync(model.Name, sources);
        }
        finally
        {
            // When the prompt did not need recall (all of it fit), a search started early is let finish, its outcome dropped.
            if (ranking is not null)
            {
                await ranking.ContinueWith(static _ => { }, TaskScheduler.Default);
            }
        }
    }

    /// <summary>
    /// The rest of <see cref="ContextOptions.MaxRecentMessages"/> above the first page, only when the budget could still
    /// use older messages. Most turns of a long conversation fill the budget within the first page, so they read and
    /// decrypt a third of the rows. Returns whether older messages exist above what <paramref name="views"/> holds.
    /// </summary>
    /// <param name="couldUseOlder">What <see cref="ContextAssembler.CouldUseOlderThan"/> said of the first page.</param>
    private static async Task<bool> ReadRestOfWindowAsync(AppDbContext db, Guid sessionId, BranchSlice firstPage, List<MessageView> views,
        bool couldUseOlder, UserCipher cipher, ContextOptions options, CancellationToken ct)
    {
        var rest = options.MaxRecentMessages - views.Count;
        if (!firstPage.HasOlder || rest <= 0 || !couldUseOlder)
        {
            return firstPage.HasOlder;
        }
        var above = await BranchReader.ReadEndingAtAsync(db, sessionId, firstPage.Messages[0].ParentId, rest, ct);
        views.InsertRange(0, above.Messages.Select(m => BranchReader.ToPromptView(m, cipher)));
        return above.HasOlder;
    }

    /// <summary>
    /// How many of the conversation's best matches recall's search returns: the messages that will be tested on the
    /// branch, plus as many as the window (excluded by the test) can hold, which may rank above them.
    /// </summary>
    private static int RankingDepth(ContextOptions options) =>
        options.MaxRecalled * SearchRecall.CandidatesPerRecalled + options.MaxRecentMessages + 1;

    private const int FirstWindowPage = 40;
}
