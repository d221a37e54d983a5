/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for the Cedar policy parser (parse.c, parse_expr.c, lex.c):
 * valid policies checked through a compact S-expression rendering of the
 * AST, invalid ones through their message and line:col, string escapes,
 * like patterns, ids and templates, recovery after errors, the nesting
 * limit, and allocation failures. When the Cedar corpus is unpacked at
 * /tmp/cit, every .cedar file in it must parse.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cedar/cedar_int.h"
#include "util/wd_alloc.h"
#include "test_util.h"

/* ---- a tiny AST printer, so rows can state the expected tree ---------- */

static void put(wd_buf *b, const char *s) { assert_int_equal(wd_buf_adds(b, s), 0); }

static void put_str(wd_buf *b, cedar__str s) {
  assert_int_equal(wd_buf_addc(b, '"'), 0);
  assert_int_equal(wd_buf_add(b, s.p, s.n), 0);
  assert_int_equal(wd_buf_addc(b, '"'), 0);
}

static const char *kind_name(cedar__xkind k) {
  switch (k) {
  case CEDAR__X_IF: return "if";
  case CEDAR__X_AND: return "&&";
  case CEDAR__X_OR: return "||";
  case CEDAR__X_NOT: return "!";
  case CEDAR__X_NEG: return "neg";
  case CEDAR__X_EQ: return "==";
  case CEDAR__X_NE: return "!=";
  case CEDAR__X_LT: return "<";
  case CEDAR__X_LE: return "<=";
  case CEDAR__X_GT: return ">";
  case CEDAR__X_GE: return ">=";
  case CEDAR__X_IN: return "in";
  case CEDAR__X_ADD: return "+";
  case CEDAR__X_SUB: return "-";
  case CEDAR__X_MUL: return "*";
  case CEDAR__X_HAS: return "has";
  case CEDAR__X_GETATTR: return ".";
  case CEDAR__X_LIKE: return "like";
  case CEDAR__X_IS: return "is";
  case CEDAR__X_SET: return "set";
  case CEDAR__X_RECORD: return "rec";
  case CEDAR__X_CALL: return "call";
  case CEDAR__X_LIT: return "lit";
  case CEDAR__X_VAR: return "var";
  }
  return "?";
}

