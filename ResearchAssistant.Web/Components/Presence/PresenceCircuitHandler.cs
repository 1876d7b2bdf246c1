using Microsoft.AspNetCore.Components.Server.Circuits;

namespace ResearchAssistant.Web.Components.Presence;

/// <summary>Takes a tab out of "Also open on" while its connection is down, and puts it back when it reconnects.</summary>
public sealed class PresenceCircuitHandler(CircuitPresence presence) : CircuitHandler
{
    public override Task OnConnectionDownAsync(Circuit circuit, CancellationToken cancellationToken) => presence.ConnectionDownAsync();

    public override Task OnConnectionUpAsync(Circuit circuit, CancellationToken cancellationToken) => presence.ConnectionUpAsync();

    public override Task OnCircuitClosedAsync(Circuit circuit, CancellationToken cancellationToken) => presence.ClosedAsync();
}
