/* SPDX-License-Identifier: Apache-2.0
 *
 * The governance service under allocation failures: each route that
 * changes state is driven with every allocation of a request made to
 * fail in turn, alone and with every later one. It must answer with its
 * result, a 500 or a dropped connection (never a client error: the fault
 * is the server's), never leak or crash (ASan), and leave no change in
 * the store without its evidence record.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "service_fixture.h"

/* One attempt at failure point n under hook inject: 1 when it succeeded. */
typedef int (*attempt_fn)(void *ctx, void (*inject)(long), long n);

/* Runs attempt for n = 0, 1, ... under each hook (every allocation from
 * the n-th on failing, then the n-th alone) until `clean` attempts in a
 * row succeed; returns how many failed. */
static int sweep_allocations(attempt_fn attempt, void *ctx, int clean) {
  void (*const hooks[2])(long) = {wd_test_fail_alloc_after, wd_test_fail_alloc_once};
  int failed = 0;
  for (int h = 0; h < 2; h++) {
    int run = 0;
    for (long n = 0; n < 100000 && run < clean; n++) {
      int ok = attempt(ctx, hooks[h], n);
      failed += !ok;
      run = ok ? run + 1 : 0;
    }
    assert_int_equal(run, clean);
  }
  return failed;
}

/* One request with the hook armed at n: 1 when it answered want, 0 for
 * a 500 or a dropped connection; any other answer fails the test. The
 * response is left in r (clear it). */
static int injected(void (*inject)(long), long n, const char *method, const char *path,
                    const char *auth, const char *dpop, const char *body, long want, resp *r) {
  inject(n);
  CURLcode cc = try_http(method, path, auth, dpop, body, r);
  inject(-1);
  if (cc != CURLE_OK) return 0;
  if (r->status == want) return 1;
  if (r->status != 500) print_error("failure point %ld: %ld %s\n", n, r->status, r->raw);
  assert_int_equal(r->status, 500);
  return 0;
}

/* Gives the test its own agent key (proof() signs with key): one key per
 * agent. */
static wd_ident_key *own_key(void) {
  wd_ident_key *first = key;
  assert_int_equal(wd_ident_key_generate(WD_IDENT_KEY_P256, &key), 0);
  return first;
}

static void give_back_key(wd_ident_key *first) {
  wd_ident_key_free(key);
  key = first;
}

/* ---- POST /v1/authorize ---------------------------------------------------- */

typedef struct authz_ctx {
  const char *tok;
  json_t *answers; /* decision id -> decision, of every 200 */
} authz_ctx;

static int authz_attempt(void *ctx, void (*inject)(long), long n) {
  authz_ctx *x = ctx;
  resp r;
  char auth[4200];
  (void)snprintf(auth, sizeof auth, "DPoP %s", x->tok);
  char *p = proof("POST", "/v1/authorize", x->tok);
  int answered = injected(inject, n, "POST", "/v1/authorize", auth, p, CALL_OK, 200, &r);
  wd_free(p);
  const char *d = answered ? str(&r, "decision") : NULL;
  if (answered) {
    assert_non_null(d);
    assert_non_null(str(&r, "decision_id"));
    assert_int_equal(json_object_set_new(x->answers, str(&r, "decision_id"), json_string(d)), 0);
  }
  int allowed = d && strcmp(d, "allow") == 0;
  clear(&r);
  return allowed;
}

/* Every decision answered is in the log with the same verdict (an
 * internal failure is a recorded deny or an error, never an allow), the
 * failures include recorded denies, past the count of the auto-quarantine
 * rule (20 here), and the agent is not quarantined for them. */
