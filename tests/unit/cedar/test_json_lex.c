/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests of json_lex.c, the token reader both JSON readers share:
 * strings (escapes, surrogate pairs, UTF-8 checks, runs longer than the
 * scratch buffer's first size) and numbers (the int64 bounds, reals,
 * malformed ones).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "cedar/json_lex.h"
#include "util/wd_alloc.h"

static int lex_string(const char *text, char *out, size_t cap, size_t *n, const char **err) {
  cedar__jlex p;
  memset(&p, 0, sizeof p);
  p.s = text;
  p.n = strlen(text);
  int rc = cedar__jlex_string(&p);
  *n = p.sbn;
  if (rc == 0 && p.sbn < cap) memcpy(out, p.sb ? p.sb : "", p.sbn);
  *err = p.err;
  wd_free(p.sb);
  return rc;
}

static void strings(void **state) {
  (void)state;
  static const struct {
    const char *in, *out; /* out NULL: an error containing msg */
    size_t n;
    const char *msg;
  } rows[] = {
      {"plain\"", "plain", 5, NULL},
      {"\"", "", 0, NULL},
      {"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"", "a\"b\\c/d\b\f\n\r\t", 12, NULL},
      {"\\u0000x\"", "\0x", 2, NULL},
      {"\\u00e9\\u20ac\\ud83d\\ude00\"", "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9, NULL},
      {"caf\xc3\xa9\"", "caf\xc3\xa9", 5, NULL},
      {"abc", NULL, 0, "unterminated"},
      {"a\nb\"", NULL, 0, "control character"},
      {"\\x\"", NULL, 0, "invalid escape"},
      {"\\u12\"", NULL, 0, "\\u escape"},
      {"\\ude00\"", NULL, 0, "surrogate"},
      {"\\ud83dx\"", NULL, 0, "surrogate"},
      {"\xc3(\"", NULL, 0, "UTF-8"},
      {"\xed\xa0\x80\"", NULL, 0, "UTF-8"},
      {"\xc0\xaf\"", NULL, 0, "UTF-8"},
  };
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    char out[64];
    size_t n;
    const char *err;
    int rc = lex_string(rows[i].in, out, sizeof out, &n, &err);
    if (rows[i].out) {
      assert_int_equal(rc, 0);
      assert_int_equal(n, rows[i].n);
      assert_memory_equal(out, rows[i].out, n);
    } else {
      assert_int_equal(rc, -1);
      assert_non_null(strstr(err, rows[i].msg));
    }
  }
  /* A long run grows the scratch buffer several times. */
  char big[5002];
  memset(big, 'x', 5000);
  big[5000] = '"';
  big[5001] = '\0';
  char out[8];
  size_t n;
  const char *err;
  assert_int_equal(lex_string(big, out, sizeof out, &n, &err), 0);
  assert_int_equal(n, 5000);
}

static void numbers(void **state) {
  (void)state;
  static const struct {
    const char *in;
    int ok, real;
    int64_t iv;
    double dv;
  } rows[] = {
      {"0", 1, 0, 0, 0},
      {"-0", 1, 0, 0, 0},
      {"42,", 1, 0, 42, 0},
      {"9223372036854775807", 1, 0, INT64_MAX, 0},
      {"-9223372036854775808", 1, 0, INT64_MIN, 0},
      {"9223372036854775808", 0, 0, 0, 0},
      {"-9223372036854775809", 0, 0, 0, 0},
      {"1.5", 1, 1, 0, 1.5},
      {"-2e3", 1, 1, 0, -2000},
      {"1E+2", 1, 1, 0, 100},
      {"-", 0, 0, 0, 0},
      {"1.", 0, 0, 0, 0},
      {"1e", 0, 0, 0, 0},
      {"x", 0, 0, 0, 0},
  };
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    cedar__jlex p;
    memset(&p, 0, sizeof p);
    p.s = rows[i].in;
    p.n = strlen(rows[i].in);
    int64_t iv = -1;
    double dv = -1;
    int real = -1;
    int rc = cedar__jlex_number(&p, &iv, &dv, &real);
    if (!rows[i].ok) {
      assert_int_equal(rc, -1);
      assert_non_null(p.err);
      continue;
    }
    assert_int_equal(rc, 0);
    assert_int_equal(real, rows[i].real);
    if (real)
      assert_true(dv == rows[i].dv);
    else
      assert_true(iv == rows[i].iv);
  }
}

static void literals_and_space(void **state) {
  (void)state;
  cedar__jlex p;
  memset(&p, 0, sizeof p);
  p.s = " \t\r\n true fals";
  p.n = strlen(p.s);
  cedar__jlex_skip_ws(&p);
  assert_int_equal(p.i, 5);
  assert_int_equal(cedar__jlex_lit(&p, "true"), 1);
  cedar__jlex_skip_ws(&p);
  assert_int_equal(cedar__jlex_lit(&p, "false"), 0);
  assert_int_equal(p.i, 10);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(strings),
      cmocka_unit_test(numbers),
      cmocka_unit_test(literals_and_space),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
