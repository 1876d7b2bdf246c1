using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using ResearchAssistant.Core.Data;
using ResearchAssistant.Core.Devices;

namespace ResearchAssistant.Tests.Web;

/// <summary>
/// Device sign-ins through the app's real forms and cookie handling (in-process, SQLite): the cookie names its device,
/// a signed-out device's cookie is refused and deleted, a password change keeps this device and signs out the others,
/// logging out ends the device, and the administrator's page is for administrators only.
/// </summary>
public sealed partial class DeviceSignInWebTests : IAsyncLifetime
{
    private const string Password = "correct horse battery";
    private const string PhoneAgent = "Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36";
    private const string LaptopAgent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0";
    private readonly AppFactory _app = new();
    private readonly List<HttpClient> _clients = [];
    private WebApplicationFactory<Program>? _configured;

    private WebApplicationFactory<Program> App => _configured ?? _app;

    [Fact]
    public async Task Logging_in_starts_a_device_session_named_in_the_cookie()
    {
        var email = await RegisterAsync("named");
        var phone = await LogInAsync(email, PhoneAgent);

        Assert.Equal(HttpStatusCode.OK, (await phone.GetAsync("/")).StatusCode);
        var devices = await DevicesOfAsync(email);
        // Registering signed in one device (the registration's browser), logging in another.
        Assert.Equal(2, devices.Count);
        var row = Assert.Single(devices, d => d.Name == "Phone (Android, Chrome)");
        Assert.Null(row.SignedOutAt);
    }

    [Fact]
    public async Task A_signed_out_devices_cookie_is_refused_and_deleted_on_its_next_request()
    {
        var email = await RegisterAsync("refused");
        var phone = await LogInAsync(email, PhoneAgent);
        var laptop = await LogInAsync(email, LaptopAgent);
        Assert.Equal(HttpStatusCode.OK, (await phone.GetAsync("/")).StatusCode);
        var phoneDevice = Assert.Single(await DevicesOfAsync(email), d => d.Name.StartsWith("Phone", StringComparison.Ordinal)).Id;

        await App.Services.GetRequiredService<DeviceSessionService>().SignOutAsync(await UserIdAsync(email), phoneDevice);

        var refused = await phone.GetAsync("/");
        Assert.Equal(HttpStatusCode.Redirect, refused.StatusCode);
        Assert.StartsWith("/Account/Login", refused.Headers.Location?.PathAndQuery);
        Assert.Contains(refused.Headers.GetValues("Set-Cookie"), c => c.StartsWith("ra.auth=;", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.OK, (await laptop.GetAsync("/")).StatusCode);
    }

    [Fact]
    public async Task Changing_the_password_keeps_this_device_signed_in_and_signs_out_the_others()
    {
        var email = await RegisterAsync("password");
        var phone = await LogInAsync(email, PhoneAgent);
        var laptop = await LogInAsync(email, LaptopAgent);
        const string NewPassword = "a brand new passphrase";

        var page = await laptop.GetStringAsync("/Account/Password");
        var response = await laptop.PostAsync("/Account/Password", Form(page, "change-password", new()
        {
            ["Input.CurrentPassword"] = Password,
            ["Input.NewPassword"] = NewPassword,
            ["Input.ConfirmPassword"] = NewPassword,
        }));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("Your password was changed, and your 2 other devices were signed out.", await response.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, (await laptop.GetAsync("/")).StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await phone.GetAsync("/")).StatusCode);
        var devices = await DevicesOfAsync(email);
        // Still one device for the laptop: its re-issued cookie names the same device session.
        Assert.Equal("Laptop (Windows, Edge)", Assert.Single(devices, d => d.SignedOutAt is null).Name);
        Assert.All(devices.Where(d => d.SignedOutAt is not null), d => Assert.Equal(DeviceSignOutReason.PasswordChanged, d.SignOutReason));
        await LogInAsync(email, PhoneAgent, NewPassword);
    }

    [Fact]
    public async Task A_wrong_current_password_changes_nothing()
    {
        var email = await RegisterAsync("wrong");
        var phone = await LogInAsync(email, PhoneAgent);
        var laptop = await LogInAsync(email, LaptopAgent);

        var page = await laptop.GetStringAsync("/Account/Password");
        var response = await laptop.PostAsync("/Account/Password", Form(page, "change-password", new()
        {
            ["Input.CurrentPassword"] = "not the password at all",
            ["Input.NewPassword"] = "another long passphrase",
            ["Input.ConfirmPassword"] = "another long passphrase",
        }));

        Assert.Contains("The current password is not right.", await response.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, (await phone.GetAsync("/")).StatusCode);
        Assert.All(await DevicesOfAsync(email), d => Assert.Null(d.SignedOutAt));
    }

