using Microsoft.Playwright;
using ResearchAssistant.E2E.Infrastructure;
using ResearchAssistant.Testing;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace ResearchAssistant.E2E.Tests;

/// <summary>Opening the app on another device lands on the conversation the user was last in, at its newest message.</summary>
public sealed class ResumeTests(BrowserFixture browser, ITestOutputHelper output) : E2eTest(browser, output)
{
    private const string Carbon = "What did we say about the carbon cycle?";
    private const string Other = "A newer conversation about tides";

    [Fact]
    public Task The_phone_opens_on_the_conversation_last_open_on_the_laptop_scrolled_to_its_end() => RunAsync(async () =>
    {
        Fake.Behavior = new FakeBehavior { Tokens = [.. Enumerable.Repeat("Carbon moves between air, ocean and rock. ", 12)], TokenDelay = TimeSpan.FromMilliseconds(1) };
        var app = await StartAppAsync();
        var email = Ui.NewEmail("resume");
        var laptop = await NewPageAsync(app);
        await laptop.RegisterAsync(email);

        // A conversation long enough to scroll, then a newer one, then back to the first (opened, not written to).
        await laptop.StartNewChatAsync();
        var carbonUrl = await laptop.SendAsync(Carbon);
        await laptop.WaitForAnswerAsync("rock.");
        for (var i = 2; i <= 6; i++)
        {
            await Ui.Composer(laptop).FillAsync($"Follow-up {i} on the carbon cycle");
            await Ui.SendButton(laptop).ClickAsync();
            await Expect(Ui.UserMessages(laptop)).ToHaveCountAsync(i);
            await laptop.WaitForAnswerAsync("rock.");
        }
        await laptop.StartNewChatAsync();
        var otherUrl = await laptop.SendAsync(Other);
        await laptop.WaitForAnswerAsync("rock.");
        await Ui.ConversationLink(laptop, Carbon).ClickAsync();
        await laptop.WaitForURLAsync(carbonUrl);
        await Expect(Ui.UserMessages(laptop)).ToHaveCountAsync(6);

        // The phone signs in and lands on that conversation, at its newest message.
        var phone = await NewPageAsync(app, Phone, phone: true);
        await phone.LoginAsync(email);
        await phone.WaitForURLAsync(carbonUrl);
        await phone.WaitForInteractiveAsync();
        await Expect(Ui.AssistantMessages(phone)).ToHaveCountAsync(6);
        await Expect(Ui.AssistantMessages(phone).Last).ToBeInViewportAsync();
        await Expect(Ui.UserMessages(phone).First).Not.ToBeInViewportAsync();

        // The new-chat address still starts a new conversation rather than resuming.
        await phone.GotoAsync("chat");
        await phone.WaitForInteractiveAsync();
        await Expect(Ui.Composer(phone)).ToBeEditableAsync();
        await Expect(Ui.UserMessages(phone)).ToHaveCountAsync(0);

        // Opening the other conversation on the phone makes it the one the laptop resumes on.
        await phone.GotoAsync(otherUrl);
        await phone.WaitForInteractiveAsync();
        await laptop.GotoAsync("");
        await laptop.WaitForURLAsync(otherUrl);
        await Expect(Ui.UserMessages(laptop).Filter(new() { HasText = Other })).ToHaveCountAsync(1);
    });
}
