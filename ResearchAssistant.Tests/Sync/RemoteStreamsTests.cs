using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;
using ResearchAssistant.Core.Privacy;
using ResearchAssistant.Core.Sessions;
using ResearchAssistant.Core.Sync;
using ResearchAssistant.Tests.Support;

namespace ResearchAssistant.Tests.Sync;

/// <summary>
/// The receiving side of streaming across instances, fed notifications directly: offsets make repeats and overlaps
/// harmless, and a gap is filled from the text the writer flushed to the database, never guessed.
/// </summary>
public sealed class RemoteStreamsTests(SqliteTestDatabase database) : IClassFixture<SqliteTestDatabase>
{
    // Inline: these tests check the text each change carried when it was published, not when a pool thread got to it.
    private readonly SessionBus _bus = new(inlineDelivery: true);
    private readonly Channel<object> _inbound = Channel.CreateUnbounded<object>();
    private readonly ContentProtector _protector = new(database.Contexts,
        MasterKey.FromBytes(Convert.FromBase64String(TestDatabase.MasterKeyBase64), "the test run"), TimeProvider.System);

    private IDbContextFactory<ResearchAssistant.Core.Data.AppDbContext> Contexts => database.Contexts;

    private RemoteStreams NewStreams() => new(_bus, _protector, database.Contexts, _inbound.Writer, NullLogger.Instance);

    [Fact]
    public async Task Deltas_in_order_repeated_or_overlapping_give_the_text_once()
    {
        var (user, sessionId, answerId) = await StreamingAnswerAsync("");
        using var heard = new BusRecorder(_bus, user);
        var streams = NewStreams();

        await streams.ApplyDeltaAsync(await DeltaAsync(user, sessionId, answerId, 0, "Hello"), default);
        await streams.ApplyDeltaAsync(await DeltaAsync(user, sessionId, answerId, 5, " wor"), default);
        await streams.ApplyDeltaAsync(await DeltaAsync(user, sessionId, answerId, 5, " wor"), default); // repeat
        await streams.ApplyDeltaAsync(await DeltaAsync(user, sessionId, answerId, 7, "orld"), default); // overlaps by two

        Assert.Equal(["Hello", "Hello wor", "Hello world"], heard.All.Select(h => h.Text));
        Assert.All(heard.All, h => Assert.Equal((SessionChangeKind.Streaming, sessionId, answerId), (h.Change.Kind, h.Change.SessionId, h.Change.MessageId)));
        Assert.Same(heard.All[0].Change.LiveText, heard.All[^1].Change.LiveText);
        Assert.False(_inbound.Reader.TryRead(out _), "no database read was needed");
    }

    [Fact]
    public async Task A_gap_is_filled_from_the_flushed_text_once_it_reaches_the_gap_and_held_deltas_follow_in_order()
    {
        var (user, sessionId, answerId) = await StreamingAnswerAsync("Hello w");
        using var heard = new BusRecorder(_bus, user);
        var streams = NewStreams();

        // Joined mid-answer, and out of order: held, and the flushed text is read.
        await streams.ApplyDeltaAsync(await DeltaAsync(user, sessionId, answerId, 10, "d!"), default);
        await streams.ApplyDeltaAsync(await DeltaAsync(user, sessionId, answerId, 8, "rl"), default);
        streams.ApplyFetched(await NextFetchAsync(), default);
        // The flush ("Hello w", 7 characters) does not reach the held deltas yet: shown as far as it goes.
        Assert.Equal(["Hello w"], heard.All.Select(h => h.Text));

        // The writer's next flush does; it is read again shortly (as often as it takes).
        await SetFlushedTextAsync(user, answerId, "Hello wo");
        while (heard.All.Count < 2)
        {
            streams.ApplyFetched(await NextFetchAsync(), default);
        }
        Assert.Equal(["Hello w", "Hello world!"], heard.All.Select(h => h.Text));

        await streams.ApplyDeltaAsync(await DeltaAsync(user, sessionId, answerId, 12, " Bye."), default);
        Assert.Equal("Hello world! Bye.", heard.All[^1].Text);
    }

    [Fact]
    public async Task An_answer_sealed_before_its_gap_is_filled_is_left_to_the_database()
    {
        var (user, sessionId, answerId) = await StreamingAnswerAsync("Final text.");
        using var heard = new BusRecorder(_bus, user);
        var streams = NewStreams();
        await using (var db = await Contexts.CreateDbContextAsync())
        {
            await db.SessionEvents.Where(e => e.Id == answerId).ExecuteUpdateAsync(u => u.SetProperty(e => e.Status, EventStatus.Complete));
        }

        await streams.ApplyDeltaAsync(await DeltaAsync(user, sessionId, answerId, 6, "text."), default);
        streams.ApplyFetched(await NextFetchAsync(), default);

        // Readers are sent to the database, which has the final text; no half text is shown.
        Assert.Equal([(SessionChangeKind.Changed, (string?)null)], heard.All.Select(h => (h.Change.Kind, h.Text)));
        Assert.Equal(0, streams.Count);
    }

