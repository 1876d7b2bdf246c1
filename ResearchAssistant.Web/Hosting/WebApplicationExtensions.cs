using Radzen;
using ResearchAssistant.Core;
using ResearchAssistant.Core.Data;
using ResearchAssistant.Core.Privacy.KeyRing;
using ResearchAssistant.Web.Components;
using ResearchAssistant.Web.Components.Account;

namespace ResearchAssistant.Web.Hosting;

/// <summary>Keeps Program.cs short: what the app registers, and the order of its middleware.</summary>
public static class WebApplicationExtensions
{
    public static WebApplicationBuilder AddResearchAssistant(this WebApplicationBuilder builder)
    {
        // Serve package assets (Radzen's CSS and JS) when running from the build output in any environment, not only
        // Development: `dotnet run` in Production is the README's way to start the app. A no-op when published.
        builder.WebHost.UseStaticWebAssets();
        var data = DataDirectory.Resolve(builder.Configuration, builder.Environment);
        builder.Services.AddSingleton(data);
        builder.Services.AddResearchAssistantCore(builder.Configuration, data.Path);
        builder.Services.AddAccounts(builder.Configuration, data);
        builder.Services.AddRazorComponents().AddInteractiveServerComponents()
            .AddHubOptions(hub => hub.MaximumReceiveMessageSize = MaxCircuitMessageBytes);
        builder.Services.AddRadzenComponents();
        builder.Services.AddHttpContextAccessor();
        builder.Services.AddScoped<Components.Chat.AnswersRequestedHere>();
        builder.Services.AddScoped<Components.Presence.CurrentDevice>();
        builder.Services.AddScoped<Components.Presence.CircuitPresence>();
        builder.Services.AddScoped<Microsoft.AspNetCore.Components.Server.Circuits.CircuitHandler, Components.Presence.PresenceCircuitHandler>();
        return builder;
    }

    /// <summary>
    /// The largest message a browser may send over its circuit. Blazor's default is 32 KB, and every keystroke in the
    /// composer sends the whole text: a message near the 32,000-character limit (more bytes in UTF-8 and JSON) broke
    /// the connection instead, so the server kept an older text and answered that, or refused it as empty. 1 MB leaves
    /// room for a pasted text far over the limit, which then reaches the server and is refused with its length.
    /// </summary>
    public const long MaxCircuitMessageBytes = 1024 * 1024;

    public static async Task InitializeDatabaseAsync(this WebApplication app)
    {
        BlazorScriptEndpoint.EnsureAvailable();
        await app.Services.GetRequiredService<DatabaseInitializer>().InitializeAsync(app.Lifetime.ApplicationStopping);
        await app.Services.EnsureDataProtectionKeyAsync(app.Lifetime.ApplicationStopping);
    }

    public static WebApplication UseResearchAssistant(this WebApplication app)
    {
        if (!app.Environment.IsDevelopment())
        {
            app.UseExceptionHandler("/Error", createScopeForErrors: true);
            app.UseHsts();
        }
        app.UseSecurityHeaders();
        app.UseStatusCodePagesWithReExecute("/not-found", createScopeForStatusCodePages: true);
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseAntiforgery();

        app.MapBlazorScript();
        app.MapStaticAssets();
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode();
        app.MapAccountEndpoints();
        app.MapMemoryDiagnostics();
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            foreach (var url in app.Urls)
            {
                app.Logger.LogInformation("ResearchAssistant is running at {Url}", url);
            }
        });
        return app;
    }

    private static void UseSecurityHeaders(this WebApplication app) => app.Use(async (context, next) =>
    {
        var headers = context.Response.Headers;
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "same-origin";
        // No inline or remote script; Radzen needs inline styles. Framing is refused (clickjacking).
        headers.ContentSecurityPolicy =
            "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
            "font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'";
        await next();
    });
}
