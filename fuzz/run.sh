#!/usr/bin/env bash
# Fuzz gatehouse_policy::Policy::parse (and evaluation of every document that
# parses) for N seconds. Usage: fuzz/run.sh [seconds]   (default 30)
#
# Works on a stable toolchain: RUSTC_BOOTSTRAP=1 lets stable rustc accept the
# -Z sanitizer flags cargo-fuzz passes. Exits non-zero if a crash is found;
# the reproducer is written to fuzz/artifacts/policy_parse/.
#
# Environment:
#   FUZZ_TARGET_DIR  cargo target dir (default: fuzz/target)
#   FUZZ_CORPUS_DIR  working corpus (default: fuzz/corpus/policy_parse, git-ignored)
set -euo pipefail

seconds="${1:-30}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

corpus="${FUZZ_CORPUS_DIR:-$here/corpus/policy_parse}"
target_dir="${FUZZ_TARGET_DIR:-$here/target}"
mkdir -p "$corpus"
# Seed the working corpus without overwriting what earlier runs found.
for seed in seeds/policy_parse/*; do
    [ -e "$corpus/$(basename "$seed")" ] || cp "$seed" "$corpus/"
done

export RUSTC_BOOTSTRAP=1
exec cargo fuzz run policy_parse --target-dir "$target_dir" "$corpus" -- \
    -max_total_time="$seconds" -max_len=8192 -print_final_stats=1
