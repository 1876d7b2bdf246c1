using Microsoft.AspNetCore.Components.Authorization;
using ResearchAssistant.Core.Devices;
using ResearchAssistant.Web.Components.Shared;

namespace ResearchAssistant.Web.Components.Presence;

/// <summary>The device sign-in this circuit belongs to, as other tabs should name it ("Phone (Android, Chrome)").</summary>
public sealed class CurrentDevice(AuthenticationStateProvider authentication, DeviceSessionService devices)
{
    private (Guid? Id, string Name)? _resolved;

    public async Task<(Guid? Id, string Name)> GetAsync()
    {
        if (_resolved is { } known)
        {
            return known;
        }
        var user = (await authentication.GetAuthenticationStateAsync()).User;
        var deviceId = user.DeviceSessionId();
        var name = deviceId is { } id ? await devices.FindNameAsync(user.RequireUserId(), id) : null;
        _resolved = (deviceId, name ?? DeviceName.Unknown);
        return _resolved.Value;
    }
}