static void sexp(wd_buf *b, const cedar__expr *e) {
  static const char *const vars[] = {"principal", "action", "resource", "context"};
  char tmp[64];
  switch (e->kind) {
  case CEDAR__X_LIT:
    switch (e->u.lit.kind) {
    case CEDAR__V_BOOL: put(b, e->u.lit.u.b ? "true" : "false"); return;
    case CEDAR__V_LONG:
      (void)snprintf(tmp, sizeof tmp, "%lld", (long long)e->u.lit.u.i);
      put(b, tmp);
      return;
    case CEDAR__V_STRING: put_str(b, e->u.lit.u.s); return;
    case CEDAR__V_ENTITY:
      assert_int_equal(wd_buf_add(b, e->u.lit.u.uid->type.p, e->u.lit.u.uid->type.n), 0);
      put(b, "::");
      put_str(b, e->u.lit.u.uid->id);
      return;
    case CEDAR__V_SET:
    case CEDAR__V_RECORD:
    case CEDAR__V_DECIMAL:
    case CEDAR__V_IPADDR:
    case CEDAR__V_DATETIME:
    case CEDAR__V_DURATION: put(b, "?lit"); return;
    }
    return;
  case CEDAR__X_VAR: put(b, vars[e->u.var]); return;
  case CEDAR__X_HAS:
  case CEDAR__X_GETATTR:
    put(b, "(");
    put(b, kind_name(e->kind));
    put(b, " ");
    sexp(b, e->u.attr.e);
    put(b, " ");
    put_str(b, e->u.attr.attr);
    put(b, ")");
    return;
  case CEDAR__X_LIKE:
    put(b, "(like ");
    sexp(b, e->u.like.e);
    for (uint32_t i = 0; i < e->u.like.n; i++) {
      put(b, " ");
      if (e->u.like.pat[i].wild)
        put(b, "*");
      else
        put_str(b, e->u.like.pat[i].lit);
    }
    put(b, ")");
    return;
  case CEDAR__X_IS:
    put(b, "(is ");
    sexp(b, e->u.is.e);
    put(b, " ");
    assert_int_equal(wd_buf_add(b, e->u.is.type.p, e->u.is.type.n), 0);
    if (e->u.is.in) {
      put(b, " ");
      sexp(b, e->u.is.in);
    }
    put(b, ")");
    return;
  case CEDAR__X_SET:
    put(b, "[");
    for (uint32_t i = 0; i < e->u.list.n; i++) {
      if (i) put(b, " ");
      sexp(b, e->u.list.items[i]);
    }
    put(b, "]");
    return;
  case CEDAR__X_RECORD:
    put(b, "{");
    for (uint32_t i = 0; i < e->u.rec.n; i++) {
      if (i) put(b, " ");
      put_str(b, e->u.rec.keys[i]);
      put(b, ":");
      sexp(b, e->u.rec.vals[i]);
    }
    put(b, "}");
    return;
  case CEDAR__X_CALL:
    put(b, "(");
    put(b, cedar__fn_table[e->u.call.fn].name);
    for (uint32_t i = 0; i < e->u.call.n; i++) {
      put(b, " ");
      sexp(b, e->u.call.args[i]);
    }
    put(b, ")");
    return;
  case CEDAR__X_IF:
  case CEDAR__X_AND:
  case CEDAR__X_OR:
  case CEDAR__X_NOT:
  case CEDAR__X_NEG:
  case CEDAR__X_EQ:
  case CEDAR__X_NE:
  case CEDAR__X_LT:
  case CEDAR__X_LE:
  case CEDAR__X_GT:
  case CEDAR__X_GE:
  case CEDAR__X_IN:
  case CEDAR__X_ADD:
  case CEDAR__X_SUB:
  case CEDAR__X_MUL:
    put(b, "(");
    put(b, kind_name(e->kind));
    put(b, " ");
    sexp(b, e->u.op.a);
    if (e->u.op.b) {
      put(b, " ");
      sexp(b, e->u.op.b);
    }
    if (e->u.op.c) {
      put(b, " ");
      sexp(b, e->u.op.c);
    }
    put(b, ")");
    return;
  }
}

/* ---- expressions ---------------------------------------------------------- */

static void exprs_build_expected_trees(void **state) {
  (void)state;
  static const struct {
    const char *src, *want;
  } rows[] = {
      {"1 + 2 * 3", "(+ 1 (* 2 3))"},
      {"1 - 2 - 3", "(- (- 1 2) 3)"},
      {"-9223372036854775808", "-9223372036854775808"},
      {"--1", "(neg -1)"},
      {"-1.foo", "(neg (. 1 \"foo\"))"},
      {"!!true", "(! (! true))"},
      {"a || b && c", NULL}, /* invalid variable: covered below */
      {"true || false && true", "(|| true (&& false true))"},
      {"if true then 1 else 2 + 3", "(if true 1 (+ 2 3))"},
      {"principal has a.b.c", "(&& (&& (has principal \"a\") (has (. principal \"a\") \"b\")) "
                              "(has (. (. principal \"a\") \"b\") \"c\"))"},
      {"context has \"a b\"", "(has context \"a b\")"},
      {"principal is A::B in Group::\"g\"", "(is principal A::B Group::\"g\")"},
      {"resource is Photo", "(is resource Photo)"},
      {"\"ab\" like \"a*\\*b**\"", "(like \"ab\" \"a\" * \"*b\" * *)"},
      {"principal.a[\"b c\"].contains(1)", "(contains (. (. principal \"a\") \"b c\") 1)"},
      {"ip(\"10.0.0.1\").isInRange(ip(\"10.0.0.0/8\"))",
       "(isInRange (ip \"10.0.0.1\") (ip \"10.0.0.0/8\"))"},
      {"[1, [2], {a: 1, \"b\": true},]", "[1 [2] {\"a\":1 \"b\":true}]"},
      {"A :: B :: \"\\u{e9}\\x41\\n\"", "A::B::\"\xc3\xa9"
                                        "A\n\""},
      {"principal.principal in action", "(in (. principal \"principal\") action)"},
      {"{principal: 1}", "{\"principal\":1}"},
      {"permit::\"x\" == 007", "(== permit::\"x\" 7)"},
      {"(1 < 2) == true", "(== (< 1 2) true)"},
      {"decimal(\"1.0\", 2)", "(decimal \"1.0\" 2)"},
  };
  int fails = 0;
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    if (!rows[i].want) continue;
    wd_arena *a = wd_arena_new(1u << 20);
    cedar_diags *d = cedar_diags_new();
    const cedar__expr *e = NULL;
    int rc = cedar__parse_expr(a, rows[i].src, strlen(rows[i].src), &e, d);
    if (rc != 0) {
      const cedar_diag *g = cedar_diags_get(d, 0);
      print_error("row %zu `%s`: rc %d (%s)\n", i, rows[i].src, rc, g ? g->msg : "");
      fails++;
    } else {
      wd_buf b;
      wd_buf_init(&b, 1u << 16);
      sexp(&b, e);
      if (strcmp(wd_buf_str(&b), rows[i].want) != 0) {
        print_error("row %zu `%s`:\n  got  %s\n  want %s\n", i, rows[i].src, wd_buf_str(&b),
                    rows[i].want);
        fails++;
      }
      wd_buf_free(&b);
    }
    cedar_diags_free(d);
    wd_arena_free(a);
  }
  assert_int_equal(fails, 0);
}

