/* SPDX-License-Identifier: Apache-2.0
 *
 * Requests the service must refuse: an unknown agent, a quarantined agent
 * (and its release), malformed JSON, an oversized body, and missing
 * fields, each answered with the uniform error naming the field. The
 * evidence log gains no record for a refused request, and records the
 * quarantine and release.
 */
#define _DEFAULT_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "e2e.h"
#include "util/wd_alloc.h"

#define TASK_BODY                                                                                  \
  "{\"intent\":\"read the logs\",\"purpose\":\"ops\",\"tools\":[\"fs\"],"                          \
  "\"classification_ceiling\":\"internal\",\"budget\":10}"

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

static long count(const char *type) {
  long n = -1;
  assert_int_equal(e2e_offline_verify(&srv, type, &n), 0);
  return n;
}

static void test_unknown_agent(void **state) {
  (void)state;
  long opened = count("task.opened");
  wd_ident_key *k = NULL;
  assert_int_equal(wd_ident_key_generate(WD_IDENT_KEY_ED25519, &k), 0);
  e2e_task t;
  e2e_resp r;
  assert_int_equal(e2e_task_open(&srv, k, TASK_BODY, &t, &r), 401);
  assert_string_equal(e2e_err_code(&r), "unauthorized");
  e2e_resp_clear(&r);
  wd_ident_key_free(k);
  /* Enrolling under a name nobody registered fails too. */
  char *jwk = NULL;
  assert_int_equal(wd_ident_key_generate(WD_IDENT_KEY_ED25519, &k), 0);
  assert_int_equal(wd_ident_key_to_jwk(k, NULL, &jwk), 0);
  char body[1024];
  (void)snprintf(body, sizeof body,
                 "{\"agent\":\"nobody\",\"join_token\":\"bm90LWEtdG9rZW4tYXQtYWxsLXJlYWxseQ\","
                 "\"public_jwk\":%s}",
                 jwk);
  assert_int_equal(e2e_http(NULL, &srv, "POST", "/v1/enroll", NULL, NULL, body, strlen(body), &r),
                   0);
  assert_int_equal(r.status, 404);
  assert_string_equal(e2e_err_code(&r), "not_found");
  e2e_resp_clear(&r);
  wd_free(jwk);
  wd_ident_key_free(k);
  assert_int_equal(count("task.opened"), opened);
  assert_int_equal(count("agent.enrolled"), 1);
  /* A trace of an id no task can have (not UTF-8) is a 404, not a 500. */
  assert_int_equal(e2e_admin(&srv, "GET", "/v1/audit/tasks/t_%FF", NULL, &r), 0);
  assert_int_equal(r.status, 404);
  assert_string_equal(e2e_err_code(&r), "not_found");
  e2e_resp_clear(&r);
}

static void test_quarantined_agent(void **state) {
  (void)state;
  e2e_agent g;
  assert_int_equal(e2e_agent_enroll(&srv, "gamma", "standard", &g), 0);
  e2e_task t;
  assert_int_equal(e2e_task_open_simple(&srv, &g, 10, 600, &t), 201);
  e2e_resp r;
  assert_int_equal(e2e_authorize(NULL, &srv, g.key, t.token, E2E_CALL_OK, &r), 200);
  assert_string_equal(e2e_decision(&r), "allow");
  e2e_resp_clear(&r);

  assert_int_equal(e2e_admin(&srv, "POST", "/v1/agents/gamma/quarantine",
                             "{\"reason\":\"e2e: suspicious\"}", &r),
                   0);
  assert_int_equal(r.status, 200);
  assert_string_equal(json_string_value(json_object_get(r.body, "status")), "quarantined");
  e2e_resp_clear(&r);

  /* Its task was revoked: the old token is refused, no decision added. */
  assert_int_equal(e2e_authorize(NULL, &srv, g.key, t.token, E2E_CALL_OK, &r), 403);
  assert_string_equal(e2e_err_code(&r), "forbidden");
  e2e_resp_clear(&r);
  assert_int_equal(e2e_audit_count(&srv, t.id, "authz.decision"), 1);
  assert_true(e2e_audit_count(&srv, t.id, "task.ended") +
                  e2e_audit_count(&srv, t.id, "token.revoked") >=
              1);
  e2e_task_clear(&t);

  /* No new task while quarantined. */
  assert_int_equal(e2e_task_open(&srv, g.key, TASK_BODY, &t, &r), 403);
  assert_string_equal(e2e_err_code(&r), "forbidden");
  e2e_resp_clear(&r);
  assert_int_equal(count("agent.quarantined"), 1);

  /* Release is an admin action, logged; then tasks open again. */
  assert_int_equal(
      e2e_admin(&srv, "POST", "/v1/agents/gamma/release", "{\"reason\":\"e2e: cleared\"}", &r), 0);
  assert_int_equal(r.status, 200);
  assert_string_equal(json_string_value(json_object_get(r.body, "status")), "active");
  e2e_resp_clear(&r);
  assert_int_equal(count("agent.released"), 1);
  assert_int_equal(e2e_task_open(&srv, g.key, TASK_BODY, &t, &r), 201);
  e2e_resp_clear(&r);
  e2e_task_clear(&t);
  e2e_agent_clear(&g);
}

