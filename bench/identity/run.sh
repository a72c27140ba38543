#!/usr/bin/env bash
# Identity-store benchmark on SQLite and PostgreSQL (release build).
#   bench/identity/run.sh [extra bench-identity flags, e.g. --users 5000 --groups 1000 --memberships 20000]
# PostgreSQL: GATEHOUSE_BENCH_DATABASE_URL (an empty database) or a throwaway cluster started here.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release --locked -q -p gatehouse-bench-identity
bin=target/release/bench-identity
work=$(mktemp -d /tmp/gatehouse-bench.XXXXXX)
cleanup() { if [ -n "${pgdir:-}" ]; then scripts/pg-throwaway.sh stop "$pgdir"; rm -rf "$pgdir"; fi; rm -rf "$work"; }
trap cleanup EXIT

echo "== SQLite (synchronous=full, the default)"
"$bin" --database-url "sqlite://$work/full.db?mode=rwc" --sqlite-synchronous full "$@"
echo
echo "== SQLite (synchronous=normal)"
"$bin" --database-url "sqlite://$work/normal.db?mode=rwc" --sqlite-synchronous normal "$@"
echo
url=${GATEHOUSE_BENCH_DATABASE_URL:-}
if [ -z "$url" ]; then
  pgdir=$(mktemp -d /tmp/gatehouse-bench-pg.XXXXXX)   # outside $work: the postgres user must reach it
  url=$(PG_DURABLE=1 scripts/pg-throwaway.sh start "$pgdir")   # durable commits, as in production
  psql -q "$url" -c "CREATE DATABASE bench" >/dev/null
  url="${url%/postgres}/bench"
fi
echo "== PostgreSQL"
"$bin" --database-url "$url" "$@"
