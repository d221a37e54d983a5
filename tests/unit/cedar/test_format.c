/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for the canonical formatter (format.c, format_eq.c,
 * format_source.c): parse(format(p)) equals p, formatting is idempotent,
 * precedence gets exactly the parentheses it needs, comments survive
 * cedar_format_source, and every policy of the conformance corpus (when
 * /tmp/cit is present) round-trips.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "cedar/cedar_int.h"
#include "util/wd_alloc.h"
#include "test_util.h"

#define CORPUS_DIR "/tmp/cit/corpus-tests"

/* Formats every policy of src, separated by blank lines. Returns owned
 * text (wd_free) or NULL; *n gets the policy count. */
static char *format_all(wd_arena *a, const char *src, size_t len, cedar__policy ***ps,
                        uint32_t *n) {
  if (cedar__parse_policies(a, src, len, 0, ps, n, NULL) != 0) return NULL;
  wd_buf b;
  wd_buf_init(&b, WD_LIMIT_BUF_DEFAULT);
  int rc = 0;
  for (uint32_t i = 0; i < *n && rc == 0; i++) {
    if (i > 0) rc = wd_buf_adds(&b, "\n\n");
    if (rc == 0) rc = cedar__format_policy(&b, (*ps)[i]);
  }
  if (rc != 0) return NULL;
  return wd_buf_take(&b);
}

/* Returns NULL when src round-trips, else a static description. */
static const char *roundtrip(const char *src, size_t len, char **formatted) {
  static char why[160];
  wd_arena *a = wd_arena_new(WD_LIMIT_POLICYSET_BYTES);
  cedar__policy **p1 = NULL, **p2 = NULL;
  uint32_t n1 = 0, n2 = 0;
  const char *res = NULL;
  char *f1 = NULL, *f2 = NULL;
  if (!a) return "no memory";
  if (cedar__parse_policies(a, src, len, 0, &p1, &n1, NULL) != 0) {
    res = "input does not parse";
    goto out;
  }
  f1 = format_all(a, src, len, &p1, &n1);
  if (!f1) {
    res = "format failed";
    goto out;
  }
  f2 = format_all(a, f1, strlen(f1), &p2, &n2);
  if (!f2 || n2 != n1) {
    res = "formatted text does not parse";
    goto out;
  }
  for (uint32_t i = 0; i < n1; i++) {
    if (!cedar__policy_equal(p1[i], p2[i])) {
      snprintf(why, sizeof why, "policy %u differs after reparse", i);
      res = why;
      goto out;
    }
  }
  if (strcmp(f1, f2) != 0) res = "not idempotent";
out:
  if (formatted)
    *formatted = f1;
  else
    wd_free(f1);
  wd_free(f2);
  wd_arena_free(a);
  return res;
}

static void roundtrip_table(void **state) {
  (void)state;
  static const char *const rows[] = {
      "permit(principal, action, resource);",
      "forbid(principal == User::\"a\", action == Action::\"b\", resource in Folder::\"c\");",
      "permit(principal in ?principal, action in [Action::\"a\", NS::Action::\"b\"], "
      "resource == ?resource);",
      "permit(principal is User, action, resource is Doc in ?resource);",
      "@id(\"x\") @advice(\"a \\\"q\\\" \\n\") @flag permit(principal, action, resource);",
      "permit(principal, action, resource) when { 1 + 2 * 3 - (4 - 5) == -(6) };",
      "permit(principal, action, resource) when { (1 - 2) - 3 == 1 - (2 - 3) };",
      "permit(principal, action, resource) when { !(!true) && -(-3) == 3 && - -3 == 3 };",
      "permit(principal, action, resource) when { (-3).foo && -9223372036854775808 < 0 };",
      "permit(principal, action, resource) when { (context.a || context.b) && context.c || "
      "(context.d && (context.e || context.f)) };",
      "permit(principal, action, resource) when { (if true then 1 else 2) + 1 == 2 };",
      "permit(principal, action, resource) when { if true then if false then 1 else 2 else 3 };",
      "permit(principal, action, resource) when { (1 == 2) == (3 < 4) };",
      "permit(principal, action, resource) when { (principal is User) == true };",
      "permit(principal, action, resource) when { principal is User in Group::\"g\" };",
      "permit(principal, action, resource) when { context has a.b.c && context has \"x y\" };",
      "permit(principal, action, resource) when { context[\"if\"][\"x y\"].z has \"then\" };",
      "permit(principal, action, resource) when { context.s like \"a*b\\*c\\\\d\\\"\" };",
      "permit(principal, action, resource) when { \"\\0\\t\\r\\n\\u{1}\\u{7f}é\" == \"x\" };",
      "permit(principal, action, resource) when { [1, [2, {a: 3, \"b c\": [4]}]] == {} };",
      "permit(principal, action, resource) when { decimal(\"1.5\").lessThan(decimal(\"2\")) };",
      "permit(principal, action, resource) when { ip(\"10.0.0.1\").isInRange(ip(\"10.0.0.0/8\")) "
      "};",
      "permit(principal, action, resource) when { principal.getTag(\"t\") && "
      "resource.hasTag(\"u\") };",
      "permit(principal, action, resource) when { [1].contains(1) && [].isEmpty() };",
      "permit(principal, action, resource) when { (1 + 2).foo && (principal.a).b };",
      "permit(principal, action, resource) when { true } unless { false } when { 1 < 2 };",
      "permit(principal, action, resource) when { principal in [User::\"a\", User::\"b\"] };",
      "permit(principal, action, resource) when { !(context has a) && !(1 < 2) };",
      "permit(principal, action, resource) when { -(context.x) * -2 == 4 };",
      "permit(principal == NS::Very::Long::Namespace::User::\"a-very-long-identifier-here\", "
      "action == Action::\"read\", resource);",
      "permit(principal, action, resource) when { context.aaaaaaaaaa == 1 && "
      "context.bbbbbbbbbbbbb == 2 || context.ccccccccccccccc == 3 && context.dddddddddd };",
  };
  int fails = 0;
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    char *f = NULL;
    const char *why = roundtrip(rows[i], strlen(rows[i]), &f);
    if (why) {
      print_error("row %zu: %s\n  in:  %s\n  out: %s\n", i, why, rows[i], f ? f : "(none)");
      fails++;
    }
    wd_free(f);
  }
  assert_int_equal(fails, 0);
}

