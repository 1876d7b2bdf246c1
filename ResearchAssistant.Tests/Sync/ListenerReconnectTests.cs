using System.Diagnostics;
using Npgsql;
using ResearchAssistant.Core.Sessions;
using ResearchAssistant.Core.Sync;
using ResearchAssistant.Testing;
using ResearchAssistant.Tests.Chat;
using ResearchAssistant.Tests.Support;
using Xunit.Abstractions;

namespace ResearchAssistant.Tests.Sync;

/// <summary>
/// An instance whose listening connection is killed reconnects, and its subscribers catch up on what they missed:
/// the notifications sent meanwhile are lost for good, so the catch-up comes from the database.
/// </summary>
public sealed class ListenerReconnectTests(PostgresTestDatabase database, ITestOutputHelper output)
    : ChatTestBase(database, output), IClassFixture<PostgresTestDatabase>
{
    /// <summary>The bound on catching up after a lost connection, counted from when reconnecting is possible.</summary>
    private static readonly TimeSpan CatchUpBound = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task Killing_the_listening_connection_makes_the_instance_reconnect_and_its_subscribers_catch_up()
    {
        var server = await PostgresServer.GetAsync();
        // B logs in as a role of its own, so the test can keep B (and only B) from reconnecting for a while: long
        // enough to make a change B certainly cannot hear.
        await using var role = await TemporaryRole.CreateAsync(server.AdminConnectionString);
        var bSettings = Database.Settings with
        {
            ConnectionString = new NpgsqlConnectionStringBuilder(Database.Settings.ConnectionString) { Username = role.Name }.ConnectionString,
        };
        await using var b = await CoreHarness.StartAsync(bSettings, Model.Endpoint, Output);
        var user = await NewUserAsync();
        var (sessionId, _) = await StartConversationAsync(user, "a question before the cut");
        using var onB = new BusRecorder(b.Bus, user);
        var listener = b.Bridge!.ListenerProcessId ?? throw new InvalidOperationException("B is not listening.");

        await role.SetLoginAsync(false);
        await role.TerminateAsync(listener);
        await Wait.UntilAsync(() => b.Bridge.ListenerProcessId is null, "B to notice that its listener is gone");
        // Made while B is deaf: its notification reaches nobody on B.
        await Core.Organizer.RenameAsync(user, sessionId, "Renamed while B was cut off");
        await Chat.SendAsync(user, sessionId, "a question during the cut", NewClientId());
        await Core.WaitForAsync(user, sessionId, v => CoreHarness.IsIdle(v) && v.Messages.Count == 4, "the answer on A");
        Assert.DoesNotContain(onB.All, h => h.Change.Kind == SessionChangeKind.Resync);

        await role.SetLoginAsync(true);
        var reconnecting = Stopwatch.StartNew();
        await onB.WaitForAsync(h => h.Change.Kind == SessionChangeKind.Resync, "B to reconnect and tell its subscribers to re-read", CatchUpBound);
        var caughtUp = await b.Chat.GetConversationAsync(user, sessionId);
        Output.WriteLine($"B caught up {reconnecting.ElapsedMilliseconds} ms after it could reconnect");
        Assert.Equal("Renamed while B was cut off", caughtUp?.Title);
        Assert.Equal(["a question before the cut", ExpectedQuickAnswer, "a question during the cut", ExpectedQuickAnswer], caughtUp!.Messages.Select(m => m.Text));
        Assert.Equal(1, b.Bridge.Reconnects);
        Assert.NotEqual(listener, b.Bridge.ListenerProcessId);

        // Live again: the next change is heard as it happens.
        var heard = onB.All.Count;
        await Core.Organizer.RenameAsync(user, sessionId, "Renamed after the cut");
        await onB.WaitForAsync(h => h.Change.SessionId == sessionId && h.Change.Kind == SessionChangeKind.Changed, "the next change's hint on B", skip: heard);
        Assert.Equal("Renamed after the cut", (await b.Chat.GetConversationAsync(user, sessionId))?.Title);
        Assert.Empty(b.LoggedErrors);
    }

    /// <summary>A login role for one instance: superuser (the cluster is throwaway), so it may do what the app does.</summary>
    private sealed class TemporaryRole : IAsyncDisposable
    {
        private readonly string _admin;

        private TemporaryRole(string admin, string name)
        {
            _admin = admin;
            Name = name;
        }

        public string Name { get; }

        public static async Task<TemporaryRole> CreateAsync(string admin)
        {
            var role = new TemporaryRole(admin, "ra_instance_" + Guid.NewGuid().ToString("N")[..12]);
            await role.ExecuteAsync($"""CREATE ROLE "{role.Name}" LOGIN SUPERUSER""");
            return role;
        }

        public Task SetLoginAsync(bool login) => ExecuteAsync($"""ALTER ROLE "{Name}" {(login ? "LOGIN" : "NOLOGIN")}""");

        public Task TerminateAsync(int backend) => ExecuteAsync($"SELECT pg_terminate_backend({backend})");

        public async ValueTask DisposeAsync()
        {
            await ExecuteAsync($"""SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{Name}'""");
            await ExecuteAsync($"""DROP ROLE IF EXISTS "{Name}" """);
        }

        private async Task ExecuteAsync(string sql)
        {
            await using var connection = new NpgsqlConnection(_admin);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand(sql, connection);
            await command.ExecuteNonQueryAsync();
        }
    }
}

