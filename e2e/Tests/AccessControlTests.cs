using Microsoft.Playwright;
using ResearchAssistant.E2E.Infrastructure;
using ResearchAssistant.Testing;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace ResearchAssistant.E2E.Tests;

/// <summary>A conversation's address is not a capability: another account gets "Not found" and nothing else.</summary>
public sealed class AccessControlTests(BrowserFixture browser, ITestOutputHelper output) : E2eTest(browser, output)
{
    private const string SecretQuestion = "Keep this between us: the launch code is Pineapple-7781?";
    private const string SecretAnswer = "Understood, Tangerine-4410 noted.";

    [Fact]
    public Task Another_account_opening_my_conversation_sees_Not_found_and_none_of_it() => RunAsync(async () =>
    {
        Fake.Behavior = new FakeBehavior { Tokens = ["Understood, ", "Tangerine-4410 ", "noted."] };
        var app = await StartAppAsync();

        var owner = await NewPageAsync(app);
        await owner.RegisterAsync(Ui.NewEmail("owner"));
        await owner.StartNewChatAsync();
        var chatUrl = await owner.SendAsync(SecretQuestion);
        await owner.WaitForAnswerAsync(SecretAnswer);

        var intruder = await NewPageAsync(app);
        await intruder.RegisterAsync(Ui.NewEmail("intruder"));
        await intruder.GotoAsync(chatUrl);
        await intruder.WaitForInteractiveAsync();
        await ExpectNotFoundWithoutLeaksAsync(intruder);

        // The prerendered HTML (before any script runs) must not leak it either.
        var response = await intruder.Context.APIRequest.GetAsync(chatUrl);
        var html = await response.TextAsync();
        Assert.DoesNotContain("Pineapple", html);
        Assert.DoesNotContain("Tangerine", html);

        // And an id that exists nowhere looks exactly the same.
        await intruder.GotoAsync($"chat/{Guid.NewGuid()}");
        await intruder.WaitForInteractiveAsync();
        await Expect(intruder.GetByText("Not found").First).ToBeVisibleAsync();

        // The owner still has it.
        await owner.ReloadAsync();
        await owner.WaitForInteractiveAsync();
        await Expect(Ui.UserMessages(owner)).ToContainTextAsync(SecretQuestion);
    });

    private static async Task ExpectNotFoundWithoutLeaksAsync(IPage page)
    {
        await Expect(page.GetByText("Not found").First).ToBeVisibleAsync();
        var body = page.Locator("body");
        await Expect(body).Not.ToContainTextAsync("Pineapple");
        await Expect(body).Not.ToContainTextAsync("Tangerine");
        await Expect(body).Not.ToContainTextAsync("launch code");
        await Expect(Ui.UserMessages(page)).ToHaveCountAsync(0);
        await Expect(Ui.AssistantMessages(page)).ToHaveCountAsync(0);
        await Expect(Ui.ConversationLink(page, "Keep this between")).ToHaveCountAsync(0);
    }
}
