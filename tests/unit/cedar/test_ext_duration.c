/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for duration values: the unit grammar, overflow at both ends
 * of i64 (rows checked against cedar-wasm 4.13), the print, and the
 * conversions to whole units, which truncate toward zero.
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

static const char PAT[] = "invalid duration pattern";
static const char OVF[] = "Duration overflows internal representation";

static void parse_table(void **state) {
  (void)state;
  static const tu_ms_row rows[] = {
      {"0ms", 0, NULL},
      {"1ms", 1, NULL},
      {"1m", 60000, NULL},
      {"1s", 1000, NULL},
      {"1h", 3600000, NULL},
      {"1d", 86400000, NULL},
      {"-0d", 0, NULL},
      {"00001d", 86400000, NULL},
      {"1d2h3m4s5ms", 93784005, NULL},
      {"-1d2h", -93600000, NULL},
      {"1m1ms", 60001, NULL},
      {"9223372036854775807ms", INT64_MAX, NULL},
      {"-9223372036854775808ms", INT64_MIN, NULL},
      {"106751991167d", INT64_C(9223372036828800000), NULL},
      {"-106751991167d7h12m55s808ms", INT64_MIN, NULL},
      {"9223372036854775808ms", 0, OVF},
      {"-9223372036854775809ms", 0, OVF},
      {"-106751991167d7h12m55s809ms", 0, OVF},
      {"106751991168d", 0, OVF},
      {"9223372036854776s", 0, OVF},
      {"18446744073709551615ms", 0, OVF},
      {"18446744073709551616ms", 0, OVF},
      {"", 0, PAT},
      {"-", 0, PAT},
      {"--1h", 0, PAT},
      {"1", 0, PAT},
      {"ms", 0, PAT},
      {"1h1d", 0, PAT},
      {"1d1d", 0, PAT},
      {"1ms1s", 0, PAT},
      {"1D", 0, PAT},
      {"1d ", 0, PAT},
      {" 1d", 0, PAT},
      {"1 d", 0, PAT},
      {"1.5h", 0, PAT},
      {"1d-1h", 0, PAT},
      {"+1d", 0, PAT},
      {"99999999999999999999999d1x", 0, PAT},
  };
  int fails = tu_ms_table(rows, sizeof rows / sizeof rows[0], cedar__duration_parse);
  assert_int_equal(fails, 0);
}

static void print_reads_back(void **state) {
  (void)state;
  static const int64_t rows[] = {0, 1, -1, 93784005, INT64_MAX, INT64_MIN};
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    wd_buf b;
    wd_buf_init(&b, 100);
    assert_int_equal(cedar__duration_print(&b, rows[i]), 0);
    int64_t back = 0;
    char err[CEDAR_DIAG_MSG];
    assert_int_equal(cedar__duration_parse(S(wd_buf_str(&b)), &back, err), 0);
    assert_true(back == rows[i]);
    wd_buf_free(&b);
  }
  wd_buf b;
  wd_buf_init(&b, 100);
  assert_int_equal(cedar__duration_print(&b, -93784005), 0);
  assert_string_equal(wd_buf_str(&b), "-93784005ms");
  wd_buf_free(&b);
}

static void conversions(void **state) {
  (void)state;
  static const struct {
    int64_t ms, s, m, h, d;
  } rows[] = {
      {0, 0, 0, 0, 0},
      {999, 0, 0, 0, 0},
      {-1, 0, 0, 0, 0},
      {-1000, -1, 0, 0, 0},
      {93784005, 93784, 1563, 26, 1},
      {-93784005, -93784, -1563, -26, -1},
      {-82800000, -82800, -1380, -23, 0},
      {INT64_MIN, INT64_C(-9223372036854775), INT64_C(-153722867280912), INT64_C(-2562047788015),
       INT64_C(-106751991167)},
  };
  cedar__fn_impl f[5] = {cedar__ext_TO_MILLISECONDS, cedar__ext_TO_SECONDS, cedar__ext_TO_MINUTES,
                         cedar__ext_TO_HOURS, cedar__ext_TO_DAYS};
  cedar__evalctx cx;
  memset(&cx, 0, sizeof cx);
  int fails = 0;
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    int64_t want[5] = {rows[i].ms, rows[i].s, rows[i].m, rows[i].h, rows[i].d};
    cedar__val a = {.kind = CEDAR__V_DURATION, .u.i = rows[i].ms}, out;
    for (int k = 0; k < 5; k++) {
      if (f[k](&cx, &a, &out) || out.kind != CEDAR__V_LONG || out.u.i != want[k]) {
        print_error("row %zu conversion %d got %lld\n", i, k, (long long)out.u.i);
        fails++;
      }
    }
  }
  assert_int_equal(fails, 0);
  cedar__val a = {.kind = CEDAR__V_DATETIME, .u.i = 0}, out;
  assert_int_equal(cedar__ext_TO_DAYS(&cx, &a, &out), -WD_E_EVAL);
  assert_string_equal(cx.err, "type error: expected duration, got datetime");
}

static void constructor(void **state) {
  (void)state;
  cedar__evalctx cx;
  memset(&cx, 0, sizeof cx);
  cedar__val out, s = {.kind = CEDAR__V_STRING, .u.s = S("1h1d")};
  assert_int_equal(cedar__ext_DURATION(&cx, &s, &out), -WD_E_EVAL);
  assert_string_equal(cx.err,
                      "error while evaluating `duration` extension function: invalid duration "
                      "pattern");
  s.u.s = S("-2h");
  assert_int_equal(cedar__ext_DURATION(&cx, &s, &out), 0);
  assert_int_equal(out.kind, CEDAR__V_DURATION);
  assert_true(out.u.i == -7200000);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(parse_table),
      cmocka_unit_test(print_reads_back),
      cmocka_unit_test(conversions),
      cmocka_unit_test(constructor),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
