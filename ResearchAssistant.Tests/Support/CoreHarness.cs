using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ResearchAssistant.Core;
using ResearchAssistant.Core.Chat;
using ResearchAssistant.Core.Data;
using ResearchAssistant.Core.Sessions;
using ResearchAssistant.Core.Sync;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace ResearchAssistant.Tests.Support;

/// <summary>
/// Core as the app wires it (<see cref="CoreServiceCollectionExtensions.AddResearchAssistantCore"/> from configuration),
/// with the OpenAI-compatible model pointed at a fake server and the hosted turn runner started and stopped like a host
/// would. One per test, so no background work outlives the test that caused it.
/// </summary>
public sealed class CoreHarness : IAsyncDisposable
{
    public static readonly TimeSpan DefaultWait = TimeSpan.FromSeconds(20);

    private readonly ServiceProvider _services;
    private readonly IHostedService[] _hosted;
    private readonly ErrorLogRecorder _errors;
    private int _disposed;

    private CoreHarness(ServiceProvider services, IHostedService[] hosted, ErrorLogRecorder errors)
    {
        _services = services;
        _hosted = hosted;
        _errors = errors;
    }

    /// <summary>Errors Core logged so far (unexpected failures in background work).</summary>
    public IReadOnlyList<string> LoggedErrors => _errors.Errors;

    public IServiceProvider Services => _services;
    public ChatService Chat => _services.GetRequiredService<ChatService>();
    public SessionOrganizer Organizer => _services.GetRequiredService<SessionOrganizer>();
    public BranchService Branches => _services.GetRequiredService<BranchService>();
    public ResearchAssistant.Core.Privacy.ContentProtector Protector => _services.GetRequiredService<ResearchAssistant.Core.Privacy.ContentProtector>();
    public TurnRunner Turns => _services.GetRequiredService<TurnRunner>();
    public ResearchAssistant.Core.Search.SearchService Search => _services.GetRequiredService<ResearchAssistant.Core.Search.SearchService>();
    public ResearchAssistant.Core.Search.SearchBackfill Backfill => _services.GetRequiredService<ResearchAssistant.Core.Search.SearchBackfill>();
    public ResearchAssistant.Core.Search.SearchMerger Merger => _services.GetRequiredService<ResearchAssistant.Core.Search.SearchMerger>();
    public SessionBus Bus => _services.GetRequiredService<SessionBus>();
    /// <summary>The link to other instances' buses (PostgreSQL only; null on SQLite).</summary>
    public PostgresSessionBridge? Bridge => _services.GetService<PostgresSessionBridge>();
    public IDbContextFactory<AppDbContext> Contexts => _services.GetRequiredService<IDbContextFactory<AppDbContext>>();
    public DatabaseInitializer Initializer => _services.GetRequiredService<DatabaseInitializer>();

    /// <param name="settings">Extra configuration, applied last (e.g. <c>["Chat:MaxMessageLength"] = "10"</c>).</param>
    public static Task<CoreHarness> StartAsync(
        TestDatabase database,
        Uri modelEndpoint,
        ITestOutputHelper? output = null,
        TimeProvider? clock = null,
        IReadOnlyDictionary<string, string?>? settings = null) =>
        StartAsync(database.Settings, modelEndpoint, output, clock, settings);

