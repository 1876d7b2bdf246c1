namespace ResearchAssistant.Web.Components.Chat;

/// <summary>
/// The conversations in which this browser tab (its circuit) asked for the answer now being written. Any other answer
/// being generated was asked for on another device or tab, and the composer says so. One per circuit, so it outlives
/// navigating between conversations in the tab.
/// </summary>
public sealed class AnswersRequestedHere
{
    /// <summary>Per conversation asked for here: whether this tab has seen that answer being written yet.</summary>
    private readonly Dictionary<Guid, bool> _sessions = [];

    public void Requested(Guid sessionId) => _sessions[sessionId] = false;

    /// <summary>
    /// Whether the answer being generated in <paramref name="sessionId"/> was asked for elsewhere. A request is
    /// forgotten once its answer was seen being written and then no longer: not on a render in between that still
    /// shows the conversation as it was before the request (a new chat before its page has read it, or any render before
    /// the re-read that follows the request), or this tab would take its own answer for another device's.
    /// </summary>
    public bool IsGeneratingElsewhere(Guid sessionId, bool isGenerating)
    {
        if (!_sessions.TryGetValue(sessionId, out var seen))
        {
            return isGenerating;
        }
        if (isGenerating)
        {
            _sessions[sessionId] = true;
        }
        else if (seen)
        {
            _sessions.Remove(sessionId);
        }
        return false;
    }
}
