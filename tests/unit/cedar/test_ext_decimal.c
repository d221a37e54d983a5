/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for the decimal extension: which texts parse (rows checked
 * against cedar-wasm 4.13), the value and canonical print, and the four
 * comparison methods with their type errors.
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

static int parse_print(cedar__str in, wd_buf *b, char *err) {
  int64_t v = 0;
  int rc = cedar__decimal_parse(in, &v, err);
  return rc ? rc : cedar__decimal_print(b, v);
}

static void parse_table(void **state) {
  (void)state;
  static const tu_print_row rows[] = {
      {"1.5", "1.5000", NULL},
      {"1.50", "1.5000", NULL},
      {"-0.5", "-0.5000", NULL},
      {"-0.0", "0.0000", NULL},
      {"0.0001", "0.0001", NULL},
      {"00000000000000000000001.0", "1.0000", NULL},
      {"922337203685477.5807", "922337203685477.5807", NULL},
      {"-922337203685477.5808", "-922337203685477.5808", NULL},
      {"922337203685477.5808", NULL, "overflow when converting to decimal"},
      {"-922337203685477.5809", NULL, "overflow"},
      {"-9223372036854775808.0", NULL, "overflow"},
      {"99999999999999999999.0", NULL, "overflow"},
      {"1.00000", NULL, "too many digits after the decimal in `1.00000`"},
      {"+1.0", NULL, "`+1.0` is not a well-formed decimal value"},
      {"1.", NULL, "not a well-formed"},
      {".5", NULL, "not a well-formed"},
      {"1", NULL, "not a well-formed"},
      {"-", NULL, "not a well-formed"},
      {"--1.0", NULL, "not a well-formed"},
      {"1.2.3", NULL, "not a well-formed"},
      {"1e3", NULL, "not a well-formed"},
      {" 1.0", NULL, "not a well-formed"},
      {"1.0 ", NULL, "not a well-formed"},
      {"", NULL, "not a well-formed"},
      {"\xd9\xa1.5", NULL, ""}, /* Arabic-Indic one: an error either way */
  };
  int fails = tu_print_table(rows, sizeof rows / sizeof rows[0], parse_print);
  assert_int_equal(fails, 0);
}

static cedar__val dec(const char *s) {
  cedar__val v = {.kind = CEDAR__V_DECIMAL};
  char err[CEDAR_DIAG_MSG];
  assert_int_equal(cedar__decimal_parse(S(s), &v.u.i, err), 0);
  return v;
}

static void compare_methods(void **state) {
  (void)state;
  static const struct {
    const char *a, *b;
    int lt, le, gt, ge;
  } rows[] = {
      {"1.0", "2.0", 1, 1, 0, 0},
      {"2.0", "1.0", 0, 0, 1, 1},
      {"1.5", "1.50", 0, 1, 0, 1},
      {"-0.5", "0.0", 1, 1, 0, 0},
      {"-922337203685477.5808", "922337203685477.5807", 1, 1, 0, 0},
  };
  cedar__evalctx cx;
  memset(&cx, 0, sizeof cx);
  int fails = 0;
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    cedar__val args[2] = {dec(rows[i].a), dec(rows[i].b)}, out;
    int want[4] = {rows[i].lt, rows[i].le, rows[i].gt, rows[i].ge};
    cedar__fn_impl f[4] = {cedar__ext_LESS_THAN, cedar__ext_LESS_THAN_OR_EQUAL,
                           cedar__ext_GREATER_THAN, cedar__ext_GREATER_THAN_OR_EQUAL};
    for (int k = 0; k < 4; k++) {
      if (f[k](&cx, args, &out) || out.kind != CEDAR__V_BOOL || out.u.b != want[k]) {
        print_error("row %zu method %d\n", i, k);
        fails++;
      }
    }
  }
  assert_int_equal(fails, 0);
}

static void type_errors(void **state) {
  (void)state;
  cedar__evalctx cx;
  memset(&cx, 0, sizeof cx);
  cedar__val out, args[2] = {dec("1.0"), {.kind = CEDAR__V_LONG, .u.i = 1}};
  assert_int_equal(cedar__ext_LESS_THAN(&cx, args, &out), -WD_E_EVAL);
  assert_string_equal(cx.err, "type error: expected decimal, got long");
  args[0] = args[1];
  args[1] = dec("1.0");
  assert_int_equal(cedar__ext_GREATER_THAN(&cx, args, &out), -WD_E_EVAL);
  assert_string_equal(cx.err, "type error: expected decimal, got long");
  /* The constructor wants a string and wraps parse errors. */
  assert_int_equal(cedar__ext_DECIMAL(&cx, args, &out), -WD_E_EVAL);
  assert_string_equal(cx.err, "type error: expected string, got long");
  cedar__val s = {.kind = CEDAR__V_STRING, .u.s = S("1.")};
  assert_int_equal(cedar__ext_DECIMAL(&cx, &s, &out), -WD_E_EVAL);
  assert_string_equal(cx.err, "error while evaluating `decimal` extension function: `1.` is not "
                              "a well-formed decimal value");
  s.u.s = S("-12.25");
  assert_int_equal(cedar__ext_DECIMAL(&cx, &s, &out), 0);
  assert_int_equal(out.kind, CEDAR__V_DECIMAL);
  assert_int_equal(out.u.i, -122500);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(parse_table),
      cmocka_unit_test(compare_methods),
      cmocka_unit_test(type_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
