using System.Globalization;

namespace ResearchAssistant.SyncBenchmarks;

internal sealed record SyncOptions(
    string[] Scenarios,
    string[] Providers,
    string[] Topologies,
    int[] Watchers,
    int Rounds,
    int Warmup,
    int Tokens,
    int TokenDelayMs,
    int SessionSize,
    bool HoldTurn,
    bool Sidebar,
    int[] MemoryPages,
    int MemoryRounds,
    int[] MemorySizes,
    int MemorySettleSeconds,
    int BrowserRounds,
    string? Postgres,
    string? Output)
{
    public const string Usage = """
        Live sync (issue 5): commit-to-render latency of a message on other devices, streaming fan-out per token, and
        server memory per open conversation circuit.

          --scenarios live,memory,browser  what to run (default: all three)
                                     live:    in-process, simulated circuits on the app's services (SQLite, PostgreSQL,
                                              and two instances on one PostgreSQL when the bridge exists)
                                     memory:  the real app process and Chromium tabs; managed heap and RSS per circuit
                                     browser: the real app process, two Chromium devices, one watching (sanity check)
          --providers sqlite,postgres
          --topologies same,cross    same instance, and two instances on one PostgreSQL (cross: postgres only)
          --watchers 1,100           devices watching the conversation (the first is the baseline of the ratios)
          --rounds 30 --warmup 3     measured and unmeasured rounds per watcher count (interleaved, random order)
          --tokens 40                tokens per answer (the fake OpenAI-compatible server)
          --token-delay 20           ms between tokens
          --session-size 200         messages already in each watched conversation
          --turn run|hold            run: the answer starts as soon as the message is stored, as in the app (default);
                                     hold: the answer waits until every watcher has rendered the message
          --sidebar on|off           simulated circuits also re-read the sidebar on each change, as the layout does (on)
          --memory-pages 1,25        tabs opened per measurement (cumulative); per-circuit figures use the last
          --memory-rounds 3          app restarts per conversation size (medians are reported)
          --memory-sizes 20,10000    messages in the conversations the tabs show (the first is the baseline of the ratio)
          --memory-settle 3          seconds the tabs stay idle before each reading
          --browser-rounds 20        sends in the browser sanity check
          --postgres "<conn>"        admin connection string of a PostgreSQL server (default: RA_TEST_POSTGRES, else a
                                     throwaway local cluster from /usr/lib/postgresql/*/bin)
          --out <file>               Markdown report (default: benchmarks/last-sync-run.md in the repository)
        """;

    public static SyncOptions? Parse(string[] args)
    {
        string[] scenarios = ["live", "memory", "browser"], providers = ["sqlite", "postgres"], topologies = ["same", "cross"];
        int[] watchers = [1, 100], pages = [1, 25], memorySizes = [20, 10_000];
        int rounds = 30, warmup = 3, tokens = 40, delay = 20, size = 200, memoryRounds = 3, memorySettle = 3, browserRounds = 20;
        bool hold = false, sidebar = true;
        string? output = null;
        var postgres = Environment.GetEnvironmentVariable("RA_TEST_POSTGRES");
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            string[] List() => Next().ToLowerInvariant().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            int[] Numbers() => List().Select(s => int.Parse(s.Replace("_", ""), CultureInfo.InvariantCulture)).ToArray();
            int Number() => int.Parse(Next().Replace("_", ""), CultureInfo.InvariantCulture);
            switch (args[i])
            {
                case "--scenarios": scenarios = List(); break;
                case "--providers": providers = List(); break;
                case "--topologies": topologies = List(); break;
                case "--watchers": watchers = Numbers(); break;
                case "--rounds": rounds = Number(); break;
                case "--warmup": warmup = Number(); break;
                case "--tokens": tokens = Number(); break;
                case "--token-delay": delay = Number(); break;
                case "--session-size": size = Number(); break;
                case "--turn":
                    hold = Next() switch
                    {
                        "hold" => true,
                        "run" => false,
                        var other => throw new ArgumentException($"--turn {other}: use run or hold"),
                    };
                    break;
                case "--sidebar":
                    sidebar = Next() switch
                    {
                        "on" => true,
                        "off" => false,
                        var other => throw new ArgumentException($"--sidebar {other}: use on or off"),
                    };
                    break;
                case "--memory-pages": pages = Numbers(); break;
                case "--memory-rounds": memoryRounds = Number(); break;
                case "--memory-sizes": memorySizes = Numbers(); break;
                case "--memory-settle": memorySettle = Number(); break;
                case "--browser-rounds": browserRounds = Number(); break;
                case "--postgres": postgres = Next(); break;
                case "--out": output = Next(); break;
                case "-h" or "--help": return null;
                default: throw new ArgumentException($"Unknown option {args[i]}");
            }
        }
        if (scenarios.Except(["live", "memory", "browser"]).FirstOrDefault() is { } s)
        {
            throw new ArgumentException($"Unknown scenario {s}");
        }
        if (providers.Except(["sqlite", "postgres"]).FirstOrDefault() is { } p)
        {
            throw new ArgumentException($"Unknown provider {p}");
        }
        if (topologies.Except(["same", "cross"]).FirstOrDefault() is { } t)
        {
            throw new ArgumentException($"Unknown topology {t}");
        }
        if (watchers.Length == 0 || watchers.Any(w => w < 1) || rounds < 1 || warmup < 0 || tokens < 1 || delay < 0 || size < 2
            || pages.Length == 0 || pages.Any(n => n < 1) || memoryRounds < 1 || memorySettle < 0 || memorySizes.Length == 0 || memorySizes.Any(n => n < 2) || browserRounds < 1)
        {
            throw new ArgumentException("Counts must be positive (session sizes at least 2 messages).");
        }
        return new SyncOptions(scenarios, providers, topologies, watchers, rounds, warmup, tokens, delay, size, hold, sidebar,
            [.. pages.Order()], memoryRounds, memorySizes, memorySettle, browserRounds, postgres, output);
    }
}
