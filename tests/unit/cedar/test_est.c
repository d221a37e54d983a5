/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for the JSON policy format (est.c, est_read.c, est_doc.c):
 * policy -> EST -> policy is the identity, documents of both shapes load
 * into a builder, errors name their JSON path, and every corpus policy
 * (when /tmp/cit is present) round-trips through EST.
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

/* NULL when every policy of src survives text -> EST -> AST. */
static const char *est_roundtrip(const char *src, size_t len) {
  static char why[128];
  wd_arena *a = wd_arena_new(WD_LIMIT_POLICYSET_BYTES);
  cedar__policy **ps = NULL;
  uint32_t n = 0;
  const char *res = NULL;
  if (!a) return "no memory";
  if (cedar__parse_policies(a, src, len, 0, &ps, &n, NULL) != 0) {
    wd_arena_free(a);
    return "input does not parse";
  }
  for (uint32_t i = 0; i < n && !res; i++) {
    json_t *j = cedar__est_from_policy(ps[i]);
    cedar__policy *q = NULL;
    if (!j) {
      snprintf(why, sizeof why, "policy %u: no EST", i);
      res = why;
    } else if (cedar__est_to_policy(a, j, "p", &q, NULL) != 0) {
      snprintf(why, sizeof why, "policy %u: EST does not read back", i);
      res = why;
    } else {
      q->id = ps[i]->id;
      if (!cedar__policy_equal(ps[i], q)) {
        snprintf(why, sizeof why, "policy %u: differs after EST", i);
        res = why;
      }
    }
    json_decref(j);
  }
  wd_arena_free(a);
  return res;
}

static void roundtrip_table(void **state) {
  (void)state;
  static const char *const rows[] = {
      "permit(principal, action, resource);",
      "@id(\"x\") @flag forbid(principal == User::\"a\", action == Action::\"b\", "
      "resource in Folder::\"c\");",
      "permit(principal in ?principal, action in [Action::\"a\", NS::Action::\"b\"], "
      "resource is Doc in ?resource);",
      "permit(principal is User, action in [Action::\"one\"], resource) "
      "when { context has a.b && context.s like \"a*\\*é\" } unless { -(3) == -3 };",
      "permit(principal, action, resource) when { if principal is A in B::\"c\" then "
      "[1, {a: \"x\", \"b c\": true}] else decimal(\"1.0\").lessThan(decimal(\"2.0\")) };",
      "permit(principal, action, resource) when { [1].contains(2) && [].isEmpty() && "
      "principal.getTag(\"t\") && resource.hasTag(\"u\") && [1].containsAll([2]) };",
      "permit(principal, action, resource) when { ip(\"1.2.3.4\").isInRange(ip(\"1.0.0.0/8\")) "
      "&& datetime(\"2020-01-01\").offset(duration(\"1d\")) > datetime(\"2020-01-01\") };",
      "permit(principal, action, resource) when { {\"\\0k\": 1}[\"\\0k\"] == 1 };",
  };
  int fails = 0;
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    const char *why = est_roundtrip(rows[i], strlen(rows[i]));
    if (why) {
      print_error("row %zu: %s\n  %s\n", i, why, rows[i]);
      fails++;
    }
  }
  assert_int_equal(fails, 0);
}

