#!/usr/bin/env bash
# Runs the search benchmark on SQLite and on a throwaway PostgreSQL cluster (started and removed here, like test.sh),
# in Release, and writes benchmarks/SEARCH-RESULTS.md's driver output to benchmarks/search-driver-output.md.
#   benchmarks/ResearchAssistant.SearchBenchmarks/run.sh [driver options, e.g. --messages 20000]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
pg_dir=$(mktemp -d /tmp/ra-search-bench-pg.XXXXXX)
trap '"$root/scripts/pg-stop.sh" "$pg_dir" || true' EXIT
port=$("$root/scripts/pg-start.sh" "$pg_dir")
export RA_BENCH_POSTGRES="Host=127.0.0.1;Port=$port;Username=postgres"
dotnet run -c Release --project benchmarks/ResearchAssistant.SearchBenchmarks -- --out benchmarks/search-driver-output.md "$@"