static void test_authorize_out_of_memory(void **state) {
  (void)state;
  resp r;
  char body[2048], task[128], tok[4096];
  wd_ident_key *first = own_key();
  enrol("oom", body, sizeof body);
  wd_free(open_task(5000, task, sizeof task, tok, sizeof tok));
  authz_ctx x = {.tok = tok, .answers = json_object()};
  assert_non_null(x.answers);
  assert_true(sweep_allocations(authz_attempt, &x, 5) > 0);

  char path[256];
  (void)snprintf(path, sizeof path, "/v1/audit/tasks/%s", task);
  admin("GET", path, NULL, &r);
  assert_int_equal(r.status, 200);
  size_t i, denied = 0;
  json_t *rec;
  json_array_foreach(json_object_get(r.body, "records"), i, rec) {
    char seq[32];
    (void)snprintf(seq, sizeof seq, "%lld",
                   (long long)json_integer_value(json_object_get(rec, "seq")));
    const char *d = json_string_value(json_object_get(json_object_get(rec, "payload"), "decision"));
    json_t *a = json_object_get(x.answers, seq);
    if (a) {
      assert_string_equal(d, json_string_value(a));
      denied += strcmp(d, "deny") == 0;
      assert_int_equal(json_object_del(x.answers, seq), 0);
    }
  }
  assert_int_equal(json_object_size(x.answers), 0); /* every answer was recorded */
  assert_true(denied > 20);
  json_decref(x.answers);
  clear(&r);
  assert_string_equal(agent_status("oom"), "active");

  admin("GET", "/v1/audit/verify", NULL, &r);
  assert_true(json_is_true(json_object_get(r.body, "ok")));
  clear(&r);
  give_back_key(first);
}

/* ---- POST /v1/tasks --------------------------------------------------------- */

typedef struct open_ctx {
  size_t answered, before;
} open_ctx;

/* A task is opened whole (the task, its token and both records) or not
 * at all. An answer can still be lost after the commit (as on a dropped
 * connection), so there may be more open tasks than 201s, never fewer,
 * and never one without its evidence. */
static int open_attempt(void *ctx, void (*inject)(long), long n) {
  open_ctx *x = ctx;
  resp r;
  char *p = proof("POST", "/v1/tasks", NULL);
  int ok = injected(inject, n, "POST", "/v1/tasks", NULL, p,
                    "{\"intent\":\"i\",\"purpose\":\"p\",\"tools\":[\"fs\"],"
                    "\"classification_ceiling\":\"internal\",\"budget\":5}",
                    201, &r);
  wd_free(p);
  clear(&r);
  size_t now = open_tasks("oomtask");
  x->answered += (size_t)ok;
  assert_true(now >= x->answered && now <= x->before + 1);
  x->before = now;
  return ok;
}

static void test_task_open_out_of_memory(void **state) {
  (void)state;
  char body[2048];
  wd_ident_key *first = own_key();
  enrol("oomtask", body, sizeof body);
  open_ctx x = {0};
  assert_true(sweep_allocations(open_attempt, &x, 3) > 0);
  give_back_key(first);
}

/* ---- POST /v1/tasks/{id}/complete, /intent and /renew ----------------------- */

typedef struct task_ctx {
  const char *verb, *body;
  int (*check)(const char *task, const char *tok, const resp *r, int ok);
} task_ctx;

/* Opens a fresh task, then sends verb on it under the hook. */
static int task_attempt(void *ctx, void (*inject)(long), long n) {
  task_ctx *x = ctx;
  resp r;
  char task[128], tok[4096], auth[4200], path[256];
  wd_free(open_task(50, task, sizeof task, tok, sizeof tok));
  (void)snprintf(path, sizeof path, "/v1/tasks/%s/%s", task, x->verb);
  (void)snprintf(auth, sizeof auth, "DPoP %s", tok);
  char *p = proof("POST", path, tok);
  int ok = injected(inject, n, "POST", path, auth, p, x->body, 200, &r);
  wd_free(p);
  ok = x->check(task, tok, &r, ok);
  clear(&r);
  return ok;
}

static void refused(const char *tok) {
  resp r;
  call("POST", "/v1/authorize", tok, CALL_OK, &r);
  assert_int_equal(r.status, 401);
  clear(&r);
}

/* A 200 means the task ended with both its records and its token is
 * refused; a task that stays open has no end record. (When the log itself
 * fails, the end still reaches the store: a revocation does not wait for
 * the log.) */
static int end_check(const char *task, const char *tok, const resp *r, int ok) {
  (void)r;
  int open = task_is_open(task), ended = count_records(task, "task.ended");
  if (ok) {
    assert_false(open);
    assert_int_equal(ended, 1);
    assert_int_equal(count_records(task, "token.revoked"), 1);
    refused(tok);
  }
  if (open) assert_int_equal(ended, 0);
  return ok;
}

