namespace ResearchAssistant.Core.Devices;

/// <summary>
/// A name a person recognizes their device by, from its browser's user agent: "Phone (Android, Chrome)",
/// "Laptop (Windows, Edge)", "Computer (Linux, Firefox)". The name is put together from a fixed set of words, so nothing
/// a client sends is ever shown or stored verbatim.
/// </summary>
public static class DeviceName
{
    public const string Unknown = "Unknown device";

    public static string FromUserAgent(string? userAgent)
    {
        if (string.IsNullOrWhiteSpace(userAgent))
        {
            return Unknown;
        }
        var (kind, os) = KindAndSystem(userAgent);
        var browser = Browser(userAgent);
        return (os, browser) switch
        {
            (null, null) => Unknown,
            (null, _) => $"{kind} ({browser})",
            (_, null) => $"{kind} ({os})",
            _ => $"{kind} ({os}, {browser})",
        };
    }

    private static (string Kind, string? Os) KindAndSystem(string ua)
    {
        // Order matters: Android and iOS user agents also say "Linux" and "like Mac OS X".
        if (Has(ua, "iPhone") || Has(ua, "iPod"))
        {
            return ("Phone", "iOS");
        }
        if (Has(ua, "iPad"))
        {
            return ("Tablet", "iPadOS");
        }
        if (Has(ua, "Android"))
        {
            // Android phones' browsers say "Mobile"; tablets' do not (Firefox says "Tablet").
            return (Has(ua, "Mobile") && !Has(ua, "Tablet") ? "Phone" : "Tablet", "Android");
        }
        // A user agent does not say whether a computer is a laptop. Windows, macOS and ChromeOS machines are mostly
        // laptops nowadays, so they are called that; anything else is a computer.
        if (Has(ua, "CrOS"))
        {
            return ("Laptop", "ChromeOS");
        }
        if (Has(ua, "Windows"))
        {
            return ("Laptop", "Windows");
        }
        if (Has(ua, "Macintosh") || Has(ua, "Mac OS X"))
        {
            return ("Laptop", "macOS");
        }
        if (Has(ua, "Linux") || Has(ua, "X11"))
        {
            return ("Computer", "Linux");
        }
        return (Has(ua, "Mobile") ? "Phone" : "Device", null);
    }

    private static string? Browser(string ua)
    {
        // Order matters: Edge, Opera and Samsung Internet also say "Chrome" and "Safari"; Chrome also says "Safari".
        if (Has(ua, "Edg/") || Has(ua, "EdgA/") || Has(ua, "EdgiOS/") || Has(ua, "Edge/"))
        {
            return "Edge";
        }
        if (Has(ua, "OPR/") || Has(ua, "Opera"))
        {
            return "Opera";
        }
        if (Has(ua, "SamsungBrowser/"))
        {
            return "Samsung Internet";
        }
        if (Has(ua, "Firefox/") || Has(ua, "FxiOS/"))
        {
            return "Firefox";
        }
        if (Has(ua, "Chrome/") || Has(ua, "CriOS/") || Has(ua, "Chromium/"))
        {
            return "Chrome";
        }
        if (Has(ua, "Safari/"))
        {
            return "Safari";
        }
        return null;
    }

    private static bool Has(string ua, string token) => ua.Contains(token, StringComparison.OrdinalIgnoreCase);
}
