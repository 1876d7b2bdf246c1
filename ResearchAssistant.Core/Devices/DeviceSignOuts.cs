using System.Collections.Concurrent;

namespace ResearchAssistant.Core.Devices;

/// <summary>
/// Tells this instance's open pages (circuits) that their device was signed out. A sign-out made here is announced at
/// once by <see cref="DeviceSessionService"/>; one made by another instance sharing the database is found by
/// <see cref="SignedOutDeviceWatcher"/>, which polls for the devices listened to here. Announcing is idempotent: a
/// listener may hear about its device more than once and must act only once.
/// </summary>
public sealed class DeviceSignOuts
{
    private readonly ConcurrentDictionary<Guid, Listener[]> _byDevice = new();
    private readonly Lock _lock = new();

    /// <summary>Calls <paramref name="onSignedOut"/> (on the announcing thread) when the device is signed out.</summary>
    public IDisposable Listen(Guid deviceSessionId, Action onSignedOut)
    {
        var listener = new Listener(this, deviceSessionId, onSignedOut);
        lock (_lock)
        {
            _byDevice[deviceSessionId] = _byDevice.TryGetValue(deviceSessionId, out var others) ? [.. others, listener] : [listener];
        }
        return listener;
    }

    /// <summary>The devices that have an open page on this instance right now.</summary>
    public IReadOnlyCollection<Guid> ListenedDevices => [.. _byDevice.Keys];

    public void Announce(Guid deviceSessionId)
    {
        if (!_byDevice.TryGetValue(deviceSessionId, out var listeners))
        {
            return;
        }
        foreach (var listener in listeners)
        {
            // One page's failure must not keep the device's other pages signed in.
            try
            {
                listener.OnSignedOut();
            }
            catch (Exception)
            {
                // Listeners marshal to their circuit and handle errors there.
            }
        }
    }

    private void Remove(Listener listener)
    {
        lock (_lock)
        {
            if (!_byDevice.TryGetValue(listener.DeviceSessionId, out var listeners))
            {
                return;
            }
            var rest = listeners.Where(l => l != listener).ToArray();
            if (rest.Length == 0)
            {
                _byDevice.TryRemove(listener.DeviceSessionId, out _);
            }
            else
            {
                _byDevice[listener.DeviceSessionId] = rest;
            }
        }
    }

    private sealed class Listener(DeviceSignOuts owner, Guid deviceSessionId, Action onSignedOut) : IDisposable
    {
        private int _disposed;
        public Guid DeviceSessionId => deviceSessionId;
        public Action OnSignedOut => onSignedOut;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                owner.Remove(this);
            }
        }
    }
}
