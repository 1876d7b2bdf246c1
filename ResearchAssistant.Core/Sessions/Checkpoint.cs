namespace ResearchAssistant.Core.Sessions;

/// <summary>A named pointer to a message; resuming from it starts a new branch there.</summary>
public sealed class Checkpoint
{
    public Guid Id { get; set; }
    public Guid SessionId { get; set; }
    public Guid MessageId { get; set; }
    public required string Name { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}
