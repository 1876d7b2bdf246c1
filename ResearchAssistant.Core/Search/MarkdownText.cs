using System.Text;
using Markdig;
using Markdig.Extensions.TaskLists;
using Markdig.Syntax;
using Markdig.Syntax.Inlines;

namespace ResearchAssistant.Core.Search;

/// <summary>
/// The text a reader sees in a Markdown message, without its syntax: what a search snippet of an assistant's answer
/// shows. Emphasis marks, heading and list markers, code fences and backticks, and link targets go; link and image
/// texts, code and literal text stay. Raw HTML is not HTML here either (the chat shows it as text, and so does this):
/// the result is text, to be rendered escaped.
/// </summary>
internal static class MarkdownText
{
    // The syntax the chat renders answers with (Web's MarkdownRenderer), so a snippet reads like the message.
    private static readonly MarkdownPipeline Pipeline = ChatMarkdownSyntax.Builder().Build();

    /// <summary>Blocks end with a line break (a snippet collapses them to spaces); text inside a block is kept as written.</summary>
    public static string ToPlain(string markdown)
    {
        var text = new StringBuilder(markdown.Length);
        AppendBlock(Markdown.Parse(markdown, Pipeline), text);
        return text.ToString().Trim();
    }

    private static void AppendBlock(Block block, StringBuilder text)
    {
        switch (block)
        {
            case LinkReferenceDefinitionGroup or ThematicBreakBlock:
                // "[1]: https://..." definitions and "---" rules are syntax, not text.
                return;
            case LeafBlock { Inline: { } inlines }:
                AppendInlines(inlines, text);
                break;
            case LeafBlock leaf:
                // Code blocks: their lines as they are.
                text.Append(leaf.Lines.ToString());
                break;
            case ContainerBlock container:
                foreach (var child in container)
                {
                    AppendBlock(child, text);
                }
                return;
        }
        text.Append('\n');
    }

    private static void AppendInlines(ContainerInline container, StringBuilder text)
    {
        foreach (var inline in container)
        {
            switch (inline)
            {
                case LiteralInline literal:
                    text.Append(literal.Content.AsSpan());
                    break;
                case CodeInline code:
                    text.Append(code.Content);
                    break;
                case AutolinkInline autolink:
                    text.Append(autolink.Url);
                    break;
                case HtmlEntityInline entity:
                    text.Append(entity.Transcoded.AsSpan());
                    break;
                case HtmlInline html:
                    text.Append(html.Tag);
                    break;
                case LineBreakInline:
                    text.Append('\n');
                    break;
                case TaskList:
                    // A checkbox in the chat: nothing to read.
                    break;
                case ContainerInline nested:
                    // Emphasis, links (their text, not their target), images (their alt text).
                    AppendInlines(nested, text);
                    break;
            }
        }
    }
}