    [Fact]
    public async Task A_delta_sealed_for_another_message_or_offset_or_user_is_dropped()
    {
        var (user, sessionId, answerId) = await StreamingAnswerAsync("");
        var (other, _, _) = await StreamingAnswerAsync("");
        using var heard = new BusRecorder(_bus, user);
        using var otherHeard = new BusRecorder(_bus, other);
        var streams = NewStreams();
        var cipher = await _protector.ForUserAsync(user);

        SyncNotice Forged(string owner, Guid message, int offset, string bindingMessageOffset) => new()
        {
            Instance = Guid.NewGuid(), Kind = SyncNotice.DeltaKind, Owner = owner, Session = sessionId, Message = message, Offset = offset,
            Text = cipher.Encrypt("injected", bindingMessageOffset),
        };
        await streams.ApplyDeltaAsync(Forged(user, answerId, 0, SyncNotice.DeltaBinding(Guid.NewGuid(), 0)), default);   // another message's
        await streams.ApplyDeltaAsync(Forged(user, answerId, 0, SyncNotice.DeltaBinding(answerId, 8)), default);         // another offset's
        await streams.ApplyDeltaAsync(Forged(other, answerId, 0, SyncNotice.DeltaBinding(answerId, 0)), default);        // re-addressed

        Assert.Empty(heard.All);
        Assert.Empty(otherHeard.All);
    }

    [Fact]
    public async Task Nothing_is_rebuilt_for_a_user_with_no_subscriber_here()
    {
        var (user, sessionId, answerId) = await StreamingAnswerAsync("Hello");
        var streams = NewStreams();

        await streams.ApplyDeltaAsync(await DeltaAsync(user, sessionId, answerId, 5, " there"), default);

        Assert.Equal(0, streams.Count);
        Assert.False(_inbound.Reader.TryRead(out _), "no database read for nobody");
    }

    private async Task<SyncNotice> DeltaAsync(string user, Guid sessionId, Guid answerId, int offset, string text) => new()
    {
        Instance = Guid.NewGuid(), Kind = SyncNotice.DeltaKind, Owner = user, Session = sessionId, Message = answerId, Offset = offset,
        Text = (await _protector.ForUserAsync(user)).Encrypt(text, SyncNotice.DeltaBinding(answerId, offset)),
    };

    private async Task<RemoteStreams.Fetched> NextFetchAsync()
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        return (RemoteStreams.Fetched)await _inbound.Reader.ReadAsync(deadline.Token);
    }

    /// <summary>A user and a session whose answer is streaming elsewhere, flushed so far as <paramref name="flushed"/>.</summary>
    private async Task<(string User, Guid SessionId, Guid AnswerId)> StreamingAnswerAsync(string flushed)
    {
        var user = await TestUsers.CreateAsync(database.Contexts);
        var cipher = await _protector.ForUserAsync(user);
        var now = DateTimeOffset.UtcNow;
        var (sessionId, questionId, answerId) = (Guid.NewGuid(), Guid.CreateVersion7(), Guid.CreateVersion7());
        await using var db = await Contexts.CreateDbContextAsync();
        db.ChatSessions.Add(new ChatSession
        {
            Id = sessionId, OwnerId = user, TitleCipher = cipher.Encrypt("streaming elsewhere"), CreatedAt = now, LastActivityAt = now,
            LastSeq = 2, ActiveLeafId = answerId, Version = Guid.NewGuid(),
        });
        db.SessionEvents.AddRange(TreePlacer.PlaceAll(
            new SessionEvent { Id = questionId, SessionId = sessionId, Seq = 1, Kind = EventKind.UserMessage, Author = user, ContentCipher = cipher.Encrypt("question"), Status = EventStatus.Complete, CreatedAt = now },
            new SessionEvent { Id = answerId, SessionId = sessionId, Seq = 2, Kind = EventKind.AssistantMessage, ParentId = questionId, Author = "model", ContentCipher = cipher.Encrypt(flushed), Status = EventStatus.Streaming, CreatedAt = now }));
        await db.SaveChangesAsync();
        return (user, sessionId, answerId);
    }

    private async Task SetFlushedTextAsync(string user, Guid answerId, string text)
    {
        var sealedText = (await _protector.ForUserAsync(user)).Encrypt(text);
        await using var db = await Contexts.CreateDbContextAsync();
        await db.SessionEvents.Where(e => e.Id == answerId).ExecuteUpdateAsync(u => u.SetProperty(e => e.ContentCipher, sealedText));
    }
}
