using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ResearchAssistant.Core.Sync;

/// <summary>
/// One NOTIFY payload between instances, as JSON with one-letter names (the payload limit is 8000 bytes):
/// <list type="bullet">
/// <item><c>k="c"</c> / <c>"x"</c>: session <c>s</c> of user <c>u</c> changed / was deleted (<c>m</c>: the message, if one).
/// A hint only: the receiver re-reads the database. <c>p</c>: what a change may have touched (<see cref="SessionParts"/>);
/// absent means everything (so a notice from a build that does not send it is taken as the widest hint).</item>
/// <item><c>k="d"</c>: streaming delta of message <c>m</c>: its text from character offset <c>o</c> on, encrypted
/// with the owner's content key and bound to (m, o) (<c>t</c>, base64). Offsets let the receiver see a gap or a
/// repeat; a gap is filled from the text the writer flushes to the database.</item>
/// <item><c>k="p"</c>: a tab of user <c>u</c> started or stopped showing session <c>s</c> (re-read who has it open).</item>
/// <item><c>k="r"</c>: the sender may have failed to send hints: every receiver re-reads everything it shows.</item>
/// </list>
/// <c>i</c> is the sending instance, so an instance ignores its own notifications.
/// </summary>
internal sealed record SyncNotice
{
    public const string ChangedKind = "c";
    public const string DeletedKind = "x";
    public const string DeltaKind = "d";
    public const string ResyncKind = "r";
    public const string PresenceKind = "p";

    /// <summary>PostgreSQL refuses a NOTIFY payload of 8000 bytes or more.</summary>
    public const int MaxPayloadBytes = 7999;

    [JsonPropertyName("i")] public required Guid Instance { get; init; }
    [JsonPropertyName("k")] public required string Kind { get; init; }
    [JsonPropertyName("u")] public string? Owner { get; init; }
    [JsonPropertyName("s")] public Guid? Session { get; init; }
    [JsonPropertyName("m")] public Guid? Message { get; init; }
    [JsonPropertyName("o")] public int? Offset { get; init; }
    [JsonPropertyName("t")] public byte[]? Text { get; init; }
    [JsonPropertyName("p")] public int? Parts { get; init; }

    /// <summary>What a change may have touched: a value this build does not know (a newer one's) counts as everything.</summary>
    public SessionParts PartsTouched => Parts is { } parts && (parts & ~(int)SessionParts.All) == 0 && parts != 0 ? (SessionParts)parts : SessionParts.All;

    /// <summary>What a delta's ciphertext is bound to (see <see cref="Privacy.UserCipher"/>).</summary>
    public static string DeltaBinding(Guid messageId, int offset) => $"live:{messageId:N}:{offset}";

    public string ToPayload()
    {
        var payload = JsonSerializer.Serialize(this, SyncNoticeJson.Default.SyncNotice);
        if (Encoding.UTF8.GetByteCount(payload) > MaxPayloadBytes)
        {
            // The sender sizes deltas far below the limit; reaching it means a bug, not a big message.
            throw new InvalidOperationException($"A sync notification of kind '{Kind}' is over PostgreSQL's payload limit.");
        }
        return payload;
    }

    /// <summary>Null for anything that is not a well-formed notice (the channel is open to every database user).</summary>
    public static SyncNotice? Parse(string payload)
    {
        try
        {
            var notice = JsonSerializer.Deserialize(payload, SyncNoticeJson.Default.SyncNotice);
            return notice switch
            {
                { Kind: ResyncKind } => notice,
                { Kind: ChangedKind or DeletedKind or PresenceKind, Owner: { Length: > 0 }, Session: not null } => notice,
                { Kind: DeltaKind, Owner: { Length: > 0 }, Session: not null, Message: not null, Offset: >= 0, Text: not null } => notice,
                _ => null,
            };
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(SyncNotice))]
internal sealed partial class SyncNoticeJson : JsonSerializerContext;
