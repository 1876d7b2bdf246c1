using System.Globalization;

namespace ResearchAssistant.Benchmarks;

internal sealed record Options(
    int[] Sizes,
    string[] Providers,
    int Rounds,
    int Warmup,
    string? Output,
    string? Postgres,
    bool Verify,
    int Rewind)
{
    public const string Usage = """
        Seeds sessions of the given sizes and measures opening (first page) and appending one message through the real
        ChatService, on SQLite and PostgreSQL, interleaving the sizes round by round.

          --sizes 100,10000,100000   session sizes in messages (the first is the baseline of the ratios)
          --providers sqlite,postgres
          --rounds 60                measured rounds (each: open, append, answer turn, per size)
          --warmup 5                 unmeasured rounds first
          --postgres "<conn>"        admin connection string of a PostgreSQL server to use (default: RA_TEST_POSTGRES,
                                     else a throwaway local cluster started from /usr/lib/postgresql/*/bin)
          --out <file>               Markdown report (default: benchmarks/last-run.md in the repository)
          --rewind 10                then rewind each session by this many messages and measure opening it (0: skip)
          --no-verify                skip checking each seeded session's hash chain
        """;

    public static Options? Parse(string[] args)
    {
        var sizes = new[] { 100, 10_000, 100_000 };
        var providers = new[] { "sqlite", "postgres" };
        int rounds = 60, warmup = 5;
        string? output = null;
        var postgres = Environment.GetEnvironmentVariable("RA_TEST_POSTGRES");
        var verify = true;
        var rewind = 10;
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--sizes":
                    sizes = Next().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                        .Select(s => int.Parse(s.Replace("_", ""), CultureInfo.InvariantCulture)).ToArray();
                    break;
                case "--providers":
                    providers = Next().ToLowerInvariant().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                    break;
                case "--rounds":
                    rounds = int.Parse(Next(), CultureInfo.InvariantCulture);
                    break;
                case "--warmup":
                    warmup = int.Parse(Next(), CultureInfo.InvariantCulture);
                    break;
                case "--out":
                    output = Next();
                    break;
                case "--postgres":
                    postgres = Next();
                    break;
                case "--rewind":
                    rewind = int.Parse(Next(), CultureInfo.InvariantCulture);
                    break;
                case "--no-verify":
                    verify = false;
                    break;
                case "-h" or "--help":
                    return null;
                default:
                    throw new ArgumentException($"Unknown option {args[i]}");
            }
        }
        if (sizes.Length == 0 || sizes.Any(s => s < 2) || rounds < 1 || warmup < 0 || rewind < 0)
        {
            throw new ArgumentException("Sizes must be at least 2 messages, rounds at least 1.");
        }
        if (rewind > 0 && sizes.Min() < 2 * rewind)
        {
            throw new ArgumentException($"--rewind {rewind} needs every size to be at least {2 * rewind} messages.");
        }
        if (providers.Except(["sqlite", "postgres"]).FirstOrDefault() is { } unknown)
        {
            throw new ArgumentException($"Unknown provider {unknown}: use sqlite and/or postgres.");
        }
        return new Options(sizes, providers, rounds, warmup, output, postgres, verify, rewind);
    }
}
