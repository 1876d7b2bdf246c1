using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ResearchAssistant.Core.Data;
using ResearchAssistant.Core.Privacy;
using ResearchAssistant.Core.Sessions;

namespace ResearchAssistant.Core.Context;

/// <summary>
/// Keeps a rolling summary of each branch's older part, written in the background after a turn so it never delays an
/// answer. A summary covers the branch up to a message; it serves every later turn on a branch through that message
/// and is simply not found by a branch that left it (an edit above it, a rewind), which gets its own once its
/// unsummarized older part passes <see cref="ContextOptions.SummarizeAfterTokens"/>.
/// </summary>
public sealed class Summarizer(
    IDbContextFactory<AppDbContext> contexts,
    ContentProtector protector,
    ISummaryWriter writer,
    ContextOptions options,
    ITokenCounter counter,
    TimeProvider clock,
    ILogger<Summarizer> logger) : IHostedService
{
    /// <summary>
    /// Messages nearest the leaf left unsummarized. Small on purpose: the assembler only uses a summary that ends above
    /// its recent window, so summaries that reach close to the leaf leave no gap between summary and window.
    /// </summary>
    public const int KeepRecentMessages = 6;

    private readonly ConcurrentDictionary<Guid, Task> _running = new();
    private readonly CancellationTokenSource _shutdown = new();

    /// <summary>Starts summarizing the branch ending at <paramref name="leafId"/> if it needs it; returns at once.</summary>
    public void Schedule(string ownerId, Guid sessionId, Guid leafId)
    {
        if (_shutdown.IsCancellationRequested || _running.ContainsKey(sessionId))
        {
            return;
        }
        var task = Task.Run(async () =>
        {
            try
            {
                await SummarizeIfNeededAsync(ownerId, sessionId, leafId, _shutdown.Token);
            }
            catch (OperationCanceledException) when (_shutdown.IsCancellationRequested)
            {
            }
            catch (Exception ex)
            {
                // A missing summary costs context, not correctness: log and carry on.
                logger.LogWarning(ex, "Summarizing session {SessionId} failed", sessionId);
            }
            finally
            {
                _running.TryRemove(sessionId, out _);
            }
        });
        _running.TryAdd(sessionId, task);
    }

    /// <summary>Completes when no summary is being written (used to let background work settle before measuring).</summary>
    public Task WhenIdleAsync() => Task.WhenAll(_running.Values);

    /// <summary>Summarizes now if the older part needs it (also what the background task runs); returns the new summary's id.</summary>
    public async Task<Guid?> SummarizeIfNeededAsync(string ownerId, Guid sessionId, Guid leafId, CancellationToken ct)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var cipher = await protector.ForUserAsync(ownerId, ct);
        // Ids first (cheap), rows only for the part not summarized yet: this runs after every turn, and summaries keep
        // pace, so the part to read is usually a few messages, not the whole search depth.
        var ids = await BranchAncestors.ReadAsync(db, leafId, SummaryStore.SearchDepth - 1, ct);
        ids.Reverse();
        ids.Add(leafId);
        var lastToSummarize = ids.Count - 1 - KeepRecentMessages;
        if (lastToSummarize < 0)
        {
            return null;
        }

        var existing = await db.Set<Summary>().AsNoTracking()
            .Where(s => s.SessionId == sessionId && ids.Contains(s.ToMessageId))
            .ToListAsync(ct);
        var previous = existing.MaxBy(s => ids.IndexOf(s.ToMessageId));
        var firstNew = previous is null ? 0 : ids.IndexOf(previous.ToMessageId) + 1;
        if (firstNew > lastToSummarize)
        {
            return null;
        }
        var wanted = ids.Skip(firstNew).Take(lastToSummarize - firstNew + 1).ToList();
        // By primary key only, the session checked after (SQLite would otherwise walk the session's whole index).
        var rows = (await db.SessionEvents.AsNoTracking().Where(e => wanted.Contains(e.Id)).ToListAsync(ct))
            .Where(e => e.SessionId == sessionId).ToDictionary(e => e.Id);
        if (rows.Count != wanted.Count)
        {
            return null; // the branch changed under us (erased messages); the next turn tries again
        }
        var chunk = wanted.Select(id => BranchReader.ToPromptView(rows[id], cipher))
            .Where(m => m.Status != EventStatus.Failed && m.Text.Length > 0)
            .ToList();
        if (chunk.Count == 0 || chunk.Sum(m => counter.Count(m.Text)) < options.SummarizeAfterTokens)
        {
            return null;
        }

        var previousText = previous is null ? null : cipher.Decrypt(previous.ContentCipher);
        var text = await writer.SummarizeAsync(previousText, chunk, options.MaxSummaryTokens, ct);
        var last = rows[wanted[^1]];
        var summary = new Summary
        {
            Id = Guid.CreateVersion7(clock.GetUtcNow()),
            SessionId = sessionId,
            ToMessageId = last.Id,
            FromSeq = previous?.FromSeq ?? rows[wanted[0]].Seq,
            ToSeq = last.Seq,
            Model = writer.Name,
            TokenCount = counter.Count(text),
            ContentCipher = cipher.Encrypt(text),
            CreatedAt = clock.GetUtcNow(),
        };
        db.Add(summary);
        await db.SaveChangesAsync(ct);
        return summary.Id;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _shutdown.CancelAsync();
        await Task.WhenAll(_running.Values).WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None).ContinueWith(_ => { }, TaskScheduler.Default);
    }
}
