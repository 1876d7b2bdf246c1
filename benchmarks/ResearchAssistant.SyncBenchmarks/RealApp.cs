using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using ResearchAssistant.Benchmarks;
using ResearchAssistant.Core.Data;
using ResearchAssistant.Core.Privacy;
using ResearchAssistant.E2E.Infrastructure;

namespace ResearchAssistant.SyncBenchmarks;

/// <summary>
/// The real app (ResearchAssistant.Web.dll as its own process, SQLite in its data directory, the offline model),
/// started the way e2e starts it (<see cref="AppProcess"/>), headless Chromium (the Debian package), and one user
/// registered through the UI. Conversations are seeded into the app's SQLite file through the app's own Core services
/// and the open/append driver's <see cref="Seeder"/>, with the app's master key.
/// </summary>
internal sealed class RealApp : IAsyncDisposable
{
    private readonly string _masterKey;

    private RealApp(AppProcess app, IPlaywright playwright, IBrowser browser, string masterKey, string email)
    {
        Process = app;
        Playwright = playwright;
        Browser = browser;
        _masterKey = masterKey;
        Email = email;
    }

    public AppProcess Process { get; }
    public IPlaywright Playwright { get; }
    public IBrowser Browser { get; }
    public string Email { get; }
    public IBrowserContext? FirstDevice { get; private set; }

    public static async Task<RealApp> StartAsync(string name, int offlineDelayMilliseconds, IReadOnlyDictionary<string, string> environment)
    {
        var masterKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(MasterKey.KeySize));
        var settings = new AppSettings
        {
            OfflineDelayMilliseconds = offlineDelayMilliseconds,
            ExtraEnvironment = new Dictionary<string, string>(environment) { ["Encryption__MasterKey"] = masterKey },
        };
        var app = await AppProcess.StartAsync(settings, name);
        IPlaywright? playwright = null;
        try
        {
            Assertions.SetDefaultExpectTimeout(60_000);
            playwright = await Microsoft.Playwright.Playwright.CreateAsync();
            var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = Environment.GetEnvironmentVariable("RA_CHROMIUM") ?? "/usr/bin/chromium",
                Headless = true,
                // As e2e/Infrastructure/BrowserFixture.cs: no sandbox (root), no GPU, no calls home, /tmp instead of /dev/shm.
                Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                        "--no-first-run", "--disable-dev-shm-usage"],
            });
            var realApp = new RealApp(app, playwright, browser, masterKey, Ui.NewEmail("syncbench"));
            realApp.FirstDevice = await realApp.NewDeviceAsync(E2eViewport.Laptop);
            var page = await realApp.FirstDevice.NewPageAsync();
            await page.RegisterAsync(realApp.Email);
            await page.CloseAsync();
            return realApp;
        }
        catch
        {
            playwright?.Dispose();
            await app.DisposeAsync();
            throw;
        }
    }

    /// <summary>A browser context (its own cookies: a device) at the app's address; sign in with <see cref="Ui.LoginAsync"/>.</summary>
    public async Task<IBrowserContext> NewDeviceAsync(ViewportSize viewport, bool phone = false)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = Process.BaseUrl.ToString(),
            ViewportSize = viewport,
            IsMobile = phone,
            HasTouch = phone,
            Locale = "en-US",
        });
        context.SetDefaultTimeout(60_000);
        context.SetDefaultNavigationTimeout(60_000);
        return context;
    }

    /// <summary>Seeds conversations of these sizes for the registered user into the app's database; returns their ids.</summary>
    public async Task<IReadOnlyList<Guid>> SeedAsync(IReadOnlyList<int> sizes, CancellationToken ct)
    {
        var file = Path.Combine(Process.DataDirectory, DatabaseSettings.SqliteFileName);
        var ids = new List<Guid>();
        await using (var host = await BenchHost.StartAsync(DatabaseProvider.Sqlite, DatabaseSettings.SqliteConnectionStringFor(file), Process.DataDirectory, ct,
                         new BenchHostOptions(Settings: new Dictionary<string, string?> { [MasterKey.ConfigurationKey] = _masterKey })))
        {
            string userId;
            await using (var db = await host.Contexts.CreateDbContextAsync(ct))
            {
                var normalized = Email.ToUpperInvariant();
                userId = await db.Users.Where(u => u.NormalizedEmail == normalized).Select(u => u.Id).SingleAsync(ct);
            }
            var cipher = await host.Protector.ForUserAsync(userId, ct);
            foreach (var size in sizes)
            {
                ids.Add((await Seeder.SeedAsync(host.Contexts, cipher, userId, size, verify: false, ct)).Id);
            }
        }
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        return ids;
    }

    /// <summary>Opens a conversation in a new tab and waits until the circuit is up and the conversation is shown.</summary>
    public static async Task<IPage> OpenConversationAsync(IBrowserContext device, Guid sessionId)
    {
        var page = await device.NewPageAsync();
        await page.GotoAsync($"chat/{sessionId}");
        await page.WaitForInteractiveAsync();
        await Assertions.Expect(Ui.AssistantMessages(page).Last).ToBeVisibleAsync();
        return page;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Browser.CloseAsync();
        }
        finally
        {
            Playwright.Dispose();
            await Process.DisposeAsync();
        }
    }
}

internal static class E2eViewport
{
    public static readonly ViewportSize Laptop = new() { Width = 1366, Height = 768 };
    public static readonly ViewportSize Phone = new() { Width = 390, Height = 844 };
}
