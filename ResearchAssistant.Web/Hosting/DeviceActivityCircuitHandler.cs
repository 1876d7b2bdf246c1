using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server.Circuits;
using ResearchAssistant.Core.Devices;

namespace ResearchAssistant.Web.Hosting;

/// <summary>
/// An open page talks to the server over its circuit, not through requests that carry the cookie, so "last active"
/// would stop at the page load. What the browser sends over the circuit counts as activity too (the write is throttled
/// by <see cref="DeviceSessionCheck.RecordActivityAsync"/>). One per circuit.
/// </summary>
internal sealed class DeviceActivityCircuitHandler(AuthenticationStateProvider authentication, DeviceSessionCheck check) : CircuitHandler
{
    private Guid? _deviceId;
    private bool _known;

    public override Func<CircuitInboundActivityContext, Task> CreateInboundActivityHandler(Func<CircuitInboundActivityContext, Task> next) =>
        async context =>
        {
            if (await DeviceIdAsync() is { } deviceId)
            {
                await check.RecordActivityAsync(deviceId);
            }
            await next(context);
        };

    private async Task<Guid?> DeviceIdAsync()
    {
        if (!_known)
        {
            try
            {
                // A circuit's user is fixed when it starts: read once.
                _deviceId = (await authentication.GetAuthenticationStateAsync()).User.DeviceSessionId();
                _known = true;
            }
            catch (InvalidOperationException)
            {
                // The circuit is still starting and has no user yet; the next activity asks again.
            }
        }
        return _deviceId;
    }
}
