using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ResearchAssistant.Core.Context;
using ResearchAssistant.Core.Data;
using ResearchAssistant.Core.Llm;
using ResearchAssistant.Core.Privacy;
using ResearchAssistant.Core.Search;
using ResearchAssistant.Core.Sessions;
using ResearchAssistant.Core.Sync;

namespace ResearchAssistant.Core.Chat;

/// <summary>
/// Writes the answers. One worker per session answers its queued messages one at a time, in Seq order, so a
/// message sent while an answer streams waits its turn instead of racing it. The queue is the database (user
/// messages stored as <see cref="EventStatus.Queued"/>), so nothing sent is lost if the process dies.
/// Generation runs apart from any circuit: closing the tab does not stop an answer.
/// </summary>
public sealed class TurnRunner(
    IDbContextFactory<AppDbContext> contexts,
    IChatModel model,
    TurnContextBuilder contextBuilder,
    ITokenCounter tokenCounter,
    Summarizer summarizer,
    SessionBus bus,
    ContentProtector protector,
    ISessionTurnLock turnLock,
    DatabaseSettings database,
    TimeProvider clock,
    Search.SearchMerger merger,
    ILogger<TurnRunner> logger) : IHostedService
{
    /// <summary>How often a streaming answer's text is written to the database: what a crash can lose at most.</summary>
    public static readonly TimeSpan FlushInterval = TimeSpan.FromMilliseconds(200);

    private readonly ConcurrentDictionary<Guid, SessionWorker> _workers = new();
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _shutdown = new();

    public bool IsGenerating(Guid sessionId) => _workers.ContainsKey(sessionId);

    /// <summary>Makes sure the session's queued messages get answered; cheap to call when nothing is queued.</summary>
    public void Kick(Guid sessionId, string ownerId) => Wake(sessionId, ownerId, regenerateFor: null);

    /// <summary>Writes a new answer (a sibling of the earlier ones) to the given user message.</summary>
    public void Regenerate(Guid sessionId, string ownerId, Guid userMessageId) => Wake(sessionId, ownerId, new AnswerRequest(userMessageId, null));

    /// <summary>Writes a new answer that starts with an interrupted one's text and asks the model to carry on.</summary>
    public void Continue(Guid sessionId, string ownerId, Guid userMessageId, Guid interruptedAnswerId) =>
        Wake(sessionId, ownerId, new AnswerRequest(userMessageId, interruptedAnswerId));

    /// <summary>
    /// How often each instance looks for sessions owed work that no live instance is doing: a question queued, or an
    /// answer left streaming, by an instance that died (several instances on PostgreSQL only).
    /// </summary>
    public static readonly TimeSpan OrphanSweepInterval = TimeSpan.FromSeconds(10);

    /// <summary>What an answer cut off by a stopped or vanished writer says.</summary>
    internal const string InterruptedReason = "The server stopped while this answer was being written.";

    private Task _sweeping = Task.CompletedTask;

    /// <summary>
    /// Stops the answer being written for the session, on whichever instance writes it; its text so far is kept and
    /// sealed as stopped. Here it stops at once; on another instance at that instance's next flush (the request is
    /// stored on the streaming answer). False when no answer of the session is streaming.
    /// </summary>
    public async Task<bool> RequestStopAsync(Guid sessionId, CancellationToken ct)
    {
        // The request first, then the local cancel: cancelled first, the worker could seal this answer and start the
        // next queued one before the request is stored, and the request would stop that one instead.
        int requested;
        await using (var db = await contexts.CreateDbContextAsync(ct))
        {
            using var writing = await db.EnterAsync(ct);
            requested = await db.SessionEvents
                .Where(e => e.SessionId == sessionId && e.Status == EventStatus.Streaming && !e.StopRequested)
                .ExecuteUpdateAsync(u => u.SetProperty(e => e.StopRequested, true), ct);
        }
        return Stop(sessionId) || requested > 0;
    }

    /// <summary>Stops the answer being written by this instance; its text so far is kept and sealed as stopped.</summary>
    public bool Stop(Guid sessionId)
    {
        if (_workers.TryGetValue(sessionId, out var worker) && worker.Current is { } current)
        {
            current.Cancel();
            return true;
        }
        return false;
    }

    private void Wake(Guid sessionId, string ownerId, AnswerRequest? regenerateFor)
    {
        lock (_gate)
        {
            if (_workers.TryGetValue(sessionId, out var running))
            {
                if (regenerateFor is not null)
                {
                    running.Regenerations.Enqueue(regenerateFor);
                }
                running.Woken = true;
                return;
            }
            var worker = new SessionWorker(sessionId, ownerId);
            if (regenerateFor is not null)
            {
                worker.Regenerations.Enqueue(regenerateFor);
            }
            _workers[sessionId] = worker;
            worker.Loop = Task.Run(() => RunWorkerAsync(worker));
        }
    }

    private async Task RunWorkerAsync(SessionWorker worker)
    {
        while (true)
        {
            lock (_gate)
            {
                worker.Woken = false;
            }
            try
            {
                await using var turn = await AcquireTurnAsync(worker);
                if (turn is not null)
                {
                    worker.Turn = turn;
                    await SealOrphanedAnswersAsync(worker);
                    await AnswerEverythingWaitingAsync(worker);
                }
            }
            catch (Exception ex) when (!_shutdown.IsCancellationRequested)
            {
                // Never let one session's failure kill its worker silently; the next Kick retries.
                logger.LogError(ex, "Answering session {SessionId} failed", worker.SessionId);
            }
            catch (OperationCanceledException)
            {
            }
            lock (_gate)
            {
                if (!worker.Woken || _shutdown.IsCancellationRequested)
                {
                    _workers.TryRemove(worker.SessionId, out _);
                    break;
                }
            }
        }
        // Readers count a live worker as "generating"; tell them it is gone so none keeps showing Stop.
        bus.Publish(new SessionChange(worker.OwnerId, worker.SessionId, SessionChangeKind.Changed, Parts: SessionParts.Conversation));
    }

    /// <summary>How often a worker asks again for a turn another instance holds, while it still has work.</summary>
    private static readonly TimeSpan TurnPollInterval = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// Waits for the session's turn. While another instance holds it, that instance answers the queued questions
    /// (the queue is in the database); this worker keeps asking only while work is left that it must do.
    /// </summary>
    private async Task<ISessionTurn?> AcquireTurnAsync(SessionWorker worker)
    {
        while (true)
        {
            var turn = await turnLock.TryAcquireAsync(worker.SessionId, _shutdown.Token);
            if (turn is not null)
            {
                return turn;
            }
            if (!await HasWorkAsync(worker))
            {
                return null;
            }
            await Task.Delay(TurnPollInterval, clock, _shutdown.Token);
        }
    }

    /// <summary>
    /// Holding the session's turn, this worker is the only one that may write its answers: one still marked streaming
    /// was left by a writer that is gone (an instance that died mid-answer) and is sealed as interrupted, keeping its
    /// last flushed text, as start-up does after a crash.
    /// </summary>
    private async Task SealOrphanedAnswersAsync(SessionWorker worker)
    {
        await using var db = await contexts.CreateDbContextAsync(_shutdown.Token);
        if (!await db.SessionEvents.AnyAsync(e => e.SessionId == worker.SessionId && e.Status == EventStatus.Streaming, _shutdown.Token))
        {
            return;
        }
        await using (var tx = await db.BeginWriteTransactionAsync(_shutdown.Token))
        {
            await SessionLog.LockSessionAsync(db, worker.SessionId, _shutdown.Token);
            var cutOff = await db.SessionEvents
                .Where(e => e.SessionId == worker.SessionId && e.Status == EventStatus.Streaming)
                .ExecuteUpdateAsync(u => u
                    .SetProperty(e => e.Status, EventStatus.Interrupted)
                    .SetProperty(e => e.FailureReason, InterruptedReason), _shutdown.Token);
            await SessionChain.AdvanceAsync(db, worker.SessionId, _shutdown.Token);
            await tx.CommitAsync(_shutdown.Token);
            if (cutOff == 0)
            {
                return;
            }
            logger.LogWarning("Sealed {Count} answer(s) of session {SessionId} left streaming by a writer that is gone", cutOff, worker.SessionId);
        }
        // Sealing touches the answers only: not the session's last activity, nor its checkpoints.
        bus.Publish(new SessionChange(worker.OwnerId, worker.SessionId, SessionChangeKind.Changed, Parts: SessionParts.Conversation));
    }

    private async Task<bool> HasWorkAsync(SessionWorker worker)
    {
        if (!worker.Regenerations.IsEmpty)
        {
            return true;
        }
        await using var db = await contexts.CreateDbContextAsync(_shutdown.Token);
        return await db.SessionEvents.AnyAsync(e => e.SessionId == worker.SessionId && e.Status == EventStatus.Queued, _shutdown.Token);
    }

    private async Task AnswerEverythingWaitingAsync(SessionWorker worker)
    {
        while (!_shutdown.IsCancellationRequested)
        {
            if (worker.Regenerations.TryDequeue(out var request))
            {
                await AnswerAsync(worker, request.QuestionId, admitQueued: false, request.ContinueFromAnswerId);
                continue;
            }

            await using var db = await contexts.CreateDbContextAsync(_shutdown.Token);
            var next = await db.SessionEvents.AsNoTracking()
                .Where(e => e.SessionId == worker.SessionId && e.Status == EventStatus.Queued)
                .OrderBy(e => e.Seq)
                .Select(e => (Guid?)e.Id)
                .FirstOrDefaultAsync(_shutdown.Token);
            if (next is null)
            {
                return;
            }
            await AnswerAsync(worker, next.Value, admitQueued: true, continueFrom: null);
        }
    }

    private async Task AnswerAsync(SessionWorker worker, Guid userMessageId, bool admitQueued, Guid? continueFrom)
    {
        await using var db = await contexts.CreateDbContextAsync(_shutdown.Token);
        var cipher = await protector.ForUserAsync(worker.OwnerId, _shutdown.Token);
        var partialCipher = continueFrom is { } partialId
            ? await db.SessionEvents.AsNoTracking().Where(e => e.Id == partialId).Select(e => e.ContentCipher).FirstOrDefaultAsync(_shutdown.Token)
            : null;
        var partial = partialCipher is null ? null : cipher.Decrypt(partialCipher);
        var answer = await StartAnswerAsync(db, worker, userMessageId, admitQueued);
        if (answer is null)
        {
            return;
        }
        // The answer's row is an append: the conversation, and the session's last activity (the sidebar's order).
        Publish(worker, SessionChangeKind.Changed, answer.Id, parts: SessionParts.Conversation | SessionParts.Listing);

        var live = new LiveText();
        AssembledContext assembled;
        try
        {
            assembled = await contextBuilder.BuildAsync(worker.OwnerId, worker.SessionId, userMessageId, _shutdown.Token);
        }
        catch (ContextTooLargeException ex)
        {
            await SealAsync(db, worker, answer.Id, cipher, live, new Outcome(EventStatus.Failed, ex.Message, null), plan: null);
            return;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The answer row exists already: it must not stay "streaming" because its prompt could not be built.
            logger.LogError(ex, "Building the prompt for session {SessionId} failed", worker.SessionId);
            await SealAsync(db, worker, answer.Id, cipher, live, new Outcome(EventStatus.Failed, "The conversation could not be prepared for the model. Retry it.", null), plan: null);
            return;
        }
        var prompt = assembled.Prompt;
        if (!string.IsNullOrEmpty(partial))
        {
            // The new answer starts as the old one ended, and the model is asked to carry on from there.
            live.Append(partial);
            prompt = prompt with
            {
                Messages = [.. prompt.Messages,
                    new PromptMessage(PromptRole.Assistant, partial),
                    new PromptMessage(PromptRole.User, ContextAssembler.ContinueInstruction)],
            };
        }

        using var generation = CancellationTokenSource.CreateLinkedTokenSource(_shutdown.Token);
        worker.Current = generation;
        var outcome = await StreamAsync(db, worker, answer.Id, prompt, live, cipher, generation);
        worker.Current = null;
        if (outcome.InputTokens is { } billed)
        {
            tokenCounter.Calibrate(model.Name, assembled.Plan.TotalTokens, billed);
        }
        await SealAsync(db, worker, answer.Id, cipher, live, outcome, assembled.Plan);
        if (outcome.Status == EventStatus.Complete)
        {
            summarizer.Schedule(worker.OwnerId, worker.SessionId, answer.Id);
        }
    }

    /// <summary>How long a seal keeps retrying while the database is unreachable (a restart): the whole answer is in memory.</summary>
    private static readonly TimeSpan SealRetryBudget = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Writes the answer's final text and status once; it is immutable afterwards. A database that is briefly away
    /// (a restart, a failover) is waited for: the text since the last flush exists nowhere else.
    /// </summary>
    private async Task SealAsync(AppDbContext db, SessionWorker worker, Guid answerId, UserCipher cipher, LiveText live, Outcome outcome, ContextPlan? plan)
    {
        var backoff = new Sync.Backoff();
        var started = clock.GetTimestamp();
        while (true)
        {
            try
            {
                await SealOnceAsync(db, worker, answerId, cipher, live, outcome, plan);
                return;
            }
            catch (Exception ex) when (IsConnectionFailure(ex) && clock.GetElapsedTime(started) < (_shutdown.IsCancellationRequested ? TimeSpan.FromSeconds(3) : SealRetryBudget))
            {
                logger.LogWarning(ex, "Sealing an answer of session {SessionId} failed; retrying", worker.SessionId);
                await Task.Delay(backoff.Next(), CancellationToken.None);
                // The failed context's connection may be broken: retry on a fresh one.
                await db.DisposeAsync();
                db = await contexts.CreateDbContextAsync(CancellationToken.None);
            }
        }
    }

    /// <summary>
    /// A lost or refused database connection, or the server going down or away (as opposed to a bug or a constraint):
    /// worth retrying. EF may wrap the provider's exception.
    /// </summary>
    private static bool IsConnectionFailure(Exception ex) => IsConnectionFailureItself(ex) || ex.InnerException is { } inner && IsConnectionFailureItself(inner);

    private static bool IsConnectionFailureItself(Exception ex) => ex switch
    {
        // 08: connection exception; 57P0x: the server shutting down, crashed, or not accepting connections yet.
        Npgsql.PostgresException postgres => postgres.IsTransient || postgres.SqlState.StartsWith("08", StringComparison.Ordinal) || postgres.SqlState.StartsWith("57P", StringComparison.Ordinal),
        System.Data.Common.DbException db => db.IsTransient,
        _ => false,
    };

    private async Task SealOnceAsync(AppDbContext db, SessionWorker worker, Guid answerId, UserCipher cipher, LiveText live, Outcome outcome, ContextPlan? plan)
    {
        // Sealing must happen even during shutdown: that is what makes a stopped server's answers "interrupted".
        var text = live.Snapshot();
        var finalText = cipher.Encrypt(text);
        var planJson = plan?.ToJson();
        await using (var tx = await db.BeginWriteTransactionAsync(CancellationToken.None))
        {
            await SessionLog.LockSessionAsync(db, worker.SessionId, CancellationToken.None);
            var sealedRows = await db.SessionEvents
                .Where(e => e.Id == answerId && e.Status == EventStatus.Streaming)
                .ExecuteUpdateAsync(u => u
                    .SetProperty(e => e.ContentCipher, finalText)
                    .SetProperty(e => e.ContextPlan, planJson)
                    .SetProperty(e => e.Status, outcome.Status)
                    .SetProperty(e => e.FailureReason, outcome.Reason)
                    .SetProperty(e => e.TokenCount, outcome.OutputTokens), CancellationToken.None);
            // A sealed answer is final, so it is indexed now, with the seal. A failed one holds no answer to find.
            if (sealedRows == 1 && outcome.Status != EventStatus.Failed)
            {
                await SearchIndexer.IndexAsync(db, worker.OwnerId, cipher, worker.SessionId, answerId, text, CancellationToken.None);
            }
            // Sealed, this answer (and whatever waited behind it) can join the hash chain.
            await SessionChain.AdvanceAsync(db, worker.SessionId, CancellationToken.None);
            await tx.CommitAsync(CancellationToken.None);
        }
        merger.Nudge();
        // The seal updates the answer in place: not the session's last activity, nor its checkpoints.
        Publish(worker, SessionChangeKind.Changed, answerId, parts: SessionParts.Conversation);
    }

    /// <summary>
    /// Places a queued question at the end of the active branch and creates the answer's row, streaming and empty,
    /// in one transaction. Returns null when the question is gone (deleted, or already admitted elsewhere).
    /// </summary>
    private async Task<SessionEvent?> StartAnswerAsync(AppDbContext db, SessionWorker worker, Guid userMessageId, bool admitQueued)
    {
        var now = clock.GetUtcNow();
        await using var tx = await db.BeginWriteTransactionAsync(_shutdown.Token);
        var session = await db.ChatSessions.AsNoTracking().FirstOrDefaultAsync(s => s.Id == worker.SessionId, _shutdown.Token);
        var question = await db.SessionEvents.AsNoTracking()
            .FirstOrDefaultAsync(e => e.Id == userMessageId && e.SessionId == worker.SessionId && e.Kind == EventKind.UserMessage, _shutdown.Token);
        if (session is null || question is null || admitQueued && question.Status != EventStatus.Queued)
        {
            return null;
        }

        // The places in the tree of the question (below the leaf, when it is admitted now) and of its answer, from
        // one read of the leaf's jump pointers: the question's row is only updated after the append (below).
        // (Otherwise the question is placed already, and the append reads its place.)
        var questionPlace = TreePlace.Root;
        TreePlace? answerPlace = null;
        if (admitQueued && session.ActiveLeafId is { } leafId)
        {
            var leaf = await MessageTree.ReadAsync(db, leafId, _shutdown.Token)
                ?? throw new InvalidOperationException("The session's active leaf is missing from the log.");
            questionPlace = leaf.Child();
            answerPlace = leaf.Grandchild(userMessageId, questionPlace);
        }
        else if (admitQueued)
        {
            answerPlace = MessageTree.Below(userMessageId, questionPlace, _ => null);
        }

        // The append comes first because it locks the session row (PostgreSQL), and a send locks that row before
        // its insert checks the client-id index. Updating the question first took the locks in the opposite order:
        // a send repeating the question's client id then waited on the question's row while holding the session row
        // this transaction was waiting for, and PostgreSQL aborted one of them as a deadlock.
        var answer = await SessionLog.AppendAsync(db, new SessionEvent
        {
            Id = Guid.CreateVersion7(now),
            SessionId = worker.SessionId,
            Kind = EventKind.AssistantMessage,
            ParentId = userMessageId,
            Author = model.Name,
            Status = EventStatus.Streaming,
        }, now, _shutdown.Token, place: answerPlace);

        if (admitQueued)
        {
            await db.SessionEvents.Where(e => e.Id == userMessageId && e.Status == EventStatus.Queued)
                .ExecuteUpdateAsync(u => u
                    .SetProperty(e => e.ParentId, session.ActiveLeafId)
                    .SetProperty(e => e.Depth, questionPlace.Depth)
                    .SetProperty(e => e.JumpId, questionPlace.JumpId)
                    .SetProperty(e => e.Status, EventStatus.Complete), _shutdown.Token);
        }
        await SessionLog.SetActiveLeafAsync(db, worker.SessionId, answer.Id, _shutdown.Token);
        await tx.CommitAsync(_shutdown.Token);
        db.ChangeTracker.Clear();
        return answer;
    }

    private async Task<Outcome> StreamAsync(AppDbContext db, SessionWorker worker, Guid answerId, ModelPrompt prompt, LiveText live, UserCipher cipher, CancellationTokenSource generation)
    {
        var ct = generation.Token;
        using var flushing = new CancellationTokenSource();
        worker.TurnLost = false;
        var flushLoop = FlushPeriodicallyAsync(db, worker, answerId, live, cipher, generation, flushing.Token);
        int? outputTokens = null;
        int? inputTokens = null;
        Outcome outcome;
        try
        {
            await foreach (var update in model.StreamAsync(prompt, ct).WithCancellation(ct))
            {
                if (update.Delta is { } delta)
                {
                    live.Append(delta);
                    Publish(worker, SessionChangeKind.Streaming, answerId, live);
                }
                if (update.Usage is { } usage)
                {
                    outputTokens = usage.OutputTokens;
                    inputTokens = usage.InputTokens;
                }
            }
            outcome = new Outcome(EventStatus.Complete, null, outputTokens, inputTokens);
        }
        catch (OperationCanceledException) when (_shutdown.IsCancellationRequested)
        {
            outcome = new Outcome(EventStatus.Interrupted, InterruptedReason, outputTokens, inputTokens);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested && worker.TurnLost)
        {
            // Another instance holds the session's turn now and seals this answer as interrupted (if it has not yet).
            outcome = new Outcome(EventStatus.Interrupted, InterruptedReason, outputTokens, inputTokens);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            outcome = new Outcome(EventStatus.Stopped, null, outputTokens, inputTokens);
        }
        catch (ModelException ex)
        {
            logger.LogWarning(ex.InnerException, "Model failed for session {SessionId}: {Reason}", worker.SessionId, ex.Message);
            outcome = new Outcome(EventStatus.Failed, ex.Message, outputTokens, inputTokens);
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Unexpected failure while answering session {SessionId}", worker.SessionId);
            outcome = new Outcome(EventStatus.Failed, "Something went wrong while writing this answer. Retry it.", outputTokens, inputTokens);
        }
        await flushing.CancelAsync();
        await flushLoop;
        return outcome;
    }

    /// <summary>How often a writer makes sure it still holds the session's turn, besides right after a database outage.</summary>
    private static readonly TimeSpan TurnConfirmInterval = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Writes the text so far every <see cref="FlushInterval"/>, and ends the generation when the answer is no longer
    /// wanted: Stop was pressed (maybe on another instance: <see cref="SessionEvent.StopRequested"/>), or the answer
    /// was deleted or sealed by someone else. The write itself tells which, so that costs no extra query while text
    /// flows; a stalled model's answer is checked with one small read per interval. It also makes sure the turn is
    /// still this instance's (a turn held by a database connection is lost with it, e.g. in a database restart) and
    /// takes it back if nobody else did; if someone did, this writer stops.
    /// </summary>
    private async Task FlushPeriodicallyAsync(AppDbContext db, SessionWorker worker, Guid answerId, LiveText live, UserCipher cipher, CancellationTokenSource generation, CancellationToken ct)
    {
        var flushed = "";
        var failing = false;
        var confirmed = clock.GetTimestamp();
        using var timer = new PeriodicTimer(FlushInterval, clock);
        try
        {
            while (await timer.WaitForNextTickAsync(ct))
            {
                try
                {
                    bool wanted;
                    var text = live.Snapshot();
                    if (ReferenceEquals(text, flushed) || text == flushed)
                    {
                        wanted = await db.SessionEvents.AnyAsync(e => e.Id == answerId && e.Status == EventStatus.Streaming && !e.StopRequested, ct);
                    }
                    else
                    {
                        var sealedText = cipher.Encrypt(text);
                        using var writing = await db.EnterAsync(ct);
                        wanted = await db.SessionEvents
                            .Where(e => e.Id == answerId && e.Status == EventStatus.Streaming && !e.StopRequested)
                            .ExecuteUpdateAsync(u => u.SetProperty(e => e.ContentCipher, sealedText), CancellationToken.None) == 1;
                        flushed = wanted ? text : flushed;
                    }
                    if (wanted && (failing || clock.GetElapsedTime(confirmed) >= TurnConfirmInterval) && worker.Turn is { } turn)
                    {
                        wanted = await turn.ConfirmAsync(ct);
                        worker.TurnLost = !wanted;
                        confirmed = clock.GetTimestamp();
                    }
                    failing = false;
                    if (!wanted)
                    {
                        await generation.CancelAsync();
                        return;
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // A failed flush only widens what a crash could lose; the seal still writes everything. The next
                    // interval tries again (the database may be restarting), and one warning per outage is enough.
                    if (!failing)
                    {
                        logger.LogWarning(ex, "Flushing a streaming answer failed; retrying every flush interval");
                    }
                    failing = true;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The seal writes the final text.
        }
    }

    private void Publish(SessionWorker worker, SessionChangeKind kind, Guid messageId, LiveText? live = null, SessionParts parts = SessionParts.All) =>
        bus.Publish(new SessionChange(worker.OwnerId, worker.SessionId, kind, messageId, live, parts));

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        // Messages that were queued when the process last stopped are still owed an answer.
        await SweepOrphansAsync(cancellationToken);
        if (database.Provider == DatabaseProvider.Postgres)
        {
            _sweeping = Task.Run(SweepPeriodicallyAsync, CancellationToken.None);
        }
    }

    /// <summary>
    /// Kicks every session with a question queued or an answer streaming that no worker of this instance handles. Its
    /// worker then waits for the turn: while a live instance holds it, that instance does the work and this worker
    /// leaves; when the holder is gone, this one seals what it left streaming and answers what it left queued.
    /// </summary>
    internal async Task SweepOrphansAsync(CancellationToken ct)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var owed = await db.SessionEvents.AsNoTracking()
            .Where(e => e.Status == EventStatus.Queued || e.Status == EventStatus.Streaming)
            .Join(db.ChatSessions, e => e.SessionId, s => s.Id, (e, s) => new { s.Id, s.OwnerId })
            .Distinct()
            .ToListAsync(ct);
        foreach (var session in owed.Where(s => !_workers.ContainsKey(s.Id)))
        {
            Kick(session.Id, session.OwnerId);
        }
    }

    private async Task SweepPeriodicallyAsync()
    {
        using var timer = new PeriodicTimer(OrphanSweepInterval, clock);
        try
        {
            while (await timer.WaitForNextTickAsync(_shutdown.Token))
            {
                try
                {
                    await SweepOrphansAsync(_shutdown.Token);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    logger.LogWarning(ex, "Looking for sessions left without a writer failed; trying again later");
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _shutdown.CancelAsync();
        await _sweeping;
        var loops = _workers.Values.Select(w => w.Loop).Where(t => t is not null).Cast<Task>().ToArray();
        await Task.WhenAll(loops).WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None).ContinueWith(_ => { }, TaskScheduler.Default);
    }

    private sealed record Outcome(EventStatus Status, string? Reason, int? OutputTokens, int? InputTokens = null);

    /// <summary>Answer this question again; when continuing, start from that interrupted answer's text.</summary>
    private sealed record AnswerRequest(Guid QuestionId, Guid? ContinueFromAnswerId);

    private sealed class SessionWorker(Guid sessionId, string ownerId)
    {
        public Guid SessionId { get; } = sessionId;
        public string OwnerId { get; } = ownerId;
        public ConcurrentQueue<AnswerRequest> Regenerations { get; } = new();
        public bool Woken { get; set; }
        public volatile CancellationTokenSource? Current;
        /// <summary>The session's turn while this worker holds it.</summary>
        public ISessionTurn? Turn { get; set; }
        /// <summary>Set when the writer found another instance holding the turn it had lost (see <see cref="ISessionTurn.ConfirmAsync"/>).</summary>
        public volatile bool TurnLost;
        public Task? Loop { get; set; }
    }
}
