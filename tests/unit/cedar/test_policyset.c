/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for policy sets: default and @id ids across several
 * add_text calls, all-or-nothing adds, duplicate ids, template linking
 * and its errors, annotations, reference counting, and where each
 * policy starts in its text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "cedar/cedar_int.h"

static int add(cedar_psbuilder *b, const char *s) {
  return cedar_psbuilder_add_text(b, s, strlen(s), NULL);
}

static void ids_and_annotations(void **state) {
  (void)state;
  cedar_psbuilder *b = cedar_psbuilder_new();
  assert_non_null(b);
  assert_int_equal(add(b,
                       "permit(principal, action, resource);\n"
                       "@id(\"named\") @owner(\"ops\") @flag forbid(principal, action, resource);"),
                   0);
  assert_int_equal(add(b, "permit(principal, action, resource);"), 0);
  cedar_policyset *ps = NULL;
  assert_int_equal(cedar_psbuilder_build(b, &ps), 0);
  assert_int_equal(cedar_policyset_count(ps), 3);
  assert_string_equal(cedar_policyset_policy_id(ps, 0), "policy0");
  assert_string_equal(cedar_policyset_policy_id(ps, 1), "named");
  assert_string_equal(cedar_policyset_policy_id(ps, 2), "policy2");
  assert_null(cedar_policyset_policy_id(ps, 3));
  assert_string_equal(cedar_policyset_annotation(ps, "named", "owner"), "ops");
  assert_string_equal(cedar_policyset_annotation(ps, "named", "flag"), "");
  assert_null(cedar_policyset_annotation(ps, "named", "nope"));
  assert_null(cedar_policyset_annotation(ps, "nope", "owner"));
  /* The builder is reusable and keeps numbering. */
  assert_int_equal(add(b, "permit(principal, action, resource);"), 0);
  cedar_policyset *ps2 = NULL;
  assert_int_equal(cedar_psbuilder_build(b, &ps2), 0);
  assert_int_equal(cedar_policyset_count(ps2), 1);
  assert_string_equal(cedar_policyset_policy_id(ps2, 0), "policy3");
  cedar_policyset_unref(ps2);
  cedar_policyset_unref(ps);
  cedar_psbuilder_free(b);
}

static void duplicates_add_nothing(void **state) {
  (void)state;
  cedar_psbuilder *b = cedar_psbuilder_new();
  cedar_diags *d = cedar_diags_new();
  assert_int_equal(add(b, "@id(\"x\") permit(principal, action, resource);"), 0);
  const char *dup =
      "permit(principal, action, resource); @id(\"x\") forbid(principal, action, resource);";
  assert_int_equal(cedar_psbuilder_add_text(b, dup, strlen(dup), d), -WD_E_PARSE);
  assert_true(cedar_diags_count(d) >= 1);
  const char *dup2 = "@id(\"y\") permit(principal, action, resource); @id(\"y\") permit(principal, "
                     "action, resource);";
  assert_int_equal(cedar_psbuilder_add_text(b, dup2, strlen(dup2), d), -WD_E_PARSE);
  cedar_policyset *ps = NULL;
  assert_int_equal(cedar_psbuilder_build(b, &ps), 0);
  assert_int_equal(cedar_policyset_count(ps), 1);
  cedar_policyset_unref(ps);
  cedar_diags_free(d);
  cedar_psbuilder_free(b);
}

