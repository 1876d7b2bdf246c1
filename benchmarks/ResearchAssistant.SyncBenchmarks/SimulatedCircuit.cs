using System.Diagnostics;
using Microsoft.AspNetCore.Components;
using ResearchAssistant.Core.Chat;
using ResearchAssistant.Core.Sessions;
using ResearchAssistant.Core.Sync;
using ResearchAssistant.Web.Components.Chat;

namespace ResearchAssistant.SyncBenchmarks;

/// <summary>
/// One browser tab showing a conversation, as the server side of Blazor Server sees it, without the browser: what
/// ChatPage.razor, its ConversationMessages (and MessageItem while an answer streams), its CheckpointList and the layout's SessionList do when the session bus speaks.
/// <list type="bullet">
/// <item>Work runs on a real Blazor <see cref="Dispatcher"/> (<see cref="Dispatcher.CreateDefault"/>, the renderer's
/// synchronization context): one work item at a time, and run inline on the publisher's thread when the circuit is
/// idle, exactly like <c>ComponentBase.InvokeAsync</c> from a bus handler.</item>
/// <item>Changed and Resync, when the hint may have touched the conversation or its checkpoints: the page's
/// OnSessionChangedAsync: re-read with <see cref="ChatService.GetConversationAsync(string, Guid, SessionChange, CancellationToken)"/>
/// (read after the hint was heard, so a read already running since then is shared), reads never overlapping (a change
/// during a read asks for one more read afterwards), and render after each read; nothing when the view shown was
/// read after the hint was heard.</item>
/// <item>Render: the messages' work: Markdown (the app's <see cref="MarkdownRenderer"/>) of every answer whose
/// text changed since it was last rendered, the live text for an answer still streaming. Then, when a hint since the
/// last re-read touched the checkpoints, the CheckpointList re-reads them (its Version parameter changed), as its
/// OnParametersSetAsync does.</item>
/// <item>Streaming: keep the live text and render at most every 50 ms (ChatPage's RenderThrottle).</item>
/// <item>Anything but Streaming and Presence, when the hint may have touched the listing: the SessionList re-reads the
/// sidebar (<see cref="SessionOrganizer.ListAsync(string, bool, SessionChange, CancellationToken)"/>).</item>
/// <item>Presence: nothing (the page leaves it to PresenceNotice, which is not simulated).</item>
/// </list>
/// Not simulated: diffing the render tree and sending the batch over SignalR to the browser, and the browser's DOM work.
/// Every observation is a <see cref="Stopwatch.GetTimestamp"/>.
/// </summary>
internal sealed class SimulatedCircuit : IDisposable
{
    /// <summary>ChatPage.RenderThrottle.</summary>
    public static readonly TimeSpan RenderThrottle = TimeSpan.FromMilliseconds(50);

    private readonly Dispatcher _dispatcher = Dispatcher.CreateDefault();
    private readonly ChatService _chat;
    private readonly BranchService _branches;
    private readonly SessionOrganizer _organizer;
    private readonly string _userId;
    private readonly Guid _sessionId;
    private readonly bool _sidebar;
    private IDisposable? _pageSubscription;
    private IDisposable? _listSubscription;

    // ChatPage
    private ConversationView? _view;
    private readonly Dictionary<Guid, LiveText> _live = [];
    private bool _reloadPending;
    private bool _reloadAgain;
    private SessionChange? _unansweredHint;
    private bool _checkpointsTouched;
    private bool _renderPending;
    private int _checkpointVersion;
    // ConversationMessages / MessageItem: the text each answer's Markdown was last made from.
    private readonly Dictionary<Guid, string> _rendered = [];
    // CheckpointList
    private int _checkpointsLoadedFor = -1;
    // SessionList
    private bool _listPending;
    private bool _listAgain;
    private SessionChange? _listHint;

    private int _busy;
    private int _errors;
    private readonly Lock _observations = new();
    private string? _marker;
    private long _messageRendered;
    private readonly List<(long At, int Length)> _hints = [];
    private readonly List<(long At, int Length)> _renders = [];
    private Guid? _streamingId;

    public SimulatedCircuit(ChatService chat, BranchService branches, SessionOrganizer organizer, string userId, Guid sessionId, bool sidebar)
    {
        _chat = chat;
        _branches = branches;
        _organizer = organizer;
        _userId = userId;
        _sessionId = sessionId;
        _sidebar = sidebar;
    }

