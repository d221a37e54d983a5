/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for the expression evaluator on hand-built ASTs, so they do
 * not depend on the parser: short-circuiting, type errors, overflow,
 * `like`, records and the depth guard. Each table reports every failing
 * row before failing. Expressions from text are covered by test_authz.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "cedar/cedar_int.h"

static wd_arena *A;

static cedar__expr *node(cedar__xkind k) {
  cedar__expr *e = wd_arena_calloc(A, 1, sizeof *e);
  e->kind = k;
  return e;
}
static cedar__expr *L(int64_t i) {
  cedar__expr *e = node(CEDAR__X_LIT);
  e->u.lit.kind = CEDAR__V_LONG;
  e->u.lit.u.i = i;
  return e;
}
static cedar__expr *B(int b) {
  cedar__expr *e = node(CEDAR__X_LIT);
  e->u.lit.kind = CEDAR__V_BOOL;
  e->u.lit.u.b = b;
  return e;
}
static cedar__expr *S(const char *s) {
  cedar__expr *e = node(CEDAR__X_LIT);
  e->u.lit.kind = CEDAR__V_STRING;
  e->u.lit.u.s = cedar__cstr(s);
  return e;
}
static cedar__expr *op(cedar__xkind k, const cedar__expr *a, const cedar__expr *b) {
  cedar__expr *e = node(k);
  e->u.op.a = a;
  e->u.op.b = b;
  return e;
}
static cedar__expr *ite(const cedar__expr *a, const cedar__expr *b, const cedar__expr *c) {
  cedar__expr *e = op(CEDAR__X_IF, a, b);
  e->u.op.c = c;
  return e;
}
/* `"*"`-separated pattern: "a*b" -> lit a, wild, lit b. */
static cedar__expr *like(const cedar__expr *s, const char *pat) {
  cedar__patelem *el = wd_arena_calloc(A, 64, sizeof *el);
  uint32_t n = 0;
  const char *p = pat;
  while (*p) {
    if (*p == '*') {
      el[n++].wild = 1;
      p++;
      continue;
    }
    const char *q = p;
    while (*q && *q != '*')
      q++;
    el[n].lit.p = p;
    el[n].lit.n = (uint32_t)(q - p);
    n++;
    p = q;
  }
  cedar__expr *e = node(CEDAR__X_LIKE);
  e->u.like.e = s;
  e->u.like.pat = el;
  e->u.like.n = n;
  return e;
}
static cedar__expr *rec1(const char *k, const cedar__expr *v) {
  cedar__expr *e = node(CEDAR__X_RECORD);
  cedar__str *keys = wd_arena_calloc(A, 1, sizeof *keys);
  const cedar__expr **vals = wd_arena_calloc(A, 1, sizeof *vals);
  keys[0] = cedar__cstr(k);
  vals[0] = v;
  e->u.rec.keys = keys;
  e->u.rec.vals = vals;
  e->u.rec.n = 1;
  return e;
}
static cedar__expr *rec2(const char *k1, const cedar__expr *v1, const char *k2,
                         const cedar__expr *v2) {
  cedar__expr *e = node(CEDAR__X_RECORD);
  cedar__str *keys = wd_arena_calloc(A, 2, sizeof *keys);
  const cedar__expr **vals = wd_arena_calloc(A, 2, sizeof *vals);
  keys[0] = cedar__cstr(k1);
  keys[1] = cedar__cstr(k2);
  vals[0] = v1;
  vals[1] = v2;
  e->u.rec.keys = keys;
  e->u.rec.vals = vals;
  e->u.rec.n = 2;
  return e;
}
static cedar__expr *attr(cedar__xkind k, const cedar__expr *x, const char *a) {
  cedar__expr *e = node(k);
  e->u.attr.e = x;
  e->u.attr.attr = cedar__cstr(a);
  return e;
}

/* An erroring expression: evaluating it proves short-circuiting failed. */
static cedar__expr *BOOM(void) { return op(CEDAR__X_ADD, L(1), S("x")); }

typedef struct row {
  const char *name;
  const cedar__expr *e;
  int rc;          /* 0 or -WD_E_EVAL */
  int is_bool;     /* expected kind when rc == 0 */
  int64_t want;    /* expected bool (0/1) or long */
  const char *err; /* substring of the error message */
} row;

static int run_rows(const row *rows, size_t n) {
  int bad = 0;
  for (size_t i = 0; i < n; i++) {
    cedar__evalctx cx;
    memset(&cx, 0, sizeof cx);
    cx.arena = A;
    cedar__val v;
    memset(&v, 0, sizeof v);
    int rc = cedar__eval(&cx, rows[i].e, &v);
    int ok = rc == rows[i].rc;
    if (ok && rc == 0)
      ok = rows[i].is_bool ? (v.kind == CEDAR__V_BOOL && v.u.b == rows[i].want)
                           : (v.kind == CEDAR__V_LONG && v.u.i == rows[i].want);
    if (ok && rc && rows[i].err) ok = strstr(cx.err, rows[i].err) != NULL;
    if (!ok) {
      print_error("row %s: rc=%d kind=%d err=%s\n", rows[i].name, rc, (int)v.kind, cx.err);
      bad++;
    }
  }
  return bad;
}