static void linking(void **state) {
  (void)state;
  cedar_psbuilder *b = cedar_psbuilder_new();
  cedar_diags *d = cedar_diags_new();
  assert_int_equal(add(b,
                       "@id(\"t\") permit(principal == ?principal, action, resource in ?resource);"
                       "@id(\"tp\") permit(principal in ?principal, action, resource);"),
                   0);
  assert_int_equal(cedar_psbuilder_link(b, "t", "l1", "User::\"alice\"", "Folder::\"f\"", d), 0);
  assert_int_equal(cedar_psbuilder_link(b, "tp", "l2", "Group::\"g\"", NULL, d), 0);
  /* Errors: unknown template, taken id, missing slot, extra slot, a
   * static policy is not a template. */
  assert_int_not_equal(cedar_psbuilder_link(b, "nope", "l3", "User::\"a\"", NULL, d), 0);
  assert_int_not_equal(cedar_psbuilder_link(b, "t", "l1", "User::\"a\"", "Folder::\"f\"", d), 0);
  assert_int_not_equal(cedar_psbuilder_link(b, "t", "t", "User::\"a\"", "Folder::\"f\"", d), 0);
  assert_int_not_equal(cedar_psbuilder_link(b, "t", "l4", "User::\"a\"", NULL, d), 0);
  assert_int_not_equal(cedar_psbuilder_link(b, "tp", "l5", "Group::\"g\"", "Folder::\"f\"", d), 0);
  cedar_policyset *ps = NULL;
  assert_int_equal(cedar_psbuilder_build(b, &ps), 0);
  assert_int_equal(cedar_policyset_count(ps), 2); /* templates do not decide */
  assert_int_equal(ps->ntemplates, 2);
  assert_string_equal(cedar_policyset_policy_id(ps, 0), "l1");

  wd_arena *a = wd_arena_new(1u << 20);
  cedar_request rq;
  memset(&rq, 0, sizeof rq);
  rq.principal.kind = rq.action.kind = rq.resource.kind = CEDAR__V_ENTITY;
  rq.principal.u.uid = cedar__uid_new(a, cedar__cstr("User"), cedar__cstr("alice"));
  rq.action.u.uid = cedar__uid_new(a, cedar__cstr("Action"), cedar__cstr("read"));
  rq.resource.u.uid = cedar__uid_new(a, cedar__cstr("Folder"), cedar__cstr("f"));
  rq.context.kind = CEDAR__V_RECORD;
  cedar_response *r = NULL;
  assert_int_equal(cedar_authorize(ps, NULL, &rq, NULL, &r), 0);
  assert_int_equal(cedar_response_decision(r), CEDAR_ALLOW);
  assert_int_equal(cedar_response_reason_count(r), 1);
  assert_string_equal(cedar_response_reason(r, 0), "l1");
  cedar_response_free(r);
  rq.principal.u.uid = cedar__uid_new(a, cedar__cstr("User"), cedar__cstr("bob"));
  assert_int_equal(cedar_authorize(ps, NULL, &rq, NULL, &r), 0);
  assert_int_equal(cedar_response_decision(r), CEDAR_DENY);
  cedar_response_free(r);
  wd_arena_free(a);
  cedar_policyset_unref(ps);
  cedar_diags_free(d);
  cedar_psbuilder_free(b);
}

static void refcount(void **state) {
  (void)state;
  cedar_policyset *ps = NULL;
  assert_int_equal(cedar_policyset_parse("permit(principal, action, resource);", 36, &ps, NULL), 0);
  assert_ptr_equal(cedar_policyset_ref(ps), ps);
  cedar_policyset_unref(ps);
  assert_int_equal(cedar_policyset_count(ps), 1); /* still alive */
  cedar_policyset_unref(ps);
  cedar_policyset_unref(NULL);
  assert_null(cedar_policyset_ref(NULL));
}

static void parse_error_returns_parse(void **state) {
  (void)state;
  cedar_policyset *ps = NULL;
  cedar_diags *d = cedar_diags_new();
  assert_int_equal(cedar_policyset_parse("permit(", 7, &ps, d), -WD_E_PARSE);
  assert_null(ps);
  assert_true(cedar_diags_count(d) >= 1);
  cedar_diags_free(d);
}

/* Where each policy starts, from its first annotation, columns in
 * characters; nothing for an unknown id or a link, whose text is its
 * template's. */
static void policy_positions(void **state) {
  (void)state;
  static const char src[] = "// a set\n"
                            "permit(principal, action, resource);\n"
                            "  @id(\"t\") permit(principal == ?principal, action, resource);\n"
                            "@id(\"\xc3\xa9\") permit(principal, action, resource); @id(\"x\")\n"
                            "forbid(principal, action, resource);\n";
  static const struct {
    const char *id;
    int rc;
    uint32_t line, col;
  } rows[] = {
      {"policy0", 0, 2, 1},        {"t", 0, 3, 3},
      {"\xc3\xa9", 0, 4, 1},       {"x", 0, 4, 47},
      {"l", -WD_E_NOTFOUND, 0, 0}, {"nope", -WD_E_NOTFOUND, 0, 0},
  };
  cedar_psbuilder *b = cedar_psbuilder_new();
  assert_non_null(b);
  assert_int_equal(add(b, src), 0);
  assert_int_equal(cedar_psbuilder_link(b, "t", "l", "User::\"a\"", NULL, NULL), 0);
  cedar_policyset *ps = NULL;
  assert_int_equal(cedar_psbuilder_build(b, &ps), 0);
  int fails = 0;
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    uint32_t line = 99, col = 99;
    int rc = cedar_policyset_policy_pos(ps, rows[i].id, &line, &col);
    if (rc != rows[i].rc || line != rows[i].line || col != rows[i].col) {
      fprintf(stderr, "%s: got %d %u:%u, want %d %u:%u\n", rows[i].id, rc, line, col, rows[i].rc,
              rows[i].line, rows[i].col);
      fails++;
    }
  }
  assert_int_equal(fails, 0);
  cedar_policyset_unref(ps);
  cedar_psbuilder_free(b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(ids_and_annotations),
      cmocka_unit_test(duplicates_add_nothing),
      cmocka_unit_test(linking),
      cmocka_unit_test(refcount),
      cmocka_unit_test(parse_error_returns_parse),
      cmocka_unit_test(policy_positions),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