static void test_task_end_out_of_memory(void **state) {
  (void)state;
  char body[2048];
  wd_ident_key *first = own_key();
  enrol("oomend", body, sizeof body);
  task_ctx x = {.verb = "complete", .body = "{\"reason\":\"done\"}", .check = end_check};
  assert_true(sweep_allocations(task_attempt, &x, 3) > 0);
  give_back_key(first);
}

/* The change is stored with its record or not at all, it always revokes
 * the old credential, a revocation on record holds, and a 200 hands over
 * a working new token. */
static int intent_check(const char *task, const char *tok, const resp *r, int ok) {
  char fresh[4096] = "";
  if (ok) (void)snprintf(fresh, sizeof fresh, "%s", str(r, "token"));
  wd_task t = {0};
  stored_task(task, &t);
  int changed = strcmp(t.intent, "new plan") == 0;
  wd_store_task_free(&t);
  if (ok) assert_true(changed && *fresh);
  assert_int_equal(count_records(task, "task.intent_changed"), changed);
  if (changed || count_records(task, "token.revoked") > 0) refused(tok);
  if (ok) {
    resp c;
    call("POST", "/v1/authorize", fresh, CALL_OK, &c);
    assert_int_equal(c.status, 200);
    assert_string_equal(str(&c, "decision"), "allow");
    clear(&c);
  }
  return ok;
}

static void test_intent_change_out_of_memory(void **state) {
  (void)state;
  char body[2048];
  wd_ident_key *first = own_key();
  enrol("oomintent", body, sizeof body);
  task_ctx x = {.verb = "intent", .body = "{\"intent\":\"new plan\"}", .check = intent_check};
  assert_true(sweep_allocations(task_attempt, &x, 3) > 0);
  give_back_key(first);
}

/* A renewal on record revoked the earlier token, and a 200 hands over a
 * working new one; a renewal not on record left the earlier token as it
 * was. */
static int renew_check(const char *task, const char *tok, const resp *r, int ok) {
  char fresh[4096] = "";
  if (ok) (void)snprintf(fresh, sizeof fresh, "%s", str(r, "token"));
  int renewed = count_records(task, "token.renewed");
  if (ok) assert_true(renewed == 1 && *fresh);
  assert_int_equal(count_records(task, "token.revoked"), renewed);
  resp c;
  if (renewed) {
    refused(tok);
  } else {
    call("POST", "/v1/authorize", tok, CALL_OK, &c);
    assert_int_equal(c.status, 200);
    clear(&c);
  }
  if (ok) {
    call("POST", "/v1/authorize", fresh, CALL_OK, &c);
    assert_int_equal(c.status, 200);
    assert_string_equal(str(&c, "decision"), "allow");
    clear(&c);
  }
  return ok;
}

static void test_renewal_out_of_memory(void **state) {
  (void)state;
  char body[2048];
  wd_ident_key *first = own_key();
  enrol("oomrenew", body, sizeof body);
  task_ctx x = {.verb = "renew", .body = "{}", .check = renew_check};
  assert_true(sweep_allocations(task_attempt, &x, 3) > 0);
  give_back_key(first);
}

/* ---- agents ------------------------------------------------------------------- */

static int agents; /* names used so far */

/* An agent holds a key exactly when the log holds its enrolment. */
static int enrol_attempt(void *ctx, void (*inject)(long), long n) {
  (void)ctx;
  resp r;
  char name[32], id[128], body[2048], path[128];
  (void)snprintf(name, sizeof name, "enr%d", agents++);
  char *pop = NULL;
  fresh_agent(name, id, sizeof id, body, sizeof body, &pop);
  int ok = injected(inject, n, "POST", "/v1/enroll", NULL, pop, body, 200, &r);
  wd_free(pop);
  clear(&r);
  (void)snprintf(path, sizeof path, "/v1/agents/%s", name);
  admin("GET", path, NULL, &r);
  int bound = json_is_string(json_object_get(r.body, "jkt"));
  clear(&r);
  if (ok) assert_true(bound);
  assert_int_equal(agent_records(id, "agent.enrolled"), bound);
  return ok;
}

static void test_enrol_out_of_memory(void **state) {
  (void)state;
  assert_true(sweep_allocations(enrol_attempt, NULL, 3) > 0);
}

