#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Fails if a library exports a symbol without a project prefix, so the
# engine can be linked into any program without clashing (cf. curl test1167).
set -euo pipefail
bad=$(nm -g --defined-only "$@" 2>/dev/null | awk 'NF==3 {print $3}' \
      | grep -vE '^(cedar_|cedar__|wd_|wd__)' | grep -vE '^__(odr_)?asan' || true)
if [[ -n $bad ]]; then
  echo "symbols without a project prefix:" >&2
  echo "$bad" >&2
  exit 1
fi
echo "symbols: every exported symbol has a project prefix"
