using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ResearchAssistant.Core.Data;

namespace ResearchAssistant.Core.Devices;

/// <summary>
/// Notices devices signed out by another app instance sharing the database (or by anything that bypassed this one's
/// <see cref="DeviceSessionService"/>). About once a second it reads, in one query for the whole instance, which of the
/// devices with an open page here or remembered by <see cref="DeviceSessionCheck"/> are still signed in; the others are
/// forgotten and their pages told. Comparing ids, not timestamps, keeps it right whatever the instances' clocks say
/// and in whatever order their transactions commit.
/// </summary>
public sealed class SignedOutDeviceWatcher(
    IDbContextFactory<AppDbContext> contexts,
    DeviceSessionCheck check,
    DeviceSignOuts signOuts,
    TimeProvider clock,
    ILogger<SignedOutDeviceWatcher> logger) : BackgroundService
{
    public static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);
    // Keeps each statement's parameter list modest however many devices are open here.
    private const int IdsPerQuery = 500;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var failing = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(PollInterval, clock, stoppingToken);
                await CheckOnceAsync(stoppingToken);
                if (failing)
                {
                    logger.LogInformation("Checking for signed-out devices works again");
                    failing = false;
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (!failing)
            {
                // Once per outage, not once a second; the next round tries again.
                logger.LogWarning(ex, "Checking for signed-out devices failed; retrying every {Seconds} s", PollInterval.TotalSeconds);
                failing = true;
            }
            catch (Exception)
            {
                // Still failing: already reported.
            }
        }
    }

    /// <summary>One round: returns the devices found signed out (and announced).</summary>
    public async Task<IReadOnlyList<Guid>> CheckOnceAsync(CancellationToken ct = default)
    {
        check.Prune();
        var watched = signOuts.ListenedDevices.Union(check.RememberedDevices).ToArray();
        if (watched.Length == 0)
        {
            return [];
        }
        var stillSignedIn = new HashSet<Guid>();
        await using (var db = await contexts.CreateDbContextAsync(ct))
        {
            foreach (var ids in watched.Chunk(IdsPerQuery))
            {
                stillSignedIn.UnionWith(await db.DeviceSessions.AsNoTracking()
                    .Where(d => ids.Contains(d.Id) && d.SignedOutAt == null)
                    .Select(d => d.Id)
                    .ToListAsync(ct));
            }
        }
        var signedOut = watched.Where(id => !stillSignedIn.Contains(id)).ToList();
        foreach (var id in signedOut)
        {
            check.Forget(id);
            signOuts.Announce(id);
        }
        return signedOut;
    }
}
