/* SPDX-License-Identifier: Apache-2.0
 *
 * An intent change that restates the task's purpose and tools: the old
 * token dies at once, the new token's scope and the task carry the new
 * purpose and tools, and later calls are decided against them (the
 * starter pack's permit-expected-tools reads context.task.tools, so a
 * tool only in the new list goes from deny to allow). A malformed change
 * is refused before anything happens, and one that states neither keeps
 * them. Each change is in the evidence log with before and after.
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
  "{\"intent\":\"read the quarterly figures\",\"purpose\":\"reporting\",\"tools\":[\"fs\"],"       \
  "\"classification_ceiling\":\"internal\",\"budget\":20}"
#define CALL_FS                                                                                    \
  "{\"tool\":\"fs\",\"operation\":\"read\",\"classification\":\"internal\",\"environment\":"       \
  "\"prod\"}"
/* db.query is a read action: only permit-expected-tools can allow it. */
#define CALL_DB                                                                                    \
  "{\"tool\":\"db\",\"operation\":\"query\",\"classification\":\"internal\",\"environment\":"      \
  "\"prod\"}"
#define CHANGE                                                                                     \
  "{\"intent\":\"reconcile the figures with the ledger\",\"purpose\":\"finance\","                 \
  "\"tools\":[\"fs\",\"db\"]}"

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

static void open_task(e2e_task *t) {
  e2e_resp r;
  assert_int_equal(e2e_task_open(&srv, alpha.key, TASK_BODY, t, &r), 201);
  e2e_resp_clear(&r);
}

static void expect_decision(const char *token, const char *body, const char *want,
                            const char *policy) {
  e2e_resp r;
  assert_int_equal(e2e_authorize(NULL, &srv, alpha.key, token, body, &r), 200);
  assert_string_equal(e2e_decision(&r), want);
  if (policy) assert_true(e2e_has_policy(&r, policy));
  e2e_resp_clear(&r);
}

/* POSTs an intent change with t's token; on 200 replaces t's token with
 * the new one. Returns the status; *out keeps the answer. */
static long change_intent(e2e_task *t, const char *body, e2e_resp *out) {
  char path[256];
  (void)snprintf(path, sizeof path, "/v1/tasks/%s/intent", t->id);
  assert_int_equal(e2e_task_call(NULL, &srv, alpha.key, t->token, "POST", path, body, out), 0);
  return out->status;
}

static char *dup_str(const char *s) {
  size_t n = strlen(s);
  char *d = wd_malloc(n + 1);
  assert_non_null(d);
  memcpy(d, s, n + 1);
  return d;
}

/* The decoded payload of a compact JWS (owned). */
static json_t *token_payload(const char *tok) {
  const char *a = strchr(tok, '.');
  assert_non_null(a);
  const char *b = strchr(a + 1, '.');
  assert_non_null(b);
  uint8_t buf[4096];
  size_t n = 0;
  assert_int_equal(wd_ident_b64url_decode(a + 1, (size_t)(b - a - 1), buf, sizeof buf, &n), 0);
  json_t *p = json_loadb((const char *)buf, n, 0, NULL);
  assert_non_null(p);
  return p;
}

/* tools is a JSON array of exactly the names in want (a JSON text). */
static void expect_tools(const json_t *tools, const char *want) {
  json_t *w = json_loads(want, 0, NULL);
  assert_non_null(w);
  assert_true(json_is_array(tools));
  assert_true(json_equal(tools, w));
  json_decref(w);
}

static void expect_task(const char *id, const char *intent, const char *purpose,
                        const char *tools) {
  char path[256];
  (void)snprintf(path, sizeof path, "/v1/tasks/%s", id);
  e2e_resp r;
  assert_int_equal(e2e_admin(&srv, "GET", path, NULL, &r), 0);
  assert_int_equal(r.status, 200);
  assert_string_equal(json_string_value(json_object_get(r.body, "intent")), intent);
  assert_string_equal(json_string_value(json_object_get(r.body, "purpose")), purpose);
  expect_tools(json_object_get(r.body, "tools"), tools);
  assert_string_equal(json_string_value(json_object_get(r.body, "status")), "open");
  e2e_resp_clear(&r);
}

