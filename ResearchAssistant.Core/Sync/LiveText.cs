namespace ResearchAssistant.Core.Sync;

/// <summary>
/// The text of an answer while it streams, shared by the writer and every circuit showing it. Readers take a
/// snapshot only when they render, so a token costs an append, not a copy per subscriber. Append-only: any
/// prefix once read stays a prefix, which is what lets another instance rebuild it from offsets.
/// </summary>
public sealed class LiveText
{
    private readonly System.Text.StringBuilder _text = new();
    private readonly Lock _lock = new();
    private string? _snapshot = "";

    public void Append(string delta)
    {
        lock (_lock)
        {
            _text.Append(delta);
            _snapshot = null;
        }
    }

    public string Snapshot()
    {
        lock (_lock)
        {
            return _snapshot ??= _text.ToString();
        }
    }

    /// <summary>Characters (UTF-16 code units) so far.</summary>
    public int Length
    {
        get
        {
            lock (_lock)
            {
                return _text.Length;
            }
        }
    }

    /// <summary>The text from <paramref name="offset"/> to the end: what a follower that has the first offset characters lacks.</summary>
    public string Since(int offset)
    {
        lock (_lock)
        {
            return offset >= _text.Length ? "" : _text.ToString(offset, _text.Length - offset);
        }
    }
}
