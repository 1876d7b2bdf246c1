using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Rendering;
using Radzen;

namespace ResearchAssistant.Web.Components.Shared;

/// <summary>
/// A button that looks and behaves like a <c>RadzenButton</c> (the same element, CSS classes and content, so the theme's
/// hover, focus and disabled styles apply unchanged) but is rendered into its parent instead of being a component of its
/// own. A component costs every open circuit about 3 KB (its state, its own render tree buffer, parameter and attribute
/// dictionaries); a button repeated on every message of a conversation costs that many times over
/// (benchmarks/RESULTS.md, "Memory per circuit"). Use it where a button repeats per item; a single button can stay a
/// RadzenButton.
/// </summary>
public static class PlainButton
{
    // The class list and inner markup depend only on the look, icon and text, which are fixed UI words: each is made once
    // and shared by every render of every circuit, instead of a new string held by each rendered button.
    private static readonly ConcurrentDictionary<(string? Icon, string? Text), string> Contents = new();
    private static readonly ConcurrentDictionary<(ButtonLook Look, bool Disabled, bool IconOnly), string> Classes = new();
    private static readonly ButtonLook IconLook = new(ButtonSize.ExtraSmall, Variant.Text);

    /// <summary>A button with a visible text (its accessible name) and an optional icon before it.</summary>
    public static RenderFragment Text(object receiver, string text, ButtonLook look, Func<Task> onClick, string? icon = null, bool disabled = false) =>
        Button(receiver, look, onClick, icon: icon, text: text, disabled: disabled);

    /// <summary>Any RadzenButton look: <paramref name="onClick"/> null with <paramref name="submit"/> for a form's submit button.</summary>
    /// <param name="expanded">aria-expanded, for a button that opens and closes something.</param>
    public static RenderFragment Button(object receiver, ButtonLook look, Func<Task>? onClick, string? icon = null, string? text = null,
                                        string? label = null, string? title = null, bool disabled = false, bool submit = false,
                                        bool? expanded = null, string? id = null) => builder =>
        Write(builder, receiver, look, onClick, icon, text, label, title, disabled, submit ? "submit" : "button", expanded, id);

    /// <summary>
    /// An icon-only button (Radzen's extra-small text button, as the message actions use), written straight into the
    /// caller's render tree (see <see cref="Write"/>).
    /// </summary>
    /// <param name="receiver">The component whose handler this is: it re-renders after the click, as with <c>@onclick</c>.</param>
    /// <param name="label">The accessible name (aria-label); also the tooltip unless <paramref name="title"/> says otherwise.</param>
    public static void WriteIcon(RenderTreeBuilder builder, object receiver, string icon, string label, Func<Task> onClick,
                                 bool disabled = false, string? title = null, string? type = "button") =>
        Write(builder, receiver, IconLook, onClick, icon, text: null, label, title ?? label, disabled, type, expanded: null, id: null);

    /// <summary>
    /// Writes the button into the caller's render tree, without the region frame a RenderFragment adds. Every button has
    /// the same sequence numbers, so buttons written one after another are diffed like the items of a loop (matched in
    /// order). <paramref name="type"/> null leaves the attribute out, for buttons in no form (where the type does
    /// nothing): one frame fewer.
    /// </summary>
    public static void Write(RenderTreeBuilder builder, object receiver, ButtonLook look, Func<Task>? onClick, string? icon,
                             string? text, string? label, string? title, bool disabled, string? type, bool? expanded, string? id)
    {
        builder.OpenElement(0, "button");
        builder.AddAttribute(1, "type", type);
        builder.AddAttribute(2, "class", ClassOf(look, disabled, iconOnly: text is null && icon is not null));
        builder.AddAttribute(3, "aria-label", label);
        builder.AddAttribute(4, "title", title);
        builder.AddAttribute(5, "aria-expanded", expanded switch { true => "true", false => "false", null => null });
        builder.AddAttribute(6, "disabled", disabled);
        builder.AddAttribute(7, "id", id);
        if (onClick is not null)
        {
            builder.AddAttribute(8, "onclick", EventCallback.Factory.Create(receiver, onClick));
        }
        builder.AddMarkupContent(9, Contents.GetOrAdd((icon, text), static key => Content(key.Icon, key.Text)));
        builder.CloseElement();
    }

    /// <summary>
    /// The same button as HTML, for markup that is written once and shared (a message's action bar): no handler of its
    /// own, a click reaches the page through <paramref name="action"/> (<c>data-action</c>, see MessageActionEventArgs).
    /// </summary>
    public static string Markup(ButtonLook look, string? icon, string? text, string? label, string? title, bool disabled, string action)
    {
        var html = new System.Text.StringBuilder("<button class=\"")
            .Append(ClassOf(look, disabled, iconOnly: text is null && icon is not null))
            .Append('"');
        if (label is not null)
        {
            html.Append(" aria-label=\"").Append(WebUtility.HtmlEncode(label)).Append('"');
        }
        if (title is not null)
        {
            html.Append(" title=\"").Append(WebUtility.HtmlEncode(title)).Append('"');
        }
        if (disabled)
        {
            html.Append(" disabled");
        }
        return html.Append(" data-action=\"").Append(WebUtility.HtmlEncode(action)).Append("\">")
            .Append(Contents.GetOrAdd((icon, text), static key => Content(key.Icon, key.Text))).Append("</button>").ToString();
    }

    /// <summary><see cref="Markup"/> for an icon-only button, as <see cref="WriteIcon"/> writes it.</summary>
    public static string IconMarkup(string icon, string label, string action, bool disabled = false, string? title = null) =>
        Markup(IconLook, icon, text: null, label, title ?? label, disabled, action);

    private static string ClassOf(ButtonLook look, bool disabled, bool iconOnly) =>
        Classes.GetOrAdd((look, disabled, iconOnly), static key => key.Look.CssClass(key.Disabled, key.IconOnly));

    /// <summary>RadzenButton's content for an icon and/or a text.</summary>
    private static string Content(string? icon, string? text)
    {
        var iconMarkup = icon is null ? "" : $"<i class=\"notranslate rz-button-icon-left rzi\" aria-hidden=\"true\">{WebUtility.HtmlEncode(icon)}</i>";
        var textMarkup = text is null ? "" : $"<span class=\"rz-button-text\">{WebUtility.HtmlEncode(text)}</span>";
        return $"<span class=\"rz-button-box\">{iconMarkup}{textMarkup}</span>";
    }
}

/// <summary>The RadzenButton parameters that decide a button's look.</summary>
public sealed record ButtonLook(ButtonSize Size = ButtonSize.Medium, Variant Variant = Variant.Filled, ButtonStyle Style = ButtonStyle.Primary, string? Class = null)
{
    /// <summary>RadzenButton's class list for these parameters (size, variant, style, disabled state, shade, icon-only), in its order.</summary>
    public string CssClass(bool disabled, bool iconOnly)
    {
        var size = Size switch
        {
            ButtonSize.ExtraSmall => "xs",
            ButtonSize.Small => "sm",
            ButtonSize.Large => "lg",
            _ => "md",
        };
        var classes = $"rz-button rz-button-{size} rz-variant-{Variant.ToString().ToLowerInvariant()} rz-{Style.ToString().ToLowerInvariant()}"
                      + (disabled ? " rz-state-disabled" : "") + " rz-shade-default" + (iconOnly ? " rz-button-icon-only" : "");
        return Class is null ? classes : $"{classes} {Class}";
    }
}