/* The payload of the task's n-th (0-based) record of type (owned). */
static json_t *record_payload(const char *task, const char *type, size_t nth) {
  char path[256];
  (void)snprintf(path, sizeof path, "/v1/audit/tasks/%s", task);
  e2e_resp r;
  assert_int_equal(e2e_admin(&srv, "GET", path, NULL, &r), 0);
  assert_int_equal(r.status, 200);
  size_t i, seen = 0;
  json_t *rec, *found = NULL;
  json_array_foreach(json_object_get(r.body, "records"), i, rec) {
    const char *t = json_string_value(json_object_get(rec, "type"));
    if (t && strcmp(t, type) == 0 && seen++ == nth) {
      found = json_object_get(rec, "payload");
      if (json_is_string(found)) /* payload as canonical text */
        found = json_loads(json_string_value(found), 0, NULL);
      else
        json_incref(found);
      break;
    }
  }
  e2e_resp_clear(&r);
  assert_non_null(found);
  return found;
}

static void test_new_purpose_and_tools(void **state) {
  (void)state;
  e2e_task t;
  open_task(&t);
  expect_decision(t.token, CALL_FS, "allow", "permit-expected-tools");
  /* db is not a tool of the task: denied, with no policy to cite. */
  expect_decision(t.token, CALL_DB, "deny", NULL);
  char *old = dup_str(t.token);

  e2e_resp r;
  assert_int_equal(change_intent(&t, CHANGE, &r), 200);
  const char *nt = json_string_value(json_object_get(r.body, "token"));
  assert_non_null(nt);
  assert_string_equal(json_string_value(json_object_get(r.body, "token_type")), "DPoP");
  assert_non_null(json_object_get(r.body, "decision_id"));
  wd_free(t.token);
  t.token = dup_str(nt);
  e2e_resp_clear(&r);
  assert_string_not_equal(t.token, old);

  /* The new credential's scope carries the new purpose and tools. */
  json_t *pl = token_payload(t.token);
  json_t *scope = json_object_get(pl, "scope");
  assert_string_equal(json_string_value(json_object_get(scope, "purpose")), "finance");
  expect_tools(json_object_get(scope, "tools"), "[\"fs\",\"db\"]");
  assert_string_equal(json_string_value(json_object_get(pl, "task_id")), t.id);
  json_decref(pl);
  expect_task(t.id, "reconcile the figures with the ledger", "finance", "[\"fs\",\"db\"]");

  /* Later decisions read the new tools: db goes from deny to allow. */
  expect_decision(t.token, CALL_DB, "allow", "permit-expected-tools");
  expect_decision(t.token, CALL_FS, "allow", "permit-expected-tools");

  /* The old token died at once, and its refusal adds no decision. */
  e2e_resp o;
  assert_int_equal(e2e_authorize(NULL, &srv, alpha.key, old, CALL_DB, &o), 401);
  assert_string_equal(e2e_err_code(&o), "unauthorized");
  e2e_resp_clear(&o);
  assert_int_equal(e2e_audit_count(&srv, t.id, "authz.decision"), 4);
  assert_int_equal(e2e_audit_count(&srv, t.id, "task.intent_changed"), 1);
  assert_true(e2e_audit_count(&srv, t.id, "token.revoked") >= 1);
  assert_int_equal(e2e_audit_count(&srv, t.id, "token.issued"), 2);

  /* The log holds the change with before and after. */
  json_t *ch = record_payload(t.id, "task.intent_changed", 0);
  assert_string_equal(json_string_value(json_object_get(ch, "previous_intent")),
                      "read the quarterly figures");
  assert_string_equal(json_string_value(json_object_get(ch, "intent")),
                      "reconcile the figures with the ledger");
  assert_string_equal(json_string_value(json_object_get(ch, "previous_purpose")), "reporting");
  assert_string_equal(json_string_value(json_object_get(ch, "purpose")), "finance");
  expect_tools(json_object_get(ch, "previous_tools"), "[\"fs\"]");
  expect_tools(json_object_get(ch, "tools"), "[\"fs\",\"db\"]");
  json_decref(ch);
  wd_free(old);
  e2e_task_clear(&t);
}

