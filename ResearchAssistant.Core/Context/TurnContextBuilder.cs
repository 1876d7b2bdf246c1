using Microsoft.EntityFrameworkCore;
using ResearchAssistant.Core.Data;
using ResearchAssistant.Core.Llm;
using ResearchAssistant.Core.Privacy;
using ResearchAssistant.Core.Sessions;

namespace ResearchAssistant.Core.Context;

/// <summary>
/// Reads what a turn's prompt may draw on (the window of the branch ending at the question, preferences, the summary
/// above the window, recalled messages) and has the assembler build the prompt. Its cost is bounded by
/// <see cref="ContextOptions.MaxRecentMessages"/>, <see cref="SummaryStore.SearchDepth"/> and the number of recall
/// candidates (each tested in O(log depth), see <see cref="SearchRecall"/>), never by the session's length.
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
        var cipher = await protector.ForUserAsync(ownerId, ct);
        await using var db = await contexts.CreateDbContextAsync(ct);
        var (views, hasOlder) = await ReadWindowAsync(db, sessionId, questionId, cipher, options, ct);
        var question = views[^1].Text;
        var sources = new ContextSources(
            await profiles.GetPreferencesAsync(ownerId, ct),
            views,
            hasOlder,
            windowStart => SummaryStore.FindAboveAsync(db, sessionId, windowStart, cipher, ct),
            (windowStart, exclude) => recall.RecallAsync(ownerId, sessionId, question, windowStart, exclude, options.MaxRecalled, ct));
        return await assembler.AssembleAsync(model.Name, sources);
    }

    /// <summary>
    /// The newest messages ending at the question: a first page, and the rest of
    /// <see cref="ContextOptions.MaxRecentMessages"/> only when the budget could still use older messages. Most turns of a
    /// long conversation fill the budget within the first page, so they read and decrypt a third of the rows.
    /// </summary>
    private async Task<(List<MessageView> Views, bool HasOlder)> ReadWindowAsync(
        AppDbContext db, Guid sessionId, Guid questionId, UserCipher cipher, ContextOptions options, CancellationToken ct)
    {
        var firstPage = Math.Min(FirstWindowPage, options.MaxRecentMessages);
        var page = await BranchReader.ReadEndingAtAsync(db, sessionId, questionId, firstPage, ct);
        var views = page.Messages.Select(m => BranchReader.ToView(m, null, cipher)).ToList();
        var rest = options.MaxRecentMessages - views.Count;
        if (!page.HasOlder || rest <= 0 || !assembler.CouldUseOlderThan(model.Name, views))
        {
            return (views, page.HasOlder);
        }
        var above = await BranchReader.ReadEndingAtAsync(db, sessionId, page.Messages[0].ParentId, rest, ct);
        views.InsertRange(0, above.Messages.Select(m => BranchReader.ToView(m, null, cipher)));
        return (views, above.HasOlder);
    }

    private const int FirstWindowPage = 40;
}
