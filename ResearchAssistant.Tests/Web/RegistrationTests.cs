using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using ResearchAssistant.Core.Accounts;

namespace ResearchAssistant.Tests.Web;

/// <summary>Registration through the real form post (antiforgery, validation, Identity) of the app in-process.</summary>
public sealed partial class RegistrationTests : IAsyncLifetime
{
    private const string GoodPassword = "correct horse battery";
    private readonly AppFactory _app = new();

    [Fact]
    public async Task The_first_account_becomes_the_administrator_and_later_ones_do_not()
    {
        var first = await RegisterAsync("first@example.com", GoodPassword, GoodPassword);
        var second = await RegisterAsync("second@example.com", GoodPassword, GoodPassword);

        Assert.Equal(HttpStatusCode.Redirect, first.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, second.StatusCode);
        Assert.True(await IsAdminAsync("first@example.com"));
        Assert.False(await IsAdminAsync("second@example.com"));
    }

    [Fact]
    public async Task A_password_under_twelve_characters_is_refused_and_no_account_is_made()
    {
        var response = await RegisterAsync("short@example.com", "elevenchars", "elevenchars");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("at least 12 characters", await response.Content.ReadAsStringAsync());
        await using var scope = _app.Services.CreateAsyncScope();
        Assert.Null(await scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>().FindByEmailAsync("short@example.com"));
    }

    [Fact]
    public async Task Twelve_characters_of_any_kind_are_enough()
    {
        var response = await RegisterAsync("plain@example.com", "aaaaaaaaaaaa", "aaaaaaaaaaaa");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
    }

    [Fact]
    public async Task The_sign_in_cookie_is_secure_http_only_and_same_site()
    {
        var response = await RegisterAsync("cookie@example.com", GoodPassword, GoodPassword);

        var cookie = Assert.Single(response.Headers.GetValues("Set-Cookie"), c => c.StartsWith("ra.auth=", StringComparison.Ordinal));
        Assert.Contains("secure", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=lax", cookie, StringComparison.OrdinalIgnoreCase);
    }

    private async Task<HttpResponseMessage> RegisterAsync(string email, string password, string confirm)
    {
        using var client = _app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        var page = await client.GetStringAsync("/Account/Register");
        var token = AntiforgeryToken().Match(page).Groups[1].Value;
        Assert.False(string.IsNullOrEmpty(token), "The register form carries an antiforgery token.");
        return await client.PostAsync("/Account/Register", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = token,
            ["_handler"] = "register",
            ["Input.Email"] = email,
            ["Input.Password"] = password,
            ["Input.ConfirmPassword"] = confirm,
        }));
    }

    private async Task<bool> IsAdminAsync(string email)
    {
        await using var scope = _app.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
        var user = await users.FindByEmailAsync(email);
        Assert.NotNull(user);
        return await users.IsInRoleAsync(user, AppRoles.Admin);
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryToken();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _app.DisposeAsync();
}
