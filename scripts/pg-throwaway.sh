#!/usr/bin/env bash
# Start a throwaway PostgreSQL cluster on 127.0.0.1 for tests and print its URL.
#   scripts/pg-throwaway.sh start DIR   -> prints postgres://… on stdout
#   scripts/pg-throwaway.sh stop DIR
# Runs the server as the `postgres` user when invoked as root (initdb refuses root).
# Tests run without fsync (faster, nothing to keep); PG_DURABLE=1 keeps PostgreSQL's durable
# defaults, for benchmarks.
set -euo pipefail
cmd=${1:?start|stop}
dir=${2:?directory}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$bin/initdb" ] || { echo "PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 1; }
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
case "$cmd" in
  start)
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    fast="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    [ "${PG_DURABLE:-0}" = 1 ] && fast=""
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    if ! as_pg "$bin/initdb" -D "$dir/data" -U gatehouse --auth=trust -E UTF8 >"$dir/initdb.log" 2>&1; then
      cat "$dir/initdb.log" >&2
      echo "initdb failed (is $dir reachable by the postgres user?)" >&2
      exit 1
    fi
    as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
      -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir -c max_connections=300 $fast" \
      start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
    echo "postgres://gatehouse@127.0.0.1:$port/postgres"
    ;;
  stop)
    as_pg "$bin/pg_ctl" -D "$dir/data" -m fast stop >/dev/null 2>&1 || true
    ;;
  *) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
