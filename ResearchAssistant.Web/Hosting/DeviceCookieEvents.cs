using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Identity;
using ResearchAssistant.Core.Devices;

namespace ResearchAssistant.Web.Hosting;

/// <summary>
/// Ties the sign-in cookie to a device session: every sign-in gets one (its id in the cookie), every request checks it
/// is still signed in, and logging out signs it out. Identity's own security-stamp check still runs after ours.
/// </summary>
internal sealed class DeviceCookieEvents(DeviceSessionService devices, DeviceSessionCheck check, ILogger<DeviceCookieEvents> logger)
    : CookieAuthenticationEvents
{
    public override async Task SigningIn(CookieSigningInContext context)
    {
        if (context.Principal?.Identity is not ClaimsIdentity identity || context.Principal.FindFirstValue(ClaimTypes.NameIdentifier) is not { } userId
            || context.Principal.DeviceSessionId() is not null)
        {
            return;
        }
        var deviceId = await SameBrowserDeviceAsync(context.HttpContext, userId)
            ?? await devices.StartAsync(userId, context.HttpContext.Request.Headers.UserAgent.ToString(),
                context.HttpContext.Connection.RemoteIpAddress?.ToString(), context.HttpContext.RequestAborted);
        identity.AddClaim(DeviceClaims.For(deviceId));
    }

    /// <summary>
    /// A new cookie for a browser that is signed in already as the same user (Identity re-issues it after a password
    /// change, and a person may log in again) stays the same device, so it keeps its place in the list.
    /// </summary>
    private async Task<Guid?> SameBrowserDeviceAsync(HttpContext http, string userId)
    {
        // The authentication middleware has read this request's cookie already; this returns that result.
        var current = await http.AuthenticateAsync(IdentityConstants.ApplicationScheme);
        return current.Principal is { } principal
               && principal.FindFirstValue(ClaimTypes.NameIdentifier) == userId
               && principal.DeviceSessionId() is { } deviceId
               && await check.IsSignedInAsync(deviceId, userId, http.RequestAborted)
            ? deviceId
            : null;
    }

    public override async Task ValidatePrincipal(CookieValidatePrincipalContext context)
    {
        var principal = context.Principal;
        var userId = principal?.FindFirstValue(ClaimTypes.NameIdentifier);
        var deviceId = principal?.DeviceSessionId();
        if (userId is null || deviceId is null || !await check.IsSignedInAsync(deviceId.Value, userId, context.HttpContext.RequestAborted))
        {
            logger.LogInformation("Refused the sign-in cookie of device session {DeviceSessionId}: signed out", deviceId);
            context.RejectPrincipal();
            // Deletes the cookie, so the browser stops sending it.
            await context.HttpContext.SignOutAsync(IdentityConstants.ApplicationScheme);
            return;
        }
        await SecurityStampValidator.ValidatePrincipalAsync(context);
    }

    public override async Task SigningOut(CookieSigningOutContext context)
    {
        // The signed-in user of this request: set when it logs out, not when its cookie was just refused above.
        var user = context.HttpContext.User;
        if (user.FindFirstValue(ClaimTypes.NameIdentifier) is { } userId && user.DeviceSessionId() is { } deviceId)
        {
            await devices.EndAsync(userId, deviceId, context.HttpContext.RequestAborted);
        }
    }

    /// <summary>
    /// Identity rebuilds the principal from the database when it re-checks the security stamp (every 30 minutes); the
    /// rebuilt one must keep the device claim, or the next request would be refused.
    /// </summary>
    public static Task KeepDeviceClaim(SecurityStampRefreshingPrincipalContext context)
    {
        if (context.CurrentPrincipal?.DeviceSessionId() is { } deviceId && context.NewPrincipal?.Identity is ClaimsIdentity identity
            && context.NewPrincipal.DeviceSessionId() is null)
        {
            identity.AddClaim(DeviceClaims.For(deviceId));
        }
        return Task.CompletedTask;
    }
}
