/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for json.c and its text parser: syntax errors with line and
 * column, exact 64-bit integers, NUL in keys, the __entity / __extn
 * escapes (and when they are plain records), and error messages that name
 * the JSON path.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "cedar/cedar_int.h"

static void load_errors(void **state) {
  (void)state;
  static const struct {
    const char *text;
    int ok;
    uint32_t line, col;
  } rows[] = {
      {"{}", 1, 0, 0},
      {" [1, 2] ", 1, 0, 0},
      {"{\"\\u0000k\": 1}", 1, 0, 0},
      {"9223372036854775807", 1, 0, 0},
      {"-9223372036854775808", 1, 0, 0},
      {"9223372036854775808", 0, 1, 1},
      {"{\"a\":1,\"a\":2}", 0, 1, 8},
      {"[1,\n 2,\n x]", 0, 3, 2},
      {"[1,]", 0, 1, 4},
      {"\"\\ud800\"", 0, 1, 2},
      {"\"a\x01\"", 0, 1, 3},
      {"\"\xff\"", 0, 1, 2},
      {"{} x", 0, 1, 4},
      {"", 0, 1, 1},
      {"01", 0, 1, 2},
  };
  int fails = 0;
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    cedar_diags *d = cedar_diags_new();
    json_t *j = NULL;
    int rc = cedar__json_load(rows[i].text, strlen(rows[i].text), &j, d);
    const cedar_diag *g = cedar_diags_get(d, 0);
    if ((rc == 0) != rows[i].ok ||
        (!rows[i].ok && (!g || g->line != rows[i].line || g->col != rows[i].col))) {
      print_error("row %zu: rc %d at %u:%u (%s)\n", i, rc, g ? g->line : 0, g ? g->col : 0,
                  g ? g->msg : "");
      fails++;
    }
    json_decref(j);
    cedar_diags_free(d);
  }
  assert_int_equal(fails, 0);
}

static void value_conversion(void **state) {
  (void)state;
  static const struct {
    const char *text;
    int kind;        /* expected cedar__vkind, or -1 for an error */
    const char *msg; /* substring of the error */
  } rows[] = {
      {"{\"x\": 1}", CEDAR__V_RECORD, NULL},
      {"{\"x\": 1.5}", -1, "v.x: found a floating-point number"},
      {"{\"x\": [1, null]}", -1, "v.x[1]: found a `null`"},
      {"{\"__entity\": {\"type\": \"A::B\", \"id\": \"i\", \"extra\": 1}}", CEDAR__V_ENTITY, NULL},
      {"{\"__entity\": {\"type\": \"A::B\"}}", CEDAR__V_RECORD, NULL},
      {"{\"__entity\": {\"type\": \"A:: B\", \"id\": \"i\"}}", -1,
       "v.__entity: invalid entity type"},
      {"{\"__entity\": {\"type\": \"if\", \"id\": \"i\"}}", -1, "reserved"},
      {"{\"__entity\": {\"type\": \"A\", \"id\": \"i\"}, \"y\": 1}", CEDAR__V_RECORD, NULL},
      {"{\"__extn\": {\"fn\": \"decimal\", \"arg\": \"1.25\"}}", CEDAR__V_DECIMAL, NULL},
      {"{\"__extn\": {\"fn\": \"decimal\", \"args\": [\"1.25\"]}}", CEDAR__V_DECIMAL, NULL},
      {"{\"__extn\": {\"fn\": \"decimal\"}}", CEDAR__V_RECORD, NULL},
      {"{\"__extn\": {\"fn\": \"nope\", \"arg\": \"1\"}}", -1,
       "extension function `nope` does not exist"},
      {"{\"__extn\": {\"fn\": \"contains\", \"args\": [[1], 1]}}", -1, "does not exist"},
      {"{\"__extn\": {\"fn\": \"decimal\", \"args\": []}}", -1, "expected 1, got 0"},
      {"{\"__expr\": \"1 + 1\"}", -1, "no longer supported"},
      {"{\"__expr\": 1}", CEDAR__V_RECORD, NULL},
      {"[1, 1, 2]", CEDAR__V_SET, NULL},
      {"\"s\"", CEDAR__V_STRING, NULL},
  };
  int fails = 0;
  wd_arena *a = wd_arena_new(1 << 20);
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    cedar_diags *d = cedar_diags_new();
    json_t *j = NULL;
    cedar__val v;
    int rc = cedar__json_load(rows[i].text, strlen(rows[i].text), &j, d);
    if (rc == 0) rc = cedar__json_val(a, j, "v", &v, d);
    const cedar_diag *g = cedar_diags_get(d, 0);
    int bad = rows[i].kind < 0 ? (rc == 0 || !g || !strstr(g->msg, rows[i].msg))
                               : (rc != 0 || (int)v.kind != rows[i].kind);
    if (bad) {
      print_error("row %zu: %s: rc %d kind %d msg <%s>\n", i, rows[i].text, rc,
                  rc ? -1 : (int)v.kind, g ? g->msg : "");
      fails++;
    }
    json_decref(j);
    cedar_diags_free(d);
  }
  wd_arena_free(a);
  assert_int_equal(fails, 0);
}

static void uids(void **state) {
  (void)state;
  static const struct {
    const char *text;
    int ok;
  } rows[] = {
      {"{\"type\": \"User\", \"id\": \"a\"}", 1},
      {"{\"__entity\": {\"type\": \"Ns::User\", \"id\": \"\"}}", 1},
      {"{\"type\": \"User\"}", 0},
      {"\"User::\\\"a\\\"\"", 0},
      {"{\"type\": \"1User\", \"id\": \"a\"}", 0},
      {"{\"type\": \"A::\", \"id\": \"a\"}", 0},
  };
  int fails = 0;
  wd_arena *a = wd_arena_new(1 << 20);
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    json_t *j = NULL;
    const cedar__uid *u = NULL;
    int rc = cedar__json_load(rows[i].text, strlen(rows[i].text), &j, NULL);
    if (rc == 0) rc = cedar__json_uid(a, j, "uid", &u, NULL);
    if ((rc == 0) != rows[i].ok) {
      print_error("row %zu: %s: rc %d\n", i, rows[i].text, rc);
      fails++;
    }
    json_decref(j);
  }
  wd_arena_free(a);
  assert_int_equal(fails, 0);
}

static void depth_limit(void **state) {
  (void)state;
  char text[2 * (WD_LIMIT_JSON_DEPTH + 8) + 1];
  size_t n = WD_LIMIT_JSON_DEPTH + 8;
  memset(text, '[', n);
  memset(text + n, ']', n);
  text[2 * n] = '\0';
  json_t *j = NULL;
  assert_int_equal(cedar__json_load(text, 2 * n, &j, NULL), 0);
  wd_arena *a = wd_arena_new(1 << 20);
  cedar__val v;
  cedar_diags *d = cedar_diags_new();
  assert_int_equal(cedar__json_val(a, j, "v", &v, d), -WD_E_TOOBIG);
  assert_non_null(strstr(cedar_diags_get(d, 0)->msg, "deeper"));
  cedar_diags_free(d);
  wd_arena_free(a);
  json_decref(j);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(load_errors),
      cmocka_unit_test(value_conversion),
      cmocka_unit_test(uids),
      cmocka_unit_test(depth_limit),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
