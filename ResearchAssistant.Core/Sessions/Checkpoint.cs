namespace ResearchAssistant.Core.Sessions;

/// <summary>A named pointer to a message; resuming from it starts a new branch there.</summary>
public sealed class Checkpoint
{
    public Guid Id { get; set; }
    public Guid SessionId { get; set; }
    public Guid MessageId { get; set; }
    /// <summary>The name, encrypted with the owner's data key.</summary>
    public required byte[] NameCipher { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}
