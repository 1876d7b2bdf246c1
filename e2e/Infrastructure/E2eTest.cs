using System.Runtime.CompilerServices;
using Microsoft.Playwright;
using ResearchAssistant.Testing;
using Xunit.Abstractions;

namespace ResearchAssistant.E2E.Infrastructure;

/// <summary>
/// Base for browser tests: owns the fake model server, the app processes and the browser contexts a test creates,
/// and disposes them. Test bodies run inside <see cref="RunAsync"/>, which on failure saves a screenshot of every
/// open page and prints the app's log into the test output.
/// </summary>
[Collection(E2eCollection.Name)]
public abstract class E2eTest(BrowserFixture browser, ITestOutputHelper output) : IAsyncLifetime
{
    private readonly List<AppProcess> _apps = [];
    private readonly List<IBrowserContext> _contexts = [];

    public static readonly ViewportSize Laptop = new() { Width = 1366, Height = 768 };
    public static readonly ViewportSize Phone = new() { Width = 390, Height = 844 };

    protected ITestOutputHelper Output { get; } = output;

    /// <summary>The model server the app talks to. Tests may stop it and start a new one on the same port.</summary>
    protected FakeOpenAiServer Fake { get; set; } = null!;

    public async Task InitializeAsync() => Fake = await FakeOpenAiServer.StartAsync();

    public async Task DisposeAsync()
    {
        foreach (var context in _contexts) await context.CloseAsync();
        foreach (var app in _apps) await app.DisposeAsync();
        await Fake.DisposeAsync();
    }

    /// <summary>Starts the app wired to <see cref="Fake"/> (SQLite unless a PostgreSQL connection string is given).</summary>
    protected async Task<AppProcess> StartAppAsync(string? postgresConnectionString = null, [CallerMemberName] string name = "")
    {
        var app = await AppProcess.StartAsync(
            new AppSettings { LlmEndpoint = Fake.Endpoint, PostgresConnectionString = postgresConnectionString },
            name);
        _apps.Add(app);
        return app;
    }

    /// <summary>Starts the app wired to <see cref="Fake"/> with other settings too (several instances, extra environment).</summary>
    protected async Task<AppProcess> StartAppAsync(AppSettings settings, string name)
    {
        var app = await AppProcess.StartAsync(settings with { LlmEndpoint = Fake.Endpoint }, name);
        _apps.Add(app);
        return app;
    }

    /// <summary>A fresh browser context (no cookies) with one page, pointed at <paramref name="app"/>.</summary>
    /// <param name="userAgent">What the browser says it is; Chromium's own by default.</param>
    protected Task<IPage> NewPageAsync(AppProcess app, ViewportSize? viewport = null, bool phone = false, string? userAgent = null) =>
        NewPageAsync(app.BaseUrl, viewport, phone, userAgent);

    /// <summary>A fresh browser context (no cookies) with one page, pointed at <paramref name="baseUrl"/> (the app, or a proxy in front of it).</summary>
    protected async Task<IPage> NewPageAsync(Uri baseUrl, ViewportSize? viewport = null, bool phone = false, string? userAgent = null)
    {
        var context = await browser.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = baseUrl.ToString(),
            ViewportSize = viewport ?? Laptop,
            IsMobile = phone,
            HasTouch = phone,
            Locale = "en-US",
            UserAgent = userAgent,
        });
        context.SetDefaultTimeout(20_000);
        context.SetDefaultNavigationTimeout(30_000);
        _contexts.Add(context);
        return await context.NewPageAsync();
    }

    /// <summary>Runs a test body; on failure saves screenshots (artifacts/screenshots) and prints the app logs.</summary>
    protected async Task RunAsync(Func<Task> body, string? variant = null, [CallerMemberName] string testName = "")
    {
        var name = variant is null ? testName : $"{testName}-{variant}";
        try
        {
            await body();
        }
        catch (Exception)
        {
            await CaptureFailureAsync(name);
            throw;
        }
    }

    private async Task CaptureFailureAsync(string testName)
    {
        var index = 0;
        foreach (var page in _contexts.SelectMany(c => c.Pages))
        {
            var file = Path.Combine(AppPaths.FailureScreenshotsDir, $"{testName}-{++index}.png");
            try
            {
                await page.ScreenshotAsync(new PageScreenshotOptions { Path = file, FullPage = true, Timeout = 5_000 });
                Output.WriteLine($"Screenshot of {page.Url}: {file}");
            }
            catch (Exception ex)
            {
                Output.WriteLine($"No screenshot of {page.Url}: {ex.Message}");
            }
        }
        foreach (var app in _apps)
        {
            Output.WriteLine($"===== app log ({app.BaseUrl}) =====");
            Output.WriteLine(app.Log);
        }
        Output.WriteLine($"===== fake model: {Fake.Requests.Count} request(s) =====");
    }
}
