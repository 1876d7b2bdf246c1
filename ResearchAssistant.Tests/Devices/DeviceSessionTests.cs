using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using ResearchAssistant.Core.Accounts;
using ResearchAssistant.Core.Devices;
using ResearchAssistant.Tests.Support;
using Xunit.Abstractions;

namespace ResearchAssistant.Tests.Devices;

/// <summary>
/// Device sign-ins through Core as the app wires it, on each provider: starting, listing, signing out (one, all others,
/// after a password change, by an administrator), ownership, and how a sign-out reaches open pages on this and on
/// another instance sharing the database.
/// </summary>
public abstract class DeviceSessionTests(TestDatabase database, ITestOutputHelper output) : IAsyncLifetime
{
    private const string PhoneAgent = "Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36";
    private const string LaptopAgent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0";
    private const string DesktopAgent = "Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0";
    // Nothing here asks the model; the harness wants an endpoint all the same.
    private static readonly Uri NoModel = new("http://127.0.0.1:9/v1/");

    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 3, 1, 9, 0, 0, TimeSpan.Zero));
    private CoreHarness _core = null!;

    private DeviceSessionService Devices => _core.Services.GetRequiredService<DeviceSessionService>();
    private DeviceSessionCheck Check => _core.Services.GetRequiredService<DeviceSessionCheck>();
    private DeviceSignOuts SignOuts => _core.Services.GetRequiredService<DeviceSignOuts>();
    private DeviceAdminService Admin => _core.Services.GetRequiredService<DeviceAdminService>();

    public async Task InitializeAsync() => _core = await CoreHarness.StartAsync(database, NoModel, output, _clock);

    public async Task DisposeAsync()
    {
        await _core.DisposeAsync();
        Assert.True(_core.LoggedErrors.Count == 0, "Core logged errors:\n" + string.Join("\n", _core.LoggedErrors));
    }

    [Fact]
    public async Task A_sign_in_is_a_device_named_from_its_user_agent_with_its_address_and_times()
    {
        var user = await NewUserAsync();

        var phone = await Devices.StartAsync(user, PhoneAgent, "203.0.113.7");
        _clock.Advance(TimeSpan.FromMinutes(5));
        var laptop = await Devices.StartAsync(user, LaptopAgent, "2001:db8::1");

        var listed = await Devices.ListAsync(user, currentDeviceId: phone);
        Assert.Equal([phone, laptop], listed.Select(d => d.Id));
        var first = listed[0];
        Assert.Equal("Phone (Android, Chrome)", first.Name);
        Assert.Equal("203.0.113.7", first.IpAddress);
        Assert.Equal(_clock.GetUtcNow() - TimeSpan.FromMinutes(5), first.FirstSeenAt);
        Assert.Equal(first.FirstSeenAt, first.LastActiveAt);
        Assert.True(first.IsCurrent);
        Assert.Equal("Laptop (Windows, Edge)", listed[1].Name);
        Assert.False(listed[1].IsCurrent);
        Assert.True(await Check.IsSignedInAsync(phone, user));
        Assert.True(await Check.IsSignedInAsync(laptop, user));
    }

    [Fact]
    public async Task Signing_out_one_device_refuses_it_and_leaves_the_others()
    {
        var user = await NewUserAsync();
        var phone = await Devices.StartAsync(user, PhoneAgent, null);
        var laptop = await Devices.StartAsync(user, LaptopAgent, null);
        var desktop = await Devices.StartAsync(user, DesktopAgent, null);
        // Remembered as signed in, as after a request: the sign-out must not be hidden by that memory.
        Assert.True(await Check.IsSignedInAsync(laptop, user));

        await Devices.SignOutAsync(user, laptop);

        Assert.False(await Check.IsSignedInAsync(laptop, user));
        Assert.True(await Check.IsSignedInAsync(phone, user));
        Assert.True(await Check.IsSignedInAsync(desktop, user));
        Assert.Equal(new HashSet<Guid> { phone, desktop }, (await Devices.ListAsync(user, phone)).Select(d => d.Id).ToHashSet());
        Assert.Equal(DeviceSignOutReason.SignedOutByUser, (await RowAsync(laptop)).SignOutReason);
        // Twice is "not found": it is no longer signed in.
        await Assert.ThrowsAsync<DeviceNotFoundException>(() => Devices.SignOutAsync(user, laptop));
    }

    [Fact]
    public async Task Signing_out_all_other_devices_keeps_only_this_one()
    {
        var user = await NewUserAsync();
        var phone = await Devices.StartAsync(user, PhoneAgent, null);
        var laptop = await Devices.StartAsync(user, LaptopAgent, null);
        var desktop = await Devices.StartAsync(user, DesktopAgent, null);

        var count = await Devices.SignOutOthersAsync(user, laptop);

        Assert.Equal(2, count);
        var listed = Assert.Single(await Devices.ListAsync(user, laptop));
        Assert.Equal(laptop, listed.Id);
        Assert.True(await Check.IsSignedInAsync(laptop, user));
        Assert.False(await Check.IsSignedInAsync(phone, user));
        Assert.False(await Check.IsSignedInAsync(desktop, user));
        Assert.Equal(0, await Devices.SignOutOthersAsync(user, laptop));
    }

    [Fact]
    public async Task Another_users_device_cannot_be_signed_out_and_looks_as_if_it_did_not_exist()
    {
        var me = await NewUserAsync("me");
        var someoneElse = await NewUserAsync("other");
        var mine = await Devices.StartAsync(me, LaptopAgent, null);
        var theirs = await Devices.StartAsync(someoneElse, PhoneAgent, null);

        var notMine = await Assert.ThrowsAsync<DeviceNotFoundException>(() => Devices.SignOutAsync(me, theirs));
        var unknown = await Assert.ThrowsAsync<DeviceNotFoundException>(() => Devices.SignOutAsync(me, Guid.NewGuid()));
        await Devices.SignOutOthersAsync(me, mine);

        Assert.Equal(unknown.Message, notMine.Message);
        Assert.True(await Check.IsSignedInAsync(theirs, someoneElse));
        Assert.Equal([theirs], (await Devices.ListAsync(someoneElse, null)).Select(d => d.Id));
        Assert.DoesNotContain(await Devices.ListAsync(me, mine), d => d.Id == theirs);
        // A cookie naming someone else's device is not theirs either.
        Assert.False(await Check.IsSignedInAsync(theirs, me));
    }

    [Fact]
    public async Task A_password_change_signs_out_the_other_devices_and_says_why()
    {
        var user = await NewUserAsync();
        var phone = await Devices.StartAsync(user, PhoneAgent, null);
        var laptop = await Devices.StartAsync(user, LaptopAgent, null);

        Assert.Equal(1, await Devices.SignOutOthersAfterPasswordChangeAsync(user, laptop));

        Assert.False(await Check.IsSignedInAsync(phone, user));
        Assert.True(await Check.IsSignedInAsync(laptop, user));
        Assert.Equal(DeviceSignOutReason.PasswordChanged, (await RowAsync(phone)).SignOutReason);
    }

    [Fact]
    public async Task Signing_out_everywhere_needs_the_Admin_role_in_the_database()
    {
        var admin = await NewUserAsync("admin");
        var notAdmin = await NewUserAsync("plain");
        var target = await NewUserAsync("target");
        await GrantAdminAsync(admin);
        var phone = await Devices.StartAsync(target, PhoneAgent, null);
        var laptop = await Devices.StartAsync(target, LaptopAgent, null);

        await Assert.ThrowsAsync<AdminRoleRequiredException>(() => Admin.SignOutEverywhereAsync(notAdmin, target));
        await Assert.ThrowsAsync<AdminRoleRequiredException>(() => Admin.ListUsersAsync(notAdmin));
        Assert.True(await Check.IsSignedInAsync(phone, target));
        Assert.True(await Check.IsSignedInAsync(laptop, target));

        var listed = await Admin.ListUsersAsync(admin);
        Assert.Equal(2, Assert.Single(listed, u => u.UserId == target).SignedInDevices);
        Assert.Equal(2, await Admin.SignOutEverywhereAsync(admin, target));

        Assert.False(await Check.IsSignedInAsync(phone, target));
        Assert.False(await Check.IsSignedInAsync(laptop, target));
        Assert.Equal(DeviceSignOutReason.SignedOutByAdmin, (await RowAsync(phone)).SignOutReason);
        Assert.Equal(0, Assert.Single(await Admin.ListUsersAsync(admin), u => u.UserId == target).SignedInDevices);
    }

    [Fact]
    public async Task A_sign_out_is_announced_at_once_to_the_devices_open_pages_and_to_no_other()
    {
        var user = await NewUserAsync();
        var phone = await Devices.StartAsync(user, PhoneAgent, null);
        var laptop = await Devices.StartAsync(user, LaptopAgent, null);
        var phoneHeard = 0;
        var laptopHeard = 0;
        using var phonePage = SignOuts.Listen(phone, () => Interlocked.Increment(ref phoneHeard));
        using var laptopPage = SignOuts.Listen(laptop, () => Interlocked.Increment(ref laptopHeard));

        await Devices.SignOutOthersAsync(user, laptop);

        // Announced before the call returns, on this instance: no waiting for the watcher.
        Assert.True(phoneHeard >= 1);
        Assert.Equal(0, laptopHeard);
    }

    [Fact]
    public async Task A_sign_out_made_through_another_instance_reaches_this_ones_pages_and_memory()
    {
        var user = await NewUserAsync();
        var phone = await Devices.StartAsync(user, PhoneAgent, null);
        var laptop = await Devices.StartAsync(user, LaptopAgent, null);
        var desktop = await Devices.StartAsync(user, DesktopAgent, null);
        var phonePageClosed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var phonePage = SignOuts.Listen(phone, () => phonePageClosed.TrySetResult());
        // The desktop has no open page here, but made a request recently: this instance remembers it as signed in.
        Assert.True(await Check.IsSignedInAsync(desktop, user));

        await using (var other = await CoreHarness.StartAsync(database, NoModel, output, _clock))
        {
            await other.Services.GetRequiredService<DeviceSessionService>().SignOutOthersAsync(user, laptop);
        }

        // This instance's watcher finds both by itself (it polls about once a second).
        await phonePageClosed.Task.WaitAsync(TimeSpan.FromSeconds(5));
        await Wait.UntilAsync(() => !Check.RememberedDevices.Contains(desktop), "the desktop to be forgotten", TimeSpan.FromSeconds(5));
        Assert.False(await Check.IsSignedInAsync(desktop, user));
        Assert.True(await Check.IsSignedInAsync(laptop, user));
    }

    [Fact]
    public async Task The_watcher_reads_only_the_devices_open_or_remembered_here()
    {
        var user = await NewUserAsync();
        var open = await Devices.StartAsync(user, PhoneAgent, null);
        var remembered = await Devices.StartAsync(user, LaptopAgent, null);
        var elsewhere = await Devices.StartAsync(user, DesktopAgent, null);
        var openHeard = 0;
        using var page = SignOuts.Listen(open, () => Interlocked.Increment(ref openHeard));
        Assert.True(await Check.IsSignedInAsync(remembered, user));
        await SignOutBehindTheServicesBackAsync(open, remembered, elsewhere);

        // The hosted watcher may have had its round already; either way, after this one both are dealt with.
        var found = await _core.Services.GetRequiredService<SignedOutDeviceWatcher>().CheckOnceAsync();

        Assert.Contains(open, found);
        Assert.True(openHeard >= 1);
        Assert.DoesNotContain(remembered, Check.RememberedDevices);
        // A device with nothing open here and unknown to this instance's memory is none of its business.
        Assert.DoesNotContain(elsewhere, found);
    }

    [Fact]
    public async Task Last_active_is_written_at_most_once_a_minute()
    {
        var user = await NewUserAsync();
        var phone = await Devices.StartAsync(user, PhoneAgent, null);
        var signedInAt = _clock.GetUtcNow();

        _clock.Advance(TimeSpan.FromSeconds(10));
        await Check.IsSignedInAsync(phone, user);
        var firstRequestAt = _clock.GetUtcNow();
        _clock.Advance(TimeSpan.FromSeconds(30));
        await Check.IsSignedInAsync(phone, user);
        await Check.RecordActivityAsync(phone);
        var afterThrottled = (await RowAsync(phone)).LastActiveAt;
        _clock.Advance(TimeSpan.FromSeconds(40));
        await Check.RecordActivityAsync(phone);

        Assert.Equal(firstRequestAt, afterThrottled);
        Assert.Equal(_clock.GetUtcNow(), (await RowAsync(phone)).LastActiveAt);
        Assert.Equal(signedInAt, (await RowAsync(phone)).FirstSeenAt);
    }

    [Fact]
    public async Task A_new_sign_in_tidies_away_the_users_signed_out_and_expired_devices()
    {
        var user = await NewUserAsync();
        var signedOut = await Devices.StartAsync(user, PhoneAgent, null);
        var idle = await Devices.StartAsync(user, DesktopAgent, null);
        await Devices.SignOutAsync(user, signedOut);
        _clock.Advance(DeviceSessionService.IdleLifetime + TimeSpan.FromMinutes(1));
        Assert.Empty(await Devices.ListAsync(user, null));

        var fresh = await Devices.StartAsync(user, LaptopAgent, null);

        await using var db = await _core.Contexts.CreateDbContextAsync();
        Assert.Equal([fresh], await db.DeviceSessions.Where(d => d.UserId == user).Select(d => d.Id).ToListAsync());
    }

    private Task<string> NewUserAsync(string name = "user") => TestUsers.CreateAsync(_core.Contexts, name);

    private async Task<DeviceSession> RowAsync(Guid id)
    {
        await using var db = await _core.Contexts.CreateDbContextAsync();
        return await db.DeviceSessions.AsNoTracking().SingleAsync(d => d.Id == id);
    }

    /// <summary>What another instance's sign-out looks like from here: the rows change, nothing is announced.</summary>
    private async Task SignOutBehindTheServicesBackAsync(params Guid[] ids)
    {
        var now = _clock.GetUtcNow();
        await using var db = await _core.Contexts.CreateDbContextAsync();
        await db.DeviceSessions.Where(d => ids.Contains(d.Id)).ExecuteUpdateAsync(u => u.SetProperty(d => d.SignedOutAt, now));
    }

    private async Task GrantAdminAsync(string userId)
    {
        await using var db = await _core.Contexts.CreateDbContextAsync();
        var role = await db.Roles.FirstOrDefaultAsync(r => r.NormalizedName == AppRoles.Admin.ToUpperInvariant());
        if (role is null)
        {
            role = new IdentityRole(AppRoles.Admin) { NormalizedName = AppRoles.Admin.ToUpperInvariant() };
            db.Roles.Add(role);
        }
        db.UserRoles.Add(new IdentityUserRole<string> { UserId = userId, RoleId = role.Id });
        await db.SaveChangesAsync();
    }
}

public sealed class SqliteDeviceSessionTests(SqliteTestDatabase database, ITestOutputHelper output)
    : DeviceSessionTests(database, output), IClassFixture<SqliteTestDatabase>;

public sealed class PostgresDeviceSessionTests(PostgresTestDatabase database, ITestOutputHelper output)
    : DeviceSessionTests(database, output), IClassFixture<PostgresTestDatabase>;