    [Fact]
    public async Task Logging_out_signs_the_device_out()
    {
        var email = await RegisterAsync("logout");
        var phone = await LogInAsync(email, PhoneAgent);

        var home = await phone.GetStringAsync("/");
        var response = await phone.PostAsync("/Account/Logout", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = AntiforgeryToken().Match(home).Groups[1].Value,
        }));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var row = Assert.Single(await DevicesOfAsync(email), d => d.Name.StartsWith("Phone", StringComparison.Ordinal));
        Assert.Equal(DeviceSignOutReason.LoggedOut, row.SignOutReason);
    }

    [Fact]
    public async Task The_users_page_is_for_administrators_only()
    {
        // The first account registered is the administrator.
        var adminEmail = await RegisterAsync("admin");
        var userEmail = await RegisterAsync("user");
        var admin = await LogInAsync(adminEmail, LaptopAgent);
        var user = await LogInAsync(userEmail, PhoneAgent);

        var refused = await user.GetAsync("/Admin/Users");
        var shown = await admin.GetAsync("/Admin/Users");

        Assert.Equal(HttpStatusCode.Redirect, refused.StatusCode);
        Assert.StartsWith("/Account/Login", refused.Headers.Location?.PathAndQuery);
        Assert.Equal(HttpStatusCode.OK, shown.StatusCode);
        var html = await shown.Content.ReadAsStringAsync();
        Assert.Contains(userEmail, html);
        Assert.Contains("Sign out everywhere", html);
    }

    [Fact]
    public async Task The_device_survives_Identitys_periodic_security_stamp_check()
    {
        // Identity rebuilds the principal from the database when it re-checks the security stamp (every 30 minutes by
        // default; here on every request). The rebuilt cookie must still name the device, or the next request fails.
        _configured = _app.WithWebHostBuilder(builder => builder.ConfigureServices(services =>
            services.Configure<SecurityStampValidatorOptions>(options => options.ValidationInterval = TimeSpan.Zero)));
        var email = await RegisterAsync("stamp");
        var phone = await LogInAsync(email, PhoneAgent);

        for (var request = 0; request < 3; request++)
        {
            var response = await phone.GetAsync("/");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            // Each one re-issued the cookie with the rebuilt principal.
            Assert.Contains(response.Headers.GetValues("Set-Cookie"), c => c.StartsWith("ra.auth=", StringComparison.Ordinal));
        }
        Assert.Single(await DevicesOfAsync(email), d => d.Name.StartsWith("Phone", StringComparison.Ordinal));
    }

    /// <summary>Registers through the form (signing in a first device) and returns the email.</summary>
    private async Task<string> RegisterAsync(string name)
    {
        var email = $"{name}-{Guid.NewGuid():N}@example.com";
        var client = NewClient(LaptopAgent);
        var page = await client.GetStringAsync("/Account/Register");
        var response = await client.PostAsync("/Account/Register", Form(page, "register", new()
        {
            ["Input.Email"] = email,
            ["Input.Password"] = Password,
            ["Input.ConfirmPassword"] = Password,
        }));
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        return email;
    }

    /// <summary>A browser of its own (cookies, user agent) that logged in through the form.</summary>
    private async Task<HttpClient> LogInAsync(string email, string userAgent, string password = Password)
    {
        var client = NewClient(userAgent);
        var page = await client.GetStringAsync("/Account/Login");
        var response = await client.PostAsync("/Account/Login", Form(page, "login", new()
        {
            ["Input.Email"] = email,
            ["Input.Password"] = password,
        }));
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Contains(response.Headers.GetValues("Set-Cookie"), c => c.StartsWith("ra.auth=", StringComparison.Ordinal));
        return client;
    }

    private HttpClient NewClient(string userAgent)
    {
        // HTTPS, because the sign-in cookie is Secure: a cookie jar would not send it over plain HTTP.
        var client = App.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, BaseAddress = new Uri("https://localhost") });
        client.DefaultRequestHeaders.UserAgent.ParseAdd(userAgent);
        _clients.Add(client);
        return client;
    }

    private static FormUrlEncodedContent Form(string page, string formName, Dictionary<string, string> fields)
    {
        var token = AntiforgeryToken().Match(page).Groups[1].Value;
        Assert.False(string.IsNullOrEmpty(token), "The form carries an antiforgery token.");
        fields["__RequestVerificationToken"] = token;
        fields["_handler"] = formName;
        return new FormUrlEncodedContent(fields);
    }

    private async Task<string> UserIdAsync(string email)
    {
        await using var db = await App.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        return await db.Users.Where(u => u.NormalizedEmail == email.ToUpperInvariant()).Select(u => u.Id).SingleAsync();
    }

    private async Task<List<DeviceSession>> DevicesOfAsync(string email)
    {
        var userId = await UserIdAsync(email);
        await using var db = await App.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        return await db.DeviceSessions.AsNoTracking().Where(d => d.UserId == userId).ToListAsync();
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryToken();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var client in _clients)
        {
            client.Dispose();
        }
        await _app.DisposeAsync();
    }
}