static void test_absent_keeps(void **state) {
  (void)state;
  e2e_task t;
  open_task(&t);
  e2e_resp r;
  assert_int_equal(change_intent(&t, "{\"intent\":\"read the annual figures\"}", &r), 200);
  const char *nt = json_string_value(json_object_get(r.body, "token"));
  assert_non_null(nt);
  wd_free(t.token);
  t.token = dup_str(nt);
  e2e_resp_clear(&r);
  json_t *pl = token_payload(t.token);
  json_t *scope = json_object_get(pl, "scope");
  assert_string_equal(json_string_value(json_object_get(scope, "purpose")), "reporting");
  expect_tools(json_object_get(scope, "tools"), "[\"fs\"]");
  json_decref(pl);
  expect_task(t.id, "read the annual figures", "reporting", "[\"fs\"]");
  expect_decision(t.token, CALL_DB, "deny", NULL);
  json_t *ch = record_payload(t.id, "task.intent_changed", 0);
  assert_string_equal(json_string_value(json_object_get(ch, "previous_purpose")), "reporting");
  assert_string_equal(json_string_value(json_object_get(ch, "purpose")), "reporting");
  expect_tools(json_object_get(ch, "tools"), "[\"fs\"]");
  json_decref(ch);

  /* An empty list is a statement: no tools from now on. */
  assert_int_equal(change_intent(&t, "{\"intent\":\"just think\",\"tools\":[]}", &r), 200);
  nt = json_string_value(json_object_get(r.body, "token"));
  assert_non_null(nt);
  wd_free(t.token);
  t.token = dup_str(nt);
  e2e_resp_clear(&r);
  expect_task(t.id, "just think", "reporting", "[]");
  expect_decision(t.token, CALL_FS, "deny", NULL);
  e2e_task_clear(&t);
}

static void test_malformed_refused_first(void **state) {
  (void)state;
  e2e_task t;
  open_task(&t);
  static const struct {
    const char *body, *field;
  } bad[] = {
      {"{\"intent\":\"x\",\"tools\":\"db\"}", "tools"},
      {"{\"intent\":\"x\",\"tools\":[\"db\",1]}", "tools"},
      {"{\"intent\":\"x\",\"tools\":[\"\"]}", "tools"},
      {"{\"intent\":\"x\",\"purpose\":\"\"}", "purpose"},
      {"{\"intent\":\"x\",\"purpose\":7}", "purpose"},
      {"{\"purpose\":\"finance\",\"tools\":[\"db\"]}", "intent"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    e2e_resp r;
    assert_int_equal(change_intent(&t, bad[i].body, &r), 400);
    assert_string_equal(e2e_err_field(&r), bad[i].field);
    e2e_resp_clear(&r);
  }
  /* Nothing happened: same task, the token still works, no record. */
  expect_task(t.id, "read the quarterly figures", "reporting", "[\"fs\"]");
  expect_decision(t.token, CALL_FS, "allow", NULL);
  assert_int_equal(e2e_audit_count(&srv, t.id, "task.intent_changed"), 0);
  assert_int_equal(e2e_audit_count(&srv, t.id, "token.revoked"), 0);
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
      cmocka_unit_test(test_new_purpose_and_tools),
      cmocka_unit_test(test_absent_keeps),
      cmocka_unit_test(test_malformed_refused_first),
      cmocka_unit_test(test_chain_verifies),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