static void semantics(void **state) {
  (void)state;
  const row rows[] = {
      {"and-true", op(CEDAR__X_AND, B(1), B(1)), 0, 1, 1, NULL},
      {"and-shortcircuit", op(CEDAR__X_AND, B(0), BOOM()), 0, 1, 0, NULL},
      {"or-shortcircuit", op(CEDAR__X_OR, B(1), BOOM()), 0, 1, 1, NULL},
      {"and-right-evaluated", op(CEDAR__X_AND, B(1), BOOM()), -WD_E_EVAL, 0, 0, "expected long"},
      {"and-nonbool-left", op(CEDAR__X_AND, L(1), B(1)), -WD_E_EVAL, 0, 0,
       "type error: expected bool, got long"},
      {"and-nonbool-right", op(CEDAR__X_AND, B(1), L(1)), -WD_E_EVAL, 0, 0, "expected bool"},
      {"or-nonbool-right", op(CEDAR__X_OR, B(0), L(1)), -WD_E_EVAL, 0, 0, "expected bool"},
      {"if-then", ite(B(1), L(1), BOOM()), 0, 0, 1, NULL},
      {"if-else", ite(B(0), BOOM(), L(2)), 0, 0, 2, NULL},
      {"if-nonbool", ite(L(0), L(1), L(2)), -WD_E_EVAL, 0, 0, "expected bool"},
      {"not", op(CEDAR__X_NOT, B(0), NULL), 0, 1, 1, NULL},
      {"eq-mixed-kinds", op(CEDAR__X_EQ, L(1), S("1")), 0, 1, 0, NULL},
      {"ne-mixed-kinds", op(CEDAR__X_NE, L(1), S("1")), 0, 1, 1, NULL},
      {"lt", op(CEDAR__X_LT, L(1), L(2)), 0, 1, 1, NULL},
      {"ge", op(CEDAR__X_GE, L(1), L(2)), 0, 1, 0, NULL},
      {"lt-string", op(CEDAR__X_LT, S("a"), S("b")), -WD_E_EVAL, 0, 0,
       "expected one of [long, datetime, duration], got string"},
      {"lt-long-string", op(CEDAR__X_LT, L(1), S("b")), -WD_E_EVAL, 0, 0,
       "expected long, got string"},
      {"add", op(CEDAR__X_ADD, L(40), L(2)), 0, 0, 42, NULL},
      {"sub", op(CEDAR__X_SUB, L(5), L(10)), 0, 0, -5, NULL},
      {"mul", op(CEDAR__X_MUL, L(3), L(-2)), 0, 0, -6, NULL},
      {"add-overflow", op(CEDAR__X_ADD, L(INT64_MAX), L(1)), -WD_E_EVAL, 0, 0,
       "integer overflow while attempting to add the values `9223372036854775807` and `1`"},
      {"sub-overflow", op(CEDAR__X_SUB, L(INT64_MIN), L(1)), -WD_E_EVAL, 0, 0, "subtract"},
      {"mul-overflow", op(CEDAR__X_MUL, L(INT64_MAX), L(2)), -WD_E_EVAL, 0, 0, "multiply"},
      {"neg", op(CEDAR__X_NEG, L(5), NULL), 0, 0, -5, NULL},
      {"neg-overflow", op(CEDAR__X_NEG, L(INT64_MIN), NULL), -WD_E_EVAL, 0, 0, "negate"},
      {"neg-string", op(CEDAR__X_NEG, S("a"), NULL), -WD_E_EVAL, 0, 0, "expected long"},
      {"like-star", like(S("abc"), "a*"), 0, 1, 1, NULL},
      {"like-exact", like(S("abc"), "abc"), 0, 1, 1, NULL},
      {"like-prefix-only", like(S("abc"), "ab"), 0, 1, 0, NULL},
      {"like-mid", like(S("xaaby"), "*ab*"), 0, 1, 1, NULL},
      {"like-backtrack", like(S("aXbXc"), "a*b*c"), 0, 1, 1, NULL},
      {"like-suffix", like(S("abcbc"), "*bc"), 0, 1, 1, NULL},
      {"like-miss", like(S("abcbd"), "*bc"), 0, 1, 0, NULL},
      {"like-empty-star", like(S(""), "*"), 0, 1, 1, NULL},
      {"like-empty", like(S(""), ""), 0, 1, 1, NULL},
      {"like-nonstring", like(L(1), "*"), -WD_E_EVAL, 0, 0, "expected string, got long"},
      {"rec-has", attr(CEDAR__X_HAS, rec1("a", L(1)), "a"), 0, 1, 1, NULL},
      {"rec-has-not", attr(CEDAR__X_HAS, rec1("a", L(1)), "b"), 0, 1, 0, NULL},
      {"rec-get", attr(CEDAR__X_GETATTR, rec1("a", L(7)), "a"), 0, 0, 7, NULL},
      {"rec-get-missing", attr(CEDAR__X_GETATTR, rec1("a", L(7)), "b"), -WD_E_EVAL, 0, 0,
       "record does not have the attribute `b`"},
      {"has-on-long", attr(CEDAR__X_HAS, L(1), "b"), -WD_E_EVAL, 0, 0,
       "expected one of [record, (entity of type `any_entity_type`)], got long"},
      {"in-long", op(CEDAR__X_IN, L(1), L(1)), -WD_E_EVAL, 0, 0,
       "expected (entity of type `any_entity_type`), got long"},
      {"record-error-propagates", rec1("a", BOOM()), -WD_E_EVAL, 0, 0, "expected long"},
      /* Fields evaluate in key order, so `a` reports before `b`. */
      {"record-key-order", rec2("b", BOOM(), "a", attr(CEDAR__X_GETATTR, rec1("x", L(1)), "y")),
       -WD_E_EVAL, 0, 0, "attribute `y`"},
  };
  assert_int_equal(run_rows(rows, sizeof rows / sizeof rows[0]), 0);
}

