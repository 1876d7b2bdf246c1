using Microsoft.AspNetCore.Components.Authorization;

namespace ResearchAssistant.Web.Components.Presence;

/// <summary>The device sign-in this circuit belongs to, as other tabs should name it ("Phone (Android, Chrome)").</summary>
public sealed class CurrentDevice(AuthenticationStateProvider authentication)
{
    private (Guid? Id, string Name)? _resolved;

    public async Task<(Guid? Id, string Name)> GetAsync()
    {
        if (_resolved is { } known)
        {
            return known;
        }
        var user = (await authentication.GetAuthenticationStateAsync()).User;
        // Until device sign-ins name each cookie's device, every tab is just "another device".
        _resolved = (null, "Another device");
        return _resolved.Value;
    }
}
