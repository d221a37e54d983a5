/* SPDX-License-Identifier: Apache-2.0
 *
 * The duration half of the datetime extension: duration("1d2h3m4s5ms")
 * and the toMilliseconds..toDays methods. A duration is an i64 count of
 * milliseconds. The text is an optional `-` and then, in this order and
 * each at most once, ASCII-digit quantities with units d, h, m, s, ms;
 * at least one is required. Any overflow of i64 is an error.
 */
#include <stdio.h>
#include <string.h>

#include "ext_int.h"

static const struct {
  const char *unit;
  int64_t ms;
} UNITS[] = {{"d", 86400000}, {"h", 3600000}, {"m", 60000}, {"s", 1000}, {"ms", 1}};
#define NUNITS (sizeof UNITS / sizeof UNITS[0])

static int bad_pattern(char *err) {
  snprintf(err, CEDAR_DIAG_MSG, "invalid duration pattern");
  return -WD_E_EVAL;
}

static int overflow(char *err) {
  snprintf(err, CEDAR_DIAG_MSG, "Duration overflows internal representation");
  return -WD_E_EVAL;
}

int cedar__duration_parse(cedar__str s, int64_t *out_ms, char *err) {
  const char *p = s.p;
  uint32_t n = s.n, i = 0;
  int neg = n > 0 && p[0] == '-';
  i = (uint32_t)neg;
  if (i == n) return bad_pattern(err);
  /* Syntax first, over the whole string, so a malformed tail is reported
   * as such even when an earlier quantity is huge. */
  uint32_t qs[NUNITS], qe[NUNITS];
  int have[NUNITS] = {0};
  size_t next = 0;
  while (i < n) {
    uint32_t start = i;
    while (i < n && p[i] >= '0' && p[i] <= '9')
      i++;
    if (i == start) return bad_pattern(err);
    size_t u = next;
    while (u < NUNITS) {
      size_t ul = strlen(UNITS[u].unit);
      /* "m" must not swallow the "m" of "ms". */
      int is_m_of_ms = ul == 1 && UNITS[u].unit[0] == 'm' && i + 1 < n && p[i + 1] == 's';
      if (n - i >= ul && memcmp(p + i, UNITS[u].unit, ul) == 0 && !is_m_of_ms) break;
      u++;
    }
    if (u == NUNITS) return bad_pattern(err);
    qs[u] = start;
    qe[u] = i;
    have[u] = 1;
    i += (uint32_t)strlen(UNITS[u].unit);
    next = u + 1;
  }
  /* Then the value, accumulated toward the sign so that the most
   * negative duration is representable. */
  int64_t total = 0;
  for (size_t u = NUNITS; u-- > 0;) {
    if (!have[u]) continue;
    uint64_t q = 0;
    for (uint32_t k = qs[u]; k < qe[u]; k++) {
      uint64_t d = (uint64_t)(p[k] - '0');
      if (q > (UINT64_MAX - d) / 10) return overflow(err);
      q = q * 10 + d;
    }
    int64_t term;
    if (neg && UNITS[u].ms == 1 && q == (uint64_t)INT64_MAX + 1) {
      term = INT64_MIN;
    } else {
      if (q > (uint64_t)INT64_MAX) return overflow(err);
      if (__builtin_mul_overflow((int64_t)q, UNITS[u].ms, &term)) return overflow(err);
      if (neg) term = -term;
    }
    if (__builtin_add_overflow(total, term, &total)) return overflow(err);
  }
  *out_ms = total;
  return 0;
}

int cedar__duration_print(wd_buf *b, int64_t ms) { return wd_buf_addf(b, "%lldms", (long long)ms); }

int cedar__ext_DURATION(cedar__evalctx *cx, const cedar__val *args, cedar__val *out) {
  int rc = cedar__ext_want(cx, &args[0], CEDAR__V_STRING, "string");
  if (rc) return rc;
  char err[CEDAR_DIAG_MSG];
  if (cedar__duration_parse(args[0].u.s, &out->u.i, err))
    return cedar__eval_fail(cx, "error while evaluating `duration` extension function: %s", err);
  out->kind = CEDAR__V_DURATION;
  return 0;
}

/* The reference divides step by step (ms, then s, then min...), each
 * truncating toward zero; C's `/` truncates the same way. */
static int to_unit(cedar__evalctx *cx, const cedar__val *args, cedar__val *out, int steps) {
  static const int64_t div[] = {1000, 60, 60, 24};
  int rc = cedar__ext_want(cx, &args[0], CEDAR__V_DURATION, "duration");
  if (rc) return rc;
  int64_t v = args[0].u.i;
  for (int k = 0; k < steps; k++)
    v /= div[k];
  out->kind = CEDAR__V_LONG;
  out->u.i = v;
  return 0;
}

int cedar__ext_TO_MILLISECONDS(cedar__evalctx *cx, const cedar__val *args, cedar__val *out) {
  return to_unit(cx, args, out, 0);
}

int cedar__ext_TO_SECONDS(cedar__evalctx *cx, const cedar__val *args, cedar__val *out) {
  return to_unit(cx, args, out, 1);
}

int cedar__ext_TO_MINUTES(cedar__evalctx *cx, const cedar__val *args, cedar__val *out) {
  return to_unit(cx, args, out, 2);
}

int cedar__ext_TO_HOURS(cedar__evalctx *cx, const cedar__val *args, cedar__val *out) {
  return to_unit(cx, args, out, 3);
}

int cedar__ext_TO_DAYS(cedar__evalctx *cx, const cedar__val *args, cedar__val *out) {
  return to_unit(cx, args, out, 4);
}
