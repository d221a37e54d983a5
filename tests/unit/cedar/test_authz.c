/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for the authorizer: decisions, determining policies, errors,
 * strict_forbid, ordering, and expression semantics through text (which
 * needs the parser). Requests are built by hand so that only the parser
 * and the value model are needed besides the code under test.
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

static void mkreq(cedar_request *rq, wd_arena *a, const char *p, const char *act, const char *r) {
  memset(rq, 0, sizeof *rq);
  rq->arena = a;
  rq->principal.kind = rq->action.kind = rq->resource.kind = CEDAR__V_ENTITY;
  rq->principal.u.uid = cedar__uid_new(a, cedar__cstr("User"), cedar__cstr(p));
  rq->action.u.uid = cedar__uid_new(a, cedar__cstr("Action"), cedar__cstr(act));
  rq->resource.u.uid = cedar__uid_new(a, cedar__cstr("Doc"), cedar__cstr(r));
  rq->context.kind = CEDAR__V_RECORD;
}

typedef struct row {
  const char *name;
  const char *policies;
  int strict;
  cedar_decision want;
  const char *reasons; /* space-separated ids, in order */
  const char *errors;  /* space-separated ids, in order */
} row;

static int ids_equal(const cedar_response *r, int errors, const char *want, char *got,
                     size_t gotn) {
  got[0] = '\0';
  size_t n = errors ? cedar_response_error_count(r) : cedar_response_reason_count(r);
  size_t used = 0;
  for (size_t i = 0; i < n; i++) {
    const char *id = errors ? cedar_response_error_policy(r, i) : cedar_response_reason(r, i);
    int w = snprintf(got + used, gotn - used, "%s%s", i ? " " : "", id);
    if (w < 0 || (size_t)w >= gotn - used) return 0;
    used += (size_t)w;
  }
  return strcmp(got, want) == 0;
}