static void add_single_and_set(void **state) {
  (void)state;
  static const char single[] =
      "{\"effect\":\"permit\",\"principal\":{\"op\":\"All\"},\"action\":{\"op\":\"All\"},"
      "\"resource\":{\"op\":\"All\"},\"conditions\":[{\"kind\":\"when\",\"body\":"
      "{\"has\":{\"left\":{\"Var\":\"context\"},\"attr\":[\"a\",\"b\"]}}}]}";
  static const char set[] =
      "{\"staticPolicies\":{\"s1\":{\"effect\":\"forbid\",\"principal\":{\"op\":\"All\"},"
      "\"action\":{\"op\":\"All\"},\"resource\":{\"op\":\"All\"},\"conditions\":[],"
      "\"annotations\":{\"k\":\"v\",\"f\":null}}},"
      "\"templates\":{\"t1\":{\"effect\":\"permit\",\"principal\":{\"op\":\"==\","
      "\"slot\":\"?principal\"},\"action\":{\"op\":\"All\"},\"resource\":{\"op\":\"All\"},"
      "\"conditions\":[]}},"
      "\"templateLinks\":[{\"templateId\":\"t1\",\"newId\":\"l1\",\"values\":"
      "{\"?principal\":{\"type\":\"User\",\"id\":\"a\\\"b\"}}}]}";
  cedar_psbuilder *b = cedar_psbuilder_new();
  cedar_diags *d = cedar_diags_new();
  assert_int_equal(cedar_psbuilder_add_est(b, single, strlen(single), d), 0);
  assert_int_equal(cedar_psbuilder_add_est(b, set, strlen(set), d), 0);
  cedar_policyset *ps = NULL;
  assert_int_equal(cedar_psbuilder_build(b, &ps), 0);
  assert_int_equal(cedar_policyset_count(ps), 3);
  assert_string_equal(cedar_policyset_annotation(ps, "s1", "k"), "v");

  char *text = NULL, *est = NULL;
  assert_int_equal(cedar_policyset_format(ps, &text), 0);
  assert_non_null(strstr(text, "when { context has a && context.a has b }"));
  assert_non_null(strstr(text, "permit (principal == ?principal, action, resource);"));
  assert_int_equal(cedar_policyset_to_est(ps, &est), 0);
  assert_non_null(strstr(est,
                         "\"templateLinks\":[{\"templateId\":\"t1\",\"newId\":\"l1\","
                         "\"values\":{\"?principal\":{\"type\":\"User\",\"id\":\"a\\\"b\"}}}]"));

  /* The set's own EST loads back into an equivalent set. */
  cedar_policyset *ps2 = NULL;
  char *est2 = NULL;
  assert_int_equal(cedar_psbuilder_add_est(b, est, strlen(est), d), 0);
  assert_int_equal(cedar_psbuilder_build(b, &ps2), 0);
  assert_int_equal(cedar_policyset_to_est(ps2, &est2), 0);
  assert_string_equal(est, est2);
  cedar_free(text);
  cedar_free(est);
  cedar_free(est2);
  cedar_policyset_unref(ps);
  cedar_policyset_unref(ps2);
  cedar_diags_free(d);
  cedar_psbuilder_free(b);
}

static void errors_name_path(void **state) {
  (void)state;
  static const struct {
    const char *json, *want;
  } rows[] = {
      {"{\"effect\":\"allow\",\"principal\":{\"op\":\"All\"},\"action\":{\"op\":\"All\"},"
       "\"resource\":{\"op\":\"All\"}}",
       "(root): `effect` must be"},
      {"{\"staticPolicies\":{\"p\":{\"effect\":\"permit\",\"principal\":{\"op\":\"All\"},"
       "\"action\":{\"op\":\"All\"},\"resource\":{\"op\":\"All\"},\"conditions\":[{\"kind\":"
       "\"when\",\"body\":{\"&&\":{\"left\":{\"Value\":true},\"right\":{\"&\":[]}}}}]}}}",
       "staticPolicies.p.conditions[0].body.&&.right.&: unknown operator"},
      {"{\"effect\":\"permit\",\"principal\":{\"op\":\"==\",\"slot\":\"?resource\"},"
       "\"action\":{\"op\":\"All\"},\"resource\":{\"op\":\"All\"}}",
       ".principal: the slot here must be `?principal`"},
      {"{\"effect\":\"permit\",\"principal\":{\"op\":\"All\"},\"action\":{\"op\":\"==\","
       "\"entity\":{\"type\":\"User\",\"id\":\"a\"}},\"resource\":{\"op\":\"All\"}}",
       ".action: action uids must have type Action"},
      {"{\"effect\":\"permit\",\"principal\":{\"op\":\"All\"},\"action\":{\"op\":\"All\"},"
       "\"resource\":{\"op\":\"All\"},\"conditions\":[{\"kind\":\"when\",\"body\":"
       "{\"Value\":1.5}}]}",
       ".conditions[0].body.Value: expected a Cedar value"},
      {"{\"effect\":", "end of file"},
      {"{\"staticPolicies\":{\"p\":{\"effect\":\"permit\",\"principal\":{\"op\":\"==\","
       "\"slot\":\"?principal\"},\"action\":{\"op\":\"All\"},\"resource\":{\"op\":\"All\"}}}}",
       "staticPolicies.p: a static policy cannot have slots"},
  };
  int fails = 0;
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    cedar_psbuilder *b = cedar_psbuilder_new();
    cedar_diags *d = cedar_diags_new();
    int rc = cedar_psbuilder_add_est(b, rows[i].json, strlen(rows[i].json), d);
    const cedar_diag *g = cedar_diags_get(d, 0);
    if (rc != -WD_E_PARSE || !g || !strstr(g->msg, rows[i].want)) {
      print_error("row %zu: rc %d msg [%s], want [%s]\n", i, rc, g ? g->msg : "", rows[i].want);
      fails++;
    }
    cedar_diags_free(d);
    cedar_psbuilder_free(b);
  }
  assert_int_equal(fails, 0);
}

