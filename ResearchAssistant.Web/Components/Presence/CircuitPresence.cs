using ResearchAssistant.Core.Sync;

namespace ResearchAssistant.Web.Components.Presence;

/// <summary>
/// This circuit's (tab's) presence entry: the conversation it shows, entered and left as the tab navigates, leaves
/// when the connection drops (the tab may be gone for good) and enters again when it comes back. One per circuit.
/// </summary>
public sealed class CircuitPresence(PresenceService presence, CurrentDevice device, ILogger<CircuitPresence> logger)
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private (string UserId, Guid SessionId)? _showing;
    private bool _connected = true;

    public Guid EntryId { get; private set; }
    public Guid? DeviceSessionId { get; private set; }

    /// <summary>The tab now shows <paramref name="sessionId"/> (null: no conversation).</summary>
    public Task ShowAsync(string userId, Guid? sessionId) =>
        UpdateAsync(() => _showing = sessionId is { } id ? (userId, id) : null);

    public Task ConnectionDownAsync() => UpdateAsync(() => _connected = false);

    public Task ConnectionUpAsync() => UpdateAsync(() => _connected = true);

    public Task ClosedAsync() => UpdateAsync(() => { _connected = false; _showing = null; });

    private async Task UpdateAsync(Action change)
    {
        await _gate.WaitAsync();
        try
        {
            var before = (_showing, _connected);
            change();
            if (before == (_showing, _connected))
            {
                return;
            }
            await presence.LeaveAsync(EntryId);
            EntryId = Guid.Empty;
            if (_connected && _showing is { } showing)
            {
                var (deviceId, name) = await device.GetAsync();
                DeviceSessionId = deviceId;
                EntryId = await presence.EnterAsync(showing.UserId, showing.SessionId, deviceId, name);
            }
        }
        catch (Exception ex)
        {
            // Presence is a courtesy: failing to record it must not break the conversation on screen.
            logger.LogWarning(ex, "Updating this tab's presence failed");
        }
        finally
        {
            _gate.Release();
        }
    }
}