    /// <summary>Work queued or running on this circuit's dispatcher (including a pending throttled render).</summary>
    public bool IsBusy => Volatile.Read(ref _busy) > 0;

    public int Errors => Volatile.Read(ref _errors);

    /// <summary>The last view this circuit rendered.</summary>
    public ConversationView? View => Volatile.Read(ref _view);

    /// <summary>Opens the conversation (first read and render, the sidebar), then listens to the bus, as the page does.</summary>
    public async Task OpenAsync(SessionBus bus)
    {
        await Run(async () =>
        {
            if (_sidebar)
            {
                await _organizer.ListAsync(_userId);
            }
            _view = await _chat.GetConversationAsync(_userId, _sessionId) ?? throw new InvalidOperationException("The session is not there.");
            Render();
        });
        // ChatPage subscribes in OnInitializedAsync; the layout's SessionList after its first list (so after the page).
        _pageSubscription = bus.Subscribe(_userId, change => _ = Run(() => OnSessionChangedAsync(change)));
        if (_sidebar)
        {
            _listSubscription = bus.Subscribe(_userId, change =>
            {
                if (change.Kind is not (SessionChangeKind.Streaming or SessionChangeKind.Presence) && change.Touches(SessionParts.Listing))
                {
                    _ = Run(() => ReloadListAsync(change));
                }
            });
        }
    }

    /// <summary>Starts a round: forget earlier observations and watch for the user message containing <paramref name="marker"/>.</summary>
    public void Expect(string marker)
    {
        lock (_observations)
        {
            _marker = marker;
            _messageRendered = 0;
            _hints.Clear();
            _renders.Clear();
            _streamingId = null;
        }
    }

    /// <summary>When the first render showing the expected message finished (0: not yet).</summary>
    public long MessageRendered
    {
        get
        {
            lock (_observations)
            {
                return _messageRendered;
            }
        }
    }

    /// <summary>This round's streaming hints handled (when, length of the live text then) and renders of the answer (when, length shown).</summary>
    public (List<(long At, int Length)> Hints, List<(long At, int Length)> Renders) StreamObservations()
    {
        lock (_observations)
        {
            return ([.. _hints], [.. _renders]);
        }
    }

    private Task Run(Func<Task> work)
    {
        Interlocked.Increment(ref _busy);
        Task task;
        try
        {
            task = _dispatcher.InvokeAsync(work);
        }
        catch
        {
            Interlocked.Decrement(ref _busy);
            throw;
        }
        return Done(task);
    }

    private async Task Done(Task task)
    {
        try
        {
            await task;
        }
        catch (Exception ex)
        {
            // ChatPage logs a warning and goes on; here it is counted and reported.
            Interlocked.Increment(ref _errors);
            Console.Error.WriteLine($"  [circuit] {ex.GetType().Name}: {ex.Message}");
        }
        finally
        {
            Interlocked.Decrement(ref _busy);
        }
    }

    /// <summary>ChatPage.OnSessionChangedAsync (without the search-window and deletion branches, which never fire here).</summary>
    private async Task OnSessionChangedAsync(SessionChange change)
    {
        if (change.Kind == SessionChangeKind.Presence)
        {
            return;
        }
        // Resync (this instance lost its link to the others for a while): re-read whatever is shown.
        if (change.SessionId != _sessionId && change.Kind != SessionChangeKind.Resync)
        {
            return;
        }
        if (change.Kind == SessionChangeKind.Streaming && change.MessageId is { } id && change.LiveText is { } live)
        {
            _live[id] = live;
            lock (_observations)
            {
                _streamingId ??= id;
                if (_streamingId == id)
                {
                    _hints.Add((Stopwatch.GetTimestamp(), live.Snapshot().Length));
                }
            }
            ScheduleRender();
            return;
        }
        if (change.Kind == SessionChangeKind.Deleted || !change.Touches(SessionParts.Conversation | SessionParts.Checkpoints))
        {
            return;
        }
        if (_view is { } shown && shown.Reflects(change))
        {
            if (change.Touches(SessionParts.Checkpoints))
            {
                _checkpointVersion++;
                Render();
            }
            return;
        }
        if (_unansweredHint is null || change.HeardAt > _unansweredHint.HeardAt)
        {
            _unansweredHint = change;
        }
        _checkpointsTouched |= change.Touches(SessionParts.Checkpoints);
        if (_reloadPending)
        {
            _reloadAgain = true;
            return;
        }
        _reloadPending = true;
        try
        {
            do
            {
                _reloadAgain = false;
                var answering = _unansweredHint!;
                _unansweredHint = null;
                if (_checkpointsTouched)
                {
                    _checkpointsTouched = false;
                    _checkpointVersion++;
                }
                await ReloadAsync(answering);
                Render();
            }
            while (_reloadAgain);
        }
        finally
        {
            _reloadPending = false;
        }
    }

