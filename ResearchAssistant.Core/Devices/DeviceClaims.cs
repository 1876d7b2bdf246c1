using System.Security.Claims;

namespace ResearchAssistant.Core.Devices;

/// <summary>The claim in the sign-in cookie that ties it to its <see cref="DeviceSession"/>.</summary>
public static class DeviceClaims
{
    public const string SessionId = "ra:device";

    /// <summary>The device session the principal's cookie belongs to; null when it has none (or a malformed one).</summary>
    public static Guid? DeviceSessionId(this ClaimsPrincipal principal) =>
        Guid.TryParse(principal.FindFirstValue(SessionId), out var id) ? id : null;

    public static Claim For(Guid deviceSessionId) => new(SessionId, deviceSessionId.ToString("D"));
}
