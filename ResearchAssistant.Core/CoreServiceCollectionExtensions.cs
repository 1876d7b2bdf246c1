using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ResearchAssistant.Core.Chat;
using ResearchAssistant.Core.Context;
using ResearchAssistant.Core.Data;
using ResearchAssistant.Core.Devices;
using ResearchAssistant.Core.Llm;
using ResearchAssistant.Core.Sync;

namespace ResearchAssistant.Core;

public static class CoreServiceCollectionExtensions
{
    /// <summary>Everything the domain needs: data, the model, the turn runner, the session bus and search.</summary>
    public static IServiceCollection AddResearchAssistantCore(this IServiceCollection services, IConfiguration configuration, string dataDirectory)
    {
        var database = DatabaseSettings.FromConfiguration(configuration, dataDirectory);
        services.AddSingleton(database);
        services.AddSingleton<IDbContextFactory<AppDbContext>>(sp => new AppDbContextFactory(database, sp.GetService<ILoggerFactory>()));
        // Identity's stores want a scoped context; it comes from the same factory.
        services.AddScoped(sp => sp.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContext());
        services.AddSingleton<DatabaseInitializer>();
        services.AddSingleton(Privacy.MasterKey.Load(configuration, dataDirectory));
        services.AddSingleton<Privacy.ContentProtector>();

        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(configuration.GetSection(ChatLimits.Section).Get<ChatLimits>() ?? new ChatLimits());
        services.AddChatModel(configuration);
        services.AddSingleton(configuration.GetSection(ContextOptions.Section).Get<ContextOptions>() ?? new ContextOptions());
        services.AddSingleton<ITokenCounter, EstimatingTokenCounter>();
        services.AddSingleton<ContextAssembler>();
        services.AddSingleton<ExtractiveSummaryWriter>();
        services.AddSingleton<ISummaryWriter>(sp => sp.GetRequiredService<LlmOptions>().Provider == LlmProvider.Offline
            ? sp.GetRequiredService<ExtractiveSummaryWriter>()
            : new ModelSummaryWriter(sp.GetRequiredService<IChatModel>(), sp.GetRequiredService<ExtractiveSummaryWriter>(), sp.GetRequiredService<ITokenCounter>()));
        services.AddSingleton<Summarizer>();
        services.AddHostedService(sp => sp.GetRequiredService<Summarizer>());
        services.AddSingleton<IMessageRecall, SearchRecall>();
        services.AddSingleton<TurnContextBuilder>();
        services.AddSingleton<Accounts.UserProfileService>();
        services.AddDeviceSessions();
        services.AddSingleton<SessionBus>();
        services.AddSingleton<PresenceService>();
        services.AddHostedService(sp => sp.GetRequiredService<PresenceService>());
        if (database.Provider == DatabaseProvider.Postgres)
        {
            services.AddSingleton(_ => Npgsql.NpgsqlDataSource.Create(database.ConnectionString));
            services.AddSingleton<ISessionTurnLock, PostgresTurnLock>();
            // Several instances may share this database: their session buses meet through LISTEN/NOTIFY. Registered
            // before the turn runner, so it stops after it and still sends the seals of answers cut off by a shutdown.
            services.AddSingleton<PostgresSessionBridge>();
            services.AddHostedService(sp => sp.GetRequiredService<PostgresSessionBridge>());
        }
        else
        {
            services.AddSingleton<ISessionTurnLock, InProcessTurnLock>();
        }
        // Before the turn runner and the chat service, which nudge it.
        services.AddSingleton<Search.SearchMerger>();
        services.AddHostedService(sp => sp.GetRequiredService<Search.SearchMerger>());
        services.AddSingleton<TurnRunner>();
        services.AddHostedService(sp => sp.GetRequiredService<TurnRunner>());
        services.AddSingleton<ChatService>();
        services.AddSingleton<Sessions.BranchService>();
        services.AddSingleton<Sessions.SessionOrganizer>();
        services.AddSingleton<Search.SearchService>();
        services.AddSingleton<Search.SearchBackfill>();
        services.AddHostedService(sp => sp.GetRequiredService<Search.SearchBackfill>());
        return services;
    }
}