static void test_malformed_json(void **state) {
  (void)state;
  long reg = count("agent.registered");
  e2e_resp r;
  assert_int_equal(e2e_admin(&srv, "POST", "/v1/agents", "{\"name\": \"x\",", &r), 0);
  assert_int_equal(r.status, 400);
  assert_string_equal(e2e_err_code(&r), "malformed_json");
  e2e_resp_clear(&r);
  /* The same on the agent side, before any decision. */
  e2e_task t;
  assert_int_equal(e2e_task_open_simple(&srv, &alpha, 10, 600, &t), 201);
  assert_int_equal(e2e_authorize(NULL, &srv, alpha.key, t.token, "{\"tool\":", &r), 400);
  assert_string_equal(e2e_err_code(&r), "malformed_json");
  e2e_resp_clear(&r);
  assert_int_equal(e2e_audit_count(&srv, t.id, "authz.decision"), 0);
  e2e_task_clear(&t);
  assert_int_equal(count("agent.registered"), reg);
  /* A body that is JSON but not an object is refused too, also on routes
   * whose fields are all optional: it used to read as no fields. */
  long actions = count("admin.action"), retired = count("agent.retired");
  static const char *const paths[] = {"/v1/agents/alpha/join-tokens", "/v1/agents/alpha/retire",
                                      "/v1/admin/token"};
  for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
    assert_int_equal(e2e_admin(&srv, "POST", paths[i], "[\"reason\"]", &r), 0);
    assert_int_equal(r.status, 400);
    assert_string_equal(e2e_err_code(&r), "bad_request");
    e2e_resp_clear(&r);
  }
  assert_int_equal(count("admin.action"), actions);
  assert_int_equal(count("agent.retired"), retired);
  assert_int_equal(e2e_task_open_simple(&srv, &alpha, 10, 600, &t), 201);
  assert_int_equal(e2e_authorize(NULL, &srv, alpha.key, t.token, "[]", &r), 400);
  assert_string_equal(e2e_err_code(&r), "bad_request");
  e2e_resp_clear(&r);
  /* A scalar is JSON too: bad_request, not malformed_json. */
  assert_int_equal(e2e_authorize(NULL, &srv, alpha.key, t.token, "5", &r), 400);
  assert_string_equal(e2e_err_code(&r), "bad_request");
  e2e_resp_clear(&r);
  e2e_task_clear(&t);
  assert_int_equal(e2e_admin(&srv, "POST", "/v1/agents/alpha/retire", "null", &r), 0);
  assert_int_equal(r.status, 400);
  assert_string_equal(e2e_err_code(&r), "bad_request");
  e2e_resp_clear(&r);
  assert_int_equal(count("agent.retired"), retired);
  /* Enrolment has no auth step to check the body's shape: its handler
   * does, before it reads a field ('agent' was reported missing). */
  static const char *const enrol[] = {"[1]", "5", "\"agent\""};
  for (size_t i = 0; i < sizeof enrol / sizeof enrol[0]; i++) {
    assert_int_equal(
        e2e_http(NULL, &srv, "POST", "/v1/enroll", NULL, NULL, enrol[i], strlen(enrol[i]), &r), 0);
    assert_int_equal(r.status, 400);
    assert_string_equal(e2e_err_code(&r), "bad_request");
    e2e_resp_clear(&r);
  }
}