static void decisions(void **state) {
  (void)state;
  const row rows[] = {
      {"empty", "", 0, CEDAR_DENY, "", ""},
      {"permit", "permit(principal, action, resource);", 0, CEDAR_ALLOW, "policy0", ""},
      {"forbid-wins",
       "permit(principal, action, resource); forbid(principal == User::\"alice\", action, "
       "resource);",
       0, CEDAR_DENY, "policy1", ""},
      {"scope-miss", "permit(principal == User::\"bob\", action, resource);", 0, CEDAR_DENY, "",
       ""},
      {"eq-scope", "permit(principal == User::\"alice\", action == Action::\"read\", resource);", 0,
       CEDAR_ALLOW, "policy0", ""},
      {"is-scope", "permit(principal is User, action, resource is Doc);", 0, CEDAR_ALLOW, "policy0",
       ""},
      {"is-scope-miss", "permit(principal is Admin, action, resource);", 0, CEDAR_DENY, "", ""},
      {"action-in-set", "permit(principal, action in [Action::\"x\", Action::\"read\"], resource);",
       0, CEDAR_ALLOW, "policy0", ""},
      {"error-skipped",
       "permit(principal, action, resource) when { 1 + \"a\" == 2 };"
       "permit(principal, action, resource) when { context has x };",
       0, CEDAR_DENY, "", "policy0"},
      {"error-and-allow",
       "permit(principal, action, resource) when { principal.nope };"
       "permit(principal, action, resource);",
       0, CEDAR_ALLOW, "policy1", "policy0"},
      {"forbid-error-skipped",
       "permit(principal, action, resource); forbid(principal, action, resource) when { 1 < "
       "\"a\" };",
       0, CEDAR_ALLOW, "policy0", "policy1"},
      {"strict-forbid",
       "permit(principal, action, resource); forbid(principal, action, resource) when { 1 < "
       "\"a\" };",
       1, CEDAR_DENY, "policy1", "policy1"},
      {"ordered",
       "@id(\"z\") permit(principal, action, resource);"
       "@id(\"a\") permit(principal, action, resource);"
       "@id(\"m\") permit(principal == User::\"alice\", action, resource);",
       0, CEDAR_ALLOW, "z a m", ""},
      {"unless", "permit(principal, action, resource) unless { false };", 0, CEDAR_ALLOW, "policy0",
       ""},
      {"unless-true", "permit(principal, action, resource) unless { true };", 0, CEDAR_DENY, "",
       ""},
      {"when-then-unless",
       "permit(principal, action, resource) when { true } unless { 1 + \"a\" == 1 };", 0,
       CEDAR_DENY, "", "policy0"},
      {"when-false-stops",
       "permit(principal, action, resource) when { false } unless { 1 + \"a\" == 1 };", 0,
       CEDAR_DENY, "", ""},
      {"nonbool-condition", "permit(principal, action, resource) when { 1 };", 0, CEDAR_DENY, "",
       "policy0"},
      {"short-circuit", "permit(principal, action, resource) when { false && 1 + \"a\" == 1 };", 0,
       CEDAR_DENY, "", ""},
      {"like", "permit(principal, action, resource) when { \"abcd\" like \"a*d\" };", 0,
       CEDAR_ALLOW, "policy0", ""},
      {"is-in-short-circuit",
       "permit(principal, action, resource) when { !(principal is Admin in 1) };", 0, CEDAR_ALLOW,
       "policy0", ""},
  };
  int bad = 0;
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    wd_arena *a = wd_arena_new(1u << 20);
    cedar_request rq;
    mkreq(&rq, a, "alice", "read", "d1");
    cedar_diags *d = cedar_diags_new();
    cedar_policyset *ps = NULL;
    int rc = cedar_policyset_parse(rows[i].policies, strlen(rows[i].policies), &ps, d);
    cedar_response *r = NULL;
    cedar_authz_opts opts = {rows[i].strict};
    if (rc == 0) rc = cedar_authorize(ps, NULL, &rq, &opts, &r);
    char got_r[256] = "", got_e[256] = "";
    if (rc || cedar_response_decision(r) != rows[i].want ||
        !ids_equal(r, 0, rows[i].reasons, got_r, sizeof got_r) ||
        !ids_equal(r, 1, rows[i].errors, got_e, sizeof got_e)) {
      print_error("row %s: rc=%d decision=%d reasons=[%s] errors=[%s]\n", rows[i].name, rc,
                  (int)cedar_response_decision(r), got_r, got_e);
      bad++;
    }
    cedar_response_free(r);
    cedar_policyset_unref(ps);
    cedar_diags_free(d);
    wd_arena_free(a);
  }
  assert_int_equal(bad, 0);
}

/* Large record literals (past the parser's scan for repeated keys) keep
 * every key: written in opposite orders they are equal, a repeated key
 * is refused where it stands, and a record type lists each attribute. */
static void large_records(void **state) {
  (void)state;
  enum { N = 5000 };
  size_t cap = (size_t)N * 40 + 256;
  char *src = wd_malloc(cap);
  assert_non_null(src);
  size_t o = (size_t)snprintf(src, cap, "permit(principal, action, resource) when { {");
  for (int i = 0; i < N; i++)
    o += (size_t)snprintf(src + o, cap - o, "%sk%d: %d", i ? ", " : "", i, i);
  o += (size_t)snprintf(src + o, cap - o, "} == {");
  for (int i = N - 1; i >= 0; i--)
    o += (size_t)snprintf(src + o, cap - o, "k%d: %d%s", i, i, i ? ", " : "");
  (void)snprintf(src + o, cap - o, "} };");
  wd_arena *a = wd_arena_new(1u << 20);
  cedar_request rq;
  mkreq(&rq, a, "alice", "read", "d1");
  cedar_diags *d = cedar_diags_new();
  cedar_policyset *ps = NULL;
  assert_int_equal(cedar_policyset_parse(src, strlen(src), &ps, d), 0);
  cedar_response *r = NULL;
  cedar_authz_opts opts = {1};
  assert_int_equal(cedar_authorize(ps, NULL, &rq, &opts, &r), 0);
  assert_int_equal(cedar_response_decision(r), CEDAR_ALLOW);
  cedar_response_free(r);
  cedar_policyset_unref(ps);
  ps = NULL;
  /* The same key again, far past the first: refused at the second one. */
  char *dup = strstr(src, "} == {");
  memcpy(dup, ",k17:1", 6);
  assert_int_not_equal(cedar_policyset_parse(src, strlen(src), &ps, d), 0);
  const cedar_diag *g = cedar_diags_get(d, 0);
  assert_non_null(g);
  assert_non_null(strstr(g->msg, "duplicate key `k17`"));
  assert_int_equal(g->col, (uint32_t)(dup - src) + 2);
  cedar_diags_free(d);
  wd_arena_free(a);
  wd_free(src);
}