static void variables_need_a_request(void **state) {
  (void)state;
  cedar__expr *v = node(CEDAR__X_VAR);
  v->u.var = CEDAR__VAR_CONTEXT;
  const row rows[] = {{"no-request", v, -WD_E_EVAL, 0, 0, "context"}};
  assert_int_equal(run_rows(rows, 1), 0);
}

static void depth_guard(void **state) {
  (void)state;
  const cedar__expr *e = B(1);
  for (unsigned i = 0; i < WD_LIMIT_EVAL_DEPTH + 10; i++)
    e = op(CEDAR__X_NOT, e, NULL);
  const row rows[] = {{"deep", e, -WD_E_EVAL, 0, 0, "too deeply"}};
  assert_int_equal(run_rows(rows, 1), 0);
}

/* first, then n times sep and term, as a NUL-terminated string in b. */
static void chain(wd_buf *b, const char *first, const char *sep, const char *term, size_t n) {
  wd_buf_init(b, WD_LIMIT_BUF_DEFAULT);
  assert_int_equal(wd_buf_adds(b, first), 0);
  for (size_t i = 0; i < n; i++) {
    assert_int_equal(wd_buf_adds(b, sep), 0);
    assert_int_equal(wd_buf_adds(b, term), 0);
  }
}

/* The parser's height limit and the evaluator's depth limit agree: the
 * tallest expression that parses evaluates, and one level more does not
 * parse, so no accepted policy errors on every request for its depth. */
static void tallest_parsed_expression_evaluates(void **state) {
  (void)state;
  static const struct {
    const char *first, *sep, *term, *want; /* want: how the value's text starts */
    uint32_t n;                            /* terms that make it just as tall as allowed */
  } rows[] = {
      {"true", " && ", "true", "true", WD_LIMIT_EXPR_HEIGHT - 1},
      {"false", " || ", "true", "true", WD_LIMIT_EXPR_HEIGHT - 1},
      {"1", " + ", "1", "", WD_LIMIT_EXPR_HEIGHT - 1}, /* "": the sum, as tall as allowed */
      {"datetime(\"2024-01-01\")", ".", "offset(duration(\"1ms\"))", "datetime(\"2024-01-01T",
       WD_LIMIT_EXPR_HEIGHT - 2},
  };
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    for (uint32_t extra = 0; extra < 2; extra++) {
      wd_buf b;
      chain(&b, rows[i].first, rows[i].sep, rows[i].term, rows[i].n + extra);
      cedar_diags *d = cedar_diags_new();
      char *out = NULL;
      int rc = cedar_evaluate(wd_buf_str(&b), wd_buf_len(&b), NULL, NULL, &out, d);
      if (extra == 0) {
        if (rc != 0) print_error("row %zu: %s\n", i, cedar_diags_get(d, 0)->msg);
        assert_int_equal(rc, 0);
        char sum[16];
        (void)snprintf(sum, sizeof sum, "%u", WD_LIMIT_EXPR_HEIGHT);
        const char *want = rows[i].want[0] ? rows[i].want : sum;
        assert_memory_equal(out, want, strlen(want));
      } else {
        assert_int_equal(rc, -WD_E_PARSE);
        assert_non_null(strstr(cedar_diags_get(d, 0)->msg, "nested too deeply"));
      }
      cedar_free(out);
      cedar_diags_free(d);
      wd_buf_free(&b);
    }
  }
}

static int setup(void **state) {
  (void)state;
  A = wd_arena_new(WD_LIMIT_VALUE_BYTES);
  return A ? 0 : -1;
}
static int teardown(void **state) {
  (void)state;
  wd_arena_free(A);
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(semantics),
      cmocka_unit_test(variables_need_a_request),
      cmocka_unit_test(depth_guard),
      cmocka_unit_test(tallest_parsed_expression_evaluates),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
