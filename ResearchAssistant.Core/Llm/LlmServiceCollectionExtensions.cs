using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace ResearchAssistant.Core.Llm;

public static class LlmServiceCollectionExtensions
{
    public static IServiceCollection AddChatModel(this IServiceCollection services, IConfiguration configuration)
    {
        var options = configuration.GetSection(LlmOptions.Section).Get<LlmOptions>() ?? new LlmOptions();
        services.AddSingleton(options);
        services.AddSingleton<IChatModel>(options.Provider switch
        {
            LlmProvider.OpenAI => new OpenAiChatModel(options),
            _ => new OfflineChatModel(options),
        });
        return services;
    }
}
