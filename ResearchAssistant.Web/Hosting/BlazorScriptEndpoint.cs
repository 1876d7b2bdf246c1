using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Security.Cryptography;
using Microsoft.Net.Http.Headers;

namespace ResearchAssistant.Web.Hosting;

/// <summary>
/// Serves <c>_framework/blazor.web.js</c>, read once from the assembly embedded by BlazorScript.targets
/// (the .NET 9.0.22 script: see STACK.md section 2 for why).
/// </summary>
internal static class BlazorScriptEndpoint
{
    public const string Path = "/_framework/blazor.web.js";
    private const string SourceResource = "blazor-script-source.dll";
    private const string ScriptResource = "_framework/blazor.web.js";

    private static readonly Lazy<(byte[] Script, string ETag)> Script = new(Load);

    public static IEndpointRouteBuilder MapBlazorScript(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet(Path, (HttpContext context) =>
        {
            var (script, etag) = Script.Value;
            context.Response.Headers.ETag = etag;
            context.Response.Headers.CacheControl = "no-cache";
            if (context.Request.Headers.IfNoneMatch == etag)
            {
                return Results.StatusCode(StatusCodes.Status304NotModified);
            }
            return Results.Bytes(script, "text/javascript; charset=utf-8");
        }).AllowAnonymous().ExcludeFromDescription();
        return endpoints;
    }

    /// <summary>Fails at start-up, not on the first page view, if the script cannot be had.</summary>
    public static void EnsureAvailable() => _ = Script.Value;

    private static (byte[], string) Load()
    {
        using var source = typeof(BlazorScriptEndpoint).Assembly.GetManifestResourceStream(SourceResource)
            ?? throw new InvalidOperationException($"The build did not embed {SourceResource}; see BlazorScript.targets.");
        // Read the resource without loading the assembly: it was built for another runtime version.
        using var pe = new PEReader(source);
        var metadata = pe.GetMetadataReader();
        foreach (var handle in metadata.ManifestResources)
        {
            var resource = metadata.GetManifestResource(handle);
            if (metadata.GetString(resource.Name) != ScriptResource)
            {
                continue;
            }
            var directory = pe.PEHeaders.CorHeader!.ResourcesDirectory;
            var section = pe.GetSectionData(directory.RelativeVirtualAddress);
            var reader = section.GetReader((int)resource.Offset, section.Length - (int)resource.Offset);
            var bytes = reader.ReadBytes(reader.ReadInt32());
            var etag = new EntityTagHeaderValue($"\"{Convert.ToHexStringLower(SHA256.HashData(bytes))[..16]}\"").ToString();
            return (bytes, etag);
        }
        throw new InvalidOperationException($"{ScriptResource} was not found in the embedded {SourceResource}.");
    }
}
