/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for the function table and the builtin methods: name lookup,
 * the set tests with their type errors, and entity tags (getTag errors on
 * a missing entity or tag, hasTag answers false). Expected outcomes were
 * checked against cedar-wasm 4.13.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "cedar/cedar_int.h"
#include "cedar/ext_int.h"

static cedar__str S(const char *s) { return (cedar__str){s, (uint32_t)strlen(s)}; }

static void table_is_complete(void **state) {
  (void)state;
  for (int i = 0; i < CEDAR__F__COUNT; i++) {
    const cedar__fninfo *f = &cedar__fn_table[i];
    assert_non_null(f->impl);
    assert_int_equal(cedar__fn_lookup(f->name, strlen(f->name), f->is_method), i);
    /* A method name is not a function name and the other way round. */
    assert_int_equal(cedar__fn_lookup(f->name, strlen(f->name), !f->is_method), -1);
  }
  assert_int_equal(cedar__fn_lookup("ip", 2, 0), CEDAR__F_IP);
  assert_int_equal(cedar__fn_lookup("ipx", 2, 0), CEDAR__F_IP); /* length is n */
  assert_int_equal(cedar__fn_lookup("IP", 2, 0), -1);
  assert_int_equal(cedar__fn_lookup("contain", 7, 1), -1);
}

static cedar__val L(int64_t i) {
  cedar__val v = {.kind = CEDAR__V_LONG, .u.i = i};
  return v;
}

static cedar__val set_of(wd_arena *a, const int64_t *xs, uint32_t n) {
  cedar__val vals[8], out;
  for (uint32_t i = 0; i < n; i++)
    vals[i] = L(xs[i]);
  assert_int_equal(cedar__set_make(a, vals, n, &out), 0);
  return out;
}

static void set_methods(void **state) {
  (void)state;
  wd_arena *a = wd_arena_new(1 << 20);
  assert_non_null(a);
  cedar__evalctx cx;
  memset(&cx, 0, sizeof cx);
  cx.arena = a;
  static const int64_t x12[] = {1, 2}, x2[] = {2}, x3[] = {3}, x32[] = {3, 2};
  cedar__val s12 = set_of(a, x12, 2), s2 = set_of(a, x2, 1), s3 = set_of(a, x3, 1);
  cedar__val s32 = set_of(a, x32, 2), empty = set_of(a, NULL, 0);
  static const struct {
    cedar__fn fn;
    int recv, arg; /* indexes into vals */
    int want;      /* 0/1, or -1 for a type error */
    const char *err;
  } rows[] = {
      {CEDAR__F_CONTAINS, 0, 5, 1, NULL},
      {CEDAR__F_CONTAINS, 0, 6, 0, NULL},
      {CEDAR__F_CONTAINS, 0, 1, 0, NULL}, /* [2] is not an element */
      {CEDAR__F_CONTAINS, 4, 5, 0, NULL},
      {CEDAR__F_CONTAINS, 7, 5, -1, "type error: expected set, got string"},
      {CEDAR__F_CONTAINS_ALL, 0, 1, 1, NULL},
      {CEDAR__F_CONTAINS_ALL, 0, 3, 0, NULL},
      {CEDAR__F_CONTAINS_ALL, 0, 4, 1, NULL},
      {CEDAR__F_CONTAINS_ALL, 4, 0, 0, NULL},
      {CEDAR__F_CONTAINS_ALL, 0, 5, -1, "type error: expected set, got long"},
      {CEDAR__F_CONTAINS_ALL, 5, 0, -1, "type error: expected set, got long"},
      {CEDAR__F_CONTAINS_ANY, 0, 3, 1, NULL},
      {CEDAR__F_CONTAINS_ANY, 0, 2, 0, NULL},
      {CEDAR__F_CONTAINS_ANY, 0, 4, 0, NULL},
      {CEDAR__F_CONTAINS_ANY, 4, 4, 0, NULL},
      {CEDAR__F_CONTAINS_ANY, 7, 0, -1, "type error: expected set, got string"},
      {CEDAR__F_IS_EMPTY, 4, 0, 1, NULL},
      {CEDAR__F_IS_EMPTY, 0, 0, 0, NULL},
      {CEDAR__F_IS_EMPTY, 8, 0, -1, "type error: expected set, got record"},
  };
  cedar__val rec = {.kind = CEDAR__V_RECORD};
  cedar__val str = {.kind = CEDAR__V_STRING, .u.s = S("ab")};
  cedar__val vals[] = {s12, s2, s3, s32, empty, L(2), L(7), str, rec};
  int fails = 0;
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    cedar__val args[2] = {vals[rows[i].recv], vals[rows[i].arg]}, out;
    cx.err[0] = 0;
    int rc = cedar__fn_table[rows[i].fn].impl(&cx, args, &out);
    int ok = rows[i].want < 0 ? rc == -WD_E_EVAL && strcmp(cx.err, rows[i].err) == 0
                              : rc == 0 && out.kind == CEDAR__V_BOOL && out.u.b == rows[i].want;
    if (!ok) {
      print_error("row %zu: rc %d err '%s'\n", i, rc, cx.err);
      fails++;
    }
  }
  assert_int_equal(fails, 0);
  wd_arena_free(a);
}