/* ---- errors ------------------------------------------------------------- */

#define P "permit(principal, action, resource) "

static void errors_name_position_and_cause(void **state) {
  (void)state;
  static const struct {
    const char *src;
    uint32_t line, col;
    const char *msg; /* a substring of the first diagnostic */
  } rows[] = {
      {P "when { 1 < 2 < 3 };", 1, 50, "do not chain"},
      {P "when { -----1 };", 1, 48, "too many occurrences of `-`"},
      {P "when { 9223372036854775808 };", 1, 44,
       "integer literal `9223372036854775808` is too large"},
      {P "when { principal.if };", 1, 54, "`if` is a reserved word"},
      {P "when { {a: 1, a: 2} };", 1, 51, "duplicate key `a`"},
      {P "when { \"\\q\" };", 1, 45, "invalid escape `\\q`"},
      {P "when { \"\\u{D800}\" };", 1, 45, "invalid escape `\\u{D800}`"},
      {P "when { principal.foo() };", 1, 54, "`foo` is not a valid method"},
      {P "when { ipaddr::ip(\"1.2.3.4\") };", 1, 44, "`ipaddr::ip` is not a valid function"},
      {P "when { contains(1) };", 1, 44, "`contains` is a method, not a function"},
      {P "when { [].contains() };", 1, 47, "requires exactly 1 argument, but got 0"},
      {P "when { foo };", 1, 44, "invalid variable `foo`"},
      {P "when { ?principal };", 1, 44, "template slot `?principal`"},
      {P "when { };", 1, 37, "`when` condition cannot be empty"},
      {P "where { true };", 1, 37, "invalid policy condition `where`"},
      {"permit(principal, action, resource\n  when { true };", 2, 3,
       "expected `)` after the resource constraint, found `when`"},
      {"permit(principal, action);", 1, 25, "missing the `resource` variable"},
      {"permit(action, principal, resource);", 1, 8, "expected `principal`"},
      {"permit(principal in [A::\"a\"], action, resource);", 1, 21, "set of entity uids"},
      {"permit(principal == ?resource, action, resource);", 1, 21, "found `?resource`"},
      {"permit(principal, action in Foo::\"a\", resource);", 1, 29, "type `Action`"},
      {"permit(principal, action is Action, resource);", 1, 26, "`is` cannot appear"},
      {"@id(\"a\") @id(\"b\") permit(principal, action, resource);", 1, 11,
       "duplicate annotation `@id`"},
      {"PERMIT(principal, action, resource);", 1, 1, "expected `permit` or `forbid`"},
      {"permit(principal, action, resource)", 1, 36, "found end of input"},
      {P "when { \"abc };", 1, 44, "unterminated string"},
      {P "when { 1 # 2 };", 1, 46, "unexpected character `#`"},
      {"permit(principal,\n action,\n resource) when { \"\xff\" };", 3, 20, "invalid UTF-8"},
      {P "when { principal is A::\"x\" };", 1, 57, "entity type name"},
      {P "when { 1 + if true then 1 else 2 };", 1, 48, "`if` expression must be parenthesized"},
  };
  int fails = 0;
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    wd_arena *a = wd_arena_new(1u << 20);
    cedar_diags *d = cedar_diags_new();
    cedar__policy **ps = NULL;
    uint32_t n = 0;
    int rc = cedar__parse_policies(a, rows[i].src, strlen(rows[i].src), 0, &ps, &n, d);
    const cedar_diag *g = cedar_diags_get(d, 0);
    if (rc != -WD_E_PARSE || !g) {
      print_error("row %zu `%s`: rc %d, %zu diagnostics\n", i, rows[i].src, rc,
                  cedar_diags_count(d));
      fails++;
    } else if (g->line != rows[i].line || g->col != rows[i].col || !strstr(g->msg, rows[i].msg)) {
      print_error("row %zu `%s`:\n  got  %u:%u %s\n  want %u:%u ...%s...\n", i, rows[i].src,
                  g->line, g->col, g->msg, rows[i].line, rows[i].col, rows[i].msg);
      fails++;
    }
    cedar_diags_free(d);
    wd_arena_free(a);
  }
  assert_int_equal(fails, 0);
}

