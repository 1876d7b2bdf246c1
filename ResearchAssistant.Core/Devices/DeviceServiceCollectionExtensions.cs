using Microsoft.Extensions.DependencyInjection;

namespace ResearchAssistant.Core.Devices;

public static class DeviceServiceCollectionExtensions
{
    /// <summary>Device sign-ins: the services, the cookie check with its memory, and the watcher for sign-outs made elsewhere.</summary>
    public static IServiceCollection AddDeviceSessions(this IServiceCollection services)
    {
        services.AddSingleton<DeviceSignOuts>();
        services.AddSingleton<DeviceSessionCheck>();
        services.AddSingleton<DeviceSessionService>();
        services.AddSingleton<DeviceAdminService>();
        services.AddSingleton<SignedOutDeviceWatcher>();
        services.AddHostedService(sp => sp.GetRequiredService<SignedOutDeviceWatcher>());
        return services;
    }
}
