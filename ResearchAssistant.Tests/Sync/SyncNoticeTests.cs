using System.Text;
using ResearchAssistant.Core.Sync;

namespace ResearchAssistant.Tests.Sync;

/// <summary>The notification format: within PostgreSQL's payload limit whatever the text, and strict about what it accepts.</summary>
public sealed class SyncNoticeTests
{
    [Theory]
    [InlineData("a")]   // 1 byte in UTF-8
    [InlineData("é")]   // 2
    [InlineData("€")]   // 3
    [InlineData("😀")]  // 4, a surrogate pair
    public void The_largest_delta_piece_fits_the_payload_limit_with_the_longest_owner_id(string character)
    {
        var text = string.Concat(Enumerable.Repeat(character, NotifySender.MaxDeltaBytes));
        var end = NotifySender.PieceEnd(text, 0, NotifySender.MaxDeltaBytes);
        Assert.InRange(Encoding.UTF8.GetByteCount(text[..end]), NotifySender.MaxDeltaBytes - 3, NotifySender.MaxDeltaBytes);

        var notice = new SyncNotice
        {
            Instance = Guid.NewGuid(), Kind = SyncNotice.DeltaKind, Owner = new string('u', 450), Session = Guid.NewGuid(), Message = Guid.NewGuid(),
            Offset = int.MaxValue, Text = new byte[29 + Encoding.UTF8.GetByteCount(text[..end])], // the AEAD's overhead is 29 bytes
        };
        Assert.True(Encoding.UTF8.GetByteCount(notice.ToPayload()) <= SyncNotice.MaxPayloadBytes);
    }

    [Fact]
    public void A_piece_never_ends_between_the_halves_of_a_surrogate_pair()
    {
        var text = "ab😀cd";
        Assert.Equal(2, NotifySender.PieceEnd(text, 0, 5)); // "ab" + 4 bytes would be 6
        Assert.Equal(4, NotifySender.PieceEnd(text, 0, 6));
        Assert.Equal(4, NotifySender.PieceEnd(text, 2, 4));
        Assert.Equal(2, NotifySender.PieceEnd(text, 2, 3)); // nothing fits: the caller's limit is far above one character
    }

    [Theory]
    [InlineData("")]
    [InlineData("not json")]
    [InlineData("""{"k":"c"}""")]
    [InlineData("""{"i":"00000000-0000-0000-0000-000000000001","k":"c","s":"00000000-0000-0000-0000-000000000002"}""")]
    [InlineData("""{"i":"00000000-0000-0000-0000-000000000001","k":"d","u":"x","s":"00000000-0000-0000-0000-000000000002","m":"00000000-0000-0000-0000-000000000003","o":-1,"t":"AA=="}""")]
    [InlineData("""{"i":"00000000-0000-0000-0000-000000000001","k":"z","u":"x","s":"00000000-0000-0000-0000-000000000002"}""")]
    public void Malformed_payloads_are_refused(string payload) => Assert.Null(SyncNotice.Parse(payload));

    [Fact]
    public void A_notice_survives_the_round_trip()
    {
        var notice = new SyncNotice
        {
            Instance = Guid.NewGuid(), Kind = SyncNotice.DeltaKind, Owner = "user-1", Session = Guid.NewGuid(), Message = Guid.NewGuid(), Offset = 42, Text = [1, 2, 3],
        };
        var parsed = SyncNotice.Parse(notice.ToPayload());
        Assert.NotNull(parsed);
        Assert.Equal((notice.Instance, notice.Kind, notice.Owner, notice.Session, notice.Message, notice.Offset), (parsed.Instance, parsed.Kind, parsed.Owner, parsed.Session, parsed.Message, parsed.Offset));
        Assert.Equal(notice.Text, parsed.Text);
    }
    [Fact]
    public void A_changes_parts_survive_the_round_trip_and_a_notice_without_them_or_with_unknown_ones_means_everything()
    {
        var session = Guid.NewGuid();
        var narrow = new SyncNotice { Instance = Guid.NewGuid(), Kind = SyncNotice.ChangedKind, Owner = "u", Session = session, Parts = (int)SessionParts.Conversation };
        Assert.Equal(SessionParts.Conversation, SyncNotice.Parse(narrow.ToPayload())!.PartsTouched);
        // From a build that does not send them: the widest hint, never a narrower one.
        Assert.Equal(SessionParts.All, SyncNotice.Parse((narrow with { Parts = null }).ToPayload())!.PartsTouched);
        // From a newer build that knows parts this one does not: re-read everything rather than guess.
        Assert.Equal(SessionParts.All, SyncNotice.Parse((narrow with { Parts = 1 | 64 }).ToPayload())!.PartsTouched);
        Assert.Equal(SessionParts.All, SyncNotice.Parse((narrow with { Parts = 0 }).ToPayload())!.PartsTouched);
    }
}