/* A policy whose condition is `first` then n times sep and term. */
static void chain_policy(wd_buf *b, const char *first, const char *sep, const char *term,
                         uint32_t n) {
  wd_buf_init(b, WD_LIMIT_BUF_DEFAULT);
  assert_int_equal(wd_buf_adds(b, "permit(principal, action, resource) when { "), 0);
  assert_int_equal(wd_buf_adds(b, first), 0);
  for (uint32_t i = 0; i < n; i++)
    assert_int_equal(wd_buf_addf(b, "%s%s", sep, term), 0);
  assert_int_equal(wd_buf_adds(b, " };"), 0);
}

/* An EST `has` over n attributes: a chain as tall as n + 2. */
static void has_est(wd_buf *b, uint32_t n) {
  wd_buf_init(b, WD_LIMIT_BUF_DEFAULT);
  assert_int_equal(wd_buf_adds(b, "{\"effect\":\"permit\",\"principal\":{\"op\":\"All\"},"
                                  "\"action\":{\"op\":\"All\"},\"resource\":{\"op\":\"All\"},"
                                  "\"conditions\":[{\"kind\":\"when\",\"body\":{\"has\":{"
                                  "\"left\":{\"Var\":\"context\"},\"attr\":[\"a\""),
                   0);
  for (uint32_t i = 1; i < n; i++)
    assert_int_equal(wd_buf_adds(b, ",\"a\""), 0);
  assert_int_equal(wd_buf_adds(b, "]}}}]}"), 0);
}

static void tall_trees(void **state) {
  (void)state;
  /* The tallest tree the parser takes converts, and reads back the same,
   * in a whole policy set's document too (within jansson's nesting). */
  wd_buf b;
  chain_policy(&b, "1", " + ", "1", WD_LIMIT_EXPR_HEIGHT - 2);
  wd_arena *a = wd_arena_new(WD_LIMIT_POLICYSET_BYTES);
  cedar__policy **ps = NULL;
  uint32_t n = 0;
  assert_int_equal(cedar__parse_policies(a, wd_buf_str(&b), wd_buf_len(&b), 0, &ps, &n, NULL), 0);
  assert_int_equal(ps[0]->conds[0].e->height, WD_LIMIT_EXPR_HEIGHT - 1);
  json_t *j = cedar__est_from_policy(ps[0]);
  assert_non_null(j);
  json_decref(j);
  wd_arena_free(a);
  assert_null(est_roundtrip(wd_buf_str(&b), wd_buf_len(&b)));
  cedar_policyset *set = NULL;
  char *doc = NULL;
  assert_int_equal(cedar_policyset_parse(wd_buf_str(&b), wd_buf_len(&b), &set, NULL), 0);
  assert_int_equal(cedar_policyset_to_est(set, &doc), 0);
  cedar_psbuilder *back = cedar_psbuilder_new();
  assert_int_equal(cedar_psbuilder_add_est(back, doc, strlen(doc), NULL), 0);
  cedar_psbuilder_free(back);
  cedar_free(doc);
  cedar_policyset_unref(set);
  wd_buf_free(&b);
  chain_policy(&b, "context", ".", "a", WD_LIMIT_EXPR_DEPTH / 2);
  assert_null(est_roundtrip(wd_buf_str(&b), wd_buf_len(&b)));
  wd_buf_free(&b);

  /* `has` over a long path builds its chain in a loop, yet the tree it
   * makes obeys the parser's limit. */
  for (uint32_t extra = 0; extra < 2; extra++) {
    has_est(&b, WD_LIMIT_EXPR_HEIGHT - 2 + extra);
    cedar_psbuilder *pb = cedar_psbuilder_new();
    cedar_diags *d = cedar_diags_new();
    int rc = cedar_psbuilder_add_est(pb, wd_buf_str(&b), wd_buf_len(&b), d);
    if (extra == 0) {
      assert_int_equal(rc, 0);
    } else {
      assert_int_equal(rc, -WD_E_PARSE);
      assert_non_null(strstr(cedar_diags_get(d, 0)->msg,
                             ".conditions[0].body.has.attr: expression nested too deeply"));
    }
    cedar_diags_free(d);
    cedar_psbuilder_free(pb);
    wd_buf_free(&b);
  }
}

static int corpus_check(const char *path, const char *src, size_t n, int fails) {
  const char *why = est_roundtrip(src, n);
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
      cmocka_unit_test(roundtrip_table),  cmocka_unit_test(add_single_and_set),
      cmocka_unit_test(errors_name_path), cmocka_unit_test(tall_trees),
      cmocka_unit_test(corpus_roundtrip),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
