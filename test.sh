#!/usr/bin/env bash
# The one test command: ./test.sh  (CI runs it through .ci/run).
# Installs what a fresh Debian 12 machine with only the .NET SDK lacks (Chromium, PostgreSQL), starts a throwaway
# PostgreSQL cluster for this run, builds the solution once, runs the unit/integration tests and the browser tests,
# and ends with the line "N passed, N failed". Exit status is non-zero if anything failed or no test ran.
#   CONFIGURATION=Debug ./test.sh      build and test Debug instead of Release
#   RA_SCREENSHOTS=1 ./test.sh         also refresh docs/screenshots/*.png (used by the README)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"
root=$PWD
configuration=${CONFIGURATION:-Release}
results="$root/.test-run/results"
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
export DEBIAN_FRONTEND=noninteractive

started=$SECONDS
step() { printf '\n==> [%4ss] %s\n' "$((SECONDS - started))" "$*"; }

# --- 1. System packages: only when missing, and one apt-get update at most. -------------------------------------
sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo -n); fi
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
if ((${#missing[@]})); then
  step "installing ${missing[*]}"
  "${sudo_cmd[@]}" apt-get update -q
  "${sudo_cmd[@]}" apt-get install -y -q "${missing[@]}" </dev/null
fi

# --- 2. A throwaway PostgreSQL cluster, removed on any exit (success, failure or Ctrl-C). --------------------------
# Under /tmp, not $TMPDIR: the postgres user must be able to reach it, and a CI user's TMPDIR may be private.
pg_dir=$(mktemp -d /tmp/ra-test-pg.XXXXXX)
cleanup() { "$root/scripts/pg-stop.sh" "$pg_dir" || true; }
trap cleanup EXIT
trap 'exit 130' INT TERM
step "starting PostgreSQL"
pg_port=$("$root/scripts/pg-start.sh" "$pg_dir")
export RA_TEST_POSTGRES="Host=127.0.0.1;Port=$pg_port;Username=postgres"
echo "RA_TEST_POSTGRES=$RA_TEST_POSTGRES"

# --- 3. Build once. ----------------------------------------------------------------------------------------------
step "building ResearchAssistant.sln ($configuration)"
dotnet build ResearchAssistant.sln -c "$configuration" -nologo -v minimal

# --- 4. Run both test projects without rebuilding; count results from their TRX files. -----------------------------
rm -rf "$results"
mkdir -p "$results"
total_passed=0
total_failed=0
status=0

# Each failed test's name, message and the top of its stack, from a TRX file. Printed again at the very end so a CI
# log that keeps only its tail still says what failed and why.
report_failures() { # <trx>
  awk '
    function unxml(s) { gsub(/&lt;/, "<", s); gsub(/&gt;/, ">", s); gsub(/&quot;/, "\"", s); gsub(/&apos;/, "\047", s);
                        gsub(/&#xD;/, "", s); gsub(/&#xA;/, "", s); gsub(/&amp;/, "\\&", s); return s }
    /<UnitTestResult / && /outcome="(Failed|Error|Timeout|Aborted)"/ {
      failing = 1; match($0, /testName="[^"]*"/); print "\nFAILED " unxml(substr($0, RSTART + 10, RLENGTH - 11)); next }
    /<\/UnitTestResult>/ { failing = 0; section = ""; next }
    failing && /<Message>/ { section = "message"; lines = 0 }
    failing && /<StackTrace>/ { section = "stack"; lines = 0 }
    failing && section != "" {
      line = $0; gsub(/<\/?(Message|StackTrace|ErrorInfo)>/, "", line); sub(/^[ \t]+/, "", line)
      if (line ~ /[^ \t]/ && ++lines <= (section == "message" ? 20 : 8)) print "  " unxml(line)
      if ($0 ~ /<\/(Message|StackTrace)>/) section = ""
    }' "$1"
}
failure_report=""

run_tests() { # <name> <project> <hang timeout>
  local name=$1 project=$2 hang=$3 rc=0
  step "testing $project"
  if [[ ! -f "$project" ]]; then
    echo "missing test project: $project" >&2
    total_failed=$((total_failed + 1)); status=1; return
  fi
  # --blame-hang-timeout bounds a stuck run: the test host is killed and the run reported as failed.
  dotnet test "$project" --no-build -c "$configuration" --nologo \
    --logger "trx;LogFileName=$name.trx" --logger "console;verbosity=normal" \
    --results-directory "$results" \
    --blame-hang-timeout "$hang" --blame-hang-dump-type none </dev/null || rc=$?
  local trx="$results/$name.trx" passed=0 failed=0 counters
  if [[ -f "$trx" ]]; then
    counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
    passed=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")
    failed=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
    local errors timeouts aborted
    errors=$(sed -n 's/.* error="\([0-9]*\)".*/\1/p' <<<"$counters")
    timeouts=$(sed -n 's/.* timeout="\([0-9]*\)".*/\1/p' <<<"$counters")
    aborted=$(sed -n 's/.* aborted="\([0-9]*\)".*/\1/p' <<<"$counters")
    failed=$(( ${failed:-0} + ${errors:-0} + ${timeouts:-0} + ${aborted:-0} ))
    passed=${passed:-0}
  fi
  # A crashed or killed test host can leave no TRX, or a TRX that undercounts: still a failure.
  if (( rc != 0 && failed == 0 )); then failed=1; fi
  if (( passed + failed == 0 )); then echo "no tests ran in $project" >&2; failed=1; fi
  echo "$name: $passed passed, $failed failed (dotnet test exit code $rc)"
  [[ -f "$trx" ]] && failure_report+=$(report_failures "$trx")
  total_passed=$((total_passed + passed))
  total_failed=$((total_failed + failed))
  if (( rc != 0 || failed != 0 )); then status=1; fi
}

run_tests core ResearchAssistant.Tests/ResearchAssistant.Tests.csproj 10m
run_tests e2e e2e/ResearchAssistant.E2E.csproj 12m
e2e_out="e2e/bin/$configuration/net10.0"
if compgen -G "$e2e_out/screenshots/*.png" >/dev/null; then
  echo "browser test failure screenshots: $e2e_out/screenshots/; app logs: $e2e_out/app-logs/"
fi

if [[ -n "$failure_report" ]]; then step "what failed"; printf '%s\n' "$failure_report"; fi
step "done; TRX files in ${results#"$root"/}"
echo "$total_passed passed, $total_failed failed"
if (( status != 0 || total_failed != 0 || total_passed == 0 )); then exit 1; fi
