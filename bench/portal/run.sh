#!/usr/bin/env bash
# The portal API the AWS CLI calls: one person in 100 groups reaching 500 accounts through 500
# permission sets (provisioned into moto_server), signed in with the device flow; then
# ListAccounts and ListAccountRoles p50/p99 against the 5 ms target, and GetRoleCredentials per
# second in the management account. SQLite, release build.
#   bench/portal/run.sh [SECONDS] [CONCURRENCY]      (defaults 10 4)
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -x .venv/bin/moto_server ] || { echo "needs the test venv: python3 -m venv .venv && .venv/bin/pip install -r tests/py/requirements.txt" >&2; exit 1; }
cargo build --release --locked -q -p gatehouse -p gatehouse-bench-api
exec .venv/bin/python bench/portal/setup.py --gatehouse target/release/gatehouse --load target/release/bench-portal \
  --seconds "${1:-10}" --concurrency "${2:-4}"
