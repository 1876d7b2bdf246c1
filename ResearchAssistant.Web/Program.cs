using ResearchAssistant.Web.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddResearchAssistant();

var app = builder.Build();
await app.InitializeDatabaseAsync();
app.UseResearchAssistant();
app.Run();

// Visible to WebApplicationFactory in tests.
public partial class Program;
