using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ResearchAssistant.Core;
using ResearchAssistant.Core.Chat;
using ResearchAssistant.Core.Data;
using ResearchAssistant.Core.Privacy;

namespace ResearchAssistant.Benchmarks;

/// <summary>
/// The app's Core services, wired by the app's own <see cref="CoreServiceCollectionExtensions.AddResearchAssistantCore"/>
/// with the offline model at zero delay, and one change: the turn lock is wrapped in a <see cref="GatedTurnLock"/>.
/// </summary>
internal sealed class BenchHost : IAsyncDisposable
{
    private readonly ServiceProvider _services;

    private BenchHost(ServiceProvider services, WarningLog warnings)
    {
        _services = services;
        Warnings = warnings;
    }

    public WarningLog Warnings { get; }
    public ChatService Chat => _services.GetRequiredService<ChatService>();
    public ResearchAssistant.Core.Sessions.BranchService Branches => _services.GetRequiredService<ResearchAssistant.Core.Sessions.BranchService>();
    public GatedTurnLock Gate => _services.GetRequiredService<GatedTurnLock>();
    public ContentProtector Protector => _services.GetRequiredService<ContentProtector>();
    public ResearchAssistant.Core.Context.TurnContextBuilder ContextBuilder => _services.GetRequiredService<ResearchAssistant.Core.Context.TurnContextBuilder>();
    public ResearchAssistant.Core.Context.Summarizer Summarizer => _services.GetRequiredService<ResearchAssistant.Core.Context.Summarizer>();
    public IDbContextFactory<AppDbContext> Contexts => _services.GetRequiredService<IDbContextFactory<AppDbContext>>();

    public static async Task<BenchHost> StartAsync(DatabaseProvider provider, string connectionString, string dataDirectory, CancellationToken ct)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Database:Provider"] = provider.ToString(),
            ["ConnectionStrings:Default"] = connectionString,
            ["Llm:Provider"] = "Offline",
            ["Llm:OfflineDelayMilliseconds"] = "0",
            [MasterKey.ConfigurationKey] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(MasterKey.KeySize)),
        }).Build();

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

        var built = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
        await built.GetRequiredService<DatabaseInitializer>().InitializeAsync(ct);
        await built.GetRequiredService<TurnRunner>().StartAsync(ct);
        return new BenchHost(built, warnings);
    }

    public async ValueTask DisposeAsync()
    {
        await _services.GetRequiredService<TurnRunner>().StopAsync(CancellationToken.None);
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
