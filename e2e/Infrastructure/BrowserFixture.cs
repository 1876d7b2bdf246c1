using Microsoft.Playwright;

namespace ResearchAssistant.E2E.Infrastructure;

/// <summary>
/// One Chromium for the whole run (launching costs about a second); every test gets its own context, so cookies and
/// storage never leak between tests. Chromium is the Debian package: Playwright's own download needs the internet.
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    public IPlaywright Playwright { get; private set; } = null!;
    public IBrowser Browser { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        // Bounded waits everywhere: a missing element fails the test in seconds, with a screenshot.
        Assertions.SetDefaultExpectTimeout(20_000);

        var executable = Environment.GetEnvironmentVariable("RA_CHROMIUM") ?? "/usr/bin/chromium";
        if (!File.Exists(executable))
        {
            throw new FileNotFoundException($"Chromium not found at {executable}: apt-get install -y chromium (./test.sh does it).");
        }
        Playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        Browser = await Playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = executable,
            Headless = true,
            Args =
            [
                "--no-sandbox",                     // root in CI containers
                "--disable-gpu",
                // Without these Chromium keeps trying to reach Google's servers, which are unreachable here.
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                // Docker's /dev/shm is 64 MB by default; Chromium then crashes on big pages. Use /tmp instead.
                "--disable-dev-shm-usage",
            ],
        });
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null) await Browser.CloseAsync();
        Playwright?.Dispose();
    }
}

/// <summary>All browser tests share one browser and run one at a time (2 cores; each test runs its own app process).</summary>
[CollectionDefinition(Name)]
public sealed class E2eCollection : ICollectionFixture<BrowserFixture>
{
    public const string Name = "e2e";
}
