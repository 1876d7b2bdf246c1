using ResearchAssistant.Web.Components.Chat;

namespace ResearchAssistant.Tests.Web;

/// <summary>Whose answer is being written: this tab's own request, or another device's.</summary>
public sealed class AnswersRequestedHereTests
{
    [Fact]
    public void A_render_before_the_page_has_read_its_own_request_does_not_forget_it()
    {
        var here = new AnswersRequestedHere();
        var session = Guid.NewGuid();

        here.Requested(session);
        // A new chat renders once before it navigates to the conversation and reads it: nothing generating yet.
        Assert.False(here.IsGeneratingElsewhere(session, isGenerating: false));
        // Then its own answer is written: still its own.
        Assert.False(here.IsGeneratingElsewhere(session, isGenerating: true));
    }

    [Fact]
    public void Once_its_answer_is_done_the_next_one_written_is_another_devices()
    {
        var here = new AnswersRequestedHere();
        var session = Guid.NewGuid();

        here.Requested(session);
        Assert.False(here.IsGeneratingElsewhere(session, isGenerating: true));
        Assert.False(here.IsGeneratingElsewhere(session, isGenerating: false));

        Assert.True(here.IsGeneratingElsewhere(session, isGenerating: true));
        Assert.True(here.IsGeneratingElsewhere(Guid.NewGuid(), isGenerating: true));
        Assert.False(here.IsGeneratingElsewhere(Guid.NewGuid(), isGenerating: false));
    }
}
