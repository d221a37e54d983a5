/* SPDX-License-Identifier: Apache-2.0
 *
 * The service's lifecycle edges, in-process: a new key enrolled for an
 * agent retires the old one at once, even for a task whose entry was
 * cached, and ends the old key's tasks; a renewed token replaces the
 * earlier one; the auto-quarantine rule counts task-level policy denials
 * and starts over at every status change; a task past its TTL gets no new credential before the
 * reaper comes; an agent has a bounded number of open tasks; text fields fit the records that hold
 * them; and a draining service refuses new work.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "gov/gov_int.h"
/* The reaper waits ten minutes here: an expired task is found by the
 * renewal, not ended first by the reaper. */
#define WD_FIXTURE_REAPER_MS 600000u
#include "service_fixture.h"

/* Registers and enrols name with a fresh key of its own, which becomes
 * the key proof() signs with; the previous key is returned. */
static wd_ident_key *own_agent(const char *name) {
  wd_ident_key *prev = key;
  assert_int_equal(wd_ident_key_generate(WD_IDENT_KEY_P256, &key), 0);
  char body[2048];
  enrol(name, body, sizeof body);
  return prev;
}

static void drop_key(wd_ident_key *prev) {
  wd_ident_key_free(key);
  key = prev;
}

static const char *task_body(int budget, int ttl) {
  static char b[256];
  (void)snprintf(b, sizeof b,
                 "{\"intent\":\"i\",\"purpose\":\"p\",\"tools\":[\"fs\"],"
                 "\"classification_ceiling\":\"internal\",\"budget\":%d,\"ttl_seconds\":%d}",
                 budget, ttl);
  return b;
}

/* POST /v1/tasks with a bare proof; the status, and the token in tok. */
static long open_with(const char *body, char *tok, size_t cap, char *id, size_t idcap) {
  resp r;
  char *p = proof("POST", "/v1/tasks", NULL);
  http("POST", "/v1/tasks", NULL, p, body, &r);
  wd_free(p);
  long st = r.status;
  if (tok) (void)snprintf(tok, cap, "%s", st == 201 ? str(&r, "token") : "");
  if (id) (void)snprintf(id, idcap, "%s", st == 201 ? str(&r, "task_id") : "");
  clear(&r);
  return st;
}

static long authorize(const char *tok) {
  resp r;
  call("POST", "/v1/authorize", tok, CALL_OK, &r);
  long st = r.status;
  clear(&r);
  return st;
}

static void test_new_key_retires_the_old(void **state) {
  (void)state;
  wd_ident_key *prev = own_agent("rekey");
  char tok[4096], task[128], path[256];
  assert_int_equal(open_with(task_body(10, 600), tok, sizeof tok, task, sizeof task), 201);
  assert_int_equal(authorize(tok), 200); /* the task's entry is now cached */
  wd_ident_key *k1 = key;
  key = NULL;
  assert_int_equal(wd_ident_key_generate(WD_IDENT_KEY_P256, &key), 0);
  resp r;
  char *jwk = NULL, body[2048];
  admin("POST", "/v1/agents/rekey/join-tokens", "{}", &r);
  assert_int_equal(r.status, 201);
  assert_int_equal(wd_ident_key_to_jwk(key, NULL, &jwk), 0);
  (void)snprintf(body, sizeof body, "{\"agent\":\"rekey\",\"join_token\":\"%s\",\"public_jwk\":%s}",
                 str(&r, "token"), jwk);
  wd_free(jwk);
  clear(&r);
  enrol_post(body, &r);
  assert_int_equal(r.status, 200);
  clear(&r);
  wd_ident_key *k2 = key;
  /* The old key's task, which nothing could use or end any more, is
   * ended with its records. */
  wd_task t = {0};
  stored_task(task, &t);
  assert_int_equal(t.status, WD_TASK_REVOKED);
  wd_store_task_free(&t);
  assert_int_equal(count_records(task, "task.ended"), 1);
  key = k1; /* the old key, with the token bound to it */
  assert_int_equal(authorize(tok), 401);
  (void)snprintf(path, sizeof path, "/v1/tasks/%s/renew", task);
  call("POST", path, tok, "{}", &r);
  assert_int_equal(r.status, 401);
  clear(&r);
  wd_ident_key_free(k1);
  key = k2; /* the new key opens tasks */
  assert_int_equal(open_with(task_body(10, 600), tok, sizeof tok, NULL, 0), 201);
  assert_int_equal(authorize(tok), 200);
  drop_key(prev);
}

