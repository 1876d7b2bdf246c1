using Bunit;
using ResearchAssistant.Core.Sessions;
using ResearchAssistant.Web.Components.Chat;

namespace ResearchAssistant.Tests.Components;

/// <summary>A chat page keeps written answers once, as rendered Markdown, not as text and HTML.</summary>
public sealed class AnswerBodiesTests : IDisposable
{
    private readonly BunitContext _context = new();

    public AnswerBodiesTests() => _context.AddRadzenServices();

    [Fact]
    public void A_written_answer_is_kept_without_its_text_and_its_body_is_its_rendered_Markdown()
    {
        var bodies = new AnswerBodies();
        var answer = Message(MessageRole.Assistant, "**carbon** cycle");

        var kept = bodies.Keep(answer);

        Assert.Equal("", kept.Text);
        Assert.Equal(answer with { Text = "" }, kept);
        Assert.Contains("<strong>carbon</strong> cycle", bodies.Of(kept));
    }

    [Fact]
    public void A_users_message_and_a_streaming_answer_keep_their_text_and_have_no_body_here()
    {
        var bodies = new AnswerBodies();
        var question = Message(MessageRole.User, "What about *the* carbon cycle?");
        var streaming = Message(MessageRole.Assistant, "Partial", EventStatus.Streaming);

        Assert.Same(question, bodies.Keep(question));
        Assert.Same(streaming, bodies.Keep(streaming));
        Assert.Null(bodies.Of(question));
        Assert.Null(bodies.Of(streaming));
    }

    [Fact]
    public void An_answer_read_again_with_another_status_gets_its_new_body()
    {
        var bodies = new AnswerBodies();
        var interrupted = Message(MessageRole.Assistant, "Half an answ", EventStatus.Interrupted);
        bodies.Keep(interrupted);

        var completed = bodies.Keep(interrupted with { Text = "Half an answer, continued.", Status = EventStatus.Complete });

        Assert.Contains("Half an answer, continued.", bodies.Of(completed));
        Assert.Null(bodies.Of(interrupted with { Text = "" }));
    }

    [Fact]
    public void Retain_forgets_the_bodies_of_answers_no_longer_shown()
    {
        var bodies = new AnswerBodies();
        var first = bodies.Keep(Message(MessageRole.Assistant, "first"));
        var second = bodies.Keep(Message(MessageRole.Assistant, "second"));

        bodies.Retain([second]);

        Assert.Null(bodies.Of(first));
        Assert.Contains("second", bodies.Of(second));
    }

    [Fact]
    public void The_conversation_shows_a_kept_answer_from_its_body_also_while_it_gets_a_checkpoint_name()
    {
        var bodies = new AnswerBodies();
        var answer = bodies.Keep(Message(MessageRole.Assistant, "The **ocean** absorbs carbon."));
        var cut = _context.Render<ConversationMessages>(p => p
            .Add(m => m.Messages, [answer])
            .Add(m => m.Bodies, bodies)
            .Add(m => m.Actions, new MessageActions
            {
                Regenerate = _ => Task.CompletedTask, Continue = _ => Task.CompletedTask, Rewind = _ => Task.CompletedTask,
                SwitchVersion = _ => Task.CompletedTask, ShowContext = _ => Task.CompletedTask,
                Edit = (_, _, _) => Task.FromResult<string?>(null), SaveCheckpoint = (_, _) => Task.FromResult<string?>(null),
            }));

        Assert.Equal("ocean", cut.Find(".markdown strong").TextContent);
        cut.Find(".conversation-messages").TriggerEvent("onmessageaction",
            new MessageActionEventArgs { Action = MessageAction.SaveCheckpoint, MessageId = answer.Id.ToString() });

        Assert.Single(cut.FindComponents<MessageItem>());
        Assert.Equal("ocean", cut.Find(".markdown strong").TextContent);
    }

    private static MessageView Message(MessageRole role, string text, EventStatus status = EventStatus.Complete) =>
        new(Guid.NewGuid(), 1, null, role, text, status, null, role == MessageRole.User ? "user" : "model", DateTimeOffset.UtcNow, VersionInfo.Single);

    public void Dispose() => _context.Dispose();
}
