#!/usr/bin/env bash
# Provisioning throughput: 100 accounts x 5 permission sets = 500 account assignments through
# boto3's sso-admin client (CreateAccountAssignment, at most 10 outstanding as the guide allows),
# every one provisioned into moto_server's IAM; then the same IAM and STS calls made straight
# from boto3 with 10 threads, the limit moto itself sets, in the same run; prints the ratio.
#   bench/provision/run.sh [ACCOUNTS] [PERMISSION_SETS] [WORKERS]     (defaults 100 5 8)
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -x .venv/bin/moto_server ] || { echo "needs the test venv: python3 -m venv .venv && .venv/bin/pip install -r tests/py/requirements.txt" >&2; exit 1; }
cargo build --release --locked -q -p gatehouse
exec .venv/bin/python bench/provision/bench.py --gatehouse target/release/gatehouse \
  --accounts "${1:-100}" --permission-sets "${2:-5}" --workers "${3:-8}"