/* The answer for agent name's quarantined key is a new key while the
 * agent stays quarantined: the old key never works again, and no join
 * token issued before the new key's can replace it. */
static void test_quarantined_agent_rekeyed(void **state) {
  (void)state;
  wd_ident_key *prev = own_agent("leaky");
  wd_ident_key *old = key;
  resp r;
  admin("POST", "/v1/agents/leaky/quarantine", "{\"reason\":\"key leaked\"}", &r);
  assert_int_equal(r.status, 200);
  clear(&r);
  key = NULL;
  assert_int_equal(wd_ident_key_generate(WD_IDENT_KEY_P256, &key), 0);
  char spare[2048], body[2048];
  register_agent_token("leaky", key, spare, sizeof spare); /* issued first, never used */
  register_agent_token("leaky", key, body, sizeof body);
  enrol_post(body, &r);
  assert_int_equal(r.status, 200);
  assert_string_equal(str(&r, "status"), "quarantined");
  clear(&r);
  assert_string_equal(agent_status("leaky"), "quarantined");
  /* The spare token died with the enrolment, even for an attacker's key. */
  wd_ident_key *fresh = key;
  key = NULL;
  assert_int_equal(wd_ident_key_generate(WD_IDENT_KEY_ED25519, &key), 0);
  char *jwk = NULL;
  assert_int_equal(wd_ident_key_to_jwk(key, NULL, &jwk), 0);
  json_t *sb = json_loads(spare, 0, NULL);
  assert_int_equal(json_object_set_new(sb, "public_jwk", json_loads(jwk, 0, NULL)), 0);
  wd_free(jwk);
  char *st = json_dumps(sb, JSON_COMPACT);
  json_decref(sb);
  enrol_post(st, &r);
  free(st);
  assert_int_equal(r.status, 401);
  clear(&r);
  wd_ident_key_free(key);
  key = fresh;
  admin("POST", "/v1/agents/leaky/release", "{\"reason\":\"new key\"}", &r);
  assert_int_equal(r.status, 200);
  clear(&r);
  assert_int_equal(open_with(task_body(10, 600), NULL, 0, NULL, 0), 201);
  key = old;
  assert_int_equal(open_with(task_body(10, 600), NULL, 0, NULL, 0), 401);
  wd_ident_key_free(old);
  key = fresh;
  drop_key(prev);
}

typedef struct {
  const char *path;
  long status;
} change;

static void *change_main(void *arg) {
  change *c = arg;
  resp r;
  admin("POST", c->path, "{\"reason\":\"race\"}", &r);
  c->status = r.status;
  clear(&r);
  return NULL;
}

/* Retirement is for good: a release or quarantine sent at the same
 * moment either comes first or is refused, and a retired agent gets no
 * join token. */
