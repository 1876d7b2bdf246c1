using Bunit;
using Microsoft.Extensions.DependencyInjection;
using Radzen;

namespace ResearchAssistant.Tests.Components;

internal static class BunitSetup
{
    /// <summary>What Radzen's components need to render; their JavaScript calls are answered loosely.</summary>
    public static void AddRadzenServices(this BunitContext context)
    {
        context.Services.AddRadzenComponents();
        context.JSInterop.Mode = JSRuntimeMode.Loose;
    }
}
