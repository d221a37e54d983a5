/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for datetime values: the accepted formats and their error
 * messages (rows checked against cedar-wasm 4.13), the print, and the
 * methods offset, durationSince, toDate and toTime with their overflow
 * errors at the ends of i64.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "cedar/cedar_int.h"
#include "cedar/ext_int.h"
#include "test_util.h"

static cedar__str S(const char *s) { return (cedar__str){s, (uint32_t)strlen(s)}; }

static void parse_table(void **state) {
  (void)state;
  static const tu_ms_row rows[] = {
      {"1970-01-01", 0, NULL},
      {"2024-01-01", INT64_C(1704067200000), NULL},
      {"2024-01-01T00:00:00Z", INT64_C(1704067200000), NULL},
      {"2024-01-01T00:00:00.000-0000", INT64_C(1704067200000), NULL},
      {"2024-01-01T00:00:00+0100", INT64_C(1704063600000), NULL},
      {"2024-01-01T10:00:00.123+0130", INT64_C(1704097800123), NULL},
      {"1969-12-31T23:59:59.999Z", -1, NULL},
      {"2024-02-29", INT64_C(1709164800000), NULL},
      {"2000-02-29", INT64_C(951782400000), NULL},
      {"0000-01-01", INT64_C(-62167219200000), NULL},
      {"0000-01-01T00:00:00+2359", INT64_C(-62167305540000), NULL},
      {"9999-12-31T23:59:59.999-2359", INT64_C(253402387139999), NULL},
      {"2023-02-29", 0, "invalid date: 2023-02-29"},
      {"1900-02-29", 0, "invalid date: 1900-02-29"},
      {"2024-13-01", 0, "invalid date: 2024-13-01"},
      {"2024-00-10", 0, "invalid date: 2024-00-10"},
      {"2024-01-00", 0, "invalid date: 2024-01-00"},
      {"2024-1-01", 0, "invalid date pattern"},
      {"+2024-01-01", 0, "invalid date pattern"},
      {"12024-01-01", 0, "invalid date pattern"},
      {"", 0, "invalid date pattern"},
      {"2024-01-01Z", 0, "invalid hour/minute/second pattern"},
      {"2024-01-01T", 0, "invalid hour/minute/second pattern"},
      {"2024-01-01t00:00:00Z", 0, "invalid hour/minute/second pattern"},
      {"2024-01-01 00:00:00Z", 0, "invalid hour/minute/second pattern"},
      {"2024-01-01T00:00Z", 0, "invalid hour/minute/second pattern"},
      {"2024-01-01T00:00:00", 0, "invalid millisecond and/or offset pattern"},
      {"2024-01-01T00:00:00z", 0, "invalid millisecond and/or offset pattern"},
      {"2024-01-01T00:00:00.5Z", 0, "invalid millisecond and/or offset pattern"},
      {"2024-01-01T00:00:00.0000Z", 0, "invalid millisecond and/or offset pattern"},
      {"2024-01-01T00:00:00.123", 0, "invalid millisecond and/or offset pattern"},
      {"2024-01-01T00:00:00+01:00", 0, "invalid millisecond and/or offset pattern"},
      {"2024-01-01T00:00:00+01", 0, "invalid millisecond and/or offset pattern"},
      {"2024-01-01T00:00:00Z ", 0, "invalid millisecond and/or offset pattern"},
      {"2024-01-01T24:00:00Z", 0, "invalid hour/minute/second: 24:00:00"},
      {"2024-01-01T00:60:00Z", 0, "invalid hour/minute/second: 00:60:00"},
      {"2024-01-01T23:59:60Z", 0, "invalid hour/minute/second: 23:59:60"},
      {"2024-01-01T00:00:00+2400", 0, "invalid offset range: 240"},
      {"2024-01-01T00:00:00-0060", 0, "invalid offset range: 060"},
      /* Meaning is checked after syntax, date before time before offset. */
      {"2024-02-30T00:00:00Zx", 0, "invalid millisecond and/or offset pattern"},
      {"2024-02-30T99:00:00+2400", 0, "invalid date: 2024-02-30"},
      {"2024-01-01T99:00:00+2400", 0, "invalid hour/minute/second: 99:00:00"},
  };
  int fails = tu_ms_table(rows, sizeof rows / sizeof rows[0], cedar__datetime_parse);
  assert_int_equal(fails, 0);
}