static void test_retired_stays_retired(void **state) {
  (void)state;
  wd_ident_key *prev = key;
  char name[32], body[2048], path[3][96];
  for (int i = 0; i < 12; i++) {
    key = NULL;
    assert_int_equal(wd_ident_key_generate(WD_IDENT_KEY_P256, &key), 0);
    (void)snprintf(name, sizeof name, "racer%d", i);
    enrol(name, body, sizeof body);
    resp r;
    (void)snprintf(path[0], sizeof path[0], "/v1/agents/%s/quarantine", name);
    (void)snprintf(path[1], sizeof path[1], "/v1/agents/%s/%s", name,
                   i % 2 ? "release" : "quarantine");
    (void)snprintf(path[2], sizeof path[2], "/v1/agents/%s/retire", name);
    if (i % 2) {
      admin("POST", path[0], "{\"reason\":\"first\"}", &r);
      assert_int_equal(r.status, 200);
      clear(&r);
    }
    change c[2] = {{path[1], 0}, {path[2], 0}};
    pthread_t t[2];
    for (int k = 0; k < 2; k++)
      assert_int_equal(pthread_create(&t[k], NULL, change_main, &c[k]), 0);
    for (int k = 0; k < 2; k++)
      assert_int_equal(pthread_join(t[k], NULL), 0);
    assert_int_equal(c[1].status, 200);
    assert_true(c[0].status == 200 || c[0].status == 409);
    assert_string_equal(agent_status(name), "retired");
    (void)snprintf(path[0], sizeof path[0], "/v1/agents/%s/join-tokens", name);
    admin("POST", path[0], "{}", &r);
    assert_int_equal(r.status, 409);
    assert_string_equal(err_field(&r), "status");
    clear(&r);
    wd_ident_key_free(key);
  }
  key = prev;
  /* Quarantining twice is refused, not counted twice. */
  wd_ident_key *p2 = own_agent("twice");
  resp r;
  admin("POST", "/v1/agents/twice/quarantine", "{\"reason\":\"one\"}", &r);
  assert_int_equal(r.status, 200);
  clear(&r);
  admin("POST", "/v1/agents/twice/quarantine", "{\"reason\":\"two\"}", &r);
  assert_int_equal(r.status, 409);
  clear(&r);
  drop_key(p2);
}

/* Enrolment proves possession of the key it binds: without a proof, or
 * with one by another key, it is refused naming DPoP and the join token
 * stays unused; a proof is spent once. */
static void test_enrolment_proves_the_key(void **state) {
  (void)state;
  wd_ident_key *prev = key, *other = NULL;
  assert_int_equal(wd_ident_key_generate(WD_IDENT_KEY_P256, &key), 0);
  assert_int_equal(wd_ident_key_generate(WD_IDENT_KEY_ED25519, &other), 0);
  char body[2048];
  register_agent("holder", key, body, sizeof body);
  resp r;
  http("POST", "/v1/enroll", NULL, NULL, body, &r);
  assert_int_equal(r.status, 401);
  assert_string_equal(err_field(&r), "DPoP");
  clear(&r);
  char *p = proof_by(other, "POST", "/v1/enroll", NULL);
  http("POST", "/v1/enroll", NULL, p, body, &r);
  wd_free(p);
  assert_int_equal(r.status, 401);
  assert_string_equal(err_field(&r), "DPoP");
  clear(&r);
  p = proof("POST", "/v1/tasks", NULL); /* names another request */
  http("POST", "/v1/enroll", NULL, p, body, &r);
  wd_free(p);
  assert_int_equal(r.status, 401);
  clear(&r);
  assert_string_equal(agent_status("holder"), "pending");
  p = proof("POST", "/v1/enroll", NULL);
  http("POST", "/v1/enroll", NULL, p, body, &r);
  assert_int_equal(r.status, 200);
  clear(&r);
  assert_string_equal(agent_status("holder"), "active");
  /* The same proof with a fresh join token: spent. */
  register_agent_token("holder", key, body, sizeof body);
  http("POST", "/v1/enroll", NULL, p, body, &r);
  assert_int_equal(r.status, 401);
  assert_non_null(strstr(r.raw, "replayed"));
  clear(&r);
  wd_ident_key_free(other);
  wd_free(p);
  drop_key(prev);
}

/* The fixture's rule: 20 denials within the window. Task openings denied
 * by policy (a budget of 0) count; a release starts the count over. */
static void test_task_denials_count_and_release_resets(void **state) {
  (void)state;
  wd_ident_key *prev = own_agent("prober");
  for (int i = 0; i < 19; i++)
    assert_int_equal(open_with(task_body(0, 600), NULL, 0, NULL, 0), 403);
  assert_string_equal(agent_status("prober"), "active");
  resp r;
  admin("POST", "/v1/agents/prober/quarantine", "{\"reason\":\"look closer\"}", &r);
  assert_int_equal(r.status, 200);
  clear(&r);
  admin("POST", "/v1/agents/prober/release", "{\"reason\":\"cleared\"}", &r);
  assert_int_equal(r.status, 200);
  clear(&r);
  assert_int_equal(open_with(task_body(0, 600), NULL, 0, NULL, 0), 403);
  assert_string_equal(agent_status("prober"), "active"); /* 1, not 20 */
  for (int i = 0; i < 19; i++)
    assert_int_equal(open_with(task_body(0, 600), NULL, 0, NULL, 0), 403);
  assert_string_equal(agent_status("prober"), "quarantined");
  drop_key(prev);
}

