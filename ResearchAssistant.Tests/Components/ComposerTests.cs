using Bunit;
using ResearchAssistant.Web.Components.Chat;

namespace ResearchAssistant.Tests.Components;

/// <summary>The composer: its names, Stop while generating, and the client id that makes a resend idempotent.</summary>
public sealed class ComposerTests : IDisposable
{
    private readonly BunitContext _context = new();
    private readonly List<(string Text, string ClientId)> _sends = [];
    private bool _accept = true;

    public ComposerTests() => _context.AddRadzenServices();

    [Fact]
    public void The_textbox_is_labelled_Message_and_Send_submits_its_text()
    {
        var cut = RenderComposer(generating: false);

        var label = cut.Find("label[for=composer-input]");
        Assert.Equal("Message", label.TextContent);
        cut.Find("#composer-input").Input("What is albedo?");
        cut.Find("form.composer").Submit();

        Assert.Equal("What is albedo?", Assert.Single(_sends).Text);
        Assert.DoesNotContain(cut.FindAll("button"), b => b.TextContent.Contains("Stop"));
    }

    [Fact]
    public void A_refused_send_keeps_the_text_and_its_client_id_so_a_resend_is_recognised()
    {
        var cut = RenderComposer(generating: false);
        cut.Find("#composer-input").Input("A long draft");
        _accept = false;
        cut.Find("form.composer").Submit();
        _accept = true;
        cut.Find("form.composer").Submit();
        cut.Find("#composer-input").Input("Next message");
        cut.Find("form.composer").Submit();

        Assert.Equal(3, _sends.Count);
        Assert.Equal(_sends[0], _sends[1]);
        Assert.NotEqual(_sends[1].ClientId, _sends[2].ClientId);
        Assert.Equal("Next message", _sends[2].Text);
    }

    [Fact]
    public void While_generating_there_is_a_Stop_button_and_errors_are_announced()
    {
        var stopped = 0;
        var cut = _context.Render<Composer>(p => p
            .Add(c => c.Generating, true)
            .Add(c => c.Error, "This message is 40,001 characters long; the limit is 32,000.")
            .Add(c => c.OnSend, (Func<string, string, Task<bool>>)((_, _) => Task.FromResult(true)))
            .Add(c => c.OnStop, () => stopped++));

        cut.FindAll("button").Single(b => b.TextContent.Contains("Stop")).Click();

        Assert.Equal(1, stopped);
        Assert.Contains("40,001", cut.Find("[role=alert]").TextContent);
    }

    private IRenderedComponent<Composer> RenderComposer(bool generating) =>
        _context.Render<Composer>(p => p
            .Add(c => c.Generating, generating)
            .Add(c => c.OnSend, (Func<string, string, Task<bool>>)((text, clientId) =>
            {
                _sends.Add((text, clientId));
                return Task.FromResult(_accept);
            })));

    public void Dispose() => _context.Dispose();
}
