using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using ResearchAssistant.Tests.Support;

namespace ResearchAssistant.Tests.Web;

/// <summary>The whole app in-process on a real SQLite file in its own data directory, with the offline model.</summary>
public sealed class AppFactory : WebApplicationFactory<Program>
{
    public string DataDirectory { get; } = Directory.CreateTempSubdirectory("ra-web-").FullName;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Production");
        builder.UseSetting("DataDirectory", DataDirectory);
        builder.UseSetting("Encryption:MasterKey", TestDatabase.MasterKeyBase64);
        builder.UseSetting("Llm:Provider", "Offline");
        builder.UseSetting("Llm:OfflineDelayMilliseconds", "0");
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        Directory.Delete(DataDirectory, recursive: true);
    }
}