static void test_oversized_body(void **state) {
  (void)state;
  long reg = count("agent.registered");
  size_t n = 2u << 20;
  char *big = wd_malloc(n + 1);
  assert_non_null(big);
  memset(big, ' ', n);
  memcpy(big, "{\"name\":\"", 9);
  big[n - 2] = '"';
  big[n - 1] = '}';
  big[n] = 0;
  e2e_resp r;
  assert_int_equal(e2e_admin(&srv, "POST", "/v1/agents", big, &r), 0);
  assert_int_equal(r.status, 413);
  assert_string_equal(e2e_err_code(&r), "payload_too_large");
  e2e_resp_clear(&r);
  wd_free(big);
  assert_int_equal(count("agent.registered"), reg);
}

static void expect_bad_field(const char *method, const char *path, const char *body,
                             const char *field) {
  e2e_resp r;
  assert_int_equal(e2e_admin(&srv, method, path, body, &r), 0);
  assert_int_equal(r.status, 400);
  assert_string_equal(e2e_err_field(&r), field);
  const char *msg = json_string_value(json_object_get(json_object_get(r.body, "error"), "message"));
  assert_non_null(msg);
  assert_non_null(strstr(msg, field));
  e2e_resp_clear(&r);
}

static void test_missing_field(void **state) {
  (void)state;
  long reg = count("agent.registered");
  expect_bad_field("POST", "/v1/agents",
                   "{\"name\":\"delta\",\"risk_tier\":\"standard\",\"environment\":\"prod\"}",
                   "owner");
  expect_bad_field("POST", "/v1/agents",
                   "{\"owner\":\"alice\",\"risk_tier\":\"standard\",\"environment\":\"prod\"}",
                   "name");
  /* A name is a SPIFFE ID's last segment: never a dot segment. */
  const char *const bad[] = {".", "..", "a/b", ""};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char body[256];
    (void)snprintf(body, sizeof body,
                   "{\"name\":\"%s\",\"owner\":\"alice\",\"risk_tier\":\"standard\","
                   "\"environment\":\"prod\"}",
                   bad[i]);
    expect_bad_field("POST", "/v1/agents", body, "name");
  }
  assert_int_equal(count("agent.registered"), reg);

  /* Agent side: a task without an intent, a call without a tool. */
  e2e_task t;
  e2e_resp r;
  long opened = count("task.opened");
  assert_int_equal(e2e_task_open(&srv, alpha.key,
                                 "{\"purpose\":\"ops\",\"tools\":[\"fs\"],"
                                 "\"classification_ceiling\":\"internal\",\"budget\":10}",
                                 &t, &r),
                   400);
  assert_string_equal(e2e_err_field(&r), "intent");
  e2e_resp_clear(&r);
  assert_int_equal(count("task.opened"), opened);

  assert_int_equal(e2e_task_open_simple(&srv, &alpha, 10, 600, &t), 201);
  assert_int_equal(e2e_authorize(NULL, &srv, alpha.key, t.token, "{\"operation\":\"read\"}", &r),
                   400);
  assert_string_equal(e2e_err_field(&r), "tool");
  e2e_resp_clear(&r);
  assert_int_equal(e2e_audit_count(&srv, t.id, "authz.decision"), 0);

  /* Arguments too large for the record that must hold them: a 400 naming
   * them (it was a 500), and no decision. */
  size_t n = 70000;
  char *body = wd_malloc(n + 200);
  assert_non_null(body);
  int k = snprintf(body, 200, "{\"tool\":\"fs\",\"operation\":\"read\",\"args\":{\"a\":\"");
  memset(body + k, 'x', n);
  memcpy(body + k + n, "\"}}", 4);
  assert_int_equal(e2e_authorize(NULL, &srv, alpha.key, t.token, body, &r), 400);
  assert_string_equal(e2e_err_field(&r), "args");
  e2e_resp_clear(&r);
  wd_free(body);
  assert_int_equal(e2e_audit_count(&srv, t.id, "authz.decision"), 0);
  e2e_task_clear(&t);
}

static void test_chain_verifies(void **state) {
  (void)state;
  long n = 0;
  assert_int_equal(e2e_audit_verify(&srv, &n), 1);
  assert_int_equal(n, count(NULL));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_unknown_agent),  cmocka_unit_test(test_quarantined_agent),
      cmocka_unit_test(test_malformed_json), cmocka_unit_test(test_oversized_body),
      cmocka_unit_test(test_missing_field),  cmocka_unit_test(test_chain_verifies),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