static void print_table(void **state) {
  (void)state;
  static const struct {
    int64_t ms;
    const char *out;
  } rows[] = {
      {0, "1970-01-01"},
      {-1, "1969-12-31T23:59:59.999Z"},
      {INT64_C(1704097800123), "2024-01-01T08:30:00.123Z"},
      {INT64_C(1704097800000), "2024-01-01T08:30:00Z"},
      {INT64_C(-62167219200000), "0000-01-01"},
      {INT64_C(253402300800000), "+10000-01-01"},
      {INT64_C(-62167219200001), "-0001-12-31T23:59:59.999Z"},
      {INT64_MAX, "+292278994-08-17T07:12:55.807Z"},
      {INT64_MIN, "-292275055-05-16T16:47:04.192Z"},
  };
  int fails = 0;
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    wd_buf b;
    wd_buf_init(&b, 100);
    if (cedar__datetime_print(&b, rows[i].ms) || strcmp(wd_buf_str(&b), rows[i].out)) {
      print_error("row %zu: got '%s' want '%s'\n", i, wd_buf_str(&b), rows[i].out);
      fails++;
    }
    wd_buf_free(&b);
  }
  assert_int_equal(fails, 0);
}

/* Every in-range print reads back as the same instant. */
static void print_round_trips(void **state) {
  (void)state;
  int fails = 0;
  for (int64_t ms = INT64_C(-62167219200000); ms < INT64_C(253402300800000);
       ms += INT64_C(98765432101)) {
    wd_buf b;
    wd_buf_init(&b, 100);
    int64_t back = 0;
    char err[CEDAR_DIAG_MSG];
    if (cedar__datetime_print(&b, ms) || cedar__datetime_parse(S(wd_buf_str(&b)), &back, err) ||
        back != ms) {
      if (fails++ < 5) print_error("%lld printed '%s'\n", (long long)ms, wd_buf_str(&b));
    }
    wd_buf_free(&b);
  }
  assert_int_equal(fails, 0);
}

static cedar__val V(cedar__vkind k, int64_t i) {
  cedar__val v = {.kind = k, .u.i = i};
  return v;
}

