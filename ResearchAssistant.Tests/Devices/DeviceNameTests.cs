using ResearchAssistant.Core.Devices;

namespace ResearchAssistant.Tests.Devices;

/// <summary>Names from real browsers' user agents, including the ones that claim to be several browsers at once.</summary>
public sealed class DeviceNameTests
{
    [Theory]
    // Android phone and tablet, Chrome
    [InlineData("Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36", "Phone (Android, Chrome)")]
    [InlineData("Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36", "Tablet (Android, Chrome)")]
    // Android: Samsung Internet, Firefox (phone and tablet), Edge
    [InlineData("Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36", "Phone (Android, Samsung Internet)")]
    [InlineData("Mozilla/5.0 (Android 14; Mobile; rv:127.0) Gecko/127.0 Firefox/127.0", "Phone (Android, Firefox)")]
    [InlineData("Mozilla/5.0 (Android 14; Tablet; rv:127.0) Gecko/127.0 Firefox/127.0", "Tablet (Android, Firefox)")]
    [InlineData("Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36 EdgA/126.0.0.0", "Phone (Android, Edge)")]
    // iPhone and iPad: Safari, Chrome (CriOS), Firefox (FxiOS)
    [InlineData("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1", "Phone (iOS, Safari)")]
    [InlineData("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/126.0.6478.54 Mobile/15E148 Safari/604.1", "Phone (iOS, Chrome)")]
    [InlineData("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/127.0 Mobile/15E148 Safari/605.1.15", "Phone (iOS, Firefox)")]
    [InlineData("Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1", "Tablet (iPadOS, Safari)")]
    // Windows: Edge (which also says Chrome and Safari), Chrome, Firefox, Opera
    [InlineData("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0", "Laptop (Windows, Edge)")]
    [InlineData("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36", "Laptop (Windows, Chrome)")]
    [InlineData("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0", "Laptop (Windows, Firefox)")]
    [InlineData("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 OPR/111.0.0.0", "Laptop (Windows, Opera)")]
    // macOS: Safari, Chrome; ChromeOS
    [InlineData("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15", "Laptop (macOS, Safari)")]
    [InlineData("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36", "Laptop (macOS, Chrome)")]
    [InlineData("Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36", "Laptop (ChromeOS, Chrome)")]
    // Linux: Firefox, Chrome, and headless Chromium (what the browser tests drive)
    [InlineData("Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0", "Computer (Linux, Firefox)")]
    [InlineData("Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0", "Computer (Linux, Firefox)")]
    [InlineData("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/139.0.0.0 Safari/537.36", "Computer (Linux, Chrome)")]
    public void Names_the_kind_of_device_its_system_and_its_browser(string userAgent, string expected) =>
        Assert.Equal(expected, DeviceName.FromUserAgent(userAgent));

    [Theory]
    [InlineData("curl/8.5.0", "Unknown device")]
    [InlineData("Mozilla/5.0 (Windows NT 10.0; Win64; x64)", "Laptop (Windows)")]
    [InlineData("SomeBot/1.0 Mobile", "Unknown device")]
    public void Says_only_what_it_recognizes(string userAgent, string expected) =>
        Assert.Equal(expected, DeviceName.FromUserAgent(userAgent));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    public void A_missing_user_agent_is_an_unknown_device(string? userAgent) =>
        Assert.Equal(DeviceName.Unknown, DeviceName.FromUserAgent(userAgent));

    [Fact]
    public void Nothing_the_client_sent_is_repeated_in_the_name()
    {
        var name = DeviceName.FromUserAgent("<script>alert(1)</script> (Windows NT 10.0) Firefox/127.0 " + new string('x', 5_000));

        Assert.Equal("Laptop (Windows, Firefox)", name);
        Assert.True(name.Length <= DeviceSession.MaxNameLength);
    }
}
