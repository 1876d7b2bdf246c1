using System.Text;
using Microsoft.Playwright;
using ResearchAssistant.Benchmarks;
using ResearchAssistant.E2E.Infrastructure;

namespace ResearchAssistant.SyncBenchmarks;

internal sealed class BrowserResult
{
    /// <summary>Click on Send in the laptop's tab to the message in the phone's DOM.</summary>
    public List<double> OtherDeviceMs { get; } = [];
    /// <summary>Click on Send to the message in the sending tab's own DOM.</summary>
    public List<double> SenderMs { get; } = [];
    public string LoadBefore { get; set; } = "";
    public string LoadAfter { get; set; } = "";
    public TimeSpan Duration { get; set; }
}

/// <summary>
/// A sanity check of the simulated circuits with real ones: the real app (SQLite, offline model), two devices of one
/// user in headless Chromium (a laptop-sized and a phone-sized browser context, each signed in), both showing one
/// conversation. The laptop sends; a MutationObserver in each tab notes when the message appears in its DOM.
/// Measured from the click on Send (performance.timeOrigin + performance.now() in the laptop's tab, just before
/// the click is dispatched) to the message in the phone's DOM (same clock in the phone's tab). So it covers more than
/// commit-to-render: the click's trip to the server and the store before the commit, and after the server's render,
/// the batch's trip to the browser and its DOM update. One watcher only.
/// </summary>
internal static class BrowserRun
{
    private const string Observe = """
        marker => new Promise((resolve, reject) => {
            const shown = () => [...document.querySelectorAll('article .user-text')].some(e => e.textContent.includes(marker));
            if (shown()) { resolve(performance.timeOrigin + performance.now()); return; }
            const observer = new MutationObserver(() => {
                if (shown()) { observer.disconnect(); resolve(performance.timeOrigin + performance.now()); }
            });
            observer.observe(document.body, { childList: true, subtree: true, characterData: true });
            setTimeout(() => { observer.disconnect(); reject(new Error('not shown within 30 s')); }, 30000);
        })
        """;

    private const string ClickSend = """
        () => {
            const send = [...document.querySelectorAll('form.composer button[type=submit]')].find(b => b.textContent.includes('Send'));
            const at = performance.timeOrigin + performance.now();
            send.click();
            return at;
        }
        """;

    public static async Task<BrowserResult> RunAsync(SyncOptions options, CancellationToken ct)
    {
        var result = new BrowserResult();
        var started = System.Diagnostics.Stopwatch.StartNew();
        await using var app = await RealApp.StartAsync("syncbench-browser", offlineDelayMilliseconds: 5, new Dictionary<string, string>());
        var session = (await app.SeedAsync([20], ct))[0];
        var laptop = await RealApp.OpenConversationAsync(app.FirstDevice!, session);
        var phoneDevice = await app.NewDeviceAsync(E2eViewport.Phone, phone: true);
        var login = await phoneDevice.NewPageAsync();
        await login.LoginAsync(app.Email);
        await login.CloseAsync();
        var phone = await RealApp.OpenConversationAsync(phoneDevice, session);
        result.LoadBefore = MachineInfo.LoadAverage();
        for (var round = -2; round < options.BrowserRounds; round++)
        {
            var marker = $"browser-{round + 2}-{Guid.NewGuid().ToString("N")[..6]}";
            await Ui.Composer(laptop).FillAsync($"Question {marker}: is the effect robust?");
            // The typed text reaches the server as an input event before the click's submit event (one ordered connection).
            var onPhone = phone.EvaluateAsync<double>(Observe, marker);
            var onLaptop = laptop.EvaluateAsync<double>(Observe, marker);
            var clicked = await laptop.EvaluateAsync<double>(ClickSend);
            var (phoneAt, laptopAt) = (await onPhone, await onLaptop);
            if (round >= 0)
            {
                result.OtherDeviceMs.Add(phoneAt - clicked);
                result.SenderMs.Add(laptopAt - clicked);
            }
            // Let the answer finish on both before the next round.
            foreach (var page in new[] { laptop, phone })
            {
                await Assertions.Expect(Ui.StopButton(page)).ToHaveCountAsync(0);
                await Assertions.Expect(Ui.AssistantMessages(page).Last).ToHaveAttributeAsync("aria-busy", "false");
            }
        }
        result.LoadAfter = MachineInfo.LoadAverage();
        result.Duration = started.Elapsed;
        return result;
    }

    public static string Render(BrowserResult result)
    {
        var md = new StringBuilder();
        md.AppendLine("## Real-browser sanity check: one watching device").AppendLine();
        md.AppendLine($"Real app process (SQLite, offline model), headless Chromium: a laptop context sends, a phone context watches, both signed in " +
                      $"as the same user on the same conversation. {result.OtherDeviceMs.Count} sends after 2 unmeasured; took {result.Duration.TotalSeconds:F0} s; " +
                      $"load average before `{result.LoadBefore}`, after `{result.LoadAfter}`. From the click on Send in the laptop's tab " +
                      "to the message in each tab's DOM (MutationObserver; the two tabs' clocks are performance.timeOrigin + performance.now(), " +
                      "so cross-tab figures carry up to about a millisecond of clock skew).").AppendLine();
        md.AppendLine("| where | p50 | p95 | max |");
        md.AppendLine("|---|---:|---:|---:|");
        md.AppendLine($"| phone (the other device) | {SyncReport.Ms(Percentiles.Median(result.OtherDeviceMs))} | {SyncReport.Ms(Percentiles.P95(result.OtherDeviceMs))} | {SyncReport.Ms(result.OtherDeviceMs.DefaultIfEmpty(double.NaN).Max())} |");
        md.AppendLine($"| laptop (the sender's own tab) | {SyncReport.Ms(Percentiles.Median(result.SenderMs))} | {SyncReport.Ms(Percentiles.P95(result.SenderMs))} | {SyncReport.Ms(result.SenderMs.DefaultIfEmpty(double.NaN).Max())} |");
        md.AppendLine();
        return md.ToString();
    }
}