static void error_messages(void **state) {
  (void)state;
  const char *src = "permit(principal, action, resource) when { principal.nope };";
  wd_arena *a = wd_arena_new(1u << 20);
  cedar_request rq;
  mkreq(&rq, a, "alice", "read", "d1");
  cedar_policyset *ps = NULL;
  assert_int_equal(cedar_policyset_parse(src, strlen(src), &ps, NULL), 0);
  cedar_response *r = NULL;
  assert_int_equal(cedar_authorize(ps, NULL, &rq, NULL, &r), 0);
  assert_int_equal(cedar_response_error_count(r), 1);
  assert_string_equal(cedar_response_error_message(r, 0),
                      "entity `User::\"alice\"` does not exist");
  assert_null(cedar_response_error_message(r, 1));
  /* The response outlives the set it came from. */
  cedar_policyset_unref(ps);
  assert_string_equal(cedar_response_error_policy(r, 0), "policy0");
  cedar_response_free(r);
  wd_arena_free(a);
}

static void out_of_memory_never_allows(void **state) {
  (void)state;
  const char *src = "permit(principal, action, resource) when { [1, 2, 3].contains(2) };";
  wd_arena *a = wd_arena_new(1u << 20);
  cedar_request rq;
  mkreq(&rq, a, "alice", "read", "d1");
  cedar_policyset *ps = NULL;
  assert_int_equal(cedar_policyset_parse(src, strlen(src), &ps, NULL), 0);
  for (long n = 0; n < 64; n++) {
    cedar_response *r = NULL;
    wd_test_fail_alloc_after(n);
    int rc = cedar_authorize(ps, NULL, &rq, NULL, &r);
    wd_test_fail_alloc_after(-1);
    if (rc) {
      assert_null(r);
    } else {
      assert_int_equal(cedar_response_decision(r), CEDAR_ALLOW);
      cedar_response_free(r);
      break;
    }
  }
  cedar_policyset_unref(ps);
  wd_arena_free(a);
}

static void evaluate_text(void **state) {
  (void)state;
  static const struct {
    const char *expr, *want;
  } rows[] = {
      {"1 + 2", "3"},
      {"[3, 1, 2, 1]", "[1, 2, 3]"},
      {"if true then \"a\" else 1", "\"a\""},
      {"{b: 1, a: true}.a", "true"},
  };
  int bad = 0;
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    char *out = NULL;
    int rc = cedar_evaluate(rows[i].expr, strlen(rows[i].expr), NULL, NULL, &out, NULL);
    if (rc || strcmp(out, rows[i].want) != 0) {
      print_error("%s: rc=%d got %s\n", rows[i].expr, rc, out ? out : "(null)");
      bad++;
    }
    cedar_free(out);
  }
  cedar_diags *d = cedar_diags_new();
  char *out = NULL;
  assert_int_equal(cedar_evaluate("principal", 9, NULL, NULL, &out, d), -WD_E_EVAL);
  assert_null(out);
  assert_int_equal(cedar_diags_count(d), 1);
  cedar_diags_free(d);
  assert_int_equal(bad, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(decisions),      cmocka_unit_test(large_records),
      cmocka_unit_test(error_messages), cmocka_unit_test(out_of_memory_never_allows),
      cmocka_unit_test(evaluate_text),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