/// <summary>
/// PostgreSQL restarted while an answer streams on one instance and is watched on another: both reconnect, the
/// watcher catches up within the bound, and the answer completes with every token (the writer keeps it in memory and
/// seals it once the database is back). On a cluster of the test's own: the shared one must not restart under others.
/// </summary>
public sealed class PostgresRestartTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan CatchUpBound = TimeSpan.FromSeconds(2);
    private FakeOpenAiServer _model = null!;

    public async Task InitializeAsync() => _model = await FakeOpenAiServer.StartAsync();

    public async Task DisposeAsync() => await _model.DisposeAsync();

    [Fact]
    public async Task Both_instances_reconnect_after_a_restart_and_nothing_is_lost()
    {
        await using var cluster = await PrivateCluster.StartAsync();
        var settings = await cluster.CreateDatabaseAsync("ra_restart");
        await TestDatabase.MigrateAsync(settings);
        string[] tokens = ["Written", " before,", " during", " and", " after", " the", " restart."];
        var resume = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _model.Behavior = new FakeBehavior { Tokens = tokens, TokenDelay = TimeSpan.FromMilliseconds(50), PauseAfterTokens = 2, Resume = resume.Task };
        await using var a = await CoreHarness.StartAsync(settings, _model.Endpoint, output);
        await using var b = await CoreHarness.StartAsync(settings, _model.Endpoint, output);
        var user = await TestUsers.CreateAsync(a.Contexts);
        var sessionId = Guid.NewGuid();
        using var onA = new BusRecorder(a.Bus, user);
        using var onB = new BusRecorder(b.Bus, user);
        await a.Chat.SendAsync(user, sessionId, "keep going through the restart", Guid.NewGuid().ToString("N"), createIfMissing: true);
        await onB.WaitForAsync(h => h.Change.Kind == SessionChangeKind.Streaming && h.Text == "Written before,", "the first tokens on B");

        await cluster.RestartAsync();
        var back = Stopwatch.StartNew();
        resume.SetResult();
        await onB.WaitForAsync(h => h.Change.Kind == SessionChangeKind.Resync, "B to reconnect and tell its subscribers to re-read", CatchUpBound);
        output.WriteLine($"B resynced {back.ElapsedMilliseconds} ms after the server was back");
        await Wait.UntilAsync(() => a.Bridge!.Reconnects == 1 && a.Bridge.ListenerProcessId is not null, "A to reconnect too", CatchUpBound);

        var full = string.Concat(tokens);
        var done = await b.WaitForAsync(user, sessionId, v => CoreHarness.IsIdle(v) && v.Messages.Count == 2, "the answer to be sealed");
        Assert.Equal((full, EventStatus.Complete), (done.Messages[1].Text, done.Messages[1].Status));
        // Live after the restart as before: a change on A is heard on B as it happens. First A's worker has left the
        // session (its last hint, after the seal), heard on A itself: on B it may have gone out before B listened again,
        // which B's resync covers. Whatever B hears of the session from here on came through the renewed listener.
        await onA.WaitForAsync(h => h.Change.SessionId == sessionId && h.Change is { Kind: SessionChangeKind.Changed, MessageId: null },
            "A's worker leaving the session", skip: onA.All.ToList().FindLastIndex(h => h.Change.Kind == SessionChangeKind.Streaming) + 1);
        var heard = onB.All.Count;
        await a.Organizer.RenameAsync(user, sessionId, "After the restart");
        await onB.WaitForAsync(h => h.Change.SessionId == sessionId && h.Change.Kind == SessionChangeKind.Changed, "the rename's hint on B", skip: heard);
        Assert.Equal("After the restart", (await b.Chat.GetConversationAsync(user, sessionId))?.Title);
        Assert.Empty(a.LoggedErrors);
        Assert.Empty(b.LoggedErrors);
    }
}
