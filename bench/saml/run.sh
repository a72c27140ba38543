#!/usr/bin/env bash
# IdP-initiated SAML responses per second (8 browsers of one signed-in user opening an
# application tile, keep-alive) on SQLite, next to `openssl speed rsa2048` signs/s on every core
# measured in the same run; then SimpleSAMLphp as the IdP, the same way, when it is installed.
#   bench/saml/run.sh [SECONDS] [CONCURRENCY]      (defaults 20 8)
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-20}; conc=${2:-8}
cargo build --release --locked -q -p gatehouse -p gatehouse-bench-api
gh=$PWD/target/release/gatehouse
work=$(mktemp -d /tmp/gatehouse-bench-saml.XXXXXX)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
g() { "$gh" --data-dir "$work/data" "$@"; }
g init >/dev/null
password='Bench-Passw0rd!'
echo "$password" | g user set-password Administrator >/dev/null
app=$(g -o json app create --provider custom-saml --name "Bench SP" | python3 -c 'import json,sys; print(json.load(sys.stdin)["ApplicationId"])')
g app configure "$app" --acs-url https://sp.example.com/saml/acs --audience https://sp.example.com/saml/metadata >/dev/null
g app map "$app" --map Subject '${user:email}' emailAddress --map email '${user:email}' basic \
  --map name '${user:givenName} ${user:familyName}' basic --map groups '${user:groups}' unspecified >/dev/null
g app assign "$app" --user Administrator >/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
GATEHOUSE_LOG_LEVEL=warn "$gh" --data-dir "$work/data" serve --listen "127.0.0.1:$port" > "$work/server.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
target/release/bench-saml --endpoint "127.0.0.1:$port" --user Administrator --password "$password" --app "$app" \
  --seconds "$seconds" --concurrency "$conc"
kill "$pid" 2>/dev/null; pid=
# The peer, in the same run, when it is installed.
if command -v php >/dev/null && [ -d /usr/share/simplesamlphp/www ]; then
  bench/saml/simplesamlphp.sh "$seconds" "$conc"
else
  echo "SimpleSAMLphp not installed (apt-get install simplesamlphp php-cli php-xml php-mbstring): no peer figure"
fi
