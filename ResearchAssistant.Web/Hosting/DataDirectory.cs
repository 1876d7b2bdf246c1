namespace ResearchAssistant.Web.Hosting;

/// <summary>The one folder the app writes to at run time: the SQLite database, the generated master key, outgoing mail.</summary>
public sealed record DataDirectory(string Path)
{
    public const string ConfigurationKey = "DataDirectory";

    /// <summary>Reads <c>DataDirectory</c> (relative paths are under the content root; default App_Data) and creates it owner-only.</summary>
    public static DataDirectory Resolve(IConfiguration configuration, IHostEnvironment environment)
    {
        var configured = configuration[ConfigurationKey];
        var path = System.IO.Path.GetFullPath(string.IsNullOrWhiteSpace(configured) ? "App_Data" : configured, environment.ContentRootPath);
        Directory.CreateDirectory(path);
        if (!OperatingSystem.IsWindows())
        {
            // Keys and the database live here: nobody but the app's user should read them.
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        return new DataDirectory(path);
    }

    public string Subfolder(string name)
    {
        var path = System.IO.Path.Combine(Path, name);
        Directory.CreateDirectory(path);
        return path;
    }
}
