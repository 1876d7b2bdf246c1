namespace ResearchAssistant.Web.Components.Chat;

/// <summary>
/// The conversations in which this browser tab (its circuit) asked for the answer now being written. Any other answer
/// being generated was asked for on another device or tab, and the composer says so. One per circuit, so it outlives
/// navigating between conversations in the tab.
/// </summary>
public sealed class AnswersRequestedHere
{
    private readonly HashSet<Guid> _sessions = [];

    public void Requested(Guid sessionId) => _sessions.Add(sessionId);

    /// <summary>Whether the answer being generated in <paramref name="sessionId"/> was asked for elsewhere; forgets finished ones.</summary>
    public bool IsGeneratingElsewhere(Guid sessionId, bool isGenerating)
    {
        if (!isGenerating)
        {
            _sessions.Remove(sessionId);
            return false;
        }
        return !_sessions.Contains(sessionId);
    }
}
