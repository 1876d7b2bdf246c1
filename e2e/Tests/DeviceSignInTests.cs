using System.Net;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using ResearchAssistant.E2E.Infrastructure;
using ResearchAssistant.Testing;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace ResearchAssistant.E2E.Tests;

/// <summary>
/// One user on two devices of one app instance, a laptop-sized and a phone-sized browser: a message and its answer,
/// while it streams, show on both; a conversation started on the phone appears in the laptop's sidebar; the Devices
/// page lists both and knows which one it is on; signing out the other devices closes the phone's page within
/// 5 seconds and its old cookie stops working.
/// </summary>
public sealed class DeviceSignInTests(BrowserFixture browser, ITestOutputHelper output) : E2eTest(browser, output)
{
    private const string PhoneUserAgent =
        "Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/139.0.0.0 Mobile Safari/537.36";
    private const string PhoneName = "Phone (Android, Chrome)";
    // Headless Chromium on Linux, with its own user agent.
    private const string LaptopName = "Computer (Linux, Chrome)";

    [Fact]
    public Task Two_devices_stay_in_step_and_one_signs_the_other_out() => RunAsync(async () =>
    {
        Fake.Behavior = new FakeBehavior { Tokens = ["Start ", "with ", "Web of Science."], TokenDelay = TimeSpan.FromMilliseconds(5) };
        var app = await StartAppAsync();
        // The app and its database are this test's own, so a readable address is unique enough (it shows in screenshots).
        var email = "sam@example.com";
        var laptop = await NewPageAsync(app, Laptop);
        await laptop.RegisterAsync(email);
        var phone = await NewPageAsync(app, Phone, phone: true, userAgent: PhoneUserAgent);
        await phone.LoginAsync(email);

        // Both devices on one conversation.
        await laptop.StartNewChatAsync();
        var chatUrl = await laptop.SendAsync("Plan a literature review on coral bleaching");
        await laptop.WaitForAnswerAsync("Web of Science.");
        await phone.GotoAsync(chatUrl);
        await phone.WaitForInteractiveAsync();
        await Expect(Ui.AssistantMessages(phone)).ToContainTextAsync("Web of Science.");
        // Each says where else the conversation is open.
        await Expect(Ui.AlsoOpenOn(laptop)).ToHaveTextAsync($"Also open on: {PhoneName}");
        await Expect(Ui.AlsoOpenOn(phone)).ToHaveTextAsync($"Also open on: {LaptopName}");
        if (AppPaths.TakeDocsScreenshots)
        {
            await laptop.ScreenshotAsync(new() { Path = Path.Combine(AppPaths.DocsScreenshotsDir, "presence-laptop.png") });
        }

        // (a) A message sent on the laptop shows on the phone, and so does its answer while it is being written: the
        // model stops after three tokens until the test lets it go on.
        var resume = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Fake.Behavior = new FakeBehavior
        {
            Tokens = ["Search ", "Scopus ", "first, ", "then ", "GreenFILE."],
            TokenDelay = TimeSpan.FromMilliseconds(5),
            PauseAfterTokens = 3,
            Resume = resume.Task,
        };
        await Ui.Composer(laptop).FillAsync("Which databases should I search first?");
        await Ui.SendButton(laptop).ClickAsync();
        await Expect(Ui.UserMessages(phone).Filter(new() { HasText = "Which databases should I search first?" })).ToHaveCountAsync(1);
        await Expect(Ui.AssistantMessages(phone).Last).ToContainTextAsync("Search Scopus first,");
        await Expect(Ui.StopButton(phone)).ToBeVisibleAsync();
        await Expect(Ui.AssistantMessages(phone).Last).Not.ToContainTextAsync("GreenFILE");
        resume.SetResult();
        await phone.WaitForAnswerAsync("Search Scopus first, then GreenFILE.");
        await laptop.WaitForAnswerAsync("Search Scopus first, then GreenFILE.");
        // A checkpoint saved on the laptop shows in the phone's list (the answer's own hints leave the list alone).
        await Expect(Ui.CheckpointsDisclosure(phone)).ToHaveTextAsync("Checkpoints (0)");
        await laptop.SaveCheckpointAsync(Ui.AssistantMessages(laptop).Last, "Databases");
        await Expect(Ui.CheckpointsDisclosure(phone)).ToHaveTextAsync("Checkpoints (1)");

        // (b) A conversation started on the phone appears in the laptop's sidebar.
        Fake.Behavior = new FakeBehavior { Tokens = ["Use ", "belt ", "transects."], TokenDelay = TimeSpan.FromMilliseconds(5) };
        await phone.GotoAsync("chat");
        // The phone has left the conversation: the laptop no longer lists it.
        await Expect(Ui.AlsoOpenOn(laptop)).ToHaveCountAsync(0);
        await phone.SendAsync("How do I survey reef fish on a budget?");
        await Expect(Ui.ConversationLink(laptop, "How do I survey reef fish")).ToBeVisibleAsync();
        await phone.WaitForAnswerAsync("Use belt transects.");

        // (c) The Devices page lists both devices, each marking itself as "This device".
        await laptop.OpenDevicesAsync();
        await ExpectDevicesAsync(laptop, thisDevice: LaptopName, otherDevice: PhoneName);
        await phone.OpenDevicesAsync();
        await ExpectDevicesAsync(phone, thisDevice: PhoneName, otherDevice: LaptopName);
        if (AppPaths.TakeDocsScreenshots)
        {
            await laptop.ScreenshotAsync(new() { Path = Path.Combine(AppPaths.DocsScreenshotsDir, "devices-laptop.png") });
            await phone.ScreenshotAsync(new() { Path = Path.Combine(AppPaths.DocsScreenshotsDir, "devices-phone.png") });
        }

        // The phone goes back to the conversation (an open page with a live connection). Its cookie works now.
        await phone.GotoAsync(chatUrl);
        await phone.WaitForInteractiveAsync();
        var phoneCookies = await phone.Context.CookiesAsync();
        using var before = await GetNewChatWithCookiesAsync(app, phoneCookies);
        Assert.Equal(HttpStatusCode.OK, before.StatusCode);

        // (d) "Sign out all other devices" on the laptop: the phone lands on the sign-in page within 5 seconds.
        await Ui.SignOutAllOtherDevicesButton(laptop).ClickAsync();
        await Expect(phone).ToHaveURLAsync(new Regex("/Account/Login"), new() { Timeout = 5_000 });
        await Expect(Ui.LogInButton(phone)).ToBeVisibleAsync();
        await Expect(Ui.DeviceList(laptop).GetByRole(AriaRole.Listitem)).ToHaveCountAsync(1);
        await Expect(Ui.Device(laptop, LaptopName)).ToBeVisibleAsync();

        // Its old cookie no longer works: a request with it is sent to the sign-in page.
        using var after = await GetNewChatWithCookiesAsync(app, phoneCookies);
        Assert.Equal(HttpStatusCode.Redirect, after.StatusCode);
        Assert.NotNull(after.Headers.Location);
        Assert.Equal("/Account/Login", new Uri(app.BaseUrl, after.Headers.Location).AbsolutePath);

        // The laptop is still signed in, and so is a new sign-in on the phone.
        await laptop.ReloadAsync();
        await Expect(Ui.LogOutButton(laptop)).ToBeVisibleAsync();
        await phone.LoginAsync(email);
    });