static void tags(void **state) {
  (void)state;
  static const char json[] = "[{\"uid\":{\"type\":\"U\",\"id\":\"p\"},\"attrs\":{},\"parents\":[],"
                             "\"tags\":{\"t\":1,\"s\":\"x\"}},"
                             "{\"uid\":{\"type\":\"U\",\"id\":\"q\"},\"attrs\":{},\"parents\":[]}]";
  cedar_entities *es = NULL;
  assert_int_equal(cedar_entities_from_json(json, strlen(json), NULL, &es, NULL), 0);
  wd_arena *a = wd_arena_new(1 << 20);
  cedar__evalctx cx;
  memset(&cx, 0, sizeof cx);
  cx.arena = a;
  cx.es = es;
  cedar__val p = {.kind = CEDAR__V_ENTITY, .u.uid = cedar__uid_new(a, S("U"), S("p"))};
  cedar__val q = {.kind = CEDAR__V_ENTITY, .u.uid = cedar__uid_new(a, S("U"), S("q"))};
  cedar__val z = {.kind = CEDAR__V_ENTITY, .u.uid = cedar__uid_new(a, S("U"), S("zz"))};
  cedar__val t = {.kind = CEDAR__V_STRING, .u.s = S("t")};
  cedar__val nope = {.kind = CEDAR__V_STRING, .u.s = S("nope")};
  cedar__val args[2], out;

  args[0] = p;
  args[1] = t;
  assert_int_equal(cedar__ext_GET_TAG(&cx, args, &out), 0);
  assert_int_equal(out.kind, CEDAR__V_LONG);
  assert_int_equal(out.u.i, 1);
  assert_int_equal(cedar__ext_HAS_TAG(&cx, args, &out), 0);
  assert_int_equal(out.u.b, 1);

  args[1] = nope;
  assert_int_equal(cedar__ext_GET_TAG(&cx, args, &out), -WD_E_EVAL);
  assert_string_equal(cx.err, "`U::\"p\"` does not have the tag `nope`");
  assert_int_equal(cedar__ext_HAS_TAG(&cx, args, &out), 0);
  assert_int_equal(out.u.b, 0);

  args[0] = q; /* an entity without tags */
  args[1] = t;
  assert_int_equal(cedar__ext_GET_TAG(&cx, args, &out), -WD_E_EVAL);
  assert_string_equal(cx.err, "`U::\"q\"` does not have the tag `t`");
  assert_int_equal(cedar__ext_HAS_TAG(&cx, args, &out), 0);
  assert_int_equal(out.u.b, 0);

  args[0] = z; /* no such entity */
  assert_int_equal(cedar__ext_GET_TAG(&cx, args, &out), -WD_E_EVAL);
  assert_string_equal(cx.err, "entity `U::\"zz\"` does not exist");
  assert_int_equal(cedar__ext_HAS_TAG(&cx, args, &out), 0);
  assert_int_equal(out.u.b, 0);
  cx.es = NULL; /* no entities at all behaves the same */
  assert_int_equal(cedar__ext_HAS_TAG(&cx, args, &out), 0);
  assert_int_equal(out.u.b, 0);
  assert_int_equal(cedar__ext_GET_TAG(&cx, args, &out), -WD_E_EVAL);

  /* Kinds are checked before existence, receiver first. */
  args[1] = (cedar__val){.kind = CEDAR__V_LONG, .u.i = 1};
  assert_int_equal(cedar__ext_GET_TAG(&cx, args, &out), -WD_E_EVAL);
  assert_string_equal(cx.err, "type error: expected string, got long");
  args[0] = (cedar__val){.kind = CEDAR__V_LONG, .u.i = 1};
  assert_int_equal(cedar__ext_HAS_TAG(&cx, args, &out), -WD_E_EVAL);
  assert_string_equal(cx.err, "type error: expected (entity of type `any_entity_type`), got long");

  wd_arena_free(a);
  cedar_entities_free(es);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(table_is_complete),
      cmocka_unit_test(set_methods),
      cmocka_unit_test(tags),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
