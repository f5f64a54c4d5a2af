#!/usr/bin/env bash
# Starts or stops a throwaway PostgreSQL cluster for tests and development, using the server binaries Debian's
# postgresql package puts under /usr/lib/postgresql/<version>/bin.
#   scripts/postgres.sh start [DIR] [PORT]   prints the DATABASE_URL on its last line (also when already running)
#   scripts/postgres.sh stop  [DIR]
# As root, the server runs as the postgres user (initdb refuses root). Tuned for tests, not for keeping data:
# fsync is off, and there are connections enough for parallel test files that each open a few databases.
set -euo pipefail
cmd=${1:?usage: postgres.sh start|stop [DIR] [PORT]}
dir=${2:-/tmp/connector-pg}
port=${3:-55432}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [[ -z "$bin" || ! -x "$bin/pg_ctl" ]]; then
  echo "PostgreSQL server binaries not found (install Debian's postgresql package)" >&2
  exit 3
fi
as_pg() {
  if [[ $(id -u) == 0 ]]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi
}
case "$cmd" in
  start)
    if [[ ! -f "$dir/PG_VERSION" ]]; then
      mkdir -p "$dir"
      [[ $(id -u) == 0 ]] && chown postgres: "$dir"
      as_pg "'$bin/initdb' -D '$dir' -A trust -U postgres >/dev/null"
    fi
    if as_pg "'$bin/pg_ctl' -D '$dir' status >/dev/null 2>&1"; then
      # Already running (from an earlier start): report the port it really listens on.
      port=$(sed -n 4p "$dir/postmaster.pid")
    else
      as_pg "'$bin/pg_ctl' -D '$dir' -l '$dir/server.log' -w -o \"-p $port -k '$dir' -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300\" start >/dev/null" || {
        echo "PostgreSQL did not start; the end of $dir/server.log:" >&2
        tail -n 5 "$dir/server.log" >&2 || true
        exit 1
      }
    fi
    echo "postgresql://postgres@127.0.0.1:$port/postgres"
    ;;
  stop)
    as_pg "'$bin/pg_ctl' -D '$dir' -m fast -w stop >/dev/null" || true
    ;;
  *) echo "unknown command $cmd" >&2; exit 2 ;;
esac