    private static async Task ExpectDevicesAsync(IPage page, string thisDevice, string otherDevice)
    {
        await Expect(Ui.DeviceList(page).GetByRole(AriaRole.Listitem)).ToHaveCountAsync(2);
        var current = Ui.Device(page, thisDevice);
        var other = Ui.Device(page, otherDevice);
        await Expect(Ui.ThisDeviceLabel(current)).ToBeVisibleAsync();
        await Expect(Ui.SignOutDeviceButton(current)).ToHaveCountAsync(0);
        await Expect(Ui.ThisDeviceLabel(other)).ToHaveCountAsync(0);
        await Expect(Ui.SignOutDeviceButton(other)).ToBeVisibleAsync();
        await Expect(Ui.SignOutAllOtherDevicesButton(page)).ToBeVisibleAsync();
    }

    /// <summary>GET /chat (a page for the signed-in only) with exactly these cookies, as a script holding a copied cookie would; redirects not followed.</summary>
    private static async Task<HttpResponseMessage> GetNewChatWithCookiesAsync(AppProcess app, IReadOnlyList<BrowserContextCookiesResult> cookies)
    {
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = app.BaseUrl };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/chat");
        request.Headers.Add("Cookie", string.Join("; ", cookies.Select(c => $"{c.Name}={c.Value}")));
        return await http.SendAsync(request);
    }
}