static void every_broken_policy_is_reported(void **state) {
  (void)state;
  const char *src = P "when { 1 < 2 < 3 };\n"       /* error */
      P ";\n"                                       /* fine */
                      "permit(principal, action,\n" /* error: unclosed ( */
                      "  resource) when { (1 + };\n"
                      "@id(\"x\") " P "when { # };\n"                                  /* error */
                      "forbid(principal, action, resource) unless { principal.if };\n" /* error */
      P ";\n";                                                                         /* fine */
  wd_arena *a = wd_arena_new(1u << 20);
  cedar_diags *d = cedar_diags_new();
  cedar__policy **ps = NULL;
  uint32_t n = 0;
  assert_int_equal(cedar__parse_policies(a, src, strlen(src), 0, &ps, &n, d), -WD_E_PARSE);
  assert_int_equal(cedar_diags_count(d), 4);
  static const uint32_t lines[] = {1, 4, 5, 6};
  for (size_t i = 0; i < 4; i++)
    assert_int_equal(cedar_diags_get(d, i)->line, lines[i]);
  cedar_diags_free(d);
  wd_arena_free(a);
}

/* ---- policies ------------------------------------------------------------- */

static void ids_scopes_and_templates(void **state) {
  (void)state;
  const char *src =
      "// a comment\n"
      "@id(\"first\") @advice(\"a \\\"b\\\"\") @flag\n"
      "permit(principal == User::\"alice\", action in [Action::\"r\", NS::Action::\"w\",],"
      " resource is Photo in Album::\"a\") when { true } unless { false };\n"
      "forbid(principal is User in ?principal, action == Action::\"x\", resource in ?resource);\n"
      "permit(principal, action, resource == (Doc::\"d\"),);\n";
  wd_arena *a = wd_arena_new(1u << 20);
  cedar_diags *d = cedar_diags_new();
  cedar__policy **ps = NULL;
  uint32_t n = 0;
  assert_int_equal(cedar__parse_policies(a, src, strlen(src), 7, &ps, &n, d), 0);
  assert_int_equal(n, 3);
  assert_true(cedar__str_eq(ps[0]->id, cedar__cstr("first")));
  assert_true(cedar__str_eq(ps[1]->id, cedar__cstr("policy8")));
  assert_true(cedar__str_eq(ps[2]->id, cedar__cstr("policy9")));
  assert_int_equal(ps[0]->nannots, 3);
  assert_true(cedar__str_eq(ps[0]->annots[1].val, cedar__cstr("a \"b\"")));
  assert_int_equal(ps[0]->annots[2].has_val, 0);
  assert_int_equal(ps[0]->principal.kind, CEDAR__SC_EQ);
  assert_true(cedar__str_eq(ps[0]->principal.uid->id, cedar__cstr("alice")));
  assert_int_equal(ps[0]->action.kind, CEDAR__SC_IN_SET);
  assert_int_equal(ps[0]->action.nuids, 2);
  assert_true(cedar__str_eq(ps[0]->action.uids[1]->type, cedar__cstr("NS::Action")));
  assert_int_equal(ps[0]->resource.kind, CEDAR__SC_IS_IN);
  assert_true(cedar__str_eq(ps[0]->resource.type, cedar__cstr("Photo")));
  assert_int_equal(ps[0]->nconds, 2);
  assert_int_equal(ps[0]->conds[1].is_when, 0);
  assert_int_equal(ps[0]->is_template, 0);
  assert_int_equal(ps[1]->effect, CEDAR__FORBID);
  assert_int_equal(ps[1]->is_template, 1);
  assert_int_equal(ps[1]->principal.kind, CEDAR__SC_IS_IN);
  assert_int_equal(ps[1]->principal.slot, CEDAR__SLOT_PRINCIPAL);
  assert_int_equal(ps[1]->resource.kind, CEDAR__SC_IN);
  assert_int_equal(ps[1]->resource.slot, CEDAR__SLOT_RESOURCE);
  assert_int_equal(ps[2]->resource.kind, CEDAR__SC_EQ);
  assert_int_equal(ps[2]->principal.kind, CEDAR__SC_ANY);
  /* spans cover the policy text */
  assert_memory_equal(src + ps[2]->off, "permit(", 7);
  assert_int_equal(src[ps[2]->off + ps[2]->len - 1], ';');
  cedar_diags_free(d);
  wd_arena_free(a);
}

