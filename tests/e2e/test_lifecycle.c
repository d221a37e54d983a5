/* SPDX-License-Identifier: Apache-2.0
 *
 * Budget, lifetime, revocation and the data-flow rule: an exhausted budget
 * stops calls, a task past its TTL is refused, an intent change revokes the
 * old token at once and issues a new one, completing a task revokes its
 * token, and once a task touched `secret` data it may not send to an
 * external destination (policy no-secret-egress). Each outcome is checked
 * in the task's evidence trace.
 */
#define _DEFAULT_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "e2e.h"
#include "util/wd_alloc.h"

#define READ_SECRET                                                                                \
  "{\"tool\":\"fs\",\"operation\":\"read\",\"classification\":\"secret\",\"destination\":"         \
  "\"local\",\"environment\":\"prod\"}"
#define POST_EXTERNAL                                                                              \
  "{\"tool\":\"http\",\"operation\":\"post\",\"classification\":\"internal\","                     \
  "\"destination\":\"api.partner.example\",\"environment\":\"prod\"}"

static e2e_server srv;
static e2e_agent alpha;

static int setup(void **state) {
  (void)state;
  return e2e_start_with_agent(&srv, "alpha", "standard", &alpha);
}

static int teardown(void **state) {
  (void)state;
  return e2e_stop_with_agent(&srv, &alpha);
}

static void expect_decision(const e2e_task *t, const char *body, const char *want,
                            const char *policy) {
  e2e_resp r;
  assert_int_equal(e2e_authorize(NULL, &srv, alpha.key, t->token, body, &r), 200);
  assert_string_equal(e2e_decision(&r), want);
  if (policy) assert_true(e2e_has_policy(&r, policy));
  e2e_resp_clear(&r);
}

static void expect_status(const e2e_task *t, const char *body, long want) {
  e2e_resp r;
  assert_int_equal(e2e_authorize(NULL, &srv, alpha.key, t->token, body, &r), want);
  e2e_resp_clear(&r);
}

static void test_budget_exhausted(void **state) {
  (void)state;
  e2e_task t;
  assert_int_equal(e2e_task_open_simple(&srv, &alpha, 3, 600, &t), 201);
  for (int i = 0; i < 3; i++)
    expect_decision(&t, E2E_CALL_OK, "allow", NULL);
  assert_int_equal(e2e_audit_count(&srv, t.id, "authz.decision"), 3);
  /* The fourth call: the budget is spent and the task ended with it. */
  e2e_resp r;
  assert_int_equal(e2e_authorize(NULL, &srv, alpha.key, t.token, E2E_CALL_OK, &r), 401);
  assert_string_equal(e2e_err_code(&r), "unauthorized");
  e2e_resp_clear(&r);
  assert_int_equal(e2e_audit_count(&srv, t.id, "authz.decision"), 3);
  assert_int_equal(e2e_audit_count(&srv, t.id, "task.ended"), 1);
  e2e_task_clear(&t);
}

static void test_ttl_expired(void **state) {
  (void)state;
  e2e_task t;
  assert_int_equal(e2e_task_open_simple(&srv, &alpha, 10, 2, &t), 201);
  expect_decision(&t, E2E_CALL_OK, "allow", NULL);
  sleep(4);
  expect_status(&t, E2E_CALL_OK, 401);
  assert_int_equal(e2e_audit_count(&srv, t.id, "authz.decision"), 1);
  /* The reaper ended it and said why. */
  assert_int_equal(e2e_audit_count(&srv, t.id, "task.ended"), 1);
  e2e_task_clear(&t);
}

static void test_intent_change_revokes(void **state) {
  (void)state;
  e2e_task t;
  assert_int_equal(e2e_task_open_simple(&srv, &alpha, 10, 600, &t), 201);
  expect_decision(&t, E2E_CALL_OK, "allow", NULL);
  char path[256];
  (void)snprintf(path, sizeof path, "/v1/tasks/%s/intent", t.id);
  e2e_resp r;
  assert_int_equal(
      e2e_task_call(NULL, &srv, alpha.key, t.token, "POST", path,
                    "{\"intent\":\"publish the quarterly report\",\"purpose\":\"reporting\"}", &r),
      0);
  assert_int_equal(r.status, 200);
  const char *nt = json_string_value(json_object_get(r.body, "token"));
  assert_non_null(nt);
  e2e_task fresh;
  memset(&fresh, 0, sizeof fresh);
  (void)snprintf(fresh.id, sizeof fresh.id, "%s", t.id);
  size_t n = strlen(nt);
  fresh.token = wd_malloc(n + 1);
  assert_non_null(fresh.token);
  memcpy(fresh.token, nt, n + 1);
  e2e_resp_clear(&r);
  assert_string_not_equal(fresh.token, t.token);

  expect_status(&t, E2E_CALL_OK, 401); /* the old token died at once */
  expect_decision(&fresh, E2E_CALL_OK, "allow", NULL);
  assert_int_equal(e2e_audit_count(&srv, t.id, "task.intent_changed"), 1);
  assert_true(e2e_audit_count(&srv, t.id, "token.revoked") >= 1);
  assert_int_equal(e2e_audit_count(&srv, t.id, "authz.decision"), 2);
  e2e_task_clear(&t);
  e2e_task_clear(&fresh);
}

