using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ResearchAssistant.Core;
using ResearchAssistant.Core.Chat;
using ResearchAssistant.Core.Data;
using ResearchAssistant.Core.Privacy;

namespace ResearchAssistant.Benchmarks;

/// <summary>What a driver may change in a <see cref="BenchHost"/>; the defaults are what the open/append driver uses.</summary>
/// <param name="Settings">Configuration entries added over the defaults (a fixed master key, another model...).</param>
/// <param name="Configure">Runs after the app's registrations (and the turn lock's gate), to swap a service.</param>
/// <param name="StartAllHostedServices">Start every hosted service, as the app does (presence, summarizer, backfill and
/// whatever a provider adds), instead of the TurnRunner alone.</param>
internal sealed record BenchHostOptions(
    IReadOnlyDictionary<string, string?>? Settings = null,
    Action<IServiceCollection>? Configure = null,
    bool StartAllHostedServices = false);

/// <summary>
/// The app's Core services, wired by the app's own <see cref="CoreServiceCollectionExtensions.AddResearchAssistantCore"/>
/// with the offline model at zero delay, and one change: the turn lock is wrapped in a <see cref="GatedTurnLock"/>.
/// </summary>
internal sealed class BenchHost : IAsyncDisposable
{
    private readonly ServiceProvider _services;
    private readonly IReadOnlyList<IHostedService> _started;

    private BenchHost(ServiceProvider services, WarningLog warnings, IReadOnlyList<IHostedService> started)
    {
        _services = services;
        Warnings = warnings;
        _started = started;
    }

    public WarningLog Warnings { get; }
    public IServiceProvider Services => _services;
    public ChatService Chat => _services.GetRequiredService<ChatService>();
    public ResearchAssistant.Core.Sessions.BranchService Branches => _services.GetRequiredService<ResearchAssistant.Core.Sessions.BranchService>();
    public GatedTurnLock Gate => _services.GetRequiredService<GatedTurnLock>();
    public ContentProtector Protector => _services.GetRequiredService<ContentProtector>();
    public ResearchAssistant.Core.Context.TurnContextBuilder ContextBuilder => _services.GetRequiredService<ResearchAssistant.Core.Context.TurnContextBuilder>();
    public ResearchAssistant.Core.Context.Summarizer Summarizer => _services.GetRequiredService<ResearchAssistant.Core.Context.Summarizer>();
    public IDbContextFactory<AppDbContext> Contexts => _services.GetRequiredService<IDbContextFactory<AppDbContext>>();

    public static async Task<BenchHost> StartAsync(DatabaseProvider provider, string connectionString, string dataDirectory, CancellationToken ct, BenchHostOptions? options = null)
    {
        options ??= new BenchHostOptions();
        var settings = new Dictionary<string, string?>
        {
            ["Database:Provider"] = provider.ToString(),
            ["ConnectionStrings:Default"] = connectionString,
            ["Llm:Provider"] = "Offline",
            ["Llm:OfflineDelayMilliseconds"] = "0",
            [MasterKey.ConfigurationKey] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(MasterKey.KeySize)),
        };
        foreach (var (key, value) in options.Settings ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();

        var warnings = new WarningLog();
        var services = new ServiceCollection();
        services.AddLogging(logging =>
        {
            logging.ClearProviders();
            logging.SetMinimumLevel(LogLevel.Warning);
            logging.AddProvider(warnings);
        });
        services.AddResearchAssistantCore(configuration, dataDirectory);

        var turnLock = services.Single(d => d.ServiceType == typeof(ISessionTurnLock));
        services.Remove(turnLock);
        services.AddSingleton(sp => new GatedTurnLock((ISessionTurnLock)ActivatorUtilities.CreateInstance(sp, turnLock.ImplementationType!)));
        services.AddSingleton<ISessionTurnLock>(sp => sp.GetRequiredService<GatedTurnLock>());
        options.Configure?.Invoke(services);

        var built = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
        await built.GetRequiredService<DatabaseInitializer>().InitializeAsync(ct);
        IReadOnlyList<IHostedService> started = options.StartAllHostedServices
            ? built.GetServices<IHostedService>().ToList()
            : [built.GetRequiredService<TurnRunner>()];
        foreach (var service in started)
        {
            await service.StartAsync(ct);
        }
        return new BenchHost(built, warnings, started);
    }

    public async ValueTask DisposeAsync()
    {
        // In reverse, as the generic host stops them.
        foreach (var service in _started.Reverse())
        {
            await service.StopAsync(CancellationToken.None);
        }
        await _services.DisposeAsync();
    }
}

/// <summary>Prints warnings and errors the app logs (a failed turn would be one) and counts the errors.</summary>
internal sealed class WarningLog : ILoggerProvider
{
    private int _errors;

    public int Errors => Volatile.Read(ref _errors);

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(WarningLog owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }
            if (logLevel >= LogLevel.Error)
            {
                Interlocked.Increment(ref owner._errors);
            }
            Console.Error.WriteLine($"  [{logLevel}] {category}: {formatter(state, exception)}{(exception is null ? "" : " " + exception)}");
        }
    }
}
