#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The long differential runs behind `make fuzz` (authorization, then the
# validator): run-long.sh BUILD [CASES] [SEED]. Uses a fresh random seed
# unless one is given; the seed is printed so a failure can be replayed (see
# tests/diff/README.md).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
cases=${2:-200000}
driver=$build/tests/cedar_diff_driver
if [[ ! -x $driver ]]; then
  cmake --build "$build" --target cedar_diff_driver >/dev/null
fi
# The validator gets a tenth as many cases: its case space is smaller.
status=0
"$here/run-diff.sh" "$driver" "$cases" ${3:+"$3"} || status=1
"$here/run-diff-val.sh" "$driver" $((cases / 10)) ${3:+"$3"} || status=1
exit $status