    /// <summary>Core on a database of its own (e.g. one from <see cref="TestDatabase.CreateEmptyAsync"/>, migrated).</summary>
    public static async Task<CoreHarness> StartAsync(
        DatabaseSettings database,
        Uri modelEndpoint,
        ITestOutputHelper? output = null,
        TimeProvider? clock = null,
        IReadOnlyDictionary<string, string?>? settings = null)
    {
        var values = new Dictionary<string, string?>
        {
            ["Database:Provider"] = database.Provider.ToString(),
            ["ConnectionStrings:Default"] = database.ConnectionString,
            ["Llm:Provider"] = "OpenAI",
            ["Llm:Endpoint"] = modelEndpoint.ToString(),
            ["Llm:Model"] = "fake-model",
            ["Llm:ApiKey"] = "sk-test",
            // Failures are the point of several tests: no SDK retries, so they fail at once.
            ["Llm:MaxRetries"] = "0",
            ["Llm:TimeoutSeconds"] = "15",
            ["Encryption:MasterKey"] = TestDatabase.MasterKeyBase64,
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            values[key] = value;
        }
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();

        var errors = new ErrorLogRecorder();
        var services = new ServiceCollection();
        services.AddLogging(logging =>
        {
            logging.SetMinimumLevel(LogLevel.Warning);
            logging.AddProvider(errors);
            if (output is not null)
            {
                logging.AddProvider(new XunitLoggerProvider(output));
            }
        });
        // The data directory only matters for a default SQLite path; the connection string is explicit here.
        services.AddResearchAssistantCore(configuration, Path.GetTempPath());
        if (clock is not null)
        {
            services.AddSingleton(clock);
        }

        var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
        var hosted = provider.GetServices<IHostedService>().ToArray();
        foreach (var service in hosted)
        {
            await service.StartAsync(CancellationToken.None);
        }
        return new CoreHarness(provider, hosted, errors);
    }

    /// <summary>
    /// Waits until the conversation satisfies <paramref name="done"/>: re-reads it on every session-bus change, and every
    /// 100 ms as well because the turn runner's "no longer generating" is not announced. Fails after <paramref name="timeout"/>
    /// with the conversation as it last stood.
    /// </summary>
    public async Task<ConversationView> WaitForAsync(string userId, Guid sessionId, Func<ConversationView, bool> done, string what, TimeSpan? timeout = null)
    {
        using var changed = new SemaphoreSlim(0);
        using var subscription = Bus.Subscribe(userId, c =>
        {
            if (c.SessionId == sessionId && changed.CurrentCount == 0)
            {
                changed.Release();
            }
        });
        using var deadline = new CancellationTokenSource(timeout ?? DefaultWait);
        ConversationView? last = null;
        while (true)
        {
            last = await Chat.GetConversationAsync(userId, sessionId);
            if (last is not null && done(last))
            {
                return last;
            }
            try
            {
                await changed.WaitAsync(TimeSpan.FromMilliseconds(100), deadline.Token);
            }
            catch (OperationCanceledException)
            {
                throw new XunitException($"Timed out after {(timeout ?? DefaultWait).TotalSeconds:0} s waiting for {what}. The conversation:\n{Describe(last)}");
            }
        }
    }

    /// <summary>Waits until nothing is queued or streaming and the turn runner has let the session go.</summary>
    public Task<ConversationView> WaitUntilIdleAsync(string userId, Guid sessionId, string what = "the conversation to settle") =>
        WaitForAsync(userId, sessionId, IsIdle, what);

    public static bool IsIdle(ConversationView view) =>
        !view.IsGenerating && view.Messages.All(m => m.Status is not (EventStatus.Queued or EventStatus.Streaming));

    public static string Describe(ConversationView? view)
    {
        if (view is null)
        {
            return "(not found)";
        }
        var text = new StringBuilder($"generating={view.IsGenerating}\n");
        foreach (var m in view.Messages)
        {
            var body = m.Text.Length > 80 ? m.Text[..80] + "…" : m.Text;
            text.AppendLine($"  #{m.Seq} {m.Role} {m.Status}: \"{body}\"{(m.FailureReason is null ? "" : $" ({m.FailureReason})")}");
        }
        return text.ToString();
    }

    /// <summary>Stops the hosted services, then the container. Safe to call twice (a test may stop Core itself).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }
        foreach (var service in _hosted.Reverse())
        {
            await service.StopAsync(CancellationToken.None);
        }
        await _services.DisposeAsync();
    }
}
