using Microsoft.EntityFrameworkCore;
using ResearchAssistant.Core.Chat;
using ResearchAssistant.Core.Sessions;
using ResearchAssistant.Testing;
using ResearchAssistant.Tests.Support;
using Xunit.Abstractions;

namespace ResearchAssistant.Tests.Chat;

/// <summary>
/// Per test: a fresh fake model endpoint and a fresh Core (its own turn runner), on the test class's database.
/// Subclasses are abstract and run once per provider.
/// </summary>
public abstract class ChatTestBase(TestDatabase database, ITestOutputHelper output) : IAsyncLifetime
{
    /// <summary>What the fake answers by default; fast, but still streamed token by token.</summary>
    protected static readonly FakeBehavior QuickAnswer = new() { TokenDelay = TimeSpan.FromMilliseconds(2) };

    protected static string ExpectedQuickAnswer => string.Concat(QuickAnswer.Tokens);

    protected TestDatabase Database => database;
    protected ITestOutputHelper Output => output;
    protected FakeOpenAiServer Model { get; private set; } = null!;
    protected CoreHarness Core { get; private set; } = null!;
    protected ChatService Chat => Core.Chat;

    /// <summary>The clock Core runs on; null for the real one.</summary>
    protected virtual TimeProvider? Clock => null;

    /// <summary>Configuration for this class's Core, over the harness defaults (e.g. a small context budget).</summary>
    protected virtual IReadOnlyDictionary<string, string?>? Settings => null;

    public virtual async Task InitializeAsync()
    {
        Model = await FakeOpenAiServer.StartAsync();
        Model.Behavior = QuickAnswer;
        Core = await CoreHarness.StartAsync(database, Model.Endpoint, output, Clock, Settings);
    }

    public virtual async Task DisposeAsync()
    {
        await Core.DisposeAsync();
        await Model.DisposeAsync();
        Assert.True(Core.LoggedErrors.Count == 0, "Core logged errors:\n" + string.Join("\n", Core.LoggedErrors));
    }

    protected Task<string> NewUserAsync(string name = "user") => TestUsers.CreateAsync(Core.Contexts, name);

    protected static string NewClientId() => Guid.NewGuid().ToString("N");

    /// <summary>Sends to a new conversation and waits for its answer to be sealed.</summary>
    protected async Task<(Guid SessionId, ConversationView View)> StartConversationAsync(string userId, string text)
    {
        var sessionId = Guid.NewGuid();
        await Chat.SendAsync(userId, sessionId, text, NewClientId(), createIfMissing: true);
        return (sessionId, await Core.WaitUntilIdleAsync(userId, sessionId));
    }

    /// <summary>Every event of a session as stored, including the ones not on the active branch, in Seq order.</summary>
    /// <param name="core">The harness whose database to read; the test's own by default.</param>
    protected async Task<List<SessionEvent>> StoredEventsAsync(Guid sessionId, CoreHarness? core = null)
    {
        await using var db = await (core ?? Core).Contexts.CreateDbContextAsync();
        return await db.SessionEvents.AsNoTracking().Where(e => e.SessionId == sessionId).OrderBy(e => e.Seq).ToListAsync();
    }

    protected async Task<ChatSession?> StoredSessionAsync(Guid sessionId, CoreHarness? core = null)
    {
        await using var db = await (core ?? Core).Contexts.CreateDbContextAsync();
        return await db.ChatSessions.AsNoTracking().FirstOrDefaultAsync(s => s.Id == sessionId);
    }

    /// <summary>Seq is the log's position: 1..N with no gap and no repeat, and the session's counter agrees.</summary>
    protected async Task AssertSeqIsGapFreeAsync(Guid sessionId, CoreHarness? core = null)
    {
        var events = await StoredEventsAsync(sessionId, core);
        Assert.Equal(Enumerable.Range(1, events.Count).Select(i => (long)i), events.Select(e => e.Seq));
        var session = await StoredSessionAsync(sessionId, core);
        Assert.NotNull(session);
        Assert.Equal(events.Count, session.LastSeq);
    }
}
