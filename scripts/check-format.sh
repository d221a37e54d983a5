#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Checks (or with --fix, applies) .clang-format on every C source we own.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files -co --exclude-standard -- '*.c' '*.h' | grep -v node_modules || true)
((${#files[@]})) || exit 0
if [[ ${1:-} == --fix ]]; then
  clang-format -i "${files[@]}"
  exit 0
fi
if ! clang-format --dry-run --Werror "${files[@]}" 2>/tmp/wd-format.$$; then
  grep -E '^[^ ].*: (error|warning)' /tmp/wd-format.$$ | cut -d: -f1 | sort -u | sed 's/^/not formatted: /'
  rm -f /tmp/wd-format.$$
  echo "run 'make format' to fix" >&2
  exit 1
fi
rm -f /tmp/wd-format.$$
echo "format: ${#files[@]} files follow .clang-format"