static void test_no_renewal_past_the_ttl(void **state) {
  (void)state;
  wd_ident_key *prev = own_agent("late");
  char tok[4096], task[128], path[256];
  assert_int_equal(open_with(task_body(10, 1), tok, sizeof tok, task, sizeof task), 201);
  struct timespec ts = {1, 100 * 1000000L};
  nanosleep(&ts, NULL);
  resp r;
  (void)snprintf(path, sizeof path, "/v1/tasks/%s/renew", task);
  call("POST", path, tok, "{}", &r);
  assert_int_equal(r.status, 401);
  assert_non_null(strstr(r.raw, "task expired"));
  clear(&r);
  wd_task t = {0};
  stored_task(task, &t);
  assert_int_equal(t.status, WD_TASK_EXPIRED);
  wd_store_task_free(&t);
  assert_int_equal(count_records(task, "token.renewed"), 0);
  drop_key(prev);
}

static long renew(const char *task, const char *tok, char *fresh, size_t cap) {
  char path[256];
  resp r;
  (void)snprintf(path, sizeof path, "/v1/tasks/%s/renew", task);
  call("POST", path, tok, "{}", &r);
  long st = r.status;
  if (fresh) (void)snprintf(fresh, cap, "%s", st == 200 ? str(&r, "token") : "");
  clear(&r);
  return st;
}

/* A renewed token replaces the task's earlier one at once, even for a
 * task whose entry was cached. */
static void test_renewal_replaces_the_token(void **state) {
  (void)state;
  wd_ident_key *prev = own_agent("renewer");
  char tok[4096], tok2[4096], task[128];
  assert_int_equal(open_with(task_body(10, 600), tok, sizeof tok, task, sizeof task), 201);
  assert_int_equal(authorize(tok), 200);
  assert_int_equal(renew(task, tok, tok2, sizeof tok2), 200);
  assert_int_equal(authorize(tok), 401);
  assert_int_equal(renew(task, tok, NULL, 0), 401);
  assert_int_equal(authorize(tok2), 200);
  assert_int_equal(count_records(task, "token.renewed"), 1);
  assert_int_equal(count_records(task, "token.revoked"), 1);
  assert_true(task_is_open(task));
  /* The answer names the record that holds the decision that allowed it. */
  char path[256];
  resp r;
  (void)snprintf(path, sizeof path, "/v1/tasks/%s/renew", task);
  call("POST", path, tok2, "{}", &r);
  assert_int_equal(r.status, 200);
  char did[32];
  (void)snprintf(did, sizeof did, "%s", str(&r, "decision_id"));
  clear(&r);
  (void)snprintf(path, sizeof path, "/v1/audit/tasks/%s", task);
  admin("GET", path, NULL, &r);
  size_t i;
  json_t *rec, *found = NULL;
  json_array_foreach(json_object_get(r.body, "records"), i, rec) {
    char seq[32];
    (void)snprintf(seq, sizeof seq, "%lld",
                   (long long)json_integer_value(json_object_get(rec, "seq")));
    if (strcmp(seq, did) == 0) found = rec;
  }
  assert_non_null(found);
  assert_string_equal(json_string_value(json_object_get(found, "type")), "token.renewed");
  json_t *dec = json_object_get(json_object_get(found, "payload"), "decision");
  assert_string_equal(json_string_value(json_object_get(dec, "action")), "task.renew");
  assert_string_equal(json_string_value(json_object_get(dec, "decision")), "allow");
  assert_true(json_integer_value(json_object_get(dec, "policy_version")) > 0);
  clear(&r);

  drop_key(prev);
}

static void test_open_tasks_bounded(void **state) {
  (void)state;
  wd_ident_key *prev = own_agent("busy");
  for (unsigned i = 0; i < WD_LIMIT_STORE_OPEN_TASKS; i++)
    assert_int_equal(open_with(task_body(10, 600), NULL, 0, NULL, 0), 201);
  resp r;
  char *p = proof("POST", "/v1/tasks", NULL);
  http("POST", "/v1/tasks", NULL, p, task_body(10, 600), &r);
  wd_free(p);
  assert_int_equal(r.status, 429);
  assert_non_null(strstr(r.raw, "too_many_tasks"));
  clear(&r);
  assert_int_equal(open_tasks("busy"), WD_LIMIT_STORE_OPEN_TASKS);
  drop_key(prev);
}

