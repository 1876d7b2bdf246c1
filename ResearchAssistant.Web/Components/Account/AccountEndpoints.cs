using Microsoft.AspNetCore.Identity;
using ResearchAssistant.Core.Accounts;

namespace ResearchAssistant.Web.Components.Account;

internal static class AccountEndpoints
{
    public static IEndpointRouteBuilder MapAccountEndpoints(this IEndpointRouteBuilder endpoints)
    {
        // A form post (antiforgery-checked by UseAntiforgery), never a GET: a link or an image must not sign anyone out.
        endpoints.MapPost("/Account/Logout", async (SignInManager<AppUser> signIn) =>
        {
            await signIn.SignOutAsync();
            return TypedResults.LocalRedirect("~/Account/Login");
        });
        return endpoints;
    }
}
