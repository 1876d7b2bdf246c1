using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server.Circuits;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Identity;
using ResearchAssistant.Core.Accounts;
using ResearchAssistant.Core.Data;
using ResearchAssistant.Core.Devices;
using ResearchAssistant.Core.Privacy.KeyRing;
using ResearchAssistant.Web.Components.Account;

namespace ResearchAssistant.Web.Hosting;

internal static class IdentitySetup
{
    public const int MinimumPasswordLength = 12;
    public const int MaxFailedAttempts = 5;

    public static IServiceCollection AddAccounts(this IServiceCollection services, IConfiguration configuration, DataDirectory data)
    {
        // Keys in the database, encrypted under the master key: cookies stay valid across restarts, and a cookie
        // issued by one instance works on every instance sharing the database.
        services.AddDataProtection()
            .SetApplicationName("ResearchAssistant")
            .PersistKeysToAppDatabase();

        services.AddCascadingAuthenticationState();
        services.AddScoped<AuthenticationStateProvider, Microsoft.AspNetCore.Components.Server.ServerAuthenticationStateProvider>();
        services.AddAuthentication(options =>
            {
                options.DefaultScheme = IdentityConstants.ApplicationScheme;
                options.DefaultSignInScheme = IdentityConstants.ExternalScheme;
            })
            .AddIdentityCookies();
        services.AddAuthorization();

        var requireConfirmedEmail = configuration.GetValue("Identity:RequireConfirmedEmail", false);
        services.AddIdentityCore<AppUser>(options =>
            {
                // Length over composition rules (NIST SP 800-63B): 12 characters, nothing else demanded.
                options.Password.RequiredLength = MinimumPasswordLength;
                options.Password.RequireDigit = false;
                options.Password.RequireLowercase = false;
                options.Password.RequireUppercase = false;
                options.Password.RequireNonAlphanumeric = false;
                options.Password.RequiredUniqueChars = 1;
                options.Lockout.AllowedForNewUsers = true;
                options.Lockout.MaxFailedAccessAttempts = MaxFailedAttempts;
                options.Lockout.DefaultLockoutTimeSpan = TimeSpan.FromMinutes(configuration.GetValue("Identity:LockoutMinutes", 15));
                options.User.RequireUniqueEmail = true;
                options.SignIn.RequireConfirmedAccount = requireConfirmedEmail;
                options.SignIn.RequireConfirmedEmail = requireConfirmedEmail;
            })
            .AddRoles<IdentityRole>()
            .AddEntityFrameworkStores<AppDbContext>()
            .AddSignInManager()
            .AddDefaultTokenProviders();

        services.ConfigureApplicationCookie(cookie =>
        {
            cookie.LoginPath = "/Account/Login";
            cookie.LogoutPath = "/Account/Logout";
            cookie.AccessDeniedPath = "/Account/Login";
            cookie.Cookie.Name = "ra.auth";
            cookie.Cookie.HttpOnly = true;
            cookie.Cookie.SecurePolicy = CookieSecurePolicy.Always;
            cookie.Cookie.SameSite = SameSiteMode.Lax;
            // A device unseen for this long has an expired cookie; the Devices page stops listing it at the same point.
            cookie.ExpireTimeSpan = DeviceSessionService.IdleLifetime;
            cookie.SlidingExpiration = true;
            // Each sign-in is a device session that can be signed out from elsewhere (see DeviceCookieEvents).
            cookie.EventsType = typeof(DeviceCookieEvents);
        });
        services.AddSingleton<DeviceCookieEvents>();
        services.Configure<SecurityStampValidatorOptions>(options => options.OnRefreshingPrincipal = DeviceCookieEvents.KeepDeviceClaim);
        services.AddScoped<CircuitHandler, DeviceActivityCircuitHandler>();
        services.ConfigureExternalCookie(cookie => cookie.Cookie.SecurePolicy = CookieSecurePolicy.Always);
        services.AddAntiforgery(options =>
        {
            // The antiforgery cookie is no credential, and Always makes the check refuse plain-HTTP requests outright.
            // Plain HTTP only works on localhost anyway, because the sign-in cookie above is always Secure.
            options.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            options.Cookie.HttpOnly = true;
            options.Cookie.SameSite = SameSiteMode.Strict;
        });

        services.AddSingleton(new MailDrop(data.Subfolder("mail")));
        services.AddSingleton<IEmailSender<AppUser>, MailDropEmailSender>();
        return services;
    }
}
