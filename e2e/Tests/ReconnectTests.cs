using ResearchAssistant.E2E.Infrastructure;
using ResearchAssistant.Testing;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace ResearchAssistant.E2E.Tests;

/// <summary>The server goes away under an open page: the user is told, and the page recovers when it is back.</summary>
public sealed class ReconnectTests(BrowserFixture browser, ITestOutputHelper output) : E2eTest(browser, output)
{
    [Fact]
    public Task Server_restart_shows_the_reconnect_UI_and_the_page_recovers() => RunAsync(async () =>
    {
        Fake.Behavior = new FakeBehavior { Tokens = ["First ", "answer."] };
        var app = await StartAppAsync();
        var page = await NewPageAsync(app);
        await page.RegisterAsync(Ui.NewEmail("reconnect"));
        await page.StartNewChatAsync();
        await page.SendAsync("First question");
        await page.WaitForAnswerAsync("First answer.");

        var modal = page.Locator("#components-reconnect-modal");
        await app.KillAsync();
        await Expect(modal).ToBeVisibleAsync();
        await Expect(modal).ToContainTextAsync("Reconnecting");

        // Back on the same port. The new process has no memory of the old circuit, so the page must get a new one
        // (the reconnect is rejected and the app reloads); the marker below only counts once the modal is gone.
        await app.RestartAsync();
        await Expect(modal).ToBeHiddenAsync(new() { Timeout = 60_000 });
        await page.WaitForInteractiveAsync();

        // Recovered means usable: the conversation is there and a message goes through.
        await Expect(Ui.UserMessages(page)).ToHaveCountAsync(1);
        Fake.Behavior = new FakeBehavior { Tokens = ["Second ", "answer."] };
        await Ui.Composer(page).FillAsync("Second question");
        await Ui.SendButton(page).ClickAsync();
        await page.WaitForAnswerAsync("Second answer.");
        await Expect(Ui.UserMessages(page)).ToHaveCountAsync(2);
    });

    [Fact]
    public Task A_device_whose_network_drops_shows_what_it_missed_once_back_with_no_duplicates() => RunAsync(async () =>
    {
        Fake.Behavior = new FakeBehavior { Tokens = ["Before ", "the ", "blip."] };
        var app = await StartAppAsync();
        var email = Ui.NewEmail("blip");
        var laptop = await NewPageAsync(app);
        await laptop.RegisterAsync(email);
        await laptop.StartNewChatAsync();
        var url = await laptop.SendAsync("Question before the blip");
        await laptop.WaitForAnswerAsync("blip.");

        // The phone reaches the app through a relay whose connections can be cut.
        await using var network = CuttableProxy.Start(app.BaseUrl);
        var phone = await NewPageAsync(network.BaseUrl, Phone, phone: true);
        await phone.LoginAsync(email);
        await phone.GotoAsync(new Uri(network.BaseUrl, new Uri(url).PathAndQuery).ToString());
        await phone.WaitForInteractiveAsync();
        await Expect(Ui.UserMessages(phone)).ToHaveCountAsync(1);

        // The phone loses its network; the laptop carries on meanwhile.
        network.Cut();
        var modal = phone.Locator("#components-reconnect-modal");
        await Expect(modal).ToBeVisibleAsync(new() { Timeout = 30_000 });
        Fake.Behavior = new FakeBehavior { Tokens = ["Missed ", "while ", "offline."] };
        await Ui.Composer(laptop).FillAsync("Question during the blip");
        await Ui.SendButton(laptop).ClickAsync();
        await laptop.WaitForAnswerAsync("offline.");

        network.Restore();
        await Expect(modal).ToBeHiddenAsync(new() { Timeout = 60_000 });
        await Expect(Ui.UserMessages(phone)).ToHaveCountAsync(2);
        await Expect(Ui.UserMessages(phone).Filter(new() { HasText = "Question during the blip" })).ToHaveCountAsync(1);
        await Expect(Ui.AssistantMessages(phone)).ToHaveCountAsync(2);
        await Expect(Ui.AssistantMessages(phone).Last).ToContainTextAsync("Missed while offline.");
    });
}