/* A release is stored with its record or not at all; a quarantine on
 * record holds, and a 200 means quarantined and recorded (a quarantine
 * the log cannot take still reaches the store: a stop does not wait for
 * the log). */
static int status_attempt(void *ctx, void (*inject)(long), long n) {
  (void)ctx;
  resp r;
  char name[32], id[128], body[2048], path[256];
  (void)snprintf(name, sizeof name, "st%d", agents++);
  char *pop = NULL;
  fresh_agent(name, id, sizeof id, body, sizeof body, &pop);
  http("POST", "/v1/enroll", NULL, pop, body, &r);
  wd_free(pop);
  assert_int_equal(r.status, 200);
  clear(&r);
  int ok = 1;
  for (int step = 0; step < 2 && ok; step++) {
    (void)snprintf(path, sizeof path, "/v1/agents/%s/%s", name, step ? "release" : "quarantine");
    ok =
        injected(inject, n, "POST", path, "Bearer " ADMIN, NULL, "{\"reason\":\"sweep\"}", 200, &r);
    clear(&r);
    int quarantined = strcmp(agent_status(name), "quarantined") == 0;
    if (step == 0) {
      if (ok) assert_true(quarantined && agent_records(id, "agent.quarantined") == 1);
      if (agent_records(id, "agent.quarantined")) assert_true(quarantined);
      if (!quarantined) break; /* nothing to release */
    } else {
      assert_int_equal(agent_records(id, "agent.released"), !quarantined);
      if (ok) assert_false(quarantined);
    }
  }
  return ok;
}

static void test_agent_status_out_of_memory(void **state) {
  (void)state;
  assert_true(sweep_allocations(status_attempt, NULL, 3) > 0);
}

/* An agent exists exactly when its registration is on record, and a join
 * token handed out is on record and works. */
static int register_attempt(void *ctx, void (*inject)(long), long n) {
  (void)ctx;
  resp r;
  char name[32], id[128], req[256], body[2048], *pop = NULL;
  (void)snprintf(name, sizeof name, "reg%d", agents++);
  (void)snprintf(id, sizeof id, "spiffe://warden.local/agent/%s", name);
  (void)snprintf(req, sizeof req,
                 "{\"name\":\"%s\",\"owner\":\"alice\",\"risk_tier\":\"standard\","
                 "\"environment\":\"prod\"}",
                 name);
  int ok = injected(inject, n, "POST", "/v1/agents", "Bearer " ADMIN, NULL, req, 201, &r);
  clear(&r);
  (void)snprintf(req, sizeof req, "/v1/agents/%s", name);
  admin("GET", req, NULL, &r);
  int exists = r.status == 200;
  clear(&r);
  if (ok) assert_true(exists);
  assert_int_equal(agent_records(id, "agent.registered"), exists);
  if (!exists) return 0;
  (void)snprintf(req, sizeof req, "/v1/agents/%s/join-tokens", name);
  int made =
      injected(inject, n, "POST", req, "Bearer " ADMIN, NULL, "{\"ttl_seconds\":120}", 201, &r);
  if (made) {
    char *jwk = NULL;
    wd_ident_key *k = NULL;
    assert_int_equal(wd_ident_key_generate(WD_IDENT_KEY_ED25519, &k), 0);
    assert_int_equal(wd_ident_key_to_jwk(k, NULL, &jwk), 0);
    pop = proof_by(k, "POST", "/v1/enroll", NULL);
    wd_ident_key_free(k);
    (void)snprintf(body, sizeof body, "{\"agent\":\"%s\",\"join_token\":\"%s\",\"public_jwk\":%s}",
                   name, str(&r, "token"), jwk);
    wd_free(jwk);
  }
  clear(&r);
  assert_true(agent_records(id, "admin.action") >= made); /* join_token.created */
  if (made) {
    http("POST", "/v1/enroll", NULL, pop, body, &r);
    assert_int_equal(r.status, 200);
    clear(&r);
  }
  wd_free(pop);
  return ok && made;
}

static void test_register_out_of_memory(void **state) {
  (void)state;
  assert_true(sweep_allocations(register_attempt, NULL, 3) > 0);
}

