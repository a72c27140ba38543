#!/usr/bin/env bash
# Fuzz one target for N seconds. Usage: fuzz/run.sh [seconds] [target]
# (default 30 s, target policy_parse: gatehouse_policy::Policy::parse and the
# evaluation of every document that parses; saml_response:
# gatehouse_saml::validate_response).
#
# Works on a stable toolchain: RUSTC_BOOTSTRAP=1 lets stable rustc accept the
# -Z sanitizer flags cargo-fuzz passes. Exits non-zero if a crash is found;
# the reproducer is written to fuzz/artifacts/<target>/.
#
# Environment:
#   FUZZ_TARGET_DIR  cargo target dir (default: fuzz/target)
#   FUZZ_CORPUS_DIR  working corpus (default: fuzz/corpus/<target>, git-ignored)
set -euo pipefail

seconds="${1:-30}"
target="${2:-policy_parse}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

corpus="${FUZZ_CORPUS_DIR:-$here/corpus/$target}"
target_dir="${FUZZ_TARGET_DIR:-$here/target}"
mkdir -p "$corpus"
# Seed the working corpus without overwriting what earlier runs found.
for seed in "seeds/$target"/*; do
    [ -e "$corpus/$(basename "$seed")" ] || cp "$seed" "$corpus/"
done

export RUSTC_BOOTSTRAP=1
# A SAML Response seed is 4 to 6 KB.
max_len=8192
[ "$target" = saml_response ] && max_len=16384
exec cargo fuzz run "$target" --target-dir "$target_dir" "$corpus" -- \
    -max_total_time="$seconds" -max_len="$max_len" -print_final_stats=1
