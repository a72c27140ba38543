#!/usr/bin/env bash
# SCIM provisioning as identity providers do it: USERS users, GROUPS groups and their memberships,
# pushed by CONCURRENCY clients, into Gatehouse on SQLite and on PostgreSQL (release build), and
# into scim2-server (PyPI) driven by the same load generator in the same run.
#   bench/scim/run.sh [USERS] [GROUPS] [CONCURRENCY]      (defaults 50000 10000 8)
set -euo pipefail
cd "$(dirname "$0")/../.."
users=${1:-50000}; groups=${2:-10000}; conc=${3:-8}
cargo build --release --locked -q -p gatehouse -p gatehouse-bench-api
gh=$PWD/target/release/gatehouse; load=$PWD/target/release/bench-scim-load
venv=.venv-bench
if [ ! -x "$venv/bin/scim2-server" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r bench/api/requirements.txt
fi
work=$(mktemp -d /tmp/gatehouse-bench-scim.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  if [ -n "${pgdir:-}" ]; then scripts/pg-throwaway.sh stop "$pgdir" >/dev/null 2>&1 || true; rm -rf "$pgdir"; fi
  rm -rf "$work"
}
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 1 300); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; echo "nothing listens on $1" >&2; exit 1; }
results=()

# Gatehouse: a fresh instance, provisioning enabled, its token, the server, the load.
gatehouse() {
  local label=$1; shift
  local dir="$work/$label"
  "$gh" --data-dir "$dir" "$@" init >/dev/null
  local token
  token=$("$gh" --data-dir "$dir" "$@" -o json scim enable | python3 -c 'import json,sys; print(json.load(sys.stdin)["AccessToken"])')
  local p; p=$(port)
  GATEHOUSE_MAX_USERS=$((users + 10)) GATEHOUSE_MAX_GROUPS=$((groups + 10)) GATEHOUSE_LOG_LEVEL=warn \
    "$gh" --data-dir "$dir" "$@" serve --listen "127.0.0.1:$p" > "$dir.log" 2>&1 &
  pids+=($!)
  wait_port "$p"
  "$load" --endpoint "127.0.0.1:$p" --token "$token" --users "$users" --groups "$groups" --concurrency "$conc" --label "$label" | tee "$work/$label.out"
  kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
}

echo "== Gatehouse, SQLite (synchronous=full)"
gatehouse gh-sqlite
echo "== Gatehouse, PostgreSQL (durable defaults)"
pgdir=$(mktemp -d /tmp/gatehouse-bench-scim-pg.XXXXXX)   # outside $work: the postgres user must reach it
pgurl=$(PG_DURABLE=1 scripts/pg-throwaway.sh start "$pgdir")
gatehouse gh-postgres --database-url "$pgurl"
echo "== scim2-server (in memory)"
p=$(port)
"$venv/bin/scim2-server" --port "$p" --bearer-token bench > "$work/peer.log" 2>&1 &
pids+=($!)
wait_port "$p"
"$load" --endpoint "127.0.0.1:$p" --base "" --token bench --users "$users" --groups "$groups" --concurrency "$conc" --label scim2 | tee "$work/peer.out"

rate() { awk -v op="$2" '$2==op {print $3}' "$work/$1.out"; }
for op in users groups; do
  for gh_label in gh-sqlite gh-postgres; do
    printf '%-6s %-11s %8.0f creates/s vs scim2-server %6.0f/s = %5.1fx  (targets: >= 2000/s on SQLite, >= 10x)\n' \
      "$op" "$gh_label" "$(rate "$gh_label" "$op")" "$(rate peer "$op")" \
      "$(python3 -c "print($(rate "$gh_label" "$op")/max($(rate peer "$op"),1e-9))")"
  done
done
