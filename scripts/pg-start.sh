#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster for one test run and prints its port on stdout.
#   usage: scripts/pg-start.sh <scratch-dir>
# The scratch dir must exist and be empty; scripts/pg-stop.sh <scratch-dir> stops the cluster and deletes the dir.
# PostgreSQL refuses to run as root, so everything runs as the `postgres` user, and the socket goes into the
# scratch dir (-k) so the packaged cluster's /var/run/postgresql is never touched.
set -euo pipefail

dir=${1:?usage: pg-start.sh <scratch-dir>}
bindir=${PG_BINDIR:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
[[ -x "$bindir/initdb" ]] || { echo "pg-start: no PostgreSQL binaries found (looked in /usr/lib/postgresql/*/bin)" >&2; exit 1; }

as_postgres() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else sudo -n -u postgres -- "$@"; fi
}

if [[ $(id -u) -eq 0 ]]; then chown postgres: "$dir"; else sudo -n chown postgres: "$dir"; fi
chmod 700 "$dir"

# Trust auth on loopback only; --no-sync and fsync=off because the cluster is thrown away after the run.
as_postgres "$bindir/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-locale --no-sync >"$dir/initdb.log" 2>&1 \
  || { cat "$dir/initdb.log" >&2; exit 1; }

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A port that nothing listens on now; if another process grabs it before the postmaster binds, try again.
for attempt in 1 2 3 4 5 6 7 8; do
  port=$(( 20000 + (RANDOM * 32768 + RANDOM) % 30000 ))
  port_in_use "$port" && continue
  if as_postgres "$bindir/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 start \
       -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
       >/dev/null; then
    echo "$port"
    exit 0
  fi
  echo "pg-start: attempt $attempt on port $port failed:" >&2
  tail -n 5 "$dir/postgres.log" >&2 || true
done
echo "pg-start: could not start PostgreSQL" >&2
exit 1
