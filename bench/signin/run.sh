#!/usr/bin/env bash
# Portal password sign-ins per second (8 browsers, keep-alive) on SQLite, next to the bare
# argon2id verification rate with the same parameters measured in the same run.
#   bench/signin/run.sh [SECONDS] [CONCURRENCY]      (defaults 20 8)
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-20}; conc=${2:-8}
cargo build --release --locked -q -p gatehouse -p gatehouse-bench-api
gh=$PWD/target/release/gatehouse
work=$(mktemp -d /tmp/gatehouse-bench-signin.XXXXXX)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
"$gh" --data-dir "$work/data" init >/dev/null
password='Bench-Passw0rd!'
echo "$password" | "$gh" --data-dir "$work/data" user set-password Administrator >/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
GATEHOUSE_LOG_LEVEL=warn "$gh" --data-dir "$work/data" serve --listen "127.0.0.1:$port" > "$work/server.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
target/release/bench-signin --endpoint "127.0.0.1:$port" --user Administrator --password "$password" --seconds "$seconds" --concurrency "$conc"
