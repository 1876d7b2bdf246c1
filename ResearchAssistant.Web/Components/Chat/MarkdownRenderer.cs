using Markdig;
using Markdig.Renderers;
using Markdig.Syntax;
using Markdig.Syntax.Inlines;

namespace ResearchAssistant.Web.Components.Chat;

/// <summary>
/// Renders model output, which is untrusted text, as Markdown: raw HTML is shown as text, and links or images with
/// a scheme other than http, https or mailto lose their target (no javascript: or data: URLs).
/// </summary>
public static class MarkdownRenderer
{
    private static readonly MarkdownPipeline Pipeline = ResearchAssistant.Core.Search.ChatMarkdownSyntax.Builder()
        .UseReferralLinks("noopener", "noreferrer", "nofollow")
        .Build();

    private static readonly string[] SafeSchemes = ["http", "https", "mailto"];

    public static string ToHtml(string markdown)
    {
        var document = Markdown.Parse(markdown, Pipeline);
        foreach (var link in document.Descendants<LinkInline>())
        {
            if (!IsSafe(link.Url))
            {
                link.Url = "#";
            }
        }
        foreach (var link in document.Descendants<AutolinkInline>())
        {
            if (!IsSafe(link.Url))
            {
                link.Url = "#";
            }
        }

        using var writer = new StringWriter();
        var renderer = new HtmlRenderer(writer);
        Pipeline.Setup(renderer);
        renderer.Render(document);
        writer.Flush();
        return writer.ToString();
    }

    private static bool IsSafe(string? url)
    {
        if (string.IsNullOrWhiteSpace(url))
        {
            return true;
        }
        var trimmed = url.Trim();
        // Relative links and fragments have no scheme; anything with one must be on the list.
        var colon = trimmed.IndexOf(':');
        var firstSeparator = trimmed.IndexOfAny(['/', '?', '#']);
        if (colon < 0 || firstSeparator >= 0 && firstSeparator < colon)
        {
            return true;
        }
        var scheme = trimmed[..colon];
        return SafeSchemes.Contains(scheme, StringComparer.OrdinalIgnoreCase);
    }
}
