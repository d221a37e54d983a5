#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs the differential test of the validator: run-diff-val.sh DRIVER CASES
# [SEED]. Like run-diff.sh: without a seed one is drawn and printed first;
# exits 77 (skip) when node or the npm packages are missing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
driver=$1
cases=${2:-2000}
seed=${3:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
if ! command -v node >/dev/null || [[ ! -d $here/node_modules/@cedar-policy/cedar-wasm ]]; then
  echo "cedar_diff_validate: node or tests/diff/node_modules missing (run scripts/deps.sh)" >&2
  [[ ${CI:-} == true ]] && exit 1
  exit 77
fi
echo "cedar_diff_validate: seed $seed, $cases cases"
exec node --no-turbo-inline-js-wasm-calls --stack-size=4000 "$here/compare_val.js" \
  --driver "$driver" --cases "$cases" --seed "$seed"