/* A body whose one text field is n control characters (six bytes each
 * in the evidence record) under key, beside the given JSON members. */
static char *control_chars(const char *key_name, size_t n, const char *rest) {
  size_t cap = n * 6 + strlen(rest) + 64;
  char *b = malloc(cap), *p = b;
  assert_non_null(b);
  p += sprintf(p, "{\"%s\":\"", key_name);
  for (size_t i = 0; i < n; i++)
    p += sprintf(p, "\\u0001");
  (void)sprintf(p, "\"%s}", rest);
  return b;
}

/* A text field stops at WD_LIMIT_GOV_TEXT_FIELD, named; at the limit,
 * even written as escapes, the task's records fit, the intent change's
 * (two intents) too. */
static void test_text_fields_fit_their_records(void **state) {
  (void)state;
  wd_ident_key *prev = own_agent("verbose");
  const char *rest = ",\"purpose\":\"p\",\"tools\":[\"fs\"],\"classification_ceiling\":"
                     "\"internal\",\"budget\":5";
  char *b = control_chars("intent", WD_LIMIT_GOV_TEXT_FIELD + 1, rest);
  resp r;
  char *p = proof("POST", "/v1/tasks", NULL);
  http("POST", "/v1/tasks", NULL, p, b, &r);
  wd_free(p);
  free(b);
  assert_int_equal(r.status, 400);
  assert_string_equal(err_field(&r), "intent");
  clear(&r);
  b = control_chars("intent", WD_LIMIT_GOV_TEXT_FIELD, rest);
  char tok[4096], task[128], path[256];
  assert_int_equal(open_with(b, tok, sizeof tok, task, sizeof task), 201);
  free(b);
  b = control_chars("intent", WD_LIMIT_GOV_TEXT_FIELD, "");
  (void)snprintf(path, sizeof path, "/v1/tasks/%s/intent", task);
  call("POST", path, tok, b, &r);
  free(b);
  assert_int_equal(r.status, 200);
  clear(&r);
  drop_key(prev);
}

/* Once shutdown begins, a request on a connection kept open is refused
 * and the service says it is not ready; nothing is decided. */
static void test_draining_refuses(void **state) {
  (void)state;
  atomic_store(&gov->draining, 1);
  resp r;
  admin("GET", "/v1/agents", NULL, &r);
  assert_int_equal(r.status, 503);
  assert_non_null(strstr(r.raw, "server is stopping"));
  clear(&r);
  http("GET", "/readyz", NULL, NULL, NULL, &r);
  assert_int_equal(r.status, 503);
  clear(&r);
  /* Enrolment has no credential check to refuse it: it is refused itself. */
  http("POST", "/v1/enroll", NULL, NULL, "{\"agent\":\"x\",\"join_token\":\"y\"}", &r);
  assert_int_equal(r.status, 503);
  clear(&r);
  atomic_store(&gov->draining, 0);
  admin("GET", "/v1/agents", NULL, &r);
  assert_int_equal(r.status, 200);
  clear(&r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_new_key_retires_the_old),
      cmocka_unit_test(test_quarantined_agent_rekeyed),
      cmocka_unit_test(test_retired_stays_retired),
      cmocka_unit_test(test_enrolment_proves_the_key),
      cmocka_unit_test(test_task_denials_count_and_release_resets),
      cmocka_unit_test(test_no_renewal_past_the_ttl),
      cmocka_unit_test(test_renewal_replaces_the_token),
      cmocka_unit_test(test_open_tasks_bounded),
      cmocka_unit_test(test_text_fields_fit_their_records),
      cmocka_unit_test(test_draining_refuses),
  };
  curl_global_init(CURL_GLOBAL_DEFAULT);
  int rc = cmocka_run_group_tests(tests, setup, teardown);
  curl_global_cleanup();
  return rc;
}
