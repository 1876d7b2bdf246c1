namespace ResearchAssistant.E2E.Infrastructure;

/// <summary>Where things are, found relative to this test assembly so a fresh clone needs no configuration.</summary>
public static class AppPaths
{
    /// <summary>The folder holding ResearchAssistant.sln.</summary>
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>
    /// The Web app's DLL from the same build as these tests: e2e/bin/&lt;Configuration&gt;/net10.0/ maps to
    /// ResearchAssistant.Web/bin/&lt;Configuration&gt;/net10.0/. RA_E2E_WEB_DLL overrides it (e.g. a published app).
    /// </summary>
    public static string WebDll
    {
        get
        {
            var overridden = Environment.GetEnvironmentVariable("RA_E2E_WEB_DLL");
            if (!string.IsNullOrWhiteSpace(overridden)) return Path.GetFullPath(overridden);

            var outputDir = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
            var targetFramework = outputDir.Name;               // net10.0
            var configuration = outputDir.Parent!.Name;          // Release | Debug
            var dll = Path.Combine(RepoRoot, "ResearchAssistant.Web", "bin", configuration, targetFramework, "ResearchAssistant.Web.dll");
            if (!File.Exists(dll))
            {
                throw new FileNotFoundException(
                    $"The Web app is not built at {dll}. Build the solution first (dotnet build ResearchAssistant.sln -c {configuration}) or run ./test.sh.");
            }
            return dll;
        }
    }

    /// <summary>Failure screenshots of this run: e2e/bin/&lt;Configuration&gt;/net10.0/screenshots.</summary>
    public static string FailureScreenshotsDir { get; } = EmptyDirectory("screenshots");

    /// <summary>The app processes' stdout/stderr of this run: e2e/bin/&lt;Configuration&gt;/net10.0/app-logs.</summary>
    public static string AppLogsDir { get; } = EmptyDirectory("app-logs");

    /// <summary>README screenshots, refreshed only when RA_SCREENSHOTS=1.</summary>
    public static string DocsScreenshotsDir => Directory.CreateDirectory(Path.Combine(RepoRoot, "docs", "screenshots")).FullName;

    public static bool TakeDocsScreenshots => Environment.GetEnvironmentVariable("RA_SCREENSHOTS") == "1";

    /// <summary>Emptied once per run (on first use), so what is there after a run belongs to that run.</summary>
    private static string EmptyDirectory(string name)
    {
        var dir = Path.Combine(AppContext.BaseDirectory, name);
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        return Directory.CreateDirectory(dir).FullName;
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "ResearchAssistant.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException($"ResearchAssistant.sln not found above {AppContext.BaseDirectory}.");
    }
}