static void test_complete_revokes(void **state) {
  (void)state;
  e2e_task t;
  assert_int_equal(e2e_task_open_simple(&srv, &alpha, 10, 600, &t), 201);
  expect_decision(&t, E2E_CALL_OK, "allow", NULL);
  char path[256];
  (void)snprintf(path, sizeof path, "/v1/tasks/%s/complete", t.id);
  e2e_resp r;
  assert_int_equal(
      e2e_task_call(NULL, &srv, alpha.key, t.token, "POST", path, "{\"reason\":\"done\"}", &r), 0);
  assert_int_equal(r.status, 200);
  e2e_resp_clear(&r);
  expect_status(&t, E2E_CALL_OK, 401);
  assert_int_equal(e2e_audit_count(&srv, t.id, "authz.decision"), 1);
  assert_int_equal(e2e_audit_count(&srv, t.id, "task.ended"), 1);
  e2e_task_clear(&t);
}

static void test_no_secret_egress(void **state) {
  (void)state;
  /* Control: without secret data, posting out is allowed. */
  e2e_task c;
  assert_int_equal(e2e_task_open_simple(&srv, &alpha, 10, 600, &c), 201);
  expect_decision(&c, POST_EXTERNAL, "allow", NULL);
  e2e_task_clear(&c);

  e2e_task t;
  assert_int_equal(e2e_task_open_simple(&srv, &alpha, 10, 600, &t), 201);
  expect_decision(&t, READ_SECRET, "allow", NULL);
  expect_decision(&t, POST_EXTERNAL, "deny", "no-secret-egress");
  /* Staying local is still fine. */
  expect_decision(&t, E2E_CALL_OK, "allow", NULL);
  assert_int_equal(e2e_audit_count(&srv, t.id, "authz.decision"), 3);
  e2e_task_clear(&t);
}

/* Saying nothing never passes a rule that saying the truth would not: a
 * call that names no destination is external, so the data-flow rule
 * holds it; one that names no classification is at the task's ceiling.
 * A destination that is not a host name is refused. */
static void test_unstated_fields_fail_closed(void **state) {
  (void)state;
  e2e_task t;
  assert_int_equal(e2e_task_open_simple(&srv, &alpha, 10, 600, &t), 201);
  expect_decision(&t, READ_SECRET, "allow", NULL);
  expect_decision(&t,
                  "{\"tool\":\"http\",\"operation\":\"post\",\"classification\":\"internal\","
                  "\"environment\":\"prod\"}",
                  "deny", "no-secret-egress");
  static const char *const bad[] = {"https://attacker.example/upload?x=.local",
                                    "API.example.com",
                                    "host..internal",
                                    "-a.example",
                                    "a.example:99999",
                                    ""};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char body[256];
    (void)snprintf(body, sizeof body,
                   "{\"tool\":\"http\",\"operation\":\"post\",\"destination\":\"%s\","
                   "\"environment\":\"prod\"}",
                   bad[i]);
    e2e_resp r;
    assert_int_equal(e2e_authorize(NULL, &srv, alpha.key, t.token, body, &r), 400);
    assert_string_equal(e2e_err_field(&r), "destination");
    e2e_resp_clear(&r);
  }
  expect_decision(&t,
                  "{\"tool\":\"http\",\"operation\":\"post\",\"destination\":"
                  "\"files.acme.internal:8443\",\"environment\":\"prod\"}",
                  "allow", NULL);
  /* The resource of a call is a Data of its tool; another type is refused
   * rather than let a policy scoped to that type silently not apply. */
  e2e_resp r;
  assert_int_equal(e2e_authorize(NULL, &srv, alpha.key, t.token,
                                 "{\"tool\":\"fs\",\"operation\":\"read\",\"destination\":"
                                 "\"local\",\"resource\":{\"type\":\"Tool\",\"id\":\"shell\"}}",
                                 &r),
                   400);
  assert_string_equal(e2e_err_field(&r), "resource");
  e2e_resp_clear(&r);
  expect_decision(&t,
                  "{\"tool\":\"fs\",\"operation\":\"read\",\"destination\":\"local\","
                  "\"environment\":\"prod\",\"resource\":{\"type\":\"Data\",\"id\":\"/srv/a\"}}",
                  "allow", NULL);
  e2e_task_clear(&t);
}

/* A call may not touch data above the ceiling its task stated. */
static void test_classification_ceiling(void **state) {
  (void)state;
  e2e_task t;
  e2e_resp r;
  assert_int_equal(e2e_task_open(&srv, alpha.key,
                                 "{\"intent\":\"answer a support ticket\",\"purpose\":\"support\","
                                 "\"tools\":[\"fs\"],\"classification_ceiling\":\"internal\","
                                 "\"budget\":10}",
                                 &t, &r),
                   201);
  e2e_resp_clear(&r);
  expect_decision(&t, READ_SECRET, "deny", "classification-ceiling");
  expect_decision(&t, E2E_CALL_OK, "allow", NULL);
  /* Unstated, the classification is the ceiling: internal, allowed. */
  expect_decision(&t,
                  "{\"tool\":\"fs\",\"operation\":\"read\",\"destination\":\"local\","
                  "\"environment\":\"prod\"}",
                  "allow", NULL);
  e2e_task_clear(&t);
}

static void test_chain_verifies(void **state) {
  (void)state;
  long n = 0;
  assert_int_equal(e2e_audit_verify(&srv, &n), 1);
  assert_true(n > 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_budget_exhausted),
      cmocka_unit_test(test_ttl_expired),
      cmocka_unit_test(test_intent_change_revokes),
      cmocka_unit_test(test_complete_revokes),
      cmocka_unit_test(test_no_secret_egress),
      cmocka_unit_test(test_unstated_fields_fail_closed),
      cmocka_unit_test(test_classification_ceiling),
      cmocka_unit_test(test_chain_verifies),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