static void uids_strings_and_patterns(void **state) {
  (void)state;
  wd_arena *a = wd_arena_new(1u << 20);
  cedar_diags *d = cedar_diags_new();
  const cedar__uid *u = NULL;
  assert_int_equal(cedar__parse_uid(a, "Ns::User::\"al\\u{69}ce\"", 22, &u, d), 0);
  assert_true(cedar__str_eq(u->type, cedar__cstr("Ns::User")));
  assert_true(cedar__str_eq(u->id, cedar__cstr("alice")));
  assert_int_equal(cedar__parse_uid(a, "User", 4, &u, d), -WD_E_PARSE);
  assert_int_equal(cedar__parse_uid(a, "User::\"a\" x", 11, &u, d), -WD_E_PARSE);

  static const struct {
    const char *in;
    size_t inlen;
    const char *out;
    size_t outlen;
    int bad; /* -1 when valid, else the offending offset */
  } rows[] = {
      {"a\\n\\r\\t\\\\\\0\\'\\\"", 15, "a\n\r\t\\\0'\"", 8, -1},
      {"\\u{1F600}", 9, "\xf0\x9f\x98\x80", 4, -1},
      {"\\u{1_0}", 7, "\x10", 1, -1},
      {"\\x7f", 4, "\x7f", 1, -1},
      {"ab\\x80", 6, NULL, 0, 2},
      {"\\u{110000}", 10, NULL, 0, 0},
      {"x\\u{}", 5, NULL, 0, 1},
      {"\\u{0000041}", 11, NULL, 0, 0},
      {"\\*", 2, NULL, 0, 0},
      {"\\", 1, NULL, 0, 0},
  };
  int fails = 0;
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    cedar__str out = {0};
    uint32_t bad = 99;
    int rc = cedar__unescape(a, rows[i].in, rows[i].inlen, &out, &bad);
    int ok = rows[i].bad < 0
                 ? (rc == 0 && out.n == rows[i].outlen && memcmp(out.p, rows[i].out, out.n) == 0)
                 : (rc == -WD_E_PARSE && bad == (uint32_t)rows[i].bad);
    if (!ok) {
      print_error("unescape row %zu: rc %d bad %u n %u\n", i, rc, bad, out.n);
      fails++;
    }
  }
  const cedar__patelem *pe = NULL;
  uint32_t np = 0, bad = 0;
  assert_int_equal(cedar__parse_pattern(a, "*a\\*b**", 7, &pe, &np, &bad), 0);
  assert_int_equal(np, 4);
  assert_true(pe[0].wild && !pe[1].wild && pe[2].wild && pe[3].wild);
  assert_true(cedar__str_eq(pe[1].lit, cedar__cstr("a*b")));
  assert_int_equal(cedar__parse_pattern(a, "a\\q", 3, &pe, &np, &bad), -WD_E_PARSE);
  assert_int_equal(bad, 1);
  assert_int_equal(fails, 0);
  cedar_diags_free(d);
  wd_arena_free(a);
}

