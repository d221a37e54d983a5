/* SPDX-License-Identifier: Apache-2.0
 *
 * Fuzz target for the formatter: whatever Cedar text parses must format
 * to text that parses back to equal policies (cedar__policy_equal), and
 * formatting must be idempotent, for single policies and for whole files
 * with comments (cedar_format_source). Any mismatch traps.
 */
#include <stdint.h>
#include <string.h>

#include "cedar/cedar_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *format_all(cedar__policy **ps, uint32_t n) {
  wd_buf b;
  wd_buf_init(&b, WD_LIMIT_BUF_DEFAULT);
  int rc = 0;
  for (uint32_t i = 0; i < n && rc == 0; i++) {
    if (i > 0) rc = wd_buf_adds(&b, "\n\n");
    if (rc == 0) rc = cedar__format_policy(&b, ps[i]);
  }
  return rc == 0 ? wd_buf_take(&b) : NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 16384) return 0;
  const char *src = (const char *)data;
  wd_arena *a = wd_arena_new(64u << 20);
  if (!a) return 0;
  cedar__policy **p1 = NULL, **p2 = NULL;
  uint32_t n1 = 0, n2 = 0;
  char *f1 = NULL, *f2 = NULL, *s1 = NULL, *s2 = NULL;
  if (cedar__parse_policies(a, src, size, 0, &p1, &n1, NULL) != 0) goto out;
  f1 = format_all(p1, n1);
  if (!f1) __builtin_trap();
  if (cedar__parse_policies(a, f1, strlen(f1), 0, &p2, &n2, NULL) != 0 || n2 != n1)
    __builtin_trap();
  for (uint32_t i = 0; i < n1; i++)
    if (!cedar__policy_equal(p1[i], p2[i])) __builtin_trap();
  f2 = format_all(p2, n2);
  if (!f2 || strcmp(f1, f2) != 0) __builtin_trap();

  /* Comments may hold NUL bytes, which C-string output cannot carry. */
  if (memchr(src, '\0', size)) goto out;
  if (cedar_format_source(src, size, &s1, NULL) != 0) __builtin_trap();
  if (cedar_format_source(s1, strlen(s1), &s2, NULL) != 0 || strcmp(s1, s2) != 0) __builtin_trap();
out:
  cedar_free(f1);
  cedar_free(f2);
  cedar_free(s1);
  cedar_free(s2);
  wd_arena_free(a);
  return 0;
}
