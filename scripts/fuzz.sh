#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs every libFuzzer target for a fixed time, starting from its committed
# seeds; new inputs go to a scratch corpus, crashers to fuzz-out/.
set -euo pipefail
build=${1:-build-fuzz}
secs=${2:-60}
cd "$(dirname "$0")/.."
mkdir -p fuzz-out
status=0
for bin in "$build"/fuzz/fuzz_*; do
  [[ -x $bin ]] || continue
  name=$(basename "$bin")
  work=fuzz-out/$name.corpus
  mkdir -p "$work"
  echo "fuzz: $name for ${secs}s"
  dict=()
  case $name in
    fuzz_cedar_parse | fuzz_roundtrip | fuzz_eval) dict=(-dict=tests/fuzz/cedar.dict) ;;
  esac
  [[ -f tests/fuzz/$name.dict ]] && dict=(-dict="tests/fuzz/$name.dict")
  if ! "$bin" "${dict[@]}" -max_total_time="$secs" -artifact_prefix="fuzz-out/$name-" \
       -print_final_stats=1 "$work" "tests/fuzz/corpus/$name" >"fuzz-out/$name.log" 2>&1; then
    echo "fuzz: $name FAILED; see fuzz-out/$name.log" >&2
    status=1
  fi
  grep -E 'stat::number_of_executed_units|Done' "fuzz-out/$name.log" | tail -1 || true
done
exit $status
