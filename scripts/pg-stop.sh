#!/usr/bin/env bash
# Stops the throwaway cluster started by scripts/pg-start.sh and deletes its scratch dir. Safe to call twice,
# or when the start failed half-way (it is what test.sh's exit trap runs).
#   usage: scripts/pg-stop.sh <scratch-dir>
set -uo pipefail

dir=${1:?usage: pg-stop.sh <scratch-dir>}
[[ -d "$dir" ]] || exit 0
bindir=${PG_BINDIR:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}

if [[ -f "$dir/data/postmaster.pid" && -x "$bindir/pg_ctl" ]]; then
  # immediate: the data is disposable, so no checkpoint is needed.
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$bindir/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >/dev/null 2>&1
  else
    sudo -n -u postgres -- "$bindir/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >/dev/null 2>&1
  fi
fi
if [[ $(id -u) -eq 0 ]]; then rm -rf -- "$dir"; else sudo -n rm -rf -- "$dir"; fi
