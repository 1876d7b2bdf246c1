using System.Diagnostics;
using System.Text;

namespace ResearchAssistant.E2E.Infrastructure;

/// <summary>How to configure one app process. Defaults: SQLite in the data directory, the offline model.</summary>
public sealed record AppSettings
{
    /// <summary>An OpenAI-compatible endpoint (the fake's <c>Endpoint</c>); null runs the built-in offline model.</summary>
    public Uri? LlmEndpoint { get; init; }
    public string LlmModel { get; init; } = "fake-model";
    public string LlmApiKey { get; init; } = "e2e-test-key";
    /// <summary>Short, so a hung model fails a test in seconds rather than a minute.</summary>
    public int LlmTimeoutSeconds { get; init; } = 15;
    public int OfflineDelayMilliseconds { get; init; } = 5;
    /// <summary>Null: SQLite file in the data directory. Otherwise: Database__Provider=Postgres with this connection string.</summary>
    public string? PostgresConnectionString { get; init; }
    public IReadOnlyDictionary<string, string> ExtraEnvironment { get; init; } = new Dictionary<string, string>();
}

/// <summary>
/// The real app (ResearchAssistant.Web.dll) as a separate OS process, so tests see what a user sees: real Kestrel,
/// real circuits, real restarts. Killing it is a crash (no graceful shutdown), which is exactly what
/// the reconnect and "survives a restart" tests need.
/// </summary>
public sealed class AppProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(15);

    private readonly AppSettings _settings;
    private readonly string _name;
    private readonly StringBuilder _log = new();
    private readonly string _logFile;
    private Process? _process;

    private AppProcess(AppSettings settings, string name)
    {
        _settings = settings;
        _name = name;
        Port = FreePort.Get();
        DataDirectory = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), $"ra-e2e-{name}-{Guid.NewGuid():N}")).FullName;
        _logFile = Path.Combine(AppPaths.AppLogsDir, $"{name}-{Port}.log");
    }

    public int Port { get; }
    public Uri BaseUrl => new($"http://127.0.0.1:{Port}/");
    public string DataDirectory { get; }
    public bool IsRunning => _process is { HasExited: false };

    /// <summary>Everything the app wrote to stdout/stderr, across restarts.</summary>
    public string Log { get { lock (_log) return _log.ToString(); } }

    public static async Task<AppProcess> StartAsync(AppSettings settings, string name)
    {
        var app = new AppProcess(settings, name);
        try
        {
            await app.LaunchAsync();
            return app;
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// The app's process id. `dotnet ResearchAssistant.Web.dll` runs the app inside the host process itself, so this
    /// is the app, not a launcher.
    /// </summary>
    public int Pid => _process?.Id ?? throw new InvalidOperationException("The app is not running.");

    /// <summary>Kills the process tree at once (like a crash or `kill -9`) and waits until it is gone.</summary>
    public async Task KillAsync() => await KillCoreAsync(entireProcessTree: true);

    /// <summary>
    /// `kill -9` of the app's own process (<see cref="Pid"/>): SIGKILL, so no shutdown code runs at all (no final
    /// flush, no sealing of answers in flight). Waits until it is gone and returns its exit code (137 = 128 + SIGKILL).
    /// </summary>
    public async Task<int> KillHardAsync() =>
        await KillCoreAsync(entireProcessTree: false) ?? throw new InvalidOperationException("The app was not running.");

    private async Task<int?> KillCoreAsync(bool entireProcessTree)
    {
        var process = _process;
        if (process is null) return null;
        _process = null;
        try
        {
            // On Unix, Process.Kill is SIGKILL (not SIGTERM): the process cannot react to it.
            if (!process.HasExited) process.Kill(entireProcessTree);
            using var cts = new CancellationTokenSource(ExitTimeout);
            await process.WaitForExitAsync(cts.Token);
            return process.ExitCode;
        }
        catch (InvalidOperationException)
        {
            // Already gone.
            return null;
        }
        finally
        {
            Append($"--- [e2e] process {(entireProcessTree ? "tree " : "")}killed (SIGKILL) at {DateTimeOffset.Now:HH:mm:ss.fff} ---");
            process.Dispose();
        }
    }

    /// <summary>Kill, then start again with the same data directory and port: what a server restart looks like to a browser.</summary>
    public async Task RestartAsync()
    {
        await KillAsync();
        await LaunchAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        try { Directory.Delete(DataDirectory, recursive: true); }
        catch (IOException) { /* a file still held open; the temp dir is cleaned by the OS eventually */ }
        catch (UnauthorizedAccessException) { }
    }

    private async Task LaunchAsync()
    {
        var webDll = AppPaths.WebDll;
        var psi = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.GetDirectoryName(webDll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,   // the app must never read the test runner's stdin
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(webDll);
        psi.ArgumentList.Add("--urls");
        psi.ArgumentList.Add(BaseUrl.ToString().TrimEnd('/'));

        // Nothing from the test runner's environment may leak into the app's configuration.
        foreach (var key in psi.Environment.Keys.ToList())
        {
            if (key.StartsWith("Llm__", StringComparison.OrdinalIgnoreCase) ||
                key.StartsWith("Database__", StringComparison.OrdinalIgnoreCase) ||
                key.StartsWith("ConnectionStrings__", StringComparison.OrdinalIgnoreCase) ||
                key.StartsWith("ASPNETCORE_", StringComparison.OrdinalIgnoreCase) ||
                key.Equals("DataDirectory", StringComparison.OrdinalIgnoreCase) ||
                key.Equals("DOTNET_ENVIRONMENT", StringComparison.OrdinalIgnoreCase))
            {
                psi.Environment.Remove(key);
            }
        }
        var env = psi.Environment;
        // Production, not Development: the tests must see what users get (error pages, static assets, no dev tooling).
        env["ASPNETCORE_ENVIRONMENT"] = "Production";
        env["DOTNET_ENVIRONMENT"] = "Production";
        env["DataDirectory"] = DataDirectory;
        env["Logging__Console__DisableColors"] = "true";
        if (_settings.LlmEndpoint is { } endpoint)
        {
            env["Llm__Provider"] = "OpenAI";
            env["Llm__Endpoint"] = endpoint.ToString();
            env["Llm__Model"] = _settings.LlmModel;
            env["Llm__ApiKey"] = _settings.LlmApiKey;
        }
        else
        {
            env["Llm__Provider"] = "Offline";
        }
        // No SDK retries: a failing fake must surface as a failed answer now, not after back-off.
        env["Llm__MaxRetries"] = "0";
        env["Llm__TimeoutSeconds"] = _settings.LlmTimeoutSeconds.ToString();
        env["Llm__OfflineDelayMilliseconds"] = _settings.OfflineDelayMilliseconds.ToString();
        if (_settings.PostgresConnectionString is { } postgres)
        {
            env["Database__Provider"] = "Postgres";
            env["ConnectionStrings__Default"] = postgres;
        }
        foreach (var (key, value) in _settings.ExtraEnvironment) env[key] = value;

        Append($"--- [e2e] starting {_name}: dotnet {webDll} --urls {BaseUrl} (data: {DataDirectory}) at {DateTimeOffset.Now:HH:mm:ss.fff} ---");
        var process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) Append(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) Append("[stderr] " + e.Data); };
        // An exit the test did not ask for is the first thing to know when reading a failure.
        process.Exited += (_, _) =>
        {
            if (ReferenceEquals(_process, process)) Append(DescribeUnexpectedExit(process.ExitCode));
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;

        await WaitUntilAnsweringAsync(process);
    }

    /// <summary>Polls GET / until the app answers (any non-5xx status, redirects not followed), bounded by StartTimeout.</summary>
    private async Task WaitUntilAnsweringAsync(Process process)
    {
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(5) };
        var stopwatch = Stopwatch.StartNew();
        string lastProblem = "no answer yet";
        while (stopwatch.Elapsed < StartTimeout)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"The app exited with code {process.ExitCode} during start-up.\n{Log}");
            }
            try
            {
                using var response = await http.GetAsync(BaseUrl);
                if ((int)response.StatusCode < 500)
                {
                    Append($"--- [e2e] answering after {stopwatch.ElapsedMilliseconds} ms (GET / -> {(int)response.StatusCode}) ---");
                    return;
                }
                lastProblem = $"GET / answered {(int)response.StatusCode}";
            }
            catch (HttpRequestException ex)
            {
                lastProblem = ex.Message;
            }
            catch (TaskCanceledException)
            {
                lastProblem = "GET / timed out";
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"The app did not answer GET / within {StartTimeout.TotalSeconds} s ({lastProblem}).\n{Log}");
    }

    private static string DescribeUnexpectedExit(int code) => code switch
    {
        // .NET exits with 128 + 15 after a graceful shutdown on SIGTERM: nothing in these tests sends that (Kill is SIGKILL).
        143 => "--- [e2e] the app exited with 143: SIGTERM from outside the test (another process, e.g. a broad `pkill -f ResearchAssistant.Web`) ---",
        137 => "--- [e2e] the app exited with 137: SIGKILL from outside the test (OOM killer or another process) ---",
        _ => $"--- [e2e] the app exited by itself with code {code} ---",
    };

    private void Append(string line)
    {
        lock (_log)
        {
            _log.AppendLine(line);
            File.AppendAllText(_logFile, line + Environment.NewLine);
        }
    }
}
