using System.Security.Claims;

namespace ResearchAssistant.Web.Components.Shared;

internal static class ClaimsPrincipalExtensions
{
    /// <summary>The signed-in user's id; pages that need it are [Authorize]d, so its absence is a bug.</summary>
    public static string RequireUserId(this ClaimsPrincipal user) =>
        user.FindFirstValue(ClaimTypes.NameIdentifier) ?? throw new InvalidOperationException("No signed-in user.");
}
