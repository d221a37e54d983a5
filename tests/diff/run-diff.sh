#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs the differential test: run-diff.sh DRIVER CASES [SEED]. Without a
# seed one is drawn at random and printed first, so any failure can be
# replayed with the same three arguments. Exits 77 (skip) when node or
# the npm packages are missing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
driver=$1
cases=${2:-10000}
seed=${3:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
if ! command -v node >/dev/null || [[ ! -d $here/node_modules/@cedar-policy/cedar-wasm ]]; then
  echo "cedar_diff: node or tests/diff/node_modules missing (run scripts/deps.sh)" >&2
  # In CI a missing install step must fail, never pass as a skip.
  [[ ${CI:-} == true ]] && exit 1
  exit 77
fi
echo "cedar_diff: seed $seed, $cases cases"
exec node --no-turbo-inline-js-wasm-calls --stack-size=4000 "$here/compare.js" \
  --driver "$driver" --cases "$cases" --seed "$seed"
