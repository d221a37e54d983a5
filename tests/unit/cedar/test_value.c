/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for value.c and value_print.c: ordering, Cedar equality,
 * canonical sets and records, lookups, printing in Cedar syntax and
 * conversion back to Cedar's JSON value format. Values are built from JSON
 * text through json.c to keep the tables readable.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cedar/cedar_int.h"

static int mkval(wd_arena *a, const char *json, cedar__val *out) {
  json_t *j = NULL;
  int rc = cedar__json_load(json, strlen(json), &j, NULL);
  if (rc) return rc;
  rc = cedar__json_val(a, j, "v", out, NULL);
  json_decref(j);
  return rc;
}

static void str_order(void **state) {
  (void)state;
  static const struct {
    const char *a, *b;
    int want;
  } rows[] = {
      {"", "", 0},       {"a", "", 1},    {"", "a", -1},
      {"ab", "abc", -1}, {"b", "abc", 1}, {"abc", "abc", 0},
  };
  int fails = 0;
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    int got = cedar__str_cmp(cedar__cstr(rows[i].a), cedar__cstr(rows[i].b));
    if (got != rows[i].want ||
        cedar__str_eq(cedar__cstr(rows[i].a), cedar__cstr(rows[i].b)) != (rows[i].want == 0)) {
      print_error("row %zu: got %d want %d\n", i, got, rows[i].want);
      fails++;
    }
  }
  assert_int_equal(fails, 0);
}

static void equality(void **state) {
  (void)state;
  static const struct {
    const char *a, *b;
    int eq;
  } rows[] = {
      {"1", "1", 1},
      {"1", "\"1\"", 0},
      {"true", "1", 0},
      {"[1,2]", "[2,1,1]", 1},
      {"[1,2]", "[1,2,3]", 0},
      {"{\"a\":1,\"b\":[true]}", "{\"b\":[true],\"a\":1}", 1},
      {"{\"a\":1}", "{\"a\":1,\"b\":1}", 0},
      {"{\"__entity\":{\"type\":\"A::B\",\"id\":\"x\"}}",
       "{\"__entity\":{\"type\":\"A::B\",\"id\":\"x\"}}", 1},
      {"{\"__entity\":{\"type\":\"A::B\",\"id\":\"x\"}}",
       "{\"__entity\":{\"type\":\"A\",\"id\":\"x\"}}", 0},
      {"{\"__extn\":{\"fn\":\"decimal\",\"arg\":\"1.0\"}}",
       "{\"__extn\":{\"fn\":\"decimal\",\"arg\":\"1.0000\"}}", 1},
      {"{\"__extn\":{\"fn\":\"ip\",\"arg\":\"10.0.0.1/8\"}}",
       "{\"__extn\":{\"fn\":\"ip\",\"arg\":\"10.0.0.1/16\"}}", 0},
      {"{\"__extn\":{\"fn\":\"ip\",\"arg\":\"10.0.0.1\"}}",
       "{\"__extn\":{\"fn\":\"ip\",\"arg\":\"10.0.0.1\"}}", 1},
      {"[[1],[2]]", "[[2],[1]]", 1},
      {"[]", "{}", 0},
  };
  int fails = 0;
  wd_arena *a = wd_arena_new(1 << 20);
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    cedar__val x, y;
    if (mkval(a, rows[i].a, &x) || mkval(a, rows[i].b, &y)) {
      print_error("row %zu: could not build values\n", i);
      fails++;
      continue;
    }
    int eq = cedar__val_eq(&x, &y);
    int sym = cedar__val_eq(&y, &x);
    int cmp = cedar__val_cmp(&x, &y), rcmp = cedar__val_cmp(&y, &x);
    if (eq != rows[i].eq || sym != eq || (cmp == 0) != eq || (cmp > 0) != (rcmp < 0)) {
      print_error("row %zu: %s vs %s: eq %d cmp %d/%d\n", i, rows[i].a, rows[i].b, eq, cmp, rcmp);
      fails++;
    }
  }
  wd_arena_free(a);
  assert_int_equal(fails, 0);
}

