#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Rejects calls the house style bans in library and server code: unbounded
# string functions, atoi, and raw allocation outside the allocator wrapper
# (everything must go through wd_malloc so tests can inject failures).
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
banned='\b(sprintf|vsprintf|strcpy|strcat|strncpy|strtok|atoi|atol|gets)\s*\('
if grep -rnP "$banned" --include='*.[ch]' src include; then
  echo "checksrc: banned call (use snprintf, wd_buf, strtol with checks)" >&2
  status=1
fi
if grep -rnP '(?<![\w.>])(malloc|calloc|realloc|free|strdup|strndup)\s*\(' --include='*.[ch]' src include \
   | grep -v '^src/util/wd_alloc.c:'; then
  echo "checksrc: raw allocation outside src/util/wd_alloc.c (use wd_malloc/wd_free)" >&2
  status=1
fi
[[ $status -eq 0 ]] && echo "checksrc: clean"
exit $status
