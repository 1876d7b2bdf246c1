using Microsoft.EntityFrameworkCore;
using ResearchAssistant.Core.Data;
using ResearchAssistant.Core.Llm;
using ResearchAssistant.Core.Privacy;
using ResearchAssistant.Core.Sessions;

namespace ResearchAssistant.Core.Context;

/// <summary>
/// Reads what a turn's prompt may draw on (the window of the branch ending at the question, preferences, the summary
/// above the window, recalled messages) and has the assembler build the prompt. Its cost is bounded by
/// <see cref="ContextOptions.MaxRecentMessages"/>, <see cref="SummaryStore.SearchDepth"/> and
/// <see cref="ContextOptions.RecallDepth"/>, never by the session's length.
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
        var branch = await BranchReader.ReadEndingAtAsync(db, sessionId, questionId, options.MaxRecentMessages, ct);
        var views = branch.Messages.Select(m => BranchReader.ToView(m, null, cipher)).ToList();
        var question = views[^1].Text;
        var sources = new ContextSources(
            await profiles.GetPreferencesAsync(ownerId, ct),
            views,
            branch.HasOlder,
            windowStart => SummaryStore.FindAboveAsync(db, sessionId, windowStart, cipher, ct),
            (windowStart, exclude) => recall.RecallAsync(ownerId, sessionId, question, windowStart, exclude, options.MaxRecalled, ct));
        return await assembler.AssembleAsync(model.Name, sources);
    }
}