static void exact_output(void **state) {
  (void)state;
  static const struct {
    const char *in, *out;
  } rows[] = {
      {"permit(principal,action,resource);", "permit (principal, action, resource);"},
      {"permit(principal,action,resource) when {(1+2)*3 == 9};",
       "permit (principal, action, resource)\nwhen { (1 + 2) * 3 == 9 };"},
      {"@a(\"x\")@b forbid(principal,action,resource)unless{-(3)==1};",
       "@a(\"x\")\n@b\nforbid (principal, action, resource)\nunless { -(3) == 1 };"},
      {"permit(principal,action,resource) when { context[\"a\"][\"b c\"] && context has if };",
       NULL},
      {"permit(principal,action,resource) when { context[\"a\"][\"b c\"] };",
       "permit (principal, action, resource)\nwhen { context.a[\"b c\"] };"},
      {"permit(principal,action,resource) when { ((principal)) like \"*\\**\" };",
       "permit (principal, action, resource)\nwhen { principal like \"*\\**\" };"},
  };
  int fails = 0;
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    wd_arena *a = wd_arena_new(WD_LIMIT_POLICYSET_BYTES);
    cedar__policy **ps;
    uint32_t n;
    char *f = format_all(a, rows[i].in, strlen(rows[i].in), &ps, &n);
    if ((f == NULL) != (rows[i].out == NULL) || (f && strcmp(f, rows[i].out) != 0)) {
      print_error("row %zu:\n  got:  %s\n  want: %s\n", i, f ? f : "(error)",
                  rows[i].out ? rows[i].out : "(error)");
      fails++;
    }
    wd_free(f);
    wd_arena_free(a);
  }
  assert_int_equal(fails, 0);
}

static void hand_built_ast(void **state) {
  (void)state;
  /* NEG(LIT 3) must print "-(3)"; SUB(LIT 1, LIT -2) prints "1 - -2". */
  cedar__expr three = {.kind = CEDAR__X_LIT};
  three.u.lit.kind = CEDAR__V_LONG;
  three.u.lit.u.i = 3;
  cedar__expr neg = {.kind = CEDAR__X_NEG};
  neg.u.op.a = &three;
  cedar__expr m2 = three;
  m2.u.lit.u.i = -2;
  cedar__expr sub = {.kind = CEDAR__X_SUB};
  sub.u.op.a = &neg;
  sub.u.op.b = &m2;
  wd_buf b;
  wd_buf_init(&b, 1024);
  assert_int_equal(cedar__format_expr(&b, &sub), 0);
  assert_string_equal(wd_buf_str(&b), "-(3) - -2");
  assert_true(cedar__expr_equal(&sub, &sub));
  assert_false(cedar__expr_equal(&sub, &neg));
  wd_buf_free(&b);
}

/* Chains are printed in loops: the tallest one the parser accepts (the
 * + chain, then == and &&) round-trips. A taller one does not parse. */
