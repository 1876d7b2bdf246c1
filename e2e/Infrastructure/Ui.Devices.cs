using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace ResearchAssistant.E2E.Infrastructure;

/// <summary>The UI contract of device sign-ins: the account menu, the Devices page and the password page.</summary>
public static partial class Ui
{
    /// <summary>The header's account menu (a disclosure named "Account menu (email)").</summary>
    public static ILocator AccountMenu(IPage page) => page.GetByLabel(new Regex(@"^Account menu \("));

    public static ILocator DevicesLink(IPage page) => page.GetByRole(AriaRole.Link, new() { Name = "Devices", Exact = true });

    public static ILocator DeviceList(IPage page) => page.GetByRole(AriaRole.List, new() { Name = "Signed-in devices", Exact = true });

    /// <summary>A device of the list, found by its name (e.g. "Phone (Android, Chrome)").</summary>
    public static ILocator Device(IPage page, string name) => DeviceList(page).GetByRole(AriaRole.Listitem).Filter(new() { HasText = name });

    public static ILocator ThisDeviceLabel(ILocator device) => device.GetByText("This device", new() { Exact = true });

    public static ILocator SignOutDeviceButton(ILocator device) => device.GetByRole(AriaRole.Button, new() { Name = "Sign out", Exact = true });

    public static ILocator SignOutAllOtherDevicesButton(IPage page) =>
        page.GetByRole(AriaRole.Button, new() { Name = "Sign out all other devices", Exact = true });

    /// <summary>Opens the Devices page the way a person does: account menu, then Devices.</summary>
    public static async Task OpenDevicesAsync(this IPage page)
    {
        await page.WaitForInteractiveAsync();
        await AccountMenu(page).ClickAsync();
        await DevicesLink(page).ClickAsync();
        await page.WaitForURLAsync(new Regex("/Account/Devices$"));
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Devices", Exact = true })).ToBeVisibleAsync();
        await Expect(DeviceList(page)).ToBeVisibleAsync();
        await page.WaitForInteractiveAsync();
    }

    public static ILocator LogInButton(IPage page) => page.GetByRole(AriaRole.Button, new() { Name = "Log in", Exact = true });
}