    /// <summary>ChatPage.ReloadAsync answering a hint: the newest page, and live text kept only for answers still streaming.</summary>
    private async Task ReloadAsync(SessionChange answering)
    {
        var view = await _chat.GetConversationAsync(_userId, _sessionId, answering);
        Volatile.Write(ref _view, view);
        foreach (var id in _live.Keys.ToList())
        {
            if (view?.Messages.FirstOrDefault(m => m.Id == id) is not { Status: EventStatus.Streaming })
            {
                _live.Remove(id);
            }
        }
    }

    /// <summary>ChatPage.ScheduleRender.</summary>
    private void ScheduleRender()
    {
        if (_renderPending)
        {
            return;
        }
        _renderPending = true;
        Interlocked.Increment(ref _busy);
        _ = Task.Delay(RenderThrottle).ContinueWith(_ =>
        {
            var render = Run(() =>
            {
                _renderPending = false;
                Render();
                return Task.CompletedTask;
            });
            Interlocked.Decrement(ref _busy);
            return render;
        }, TaskScheduler.Default);
    }

    /// <summary>What rendering the page costs on the server before the diff: each answer's Markdown when its text changed (ConversationMessages, MessageItem while it streams).</summary>
    private void Render()
    {
        var view = _view;
        if (view is null)
        {
            return;
        }
        var markerSeen = false;
        (Guid Id, int Length)? streamed = null;
        foreach (var message in view.Messages)
        {
            if (message.Role == MessageRole.User)
            {
                markerSeen |= _marker is { } marker && message.Text.Contains(marker, StringComparison.Ordinal);
                continue;
            }
            // MessageItem.Text (streaming) / ConversationMessages: the live text while the answer streams, the stored text otherwise.
            var text = message.Status == EventStatus.Streaming && _live.TryGetValue(message.Id, out var live) ? live.Snapshot() : message.Text;
            if (!_rendered.TryGetValue(message.Id, out var before) || (!ReferenceEquals(before, text) && before != text))
            {
                MarkdownRenderer.ToHtml(text);
                _rendered[message.Id] = text;
            }
            streamed = (message.Id, text.Length);
        }
        var now = Stopwatch.GetTimestamp();
        lock (_observations)
        {
            if (markerSeen && _messageRendered == 0)
            {
                _messageRendered = now;
            }
            if (streamed is { } s && _streamingId == s.Id)
            {
                _renders.Add((now, s.Length));
            }
        }
        if (_checkpointsLoadedFor != _checkpointVersion)
        {
            // CheckpointList.OnParametersSetAsync: started inside this render (synchronously up to its first await, as
            // Blazor calls it), its continuations on this circuit's dispatcher.
            _checkpointsLoadedFor = _checkpointVersion;
            Interlocked.Increment(ref _busy);
            _ = Done(_branches.ListCheckpointsAsync(_userId, _sessionId));
        }
    }

    /// <summary>SessionList.ReloadAsync answering a hint.</summary>
    private async Task ReloadListAsync(SessionChange answering)
    {
        if (_listHint is null || answering.HeardAt > _listHint.HeardAt)
        {
            _listHint = answering;
        }
        if (_listPending)
        {
            _listAgain = true;
            return;
        }
        _listPending = true;
        try
        {
            do
            {
                _listAgain = false;
                var hint = _listHint!;
                _listHint = null;
                await _organizer.ListAsync(_userId, archived: false, hint);
            }
            while (_listAgain);
        }
        finally
        {
            _listPending = false;
        }
    }

    public void Dispose()
    {
        _pageSubscription?.Dispose();
        _listSubscription?.Dispose();
    }
}
