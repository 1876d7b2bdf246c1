using System.Security.Claims;
using Bunit;
using Microsoft.Extensions.DependencyInjection;
using ResearchAssistant.Core.Sessions;
using ResearchAssistant.Tests.Chat;
using ResearchAssistant.Tests.Support;
using ResearchAssistant.Web.Components.Chat;
using ResearchAssistant.Web.Components.Presence;
using Xunit.Abstractions;

namespace ResearchAssistant.Tests.Components;

/// <summary>
/// The chat page on the app's real Core: what another device changes shows here, and the page re-reads only what the
/// change's hint says it may have touched (the checkpoint list not on an answer's hints; everything on a resync).
/// </summary>
public sealed class ChatPageSyncTests(SqliteTestDatabase database, ITestOutputHelper output)
    : ChatTestBase(database, output), IClassFixture<SqliteTestDatabase>
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);
    private readonly BunitContext _context = new();

    public override async Task DisposeAsync()
    {
        // The page first (it unsubscribes from the bus), then Core.
        await _context.DisposeAsync();
        await base.DisposeAsync();
    }

    [Fact]
    public async Task Another_devices_message_and_answer_show_and_the_checkpoints_are_reread_only_on_hints_that_can_change_them()
    {
        var user = await NewUserAsync();
        var (sessionId, view) = await StartConversationAsync(user, "first question");
        var answerId = view.Messages[1].Id;
        await AddCheckpointUnannouncedAsync(user, sessionId, answerId, "quiet one");
        var page = RenderPage(user, sessionId);
        page.WaitForAssertion(() => Assert.Equal("Checkpoints (1)", CheckpointSummary(page)), Bound);

        // A checkpoint appears without a hint (as if its hint had been lost); then another device asks a question.
        await AddCheckpointUnannouncedAsync(user, sessionId, answerId, "quiet two");
        await Chat.SendAsync(user, sessionId, "second question", NewClientId());
        await Core.WaitUntilIdleAsync(user, sessionId);
        page.WaitForAssertion(() =>
        {
            Assert.Contains("second question", Conversation(page));
            // Both answers shown sealed: the second one's seal came after its hints (start, streaming).
            Assert.Equal(2, page.FindAll("article.message.message-assistant.status-complete").Count);
        }, Bound);
        // The question's and the answer's hints say they leave the checkpoints alone: the list was not re-read.
        Assert.Equal("Checkpoints (1)", CheckpointSummary(page));

        // A resync (changes may have been missed) re-reads everything shown; a checkpoint saved elsewhere is announced.
        Core.Bus.ResyncLocal();
        page.WaitForAssertion(() => Assert.Equal("Checkpoints (2)", CheckpointSummary(page)), Bound);
        await Core.Branches.SaveCheckpointAsync(user, sessionId, answerId, "announced");
        page.WaitForAssertion(() => Assert.Equal("Checkpoints (3)", CheckpointSummary(page)), Bound);
    }

    private IRenderedComponent<ChatPage> RenderPage(string user, Guid sessionId)
    {
        _context.AddRadzenServices();
        _context.Services.AddLogging();
        _context.Services.AddSingleton(Core.Chat);
        _context.Services.AddSingleton(Core.Branches);
        _context.Services.AddSingleton(Core.Organizer);
        _context.Services.AddSingleton(Core.Bus);
        _context.Services.AddSingleton(new AnswersRequestedHere());
        // Who else has it open is not what this test is about (it needs the device of a real circuit).
        _context.ComponentFactories.AddStub<PresenceNotice>();
        var auth = _context.AddAuthorization();
        auth.SetAuthorized("user");
        auth.SetClaims(new Claim(ClaimTypes.NameIdentifier, user));
        return _context.Render<ChatPage>(p => p.Add(c => c.SessionId, sessionId));
    }

    private async Task AddCheckpointUnannouncedAsync(string user, Guid sessionId, Guid messageId, string name)
    {
        var cipher = await Core.Protector.ForUserAsync(user);
        await using var db = await Core.Contexts.CreateDbContextAsync();
        db.Checkpoints.Add(new Checkpoint { Id = Guid.CreateVersion7(), SessionId = sessionId, MessageId = messageId, NameCipher = cipher.Encrypt(name), CreatedAt = DateTimeOffset.UtcNow });
        await db.SaveChangesAsync();
    }

    private static string CheckpointSummary(IRenderedComponent<ChatPage> page) => page.Find("details.checkpoints summary").TextContent.Trim();

    private static string Conversation(IRenderedComponent<ChatPage> page) => page.Find("[role=log]").TextContent;
}