static void long_chain_no_recursion(void **state) {
  (void)state;
  for (uint32_t extra = 0; extra < 2; extra++) {
    wd_buf b;
    wd_buf_init(&b, WD_LIMIT_BUF_DEFAULT);
    assert_int_equal(wd_buf_adds(&b, "permit(principal, action, resource) when { 1"), 0);
    for (uint32_t i = 0; i < WD_LIMIT_EXPR_HEIGHT - 3 + extra; i++)
      assert_int_equal(wd_buf_adds(&b, " + 1"), 0);
    assert_int_equal(wd_buf_adds(&b, " == 0 && context.a.b.c };"), 0);
    const char *why = roundtrip(wd_buf_str(&b), wd_buf_len(&b), NULL);
    if (extra == 0 && why) print_error("%s\n", why);
    if (extra == 0)
      assert_null(why);
    else
      assert_string_equal(why, "input does not parse");
    wd_buf_free(&b);
  }
}

static void source_keeps_comments(void **state) {
  (void)state;
  static const struct {
    const char *in, *out;
  } rows[] = {
      {"// head\npermit(principal,action,resource); // same line\n// tail\n",
       "// head\npermit (principal, action, resource); // same line\n// tail\n"},
      {"// a\n@id(\"p\") // on annotation\npermit(principal, // inside\naction,resource);\n"
       "\n\n// b\nforbid(principal,action,resource);",
       "// a\n// on annotation\n// inside\n@id(\"p\")\npermit (principal, action, resource);\n"
       "\n// b\nforbid (principal, action, resource);\n"},
      {"permit(principal,action,resource) when { \"// not a comment\" == \"x\" };",
       "permit (principal, action, resource)\nwhen { \"// not a comment\" == \"x\" };\n"},
      {"// only a comment\n", "// only a comment\n"},
      {"", ""},
  };
  int fails = 0;
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    char *out = NULL, *again = NULL;
    int rc = cedar_format_source(rows[i].in, strlen(rows[i].in), &out, NULL);
    if (rc != 0 || strcmp(out, rows[i].out) != 0) {
      print_error("row %zu: rc %d\n  got:  [%s]\n  want: [%s]\n", i, rc, out ? out : "",
                  rows[i].out);
      fails++;
    } else if (cedar_format_source(out, strlen(out), &again, NULL) != 0 ||
               strcmp(out, again) != 0) {
      print_error("row %zu: not idempotent: [%s]\n", i, again ? again : "");
      fails++;
    }
    cedar_free(out);
    cedar_free(again);
  }
  assert_int_equal(fails, 0);
}

static void source_reports_errors(void **state) {
  (void)state;
  cedar_diags *d = cedar_diags_new();
  char *out = NULL;
  const char *src = "permit(principal, action, resource) when { 1 + };";
  assert_int_equal(cedar_format_source(src, strlen(src), &out, d), -WD_E_PARSE);
  assert_null(out);
  assert_true(cedar_diags_count(d) > 0);
  cedar_diags_free(d);
}

static void policyset_format_order(void **state) {
  (void)state;
  const char *src = "permit(principal == ?principal, action, resource);\n"
                    "forbid(principal, action, resource);";
  cedar_policyset *ps = NULL;
  assert_int_equal(cedar_policyset_parse(src, strlen(src), &ps, NULL), 0);
  char *out = NULL;
  assert_int_equal(cedar_policyset_format(ps, &out), 0);
  assert_string_equal(out, "permit (principal == ?principal, action, resource);\n\n"
                           "forbid (principal, action, resource);\n");
  cedar_free(out);
  cedar_policyset_unref(ps);
}

static int corpus_check(const char *path, const char *src, size_t n, int fails) {
  const char *why = roundtrip(src, n, NULL);
  if (!why || strcmp(why, "input does not parse") == 0) return 0;
  if (fails < 20) print_error("%s: %s\n", path, why);
  return 1;
}

static void corpus_roundtrip(void **state) {
  (void)state;
  tu_corpus c = {".cedar", 0, WD_LIMIT_POLICY_TEXT_BYTES, corpus_check, 0, 0};
  if (tu_corpus_walk(&c, CORPUS_DIR) < 0) skip();
  print_message("corpus: %d files\n", c.seen);
  assert_int_equal(c.fails, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(roundtrip_table),        cmocka_unit_test(exact_output),
      cmocka_unit_test(hand_built_ast),         cmocka_unit_test(long_chain_no_recursion),
      cmocka_unit_test(source_keeps_comments),  cmocka_unit_test(source_reports_errors),
      cmocka_unit_test(policyset_format_order), cmocka_unit_test(corpus_roundtrip),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
