using System.Security.Cryptography;
using ResearchAssistant.E2E.Infrastructure;
using ResearchAssistant.Testing;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace ResearchAssistant.E2E.Tests;

/// <summary>
/// Two app processes on two ports sharing one PostgreSQL database, as behind a load balancer with sticky sessions:
/// one device on each. A sign-in made on one instance is good on the other (the Data Protection keys are shared
/// through the database), and each device sees the other's conversation live, streaming answer included.
/// </summary>
public sealed class MultiInstanceTests(BrowserFixture browser, ITestOutputHelper output) : E2eTest(browser, output)
{
    [Fact]
    public Task Two_instances_share_the_sign_in_and_each_device_sees_the_others_conversation_live() => RunAsync(async () =>
    {
        Fake.Behavior = new FakeBehavior { Tokens = ["First", " answer."], TokenDelay = TimeSpan.FromMilliseconds(5) };
        // What both instances need alike: the database and the master key (see README, "Several instances").
        var shared = new AppSettings
        {
            PostgresConnectionString = E2ePostgres.NewDatabase(),
            ExtraEnvironment = new Dictionary<string, string>
            {
                ["Encryption__MasterKey"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
            },
        };
        var instanceA = await StartAppAsync(shared, "instance-a");
        var instanceB = await StartAppAsync(shared, "instance-b");
        var laptop = await NewPageAsync(instanceA, Laptop);
        var phone = await NewPageAsync(instanceB, Phone, phone: true);

        // Signed in once, on A; the phone presents A's cookie to B (same host, another port) and is signed in there.
        await laptop.RegisterAsync(Ui.NewEmail("multi"));
        var cookies = await laptop.Context.CookiesAsync();
        Assert.Contains(cookies, c => c.Name == "ra.auth");
        await phone.Context.AddCookiesAsync(cookies.Select(c => new Microsoft.Playwright.Cookie
        {
            Name = c.Name, Value = c.Value, Domain = c.Domain, Path = c.Path, Expires = c.Expires,
            HttpOnly = c.HttpOnly, Secure = c.Secure, SameSite = c.SameSite,
        }));
        await phone.GotoAsync("");
        await Expect(Ui.LogOutButton(phone)).ToBeVisibleAsync();
        await Expect(Ui.Composer(phone)).ToBeEditableAsync();

        // A conversation started on the laptop (A), opened on the phone (B).
        await laptop.StartNewChatAsync();
        var chatUrl = await laptop.SendAsync("Where do lichens grow?");
        await laptop.WaitForAnswerAsync("First answer.");
        await phone.GotoAsync(new Uri(chatUrl).PathAndQuery);
        await phone.WaitForInteractiveAsync();
        await Expect(Ui.AssistantMessages(phone)).ToContainTextAsync("First answer.");

        // The next question is sent on the laptop: the phone shows it, then the answer as it streams (the model holds
        // after two tokens, so what the phone shows can only have come while the answer is being written).
        var resume = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Fake.Behavior = new FakeBehavior
        {
            Tokens = ["On rocks", " and bark,", " even in", " deserts."], TokenDelay = TimeSpan.FromMilliseconds(5), PauseAfterTokens = 2, Resume = resume.Task,
        };
        await Ui.Composer(laptop).FillAsync("And in deserts?");
        await Ui.SendButton(laptop).ClickAsync();
        await Expect(Ui.UserMessages(phone).Filter(new() { HasText = "And in deserts?" })).ToHaveCountAsync(1);
        var streaming = Ui.AssistantMessages(phone).Nth(1);
        await Expect(streaming).ToContainTextAsync("On rocks and bark,");
        await Expect(streaming).ToHaveAttributeAsync("aria-busy", "true");
        resume.SetResult();
        await Expect(streaming).ToContainTextAsync("On rocks and bark, even in deserts.");
        await Expect(streaming).ToHaveAttributeAsync("aria-busy", "false");
        await Expect(Ui.StopButton(phone)).ToHaveCountAsync(0);

        // A new conversation started on the phone (B) appears in the laptop's sidebar (A) without a reload.
        Fake.Behavior = new FakeBehavior { Tokens = ["Noted."], TokenDelay = TimeSpan.FromMilliseconds(5) };
        // "/chat", not the app's root: since main's resume, the root reopens the conversation last opened.
        await phone.GotoAsync("chat");
        await phone.SendAsync("Mosses on the phone");
        await Expect(Ui.ConversationLink(laptop, "Mosses on the phone")).ToBeVisibleAsync();
        await Expect(Ui.ConversationLink(laptop, "Where do lichens grow?")).ToBeVisibleAsync();
    });
}
