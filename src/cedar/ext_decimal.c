/* SPDX-License-Identifier: Apache-2.0
 *
 * The decimal extension: decimal("12.34") and its comparison methods.
 * A decimal is an i64 holding value * 10^4, so it has at most four
 * fraction digits and the range -922337203685477.5808 to
 * 922337203685477.5807. The text must be `-?D+.D+` with ASCII digits;
 * there is no `+`, exponent or whitespace. Decimals have no operators:
 * `<` on them is a type error, handled by the evaluator.
 */
#include <stdio.h>

#include "ext_int.h"

#define DEC_DIGITS 4
#define DEC_SCALE  10000

static int is_digit(char c) { return c >= '0' && c <= '9'; }

int cedar__decimal_parse(cedar__str s, int64_t *out, char *err) {
  const char *p = s.p;
  uint32_t n = s.n, i = 0;
  int neg = n > 0 && p[0] == '-';
  i = (uint32_t)neg;
  uint32_t int_start = i;
  while (i < n && is_digit(p[i]))
    i++;
  uint32_t int_end = i;
  uint32_t frac_start = i + 1;
  uint32_t j = frac_start;
  while (j < n && is_digit(p[j]))
    j++;
  if (int_end == int_start || int_end >= n || p[int_end] != '.' || j == frac_start || j != n) {
    /* Bytes of a non-ASCII digit would match the reference's Unicode \d
     * and then fail its integer parse: an overflow there, an error here
     * either way. */
    snprintf(err, CEDAR_DIAG_MSG, "`%.*s` is not a well-formed decimal value",
             (int)(n > 100 ? 100 : n), p);
    return -WD_E_EVAL;
  }
  /* Integer part first, as the reference: an overflow there wins over a
   * fraction that is too long. Leading zeros are harmless. */
  int64_t v = 0;
  for (uint32_t k = int_start; k < int_end; k++) {
    if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, p[k] - '0', &v))
      goto overflow;
  }
  if (__builtin_mul_overflow(v, (int64_t)DEC_SCALE, &v)) goto overflow;
  if (n - frac_start > DEC_DIGITS) {
    snprintf(err, CEDAR_DIAG_MSG, "too many digits after the decimal in `%.*s`",
             (int)(n > 100 ? 100 : n), p);
    return -WD_E_EVAL;
  }
  int64_t f = 0;
  for (uint32_t k = frac_start; k < n; k++)
    f = f * 10 + (p[k] - '0');
  for (uint32_t k = n - frac_start; k < DEC_DIGITS; k++)
    f *= 10;
  /* Built as a negative number when negative so that the most negative
   * value does not overflow on the way. */
  if (neg ? __builtin_sub_overflow(-v, f, &v) : __builtin_add_overflow(v, f, &v)) goto overflow;
  *out = v;
  return 0;
overflow:
  snprintf(err, CEDAR_DIAG_MSG, "overflow when converting to decimal");
  return -WD_E_EVAL;
}

int cedar__decimal_print(wd_buf *b, int64_t v) {
  uint64_t a = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
  return wd_buf_addf(b, "%s%llu.%04llu", v < 0 ? "-" : "", (unsigned long long)(a / DEC_SCALE),
                     (unsigned long long)(a % DEC_SCALE));
}

int cedar__ext_DECIMAL(cedar__evalctx *cx, const cedar__val *args, cedar__val *out) {
  int rc = cedar__ext_want(cx, &args[0], CEDAR__V_STRING, "string");
  if (rc) return rc;
  char err[CEDAR_DIAG_MSG];
  if (cedar__decimal_parse(args[0].u.s, &out->u.i, err))
    return cedar__eval_fail(cx, "error while evaluating `decimal` extension function: %s", err);
  out->kind = CEDAR__V_DECIMAL;
  return 0;
}

/* Checks both operands and returns their order in *c. */
static int dec_order(cedar__evalctx *cx, const cedar__val *args, int *c) {
  int rc = cedar__ext_want(cx, &args[0], CEDAR__V_DECIMAL, "decimal");
  if (rc) return rc;
  rc = cedar__ext_want(cx, &args[1], CEDAR__V_DECIMAL, "decimal");
  if (rc) return rc;
  *c = args[0].u.i < args[1].u.i ? -1 : args[0].u.i > args[1].u.i;
  return 0;
}

int cedar__ext_LESS_THAN(cedar__evalctx *cx, const cedar__val *args, cedar__val *out) {
  int c = 0, rc = dec_order(cx, args, &c);
  if (rc) return rc;
  out->kind = CEDAR__V_BOOL;
  out->u.b = c < 0;
  return 0;
}

int cedar__ext_LESS_THAN_OR_EQUAL(cedar__evalctx *cx, const cedar__val *args, cedar__val *out) {
  int c = 0, rc = dec_order(cx, args, &c);
  if (rc) return rc;
  out->kind = CEDAR__V_BOOL;
  out->u.b = c <= 0;
  return 0;
}

int cedar__ext_GREATER_THAN(cedar__evalctx *cx, const cedar__val *args, cedar__val *out) {
  int c = 0, rc = dec_order(cx, args, &c);
  if (rc) return rc;
  out->kind = CEDAR__V_BOOL;
  out->u.b = c > 0;
  return 0;
}

int cedar__ext_GREATER_THAN_OR_EQUAL(cedar__evalctx *cx, const cedar__val *args, cedar__val *out) {
  int c = 0, rc = dec_order(cx, args, &c);
  if (rc) return rc;
  out->kind = CEDAR__V_BOOL;
  out->u.b = c >= 0;
  return 0;
}