static void printing(void **state) {
  (void)state;
  static const struct {
    const char *json, *cedar;
  } rows[] = {
      {"-42", "-42"},
      {"true", "true"},
      {"\"a\\\"b\\\\c\\n\\t\\r\\u0000'\"", "\"a\\\"b\\\\c\\n\\t\\r\\0\\'\""},
      {"\"\\u0001\\u007f\\u00e9\\u200b\"", "\"\\u{1}\\u{7f}\xc3\xa9\\u{200b}\""},
      {"[3,1,2,1]", "[1, 2, 3]"},
      {"{\"b\":1,\"a\":\"x\",\"c d\":[],\"if\":{}}", "{a: \"x\", b: 1, \"c d\": [], \"if\": {}}"},
      {"{\"__entity\":{\"type\":\"Ns::User\",\"id\":\"al\\\"ice\"}}", "Ns::User::\"al\\\"ice\""},
      {"{\"__extn\":{\"fn\":\"decimal\",\"arg\":\"1.5\"}}", "decimal(\"1.5000\")"},
      {"{\"__extn\":{\"fn\":\"ip\",\"arg\":\"10.0.0.0/8\"}}", "ip(\"10.0.0.0/8\")"},
  };
  int fails = 0;
  wd_arena *a = wd_arena_new(1 << 20);
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    cedar__val v;
    wd_buf b;
    wd_buf_init(&b, 4096);
    if (mkval(a, rows[i].json, &v) || cedar__val_print(&b, &v) ||
        strcmp(wd_buf_str(&b), rows[i].cedar) != 0) {
      print_error("row %zu: got <%s> want <%s>\n", i, wd_buf_str(&b), rows[i].cedar);
      fails++;
    }
    wd_buf_free(&b);
  }
  wd_arena_free(a);
  assert_int_equal(fails, 0);
}

static void json_round_trip(void **state) {
  (void)state;
  static const char *const rows[] = {
      "9223372036854775807",
      "-9223372036854775808",
      "\"nul\\u0000inside\"",
      "[1,[2],{\"k\":false}]",
      "{\"\\u0000\":1,\"a\":{\"__entity\":{\"type\":\"T\",\"id\":\"\"}}}",
      "{\"__extn\":{\"fn\":\"decimal\",\"arg\":\"-0.5\"}}",
  };
  int fails = 0;
  wd_arena *a = wd_arena_new(1 << 20);
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    cedar__val v, w;
    json_t *j = NULL;
    int ok = mkval(a, rows[i], &v) == 0 && (j = cedar__val_to_json(&v)) != NULL &&
             cedar__json_val(a, j, "v", &w, NULL) == 0 && cedar__val_eq(&v, &w);
    if (!ok) {
      print_error("row %zu: %s does not round-trip\n", i, rows[i]);
      fails++;
    }
    json_decref(j);
  }
  wd_arena_free(a);
  assert_int_equal(fails, 0);
}

static void records_and_sets(void **state) {
  (void)state;
  wd_arena *a = wd_arena_new(1 << 20);
  cedar__str keys[3] = {cedar__cstr("b"), cedar__cstr("a"), cedar__cstr("b")};
  cedar__val vals[3];
  for (int i = 0; i < 3; i++) {
    vals[i].kind = CEDAR__V_LONG;
    vals[i].u.i = i;
  }
  cedar__val r;
  uint32_t dup = 99;
  assert_int_equal(cedar__rec_make(a, keys, vals, 3, &r, &dup), -WD_E_EXISTS);
  assert_int_equal(dup, 2);
  assert_int_equal(cedar__rec_make(a, keys, vals, 2, &r, &dup), 0);
  assert_int_equal(r.u.rec.n, 2);
  const cedar__val *got = cedar__rec_get(&r, cedar__cstr("b"));
  assert_non_null(got);
  assert_int_equal(got->u.i, 0);
  assert_null(cedar__rec_get(&r, cedar__cstr("c")));

  cedar__val s, probe = vals[1];
  cedar__val many[4] = {vals[2], vals[1], vals[2], vals[0]};
  assert_int_equal(cedar__set_make(a, many, 4, &s), 0);
  assert_int_equal(s.u.set.n, 3);
  assert_true(cedar__set_has(&s, &probe));
  probe.u.i = 7;
  assert_false(cedar__set_has(&s, &probe));
  assert_string_equal(cedar__vkind_name(CEDAR__V_IPADDR), "ipaddr");
  wd_arena_free(a);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(str_order),        cmocka_unit_test(equality),
      cmocka_unit_test(printing),         cmocka_unit_test(json_round_trip),
      cmocka_unit_test(records_and_sets),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
