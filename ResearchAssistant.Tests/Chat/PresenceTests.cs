using Microsoft.Extensions.DependencyInjection;
using ResearchAssistant.Core.Sync;
using ResearchAssistant.Tests.Support;
using Xunit.Abstractions;

namespace ResearchAssistant.Tests.Chat;

/// <summary>"Also open on": which of a user's tabs show a conversation, told to the user's other tabs only.</summary>
public abstract class PresenceTests(TestDatabase database, ITestOutputHelper output) : ChatTestBase(database, output)
{
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 5, 1, 9, 0, 0, TimeSpan.Zero));

    protected override TimeProvider Clock => _clock;

    private PresenceService Presence => Core.Services.GetRequiredService<PresenceService>();

    [Fact]
    public async Task Other_tabs_are_listed_by_device_and_the_owner_alone_hears_of_them()
    {
        var user = await NewUserAsync();
        var stranger = await NewUserAsync();
        var (sessionId, _) = await StartConversationAsync(user, "Where is the carbon?");
        var laptop = Guid.NewGuid();
        var phone = Guid.NewGuid();
        var heard = new List<SessionChange>();
        var strangerHeard = new List<SessionChange>();
        using var listening = Core.Bus.Subscribe(user, c => { lock (heard) { heard.Add(c); } });
        using var strangerListening = Core.Bus.Subscribe(stranger, c => { lock (strangerHeard) { strangerHeard.Add(c); } });

        var onLaptop = await Presence.EnterAsync(user, sessionId, laptop, "Laptop (Linux, Chrome)");
        var secondTab = await Presence.EnterAsync(user, sessionId, laptop, "Laptop (Linux, Chrome)");
        var onPhone = await Presence.EnterAsync(user, sessionId, phone, "Phone (Android, Chrome)");

        Assert.Equal(
            [new PresenceView("Phone (Android, Chrome)", false), new PresenceView("Laptop (Linux, Chrome)", true)],
            await Presence.ListOthersAsync(user, sessionId, onLaptop, laptop));
        Assert.Equal([new PresenceView("Laptop (Linux, Chrome)", false)], await Presence.ListOthersAsync(user, sessionId, onPhone, phone));
        // The bus delivers on the thread pool, after Publish returned: wait (bounded) for the hints to land.
        await HeardAsync(() => heard.Count(c => c.Kind == SessionChangeKind.Presence && c.SessionId == sessionId) == 3);

        await Presence.LeaveAsync(onPhone);
        await Presence.LeaveAsync(secondTab);
        await Presence.LeaveAsync(secondTab); // twice is harmless
        Assert.Empty(await Presence.ListOthersAsync(user, sessionId, onLaptop, laptop));
        await HeardAsync(() => heard.Count(c => c.Kind == SessionChangeKind.Presence) == 5);
        lock (strangerHeard)
        {
            Assert.Empty(strangerHeard);
        }

        async Task HeardAsync(Func<bool> done)
        {
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            while (true)
            {
                lock (heard)
                {
                    if (done())
                    {
                        return;
                    }
                    if (deadline.IsCancellationRequested)
                    {
                        Assert.Fail($"Heard only: {string.Join(", ", heard.Select(c => c.Kind))}");
                    }
                }
                await Task.Delay(10);
            }
        }
    }

    [Fact]
    public async Task Another_users_conversation_cannot_be_entered_or_read()
    {
        var owner = await NewUserAsync();
        var intruder = await NewUserAsync();
        var (sessionId, _) = await StartConversationAsync(owner, "Private notes");
        var ownerTab = await Presence.EnterAsync(owner, sessionId, null, "Laptop (Linux, Firefox)");

        Assert.Equal(Guid.Empty, await Presence.EnterAsync(intruder, sessionId, null, "Phone (iOS, Safari)"));
        Assert.Equal(Guid.Empty, await Presence.EnterAsync(owner, Guid.NewGuid(), null, "Phone (iOS, Safari)"));
        Assert.Empty(await Presence.ListOthersAsync(intruder, sessionId, Guid.Empty, null));
        Assert.Empty(await Presence.ListOthersAsync(owner, sessionId, ownerTab, null));
    }

    [Fact]
    public async Task Entries_of_an_instance_that_stopped_refreshing_them_are_ignored_then_swept()
    {
        var user = await NewUserAsync();
        var (sessionId, _) = await StartConversationAsync(user, "Ice cores");
        var phoneTab = await Presence.EnterAsync(user, sessionId, null, "Phone (Android, Chrome)");
        var laptopTab = await Presence.EnterAsync(user, sessionId, null, "Laptop (Windows, Edge)");

        // This instance refreshes its own entries: both stay listed past the stale age.
        _clock.Advance(PresenceService.HeartbeatInterval);
        await Presence.HeartbeatAsync(CancellationToken.None);
        _clock.Advance(PresenceService.Stale - TimeSpan.FromSeconds(1));
        Assert.Single(await Presence.ListOthersAsync(user, sessionId, laptopTab, null));

        // An entry nobody refreshes (its instance died) drops out once stale.
        await using (var db = await Core.Contexts.CreateDbContextAsync())
        {
            db.Add(new PresenceEntry { Id = Guid.NewGuid(), UserId = user, SessionId = sessionId, DeviceName = "Tablet (Android, Firefox)", SeenAt = _clock.GetUtcNow() - PresenceService.Stale - TimeSpan.FromSeconds(1) });
            await db.SaveChangesAsync();
        }
        Assert.Equal([new PresenceView("Phone (Android, Chrome)", false)], await Presence.ListOthersAsync(user, sessionId, laptopTab, null));
        await Presence.HeartbeatAsync(CancellationToken.None);
        await using (var db = await Core.Contexts.CreateDbContextAsync())
        {
            Assert.Equal(2, db.Set<PresenceEntry>().Count(e => e.SessionId == sessionId));
        }
        Assert.NotEqual(phoneTab, laptopTab);
    }
}

public sealed class SqlitePresenceTests(SqliteTestDatabase database, ITestOutputHelper output)
    : PresenceTests(database, output), IClassFixture<SqliteTestDatabase>;

public sealed class PostgresPresenceTests(PostgresTestDatabase database, ITestOutputHelper output)
    : PresenceTests(database, output), IClassFixture<PostgresTestDatabase>;