/* ---- PUT /v1/policies -------------------------------------------------------- */

/* The same policies with a new comment each time: the active version
 * always has its policy.activated record, a 200 names the version now
 * active, and a failure is a 500, never a parse or validation error. */
static int policy_attempt(void *ctx, void (*inject)(long), long n) {
  const char *text = ctx;
  resp r;
  char note[64];
  (void)snprintf(note, sizeof note, "\n// sweep %ld\n", n);
  size_t len = strlen(text) + strlen(note) + 1;
  char *pol = malloc(len);
  assert_non_null(pol);
  (void)snprintf(pol, len, "%s%s", text, note);
  json_t *bj = json_pack("{s:s}", "policies", pol);
  char *body = json_dumps(bj, JSON_COMPACT);
  json_decref(bj);
  free(pol);
  int ok = injected(inject, n, "PUT", "/v1/policies", "Bearer " ADMIN, NULL, body, 200, &r);
  free(body);
  json_int_t said = ok ? json_integer_value(json_object_get(r.body, "version")) : 0;
  clear(&r);
  admin("GET", "/v1/policies", NULL, &r);
  json_int_t active = json_integer_value(json_object_get(r.body, "version"));
  clear(&r);
  if (ok) assert_int_equal(active, said);
  char want[64];
  (void)snprintf(want, sizeof want, "\"version\":%lld", (long long)active);
  assert_int_equal(agent_records(want, "policy.activated"), 1);
  return ok;
}

static void test_policy_put_out_of_memory(void **state) {
  (void)state;
  resp r;
  admin("GET", "/v1/policies", NULL, &r);
  assert_int_equal(r.status, 200);
  char *text = strdup(str(&r, "policies"));
  assert_non_null(text);
  clear(&r);
  assert_true(sweep_allocations(policy_attempt, text, 3) > 0);
  free(text);
}

/* The admin token in force; the rotation sweep runs last. */
static char current[128] = ADMIN;

static long agents_with(const char *token) {
  char auth[200];
  (void)snprintf(auth, sizeof auth, "Bearer %s", token);
  resp r;
  http("GET", "/v1/agents", auth, NULL, NULL, &r);
  long st = r.status;
  clear(&r);
  return st;
}

/* A 201 hands over a token that works while the old one is refused, with
 * one more admin_token.rotated record; a failure leaves the old token in
 * force and no record: the token is never changed without the answer
 * that carries the new one. */
static int rotate_attempt(void *ctx, void (*inject)(long), long n) {
  int *rotations = ctx;
  char auth[200];
  (void)snprintf(auth, sizeof auth, "Bearer %s", current);
  resp r;
  int ok = injected(inject, n, "POST", "/v1/admin/token", auth, NULL, "{}", 201, &r);
  const char *tok = ok ? str(&r, "token") : NULL;
  if (ok) {
    assert_non_null(tok);
    assert_int_equal(agents_with(tok), 200);
    assert_int_equal(agents_with(current), 401);
    (void)snprintf(current, sizeof current, "%s", tok);
    (*rotations)++;
  } else {
    assert_int_equal(agents_with(current), 200);
  }
  clear(&r);
  assert_int_equal(agent_records("admin_token.rotated", "admin.action"), *rotations);
  return ok;
}

static void test_admin_token_out_of_memory(void **state) {
  (void)state;
  int rotations = 0;
  assert_true(sweep_allocations(rotate_attempt, &rotations, 3) > 0);
}

int main(void) {
  curl_global_init(CURL_GLOBAL_ALL);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_authorize_out_of_memory),
      cmocka_unit_test(test_task_open_out_of_memory),
      cmocka_unit_test(test_task_end_out_of_memory),
      cmocka_unit_test(test_intent_change_out_of_memory),
      cmocka_unit_test(test_renewal_out_of_memory),
      cmocka_unit_test(test_enrol_out_of_memory),
      cmocka_unit_test(test_agent_status_out_of_memory),
      cmocka_unit_test(test_register_out_of_memory),
      cmocka_unit_test(test_policy_put_out_of_memory),
      cmocka_unit_test(test_admin_token_out_of_memory),
  };
  int rc = cmocka_run_group_tests(tests, setup, teardown);
  curl_global_cleanup();
  return rc;
}
