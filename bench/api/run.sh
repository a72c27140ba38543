#!/usr/bin/env bash
# Signed DescribeUser and ListUsers load against 50,000 users: Gatehouse (SQLite, release build)
# and moto_server side by side, same load generator, same concurrency, throttling off for both.
#   bench/api/run.sh [USERS] [SECONDS] [CONCURRENCY]      (defaults 50000 15 16)
set -euo pipefail
cd "$(dirname "$0")/../.."
users=${1:-50000}; seconds=${2:-15}; conc=${3:-16}
cargo build --release --locked -q -p gatehouse -p gatehouse-bench-api
gh=target/release/gatehouse; load=target/release/bench-api-load
venv=.venv-bench
if [ ! -x "$venv/bin/moto_server" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r bench/api/requirements.txt
fi
work=$(mktemp -d /tmp/gatehouse-bench-api.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

echo "== loading $users users into Gatehouse (SQLite)"
init=$("$gh" --data-dir "$work/gh" -o json init)
key=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["AccessKeyId"])' <<<"$init")
secret=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["SecretAccessKey"])' <<<"$init")
store=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["IdentityStoreId"])' <<<"$init")
python3 - "$users" > "$work/users.jsonl" <<'PY'
import json, sys
for i in range(int(sys.argv[1])):
    print(json.dumps({"UserName": f"user{i:06}", "DisplayName": f"Bench User {i}",
                      "Name": {"GivenName": "Bench", "FamilyName": f"User{i}"},
                      "Emails": [{"Value": f"user{i:06}@example.com", "Type": "work", "Primary": True}]}))
PY
GATEHOUSE_MAX_USERS=$((users + 1)) GATEHOUSE_SQLITE_SYNCHRONOUS=normal "$gh" --data-dir "$work/gh" user import "$work/users.jsonl" | awk '{print $3}' > "$work/gh-ids"
ghport=$(port)
GATEHOUSE_MAX_USERS=$((users + 1)) GATEHOUSE_API_RATE_LIMIT=0 GATEHOUSE_LOG_LEVEL=warn "$gh" --data-dir "$work/gh" serve --listen "127.0.0.1:$ghport" > "$work/gh.log" 2>&1 &
pids+=($!)

echo "== loading $users users into moto_server"
motoport=$(port)
"$venv/bin/moto_server" -p "$motoport" > "$work/moto.log" 2>&1 &
pids+=($!)
sleep 2
motostore=$("$venv/bin/python" bench/api/load_moto.py "http://127.0.0.1:$motoport" "$users" "$work/moto-ids")

echo "== load: $conc connections, $seconds s per run"
results=()
for op in describe list; do
  g=$("$load" --endpoint "127.0.0.1:$ghport" --access-key "$key" --secret "$secret" --store-id "$store" --ids-file "$work/gh-ids" --op "$op" --duration "$seconds" --concurrency "$conc" --label gatehouse)
  m=$("$load" --endpoint "127.0.0.1:$motoport" --access-key AKIAMOTO --secret moto --store-id "$motostore" --ids-file "$work/moto-ids" --op "$op" --duration "$seconds" --concurrency "$conc" --label moto)
  echo "$g"; echo "$m"
  gr=$(awk '{print $3}' <<<"$g"); mr=$(awk '{print $3}' <<<"$m")
  results+=("$(printf '%-9s gatehouse/moto throughput = %.1fx (target >= 20x)' "$op" "$(python3 -c "print($gr/max($mr,1e-9))")")")
done
printf '%s\n' "${results[@]}"