static void nesting_is_limited(void **state) {
  (void)state;
  size_t deep = WD_LIMIT_EXPR_DEPTH + 10;
  char *src = wd_malloc(2 * deep + 2);
  assert_non_null(src);
  memset(src, '(', deep);
  src[deep] = '1';
  memset(src + deep + 1, ')', deep);
  wd_arena *a = wd_arena_new(1u << 24);
  cedar_diags *d = cedar_diags_new();
  const cedar__expr *e = NULL;
  assert_int_not_equal(cedar__parse_expr(a, src, 2 * deep + 1, &e, d), 0);
  assert_non_null(strstr(cedar_diags_get(d, 0)->msg, "nested too deeply"));
  /* just under the limit is fine */
  size_t ok = WD_LIMIT_EXPR_DEPTH - 2;
  cedar_diags_clear(d);
  assert_int_equal(cedar__parse_expr(a, src + (deep - ok), 2 * ok + 1, &e, d), 0);
  cedar_diags_free(d);
  wd_arena_free(a);
  wd_free(src);
}

/* "<head>" + first + n times sep+term + "<tail>", in b. */
static void chain(wd_buf *b, const char *head, const char *first, const char *sep, const char *term,
                  size_t n, const char *tail) {
  wd_buf_init(b, WD_LIMIT_BUF_DEFAULT);
  put(b, head);
  put(b, first);
  for (size_t i = 0; i < n; i++) {
    put(b, sep);
    put(b, term);
  }
  put(b, tail);
}

/* Chains are built in loops, not by recursion, so only the height of the
 * tree they make can stop one the evaluator could never walk. */
static void tall_chains_are_refused(void **state) {
  (void)state;
  static const char HEAD[] = "permit(principal, action, resource)\nwhen {\n  ";
  static const struct {
    const char *first, *sep, *term;
    size_t n;
  } rows[] = {
      {"true", " && ", "true", 99999},  {"false", " || ", "true", 99999},
      {"1", " + ", "1", 99999},         {"1", " * ", "2", 99999},
      {"context", ".", "a", 99999},     {"context", "[", "\"a\"]", 99999},
      {"[1]", ".", "isEmpty()", 99999}, {"context has a", ".", "a", 99999},
  };
  int fails = 0;
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    wd_buf b;
    chain(&b, HEAD, rows[i].first, rows[i].sep, rows[i].term, rows[i].n, "\n};\n");
    wd_arena *a = wd_arena_new(WD_LIMIT_POLICYSET_BYTES);
    cedar_diags *d = cedar_diags_new();
    cedar__policy **ps = NULL;
    uint32_t n = 0;
    int rc = cedar__parse_policies(a, wd_buf_str(&b), wd_buf_len(&b), 0, &ps, &n, d);
    const cedar_diag *g = cedar_diags_count(d) ? cedar_diags_get(d, 0) : NULL;
    char want[64];
    snprintf(want, sizeof want, "nested too deeply (limit %u levels", WD_LIMIT_EXPR_HEIGHT);
    if (rc != -WD_E_PARSE || !g || !strstr(g->msg, want) || g->code != -WD_E_TOOBIG ||
        g->line != 3 || g->col != 3 || g->off != sizeof HEAD - 1) {
      print_error("row %zu (%s%s%s...): rc %d, %u:%u %s\n", i, rows[i].first, rows[i].sep,
                  rows[i].term, rc, g ? g->line : 0, g ? g->col : 0, g ? g->msg : "(none)");
      fails++;
    }
    cedar_diags_free(d);
    wd_arena_free(a);
    wd_buf_free(&b);
  }
  assert_int_equal(fails, 0);
}