static void methods(void **state) {
  (void)state;
  cedar__evalctx cx;
  memset(&cx, 0, sizeof cx);
  cedar__val out, a[2];
  static const struct {
    int64_t in, date, time;
  } rows[] = {
      {0, 0, 0},
      {1, 0, 1},
      {-1, -86400000, 86399999},
      {86400000, 86400000, 0},
      {-86400000, -86400000, 0},
      {-86400001, -172800000, 86399999},
      {INT64_MAX, INT64_C(9223372036828800000), 25975807},
  };
  int fails = 0;
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    a[0] = V(CEDAR__V_DATETIME, rows[i].in);
    if (cedar__ext_TO_DATE(&cx, a, &out) || out.kind != CEDAR__V_DATETIME ||
        out.u.i != rows[i].date) {
      print_error("toDate row %zu got %lld\n", i, (long long)out.u.i);
      fails++;
    }
    if (cedar__ext_TO_TIME(&cx, a, &out) || out.kind != CEDAR__V_DURATION ||
        out.u.i != rows[i].time) {
      print_error("toTime row %zu got %lld\n", i, (long long)out.u.i);
      fails++;
    }
  }
  assert_int_equal(fails, 0);

  /* The first day of i64 has no midnight to round down to. */
  a[0] = V(CEDAR__V_DATETIME, INT64_MIN);
  assert_int_equal(cedar__ext_TO_DATE(&cx, a, &out), -WD_E_EVAL);
  assert_string_equal(cx.err, "error while evaluating `toDate` extension function: overflows "
                              "when computing the date of datetime(\"1970-01-01\").offset("
                              "duration(\"-9223372036854775808ms\"))");
  assert_int_equal(cedar__ext_TO_TIME(&cx, a, &out), 0);
  assert_int_equal(out.u.i, 60424192);

  a[0] = V(CEDAR__V_DATETIME, 1000);
  a[1] = V(CEDAR__V_DURATION, -1500);
  assert_int_equal(cedar__ext_OFFSET(&cx, a, &out), 0);
  assert_int_equal(out.kind, CEDAR__V_DATETIME);
  assert_int_equal(out.u.i, -500);
  a[0] = V(CEDAR__V_DATETIME, INT64_C(1704067200000));
  a[1] = V(CEDAR__V_DURATION, INT64_MAX);
  assert_int_equal(cedar__ext_OFFSET(&cx, a, &out), -WD_E_EVAL);
  assert_string_equal(cx.err, "error while evaluating `offset` extension function: overflows "
                              "when adding an offset: datetime(\"1970-01-01\").offset(duration("
                              "\"1704067200000ms\"))+(9223372036854775807ms)");
  a[1] = V(CEDAR__V_LONG, 1);
  assert_int_equal(cedar__ext_OFFSET(&cx, a, &out), -WD_E_EVAL);
  assert_string_equal(cx.err, "type error: expected duration, got long");
  a[0] = V(CEDAR__V_DURATION, 1);
  assert_int_equal(cedar__ext_OFFSET(&cx, a, &out), -WD_E_EVAL);
  assert_string_equal(cx.err, "type error: expected datetime, got duration");

  a[0] = V(CEDAR__V_DATETIME, 5);
  a[1] = V(CEDAR__V_DATETIME, 7);
  assert_int_equal(cedar__ext_DURATION_SINCE(&cx, a, &out), 0);
  assert_int_equal(out.kind, CEDAR__V_DURATION);
  assert_int_equal(out.u.i, -2);
  a[0] = V(CEDAR__V_DATETIME, INT64_MIN);
  a[1] = V(CEDAR__V_DATETIME, 86400000);
  assert_int_equal(cedar__ext_DURATION_SINCE(&cx, a, &out), -WD_E_EVAL);
  assert_non_null(strstr(cx.err, "overflows when computing the duration between"));
}

static void constructor(void **state) {
  (void)state;
  cedar__evalctx cx;
  memset(&cx, 0, sizeof cx);
  cedar__val out, s = {.kind = CEDAR__V_STRING, .u.s = S("2024-02-30")};
  assert_int_equal(cedar__ext_DATETIME(&cx, &s, &out), -WD_E_EVAL);
  assert_string_equal(cx.err, "error while evaluating `datetime` extension function: invalid date: "
                              "2024-02-30");
  s.u.s = S("2024-01-01");
  assert_int_equal(cedar__ext_DATETIME(&cx, &s, &out), 0);
  assert_int_equal(out.kind, CEDAR__V_DATETIME);
  s = V(CEDAR__V_LONG, 1);
  assert_int_equal(cedar__ext_DATETIME(&cx, &s, &out), -WD_E_EVAL);
  assert_string_equal(cx.err, "type error: expected string, got long");
}

static void ordering(void **state) {
  (void)state;
  int c = 9;
  cedar__val a = V(CEDAR__V_DATETIME, 1), b = V(CEDAR__V_DATETIME, 2);
  assert_int_equal(cedar__ext_cmp(&a, &b, &c), 0);
  assert_int_equal(c, -1);
  b = V(CEDAR__V_DURATION, 2);
  assert_int_equal(cedar__ext_cmp(&a, &b, &c), -1);
  a = V(CEDAR__V_DURATION, 3);
  assert_int_equal(cedar__ext_cmp(&a, &b, &c), 0);
  assert_int_equal(c, 1);
  a = V(CEDAR__V_DECIMAL, 3);
  b = V(CEDAR__V_DECIMAL, 3);
  assert_int_equal(cedar__ext_cmp(&a, &b, &c), -1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(parse_table),       cmocka_unit_test(print_table),
      cmocka_unit_test(print_round_trips), cmocka_unit_test(methods),
      cmocka_unit_test(constructor),       cmocka_unit_test(ordering),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
