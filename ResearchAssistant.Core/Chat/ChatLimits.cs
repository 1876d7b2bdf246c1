namespace ResearchAssistant.Core.Chat;

/// <summary>The <c>Chat</c> configuration section.</summary>
public sealed class ChatLimits
{
    public const string Section = "Chat";
    public int MaxMessageLength { get; set; } = 32_000;
    public int TitleLength { get; set; } = 60;
}

/// <summary>Input the user can fix: the message says how.</summary>
public sealed class ChatInputException(string message) : Exception(message);