/* The limit counts levels of the tree: a chain of n operands is n tall. */
static void chain_height_boundary(void **state) {
  (void)state;
  wd_arena *a = wd_arena_new(WD_LIMIT_POLICYSET_BYTES);
  cedar_diags *d = cedar_diags_new();
  const cedar__expr *e = NULL;
  wd_buf b;
  chain(&b, "", "1", " - ", "1", WD_LIMIT_EXPR_HEIGHT - 1, "");
  assert_int_equal(cedar__parse_expr(a, wd_buf_str(&b), wd_buf_len(&b), &e, d), 0);
  assert_int_equal(e->height, WD_LIMIT_EXPR_HEIGHT);
  wd_buf_free(&b);
  chain(&b, "", "1", " - ", "1", WD_LIMIT_EXPR_HEIGHT, "");
  assert_int_equal(cedar__parse_expr(a, wd_buf_str(&b), wd_buf_len(&b), &e, d), -WD_E_PARSE);
  assert_non_null(strstr(cedar_diags_get(d, 0)->msg, "nested too deeply"));
  wd_buf_free(&b);
  /* A node is one above its tallest child, whatever the kinds: here the
   * else branch (five operands) is taller than the others (four levels). */
  cedar_diags_clear(d);
  const char *mix = "if [[1]].isEmpty() then {a: -context.y} else 1 + 2 + 3 + 4 + 5";
  assert_int_equal(cedar__parse_expr(a, mix, strlen(mix), &e, d), 0);
  assert_int_equal(e->height, 6);
  assert_int_equal(e->u.op.a->height, 4);
  assert_int_equal(e->u.op.b->height, 4);
  cedar_diags_free(d);
  wd_arena_free(a);
}

static void allocation_failures_fail_cleanly(void **state) {
  (void)state;
  const char *src = "@id(\"x\") permit(principal == A::\"a\", action in [Action::\"b\"], resource)"
                    " when { [1, {a: \"b\"}].contains(principal.x) && context has a.b.c };";
  for (long k = 0; k < 40; k++) {
    wd_arena *a = wd_arena_new(1u << 20);
    cedar_diags *d = cedar_diags_new();
    if (!a || !d) {
      wd_arena_free(a);
      cedar_diags_free(d);
      continue;
    }
    cedar__policy **ps = NULL;
    uint32_t n = 0;
    wd_test_fail_alloc_after(k);
    int rc = cedar__parse_policies(a, src, strlen(src), 0, &ps, &n, d);
    wd_test_fail_alloc_after(-1);
    assert_true(rc == 0 || rc == -WD_E_NOMEM);
    if (rc == 0) assert_int_equal(n, 1);
    cedar_diags_free(d);
    wd_arena_free(a);
  }
}

/* Ad-hoc conformance: when the corpus is unpacked locally, all of it parses. */
static int parse_file(const char *path, const char *buf, size_t n, int fails) {
  (void)fails;
  wd_arena *a = wd_arena_new(1u << 26);
  cedar_diags *d = cedar_diags_new();
  cedar__policy **ps = NULL;
  uint32_t np = 0;
  int bad = cedar__parse_policies(a, buf, n, 0, &ps, &np, d) != 0;
  if (bad) {
    const cedar_diag *g = cedar_diags_get(d, 0);
    print_error("%s:%u:%u: %s\n", path, g ? g->line : 0, g ? g->col : 0, g ? g->msg : "");
  }
  cedar_diags_free(d);
  wd_arena_free(a);
  return bad;
}

static void corpus_parses_when_present(void **state) {
  (void)state;
  tu_corpus c = {".cedar", 1, WD_LIMIT_POLICY_TEXT_BYTES, parse_file, 0, 0};
  if (tu_corpus_walk_cit(&c) == 0) skip();
  assert_int_equal(c.fails, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(exprs_build_expected_trees),
      cmocka_unit_test(errors_name_position_and_cause),
      cmocka_unit_test(every_broken_policy_is_reported),
      cmocka_unit_test(ids_scopes_and_templates),
      cmocka_unit_test(uids_strings_and_patterns),
      cmocka_unit_test(nesting_is_limited),
      cmocka_unit_test(tall_chains_are_refused),
      cmocka_unit_test(chain_height_boundary),
      cmocka_unit_test(allocation_failures_fail_cleanly),
      cmocka_unit_test(corpus_parses_when_present),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
