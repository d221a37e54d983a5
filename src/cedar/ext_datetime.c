/* SPDX-License-Identifier: Apache-2.0
 *
 * The datetime half of the datetime extension: datetime("...") and the
 * methods offset, durationSince, toDate and toTime. A datetime is an i64
 * count of milliseconds since 1970-01-01T00:00:00Z, leap seconds ignored.
 * Accepted text, exactly as the reference: "YYYY-MM-DD", optionally
 * followed by "Thh:mm:ss", an optional ".SSS", then "Z" or "+hhmm"/"-hhmm"
 * (offset below 24h, minutes below 60). Durations live in ext_duration.c.
 */
#include <stdio.h>
#include <string.h>

#include "ext_int.h"

#define MS_PER_DAY INT64_C(86400000)

static int digits(const char *p, uint32_t n, uint32_t *v) {
  uint32_t r = 0;
  for (uint32_t i = 0; i < n; i++) {
    if (p[i] < '0' || p[i] > '9') return -1;
    r = r * 10 + (uint32_t)(p[i] - '0');
  }
  *v = r;
  return 0;
}

static int is_leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static uint32_t month_days(int64_t y, uint32_t m) {
  static const uint8_t d[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29u : d[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date (after H. Hinnant's
 * days_from_civil); valid for any year an i64 day count can hold. */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int64_t *m, int64_t *d) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = yoe + era * 400 + (*m <= 2);
}

static int fail(char *err, const char *msg) {
  snprintf(err, CEDAR_DIAG_MSG, "%s", msg);
  return -WD_E_EVAL;
}

int cedar__datetime_parse(cedar__str s, int64_t *out_ms, char *err) {
  const char *p = s.p;
  uint32_t n = s.n;
  uint32_t y, mo, d, h = 0, mi = 0, sec = 0, ms = 0, oh = 0, om = 0;
  int oneg = 0;
  /* Syntax first and then meaning, each left to right, so the first
   * problem reported is the reference's. */
  if (n < 10 || digits(p, 4, &y) || p[4] != '-' || digits(p + 5, 2, &mo) || p[7] != '-' ||
      digits(p + 8, 2, &d))
    return fail(err, "invalid date pattern");
  int date_ok = mo >= 1 && mo <= 12 && d >= 1 && d <= month_days(y, mo);
  if (n > 10) {
    const char *t = p + 10;
    if (n < 19 || t[0] != 'T' || digits(t + 1, 2, &h) || t[3] != ':' || digits(t + 4, 2, &mi) ||
        t[6] != ':' || digits(t + 7, 2, &sec))
      return fail(err, "invalid hour/minute/second pattern");
    const char *r = p + 19;
    uint32_t rn = n - 19;
    if (rn >= 4 && r[0] == '.' && digits(r + 1, 3, &ms) == 0) {
      r += 4;
      rn -= 4;
    }
    if (rn == 1 && r[0] == 'Z') {
      /* UTC */
    } else if (rn == 5 && (r[0] == '+' || r[0] == '-') && digits(r + 1, 2, &oh) == 0 &&
               digits(r + 3, 2, &om) == 0) {
      oneg = r[0] == '-';
    } else {
      return fail(err, "invalid millisecond and/or offset pattern");
    }
  }
  if (!date_ok) {
    snprintf(err, CEDAR_DIAG_MSG, "invalid date: %.10s", p);
    return -WD_E_EVAL;
  }
  if (h >= 24 || mi >= 60 || sec >= 60) {
    snprintf(err, CEDAR_DIAG_MSG, "invalid hour/minute/second: %.8s", p + 11);
    return -WD_E_EVAL;
  }
  if (oh >= 24 || om >= 60) {
    snprintf(err, CEDAR_DIAG_MSG, "invalid offset range: %u%u", oh, om);
    return -WD_E_EVAL;
  }
  int64_t off_s = (int64_t)oh * 3600 + (int64_t)om * 60;
  int64_t t = days_from_civil(y, mo, d) * MS_PER_DAY +
              ((int64_t)h * 3600 + (int64_t)mi * 60 + (int64_t)sec) * 1000 + ms;
  /* "+0100" is one hour ahead of UTC, so UTC is one hour earlier. */
  *out_ms = t - (oneg ? -off_s : off_s) * 1000;
  return 0;
}

/* Floor division and its remainder (0 <= r < MS_PER_DAY). */
static void split_day(int64_t ms, int64_t *day, int64_t *rem) {
  *day = ms / MS_PER_DAY;
  *rem = ms % MS_PER_DAY;
  if (*rem < 0) {
    *rem += MS_PER_DAY;
    *day -= 1;
  }
}

int cedar__datetime_print(wd_buf *b, int64_t ms) {
  int64_t day, rem, y, mo, d;
  split_day(ms, &day, &rem);
  civil_from_days(day, &y, &mo, &d);
  int rc;
  /* The shortest text datetime() reads back. Years outside 0000-9999
   * (reachable only through offset) get an explicit sign and more digits,
   * which no parser accepts but a reader understands. */
  if (y >= 0 && y <= 9999)
    rc = wd_buf_addf(b, "%04lld-%02lld-%02lld", (long long)y, (long long)mo, (long long)d);
  else
    rc = wd_buf_addf(b, "%+05lld-%02lld-%02lld", (long long)y, (long long)mo, (long long)d);
  if (rc || rem == 0) return rc;
  int64_t sec = rem / 1000, milli = rem % 1000;
  rc = wd_buf_addf(b, "T%02lld:%02lld:%02lld", (long long)(sec / 3600), (long long)(sec / 60 % 60),
                   (long long)(sec % 60));
  if (rc == 0 && milli) rc = wd_buf_addf(b, ".%03lld", (long long)milli);
  if (rc == 0) rc = wd_buf_addc(b, 'Z');
  return rc;
}

int cedar__ext_DATETIME(cedar__evalctx *cx, const cedar__val *args, cedar__val *out) {
  int rc = cedar__ext_want(cx, &args[0], CEDAR__V_STRING, "string");
  if (rc) return rc;
  char err[CEDAR_DIAG_MSG];
  if (cedar__datetime_parse(args[0].u.s, &out->u.i, err))
    return cedar__eval_fail(cx, "error while evaluating `datetime` extension function: %s", err);
  out->kind = CEDAR__V_DATETIME;
  return 0;
}

/* The reference names a datetime in messages by its canonical form. */
#define DT_FMT "datetime(\"1970-01-01\").offset(duration(\"%lldms\"))"

int cedar__ext_OFFSET(cedar__evalctx *cx, const cedar__val *args, cedar__val *out) {
  int rc = cedar__ext_want(cx, &args[0], CEDAR__V_DATETIME, "datetime");
  if (rc) return rc;
  rc = cedar__ext_want(cx, &args[1], CEDAR__V_DURATION, "duration");
  if (rc) return rc;
  if (__builtin_add_overflow(args[0].u.i, args[1].u.i, &out->u.i))
    return cedar__eval_fail(cx,
                            "error while evaluating `offset` extension function: overflows when "
                            "adding an offset: " DT_FMT "+(%lldms)",
                            (long long)args[0].u.i, (long long)args[1].u.i);
  out->kind = CEDAR__V_DATETIME;
  return 0;
}

int cedar__ext_DURATION_SINCE(cedar__evalctx *cx, const cedar__val *args, cedar__val *out) {
  int rc = cedar__ext_want(cx, &args[0], CEDAR__V_DATETIME, "datetime");
  if (rc) return rc;
  rc = cedar__ext_want(cx, &args[1], CEDAR__V_DATETIME, "datetime");
  if (rc) return rc;
  if (__builtin_sub_overflow(args[0].u.i, args[1].u.i, &out->u.i))
    return cedar__eval_fail(cx,
                            "error while evaluating `durationSince` extension function: overflows "
                            "when computing the duration between " DT_FMT " and " DT_FMT,
                            (long long)args[0].u.i, (long long)args[1].u.i);
  out->kind = CEDAR__V_DURATION;
  return 0;
}

int cedar__ext_TO_DATE(cedar__evalctx *cx, const cedar__val *args, cedar__val *out) {
  int rc = cedar__ext_want(cx, &args[0], CEDAR__V_DATETIME, "datetime");
  if (rc) return rc;
  int64_t v = args[0].u.i, rem = v % MS_PER_DAY;
  if (rem < 0) rem += MS_PER_DAY;
  /* Only the first day of i64 has no midnight of its own to round to. */
  if (__builtin_sub_overflow(v, rem, &out->u.i))
    return cedar__eval_fail(cx,
                            "error while evaluating `toDate` extension function: overflows when "
                            "computing the date of " DT_FMT,
                            (long long)v);
  out->kind = CEDAR__V_DATETIME;
  return 0;
}

int cedar__ext_TO_TIME(cedar__evalctx *cx, const cedar__val *args, cedar__val *out) {
  int rc = cedar__ext_want(cx, &args[0], CEDAR__V_DATETIME, "datetime");
  if (rc) return rc;
  int64_t rem = args[0].u.i % MS_PER_DAY;
  out->kind = CEDAR__V_DURATION;
  out->u.i = rem < 0 ? rem + MS_PER_DAY : rem;
  return 0;
}
