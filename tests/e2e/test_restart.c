/* SPDX-License-Identifier: Apache-2.0
 *
 * Restart: decisions and revocations survive a graceful stop and a new
 * start on the same data directory. A revoked token stays refused, a live
 * task keeps working, and the evidence chain continues and verifies. The
 * session a decision reads is the stored one, so a restart changes no
 * decision; and a task ended under concurrent calls allows none after
 * its end, in the answers and in the log.
 */
#define _DEFAULT_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "e2e.h"
#include "util/wd_alloc.h"
#include "util/wd_limits.h"

#define POST_EXTERNAL                                                                              \
  "{\"tool\":\"http\",\"operation\":\"post\",\"classification\":\"internal\","                     \
  "\"destination\":\"api.partner.example\",\"environment\":\"prod\"}"

static e2e_server srv;

static void calls(const e2e_agent *a, const e2e_task *t, int n) {
  for (int i = 0; i < n; i++) {
    e2e_resp r;
    assert_int_equal(e2e_authorize(NULL, &srv, a->key, t->token, E2E_CALL_OK, &r), 200);
    assert_string_equal(e2e_decision(&r), "allow");
    e2e_resp_clear(&r);
  }
}

static void test_restart(void **state) {
  (void)state;
  assert_int_equal(e2e_server_start(&srv), 0);
  e2e_agent a;
  assert_int_equal(e2e_agent_enroll(&srv, "alpha", "standard", &a), 0);
  e2e_task live, dead;
  assert_int_equal(e2e_task_open_simple(&srv, &a, 50, 900, &live), 201);
  assert_int_equal(e2e_task_open_simple(&srv, &a, 50, 900, &dead), 201);
  calls(&a, &live, 5);
  calls(&a, &dead, 2);
  char path[256];
  (void)snprintf(path, sizeof path, "/v1/tasks/%s/cancel", dead.id);
  e2e_resp r;
  assert_int_equal(e2e_admin(&srv, "POST", path, "{\"reason\":\"e2e restart\"}", &r), 0);
  assert_int_equal(r.status, 200);
  e2e_resp_clear(&r);
  assert_int_equal(e2e_authorize(NULL, &srv, a.key, dead.token, E2E_CALL_OK, &r), 401);
  e2e_resp_clear(&r);
  long before = 0;
  assert_int_equal(e2e_audit_verify(&srv, &before), 1);

  assert_int_equal(e2e_server_stop(&srv), 0);
  long decisions = -1;
  assert_int_equal(e2e_offline_verify(&srv, "authz.decision", &decisions), 0);
  assert_int_equal(decisions, 7);

  assert_int_equal(e2e_server_start(&srv), 0);
  /* The revoked token stays refused, on the new process too. */
  assert_int_equal(e2e_authorize(NULL, &srv, a.key, dead.token, E2E_CALL_OK, &r), 401);
  assert_string_equal(e2e_err_code(&r), "unauthorized");
  e2e_resp_clear(&r);
  /* The live task carries on; its count includes the calls before. */
  calls(&a, &live, 1);
  assert_int_equal(e2e_audit_count(&srv, live.id, "authz.decision"), 6);
  assert_int_equal(e2e_audit_count(&srv, dead.id, "authz.decision"), 2);
  assert_int_equal(e2e_audit_count(&srv, dead.id, "task.ended"), 1);
  long after = 0;
  assert_int_equal(e2e_audit_verify(&srv, &after), 1);
  assert_true(after > before);

  assert_int_equal(e2e_server_stop(&srv), 0);
  assert_int_equal(e2e_offline_verify(&srv, "authz.decision", &decisions), 0);
  assert_int_equal(decisions, 8);
  e2e_task_clear(&live);
  e2e_task_clear(&dead);
  e2e_agent_clear(&a);
  e2e_server_cleanup(&srv);
}

/* The session a decision reads must be the one the store keeps. A call
 * refused because the destination set is full (WD_LIMIT_STORE_SESSION_SET)
 * must not leave its classification in the live session: if it did, the
 * next call with that classification would not write it to the store, and
 * after a restart the data-flow rule (no-secret-egress) would no longer
 * know the task touched secret data. */
static void test_session_survives_full_set(void **state) {
  (void)state;
  assert_int_equal(e2e_server_start(&srv), 0);
  e2e_agent a;
  assert_int_equal(e2e_agent_enroll(&srv, "filler", "standard", &a), 0);
  e2e_task t;
  assert_int_equal(e2e_task_open_simple(&srv, &a, WD_LIMIT_STORE_SESSION_SET + 50, 900, &t), 201);
  CURL *c = curl_easy_init();
  assert_non_null(c);
  char body[512];
  e2e_resp r;
  /* Before any secret data: the external destination is allowed, and is
   * one of the set's values. */
  assert_int_equal(e2e_authorize(c, &srv, a.key, t.token, POST_EXTERNAL, &r), 200);
  assert_string_equal(e2e_decision(&r), "allow");
  e2e_resp_clear(&r);
  int allowed = 1;
  for (unsigned i = 1; i < WD_LIMIT_STORE_SESSION_SET; i++) {
    (void)snprintf(body, sizeof body,
                   "{\"tool\":\"fs\",\"operation\":\"read\",\"classification\":\"internal\","
                   "\"destination\":\"d%05u.internal\",\"environment\":\"prod\"}",
                   i);
    assert_int_equal(e2e_authorize(c, &srv, a.key, t.token, body, &r), 200);
    allowed += strcmp(e2e_decision(&r), "allow") == 0;
    e2e_resp_clear(&r);
  }
  assert_int_equal(allowed, WD_LIMIT_STORE_SESSION_SET);
  /* The set is full: a new destination is refused, even for a call the
   * policies allow... */
  assert_int_equal(
      e2e_authorize(c, &srv, a.key, t.token,
                    "{\"tool\":\"fs\",\"operation\":\"read\",\"classification\":\"secret\","
                    "\"destination\":\"extra.internal\",\"environment\":\"prod\"}",
                    &r),
      200);
  assert_string_equal(e2e_decision(&r), "deny");
  e2e_resp_clear(&r);
  /* ... a known one is fine, and this call does touch secret data. */
  assert_int_equal(
      e2e_authorize(c, &srv, a.key, t.token,
                    "{\"tool\":\"fs\",\"operation\":\"read\",\"classification\":\"secret\","
                    "\"destination\":\"d00001.internal\",\"environment\":\"prod\"}",
                    &r),
      200);
  assert_string_equal(e2e_decision(&r), "allow");
  e2e_resp_clear(&r);
  assert_int_equal(e2e_authorize(c, &srv, a.key, t.token, POST_EXTERNAL, &r), 200);
  assert_string_equal(e2e_decision(&r), "deny");
  assert_true(e2e_has_policy(&r, "no-secret-egress"));
  e2e_resp_clear(&r);

  assert_int_equal(e2e_server_stop(&srv), 0);
  assert_int_equal(e2e_server_start(&srv), 0);
  /* The new process knows what the old one knew. */
  assert_int_equal(e2e_authorize(c, &srv, a.key, t.token, POST_EXTERNAL, &r), 200);
  assert_string_equal(e2e_decision(&r), "deny");
  assert_true(e2e_has_policy(&r, "no-secret-egress"));
  e2e_resp_clear(&r);
  curl_easy_cleanup(c);
  e2e_task_clear(&t);
  e2e_agent_clear(&a);
  assert_int_equal(e2e_server_stop(&srv), 0);
  e2e_server_cleanup(&srv);
}

/* Ending a task while calls are in flight on several connections: no
 * call sent after the end returned is allowed, and the evidence log has no
 * allowed decision after the task's end; both still hold after a restart. */
#define ENDERS 4

typedef struct ender {
  const e2e_agent *a;
  const e2e_task *t;
  volatile int *ended, *stop;
  int late_allows, sent, errors;
  int allowed; /* read by the main thread while the loop runs */
} ender;

static void *call_loop(void *arg) {
  ender *x = arg;
  CURL *c = curl_easy_init();
  if (!c) {
    x->errors++;
    return NULL;
  }
  while (!__atomic_load_n(x->stop, __ATOMIC_ACQUIRE)) {
    int after = __atomic_load_n(x->ended, __ATOMIC_ACQUIRE);
    e2e_resp r;
    long st = e2e_authorize(c, &srv, x->a->key, x->t->token, E2E_CALL_OK, &r);
    x->sent++;
    if (st != 200 && st != 401) x->errors++;
    if (st == 200 && strcmp(e2e_decision(&r), "allow") == 0) {
      if (after) x->late_allows++;
      __atomic_add_fetch(&x->allowed, 1, __ATOMIC_RELEASE);
    }
    e2e_resp_clear(&r);
  }
  curl_easy_cleanup(c);
  return NULL;
}

/* Seq of the task's first record of type, and of its last allowed decision. */
static void trace_marks(const e2e_task *t, long *first_end, long *last_allow) {
  char path[256];
  (void)snprintf(path, sizeof path, "/v1/audit/tasks/%s", t->id);
  e2e_resp r;
  assert_int_equal(e2e_admin(&srv, "GET", path, NULL, &r), 0);
  assert_int_equal(r.status, 200);
  *first_end = -1;
  *last_allow = -1;
  size_t i;
  json_t *rec;
  json_array_foreach(json_object_get(r.body, "records"), i, rec) {
    const char *type = json_string_value(json_object_get(rec, "type"));
    long seq = (long)json_integer_value(json_object_get(rec, "seq"));
    const char *dec =
        json_string_value(json_object_get(json_object_get(rec, "payload"), "decision"));
    if (!type) continue;
    if (*first_end < 0 && (strcmp(type, "token.revoked") == 0 || strcmp(type, "task.ended") == 0))
      *first_end = seq;
    if (strcmp(type, "authz.decision") == 0 && dec && strcmp(dec, "allow") == 0) *last_allow = seq;
  }
  e2e_resp_clear(&r);
}

static void nap_ms(long ms) {
  struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static void test_end_during_calls(void **state) {
  (void)state;
  assert_int_equal(e2e_server_start(&srv), 0);
  e2e_agent a;
  assert_int_equal(e2e_agent_enroll(&srv, "ender", "standard", &a), 0);
  e2e_task t;
  assert_int_equal(e2e_task_open_simple(&srv, &a, 100000, 900, &t), 201);
  volatile int ended = 0, stop = 0;
  pthread_t th[ENDERS];
  ender x[ENDERS];
  for (int i = 0; i < ENDERS; i++) {
    x[i] = (ender){.a = &a, .t = &t, .ended = &ended, .stop = &stop};
    assert_int_equal(pthread_create(&th[i], NULL, call_loop, &x[i]), 0);
  }
  /* End the task only once calls are flowing: a loaded machine (a
   * sanitizer build beside other tests) may take seconds to get there. */
  for (int waited = 0, flowing = 0; !flowing && waited < 30000; waited += 50) {
    int n = 0;
    for (int i = 0; i < ENDERS; i++)
      n += __atomic_load_n(&x[i].allowed, __ATOMIC_ACQUIRE);
    flowing = n >= 2 * ENDERS;
    if (!flowing) nap_ms(50);
  }
  nap_ms(100);
  char path[256];
  (void)snprintf(path, sizeof path, "/v1/tasks/%s/cancel", t.id);
  e2e_resp r;
  assert_int_equal(e2e_admin(&srv, "POST", path, "{\"reason\":\"end under load\"}", &r), 0);
  assert_int_equal(r.status, 200);
  e2e_resp_clear(&r);
  __atomic_store_n(&ended, 1, __ATOMIC_RELEASE);
  nap_ms(300);
  __atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
  int sent = 0, errors = 0, late = 0;
  for (int i = 0; i < ENDERS; i++) {
    assert_int_equal(pthread_join(th[i], NULL), 0);
    errors += x[i].errors;
    late += x[i].late_allows;
    sent += x[i].sent;
  }
  assert_int_equal(errors, 0);
  assert_int_equal(late, 0);
  print_message("end under load: %d calls\n", sent);
  assert_true(sent > 2 * ENDERS);
  long first_end = 0, last_allow = 0;
  trace_marks(&t, &first_end, &last_allow);
  assert_true(first_end > 0);
  assert_true(last_allow > 0);
  if (last_allow > first_end)
    print_error("allowed decision %ld after the end's first record %ld\n", last_allow, first_end);
  assert_true(last_allow < first_end);

  assert_int_equal(e2e_server_stop(&srv), 0);
  assert_int_equal(e2e_server_start(&srv), 0);
  assert_int_equal(e2e_authorize(NULL, &srv, a.key, t.token, E2E_CALL_OK, &r), 401);
  e2e_resp_clear(&r);
  long records = 0;
  assert_int_equal(e2e_audit_verify(&srv, &records), 1);
  e2e_task_clear(&t);
  e2e_agent_clear(&a);
  assert_int_equal(e2e_server_stop(&srv), 0);
  e2e_server_cleanup(&srv);
}

/* Routes that write no evidence record of their own make a proof's jti
 * durable at once: a proof spent on reading a task, or on opening one,
 * is still spent for a new process on the same data directory. */
static char *route_proof(const e2e_agent *a, const char *method, const char *path,
                         const char *token) {
  char htu[512];
  (void)snprintf(htu, sizeof htu, "%s%s", srv.url, path);
  char *p = NULL;
  assert_int_equal(wd_ident_dpop_make(a->key, method, htu, token, e2e_now(), &p), 0);
  return p;
}

static int replayed(const e2e_resp *r) {
  const char *m = json_string_value(json_object_get(json_object_get(r->body, "error"), "message"));
  return r->status == 401 && m && strstr(m, "replayed") != NULL;
}

#define OPEN_BODY                                                                                  \
  "{\"intent\":\"read the logs\",\"purpose\":\"ops\",\"tools\":[\"fs\"],"                          \
  "\"classification_ceiling\":\"internal\",\"budget\":5,\"ttl_seconds\":600}"

static void test_route_proofs_stay_spent(void **state) {
  (void)state;
  assert_int_equal(e2e_server_start(&srv), 0);
  e2e_agent a;
  assert_int_equal(e2e_agent_enroll(&srv, "reader", "standard", &a), 0);
  e2e_task t;
  assert_int_equal(e2e_task_open_simple(&srv, &a, 5, 900, &t), 201);
  char path[256], auth[8192];
  (void)snprintf(path, sizeof path, "/v1/tasks/%s", t.id);
  (void)snprintf(auth, sizeof auth, "DPoP %s", t.token);
  char *read = route_proof(&a, "GET", path, t.token);
  char *open = route_proof(&a, "POST", "/v1/tasks", NULL);
  e2e_resp r;
  assert_int_equal(e2e_http(NULL, &srv, "GET", path, auth, read, NULL, 0, &r), 0);
  assert_int_equal(r.status, 200);
  e2e_resp_clear(&r);
  assert_int_equal(
      e2e_http(NULL, &srv, "POST", "/v1/tasks", NULL, open, OPEN_BODY, strlen(OPEN_BODY), &r), 0);
  assert_int_equal(r.status, 201);
  e2e_resp_clear(&r);
  assert_int_equal(e2e_http(NULL, &srv, "GET", path, auth, read, NULL, 0, &r), 0);
  assert_true(replayed(&r));
  e2e_resp_clear(&r);

  /* The same port, so the proofs' htu still names this server. */
  const char *port = strrchr(srv.url, ':');
  assert_non_null(port);
  (void)snprintf(srv.listen, sizeof srv.listen, "127.0.0.1%s", port);
  assert_int_equal(e2e_server_stop(&srv), 0);
  assert_int_equal(e2e_server_start(&srv), 0);
  assert_int_equal(e2e_http(NULL, &srv, "GET", path, auth, read, NULL, 0, &r), 0);
  assert_true(replayed(&r));
  e2e_resp_clear(&r);
  assert_int_equal(
      e2e_http(NULL, &srv, "POST", "/v1/tasks", NULL, open, OPEN_BODY, strlen(OPEN_BODY), &r), 0);
  assert_true(replayed(&r));
  e2e_resp_clear(&r);
  /* Fresh proofs still work on the new process. */
  assert_int_equal(e2e_task_call(NULL, &srv, a.key, t.token, "GET", path, NULL, &r), 0);
  assert_int_equal(r.status, 200);
  e2e_resp_clear(&r);
  wd_free(read);
  wd_free(open);
  e2e_task_clear(&t);
  e2e_agent_clear(&a);
  assert_int_equal(e2e_server_stop(&srv), 0);
  e2e_server_cleanup(&srv);
}

/* A failed assertion leaves the test early: stop its server anyway. */
static int stop_server(void **state) {
  (void)state;
  e2e_server_cleanup(&srv);
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_teardown(test_restart, stop_server),
      cmocka_unit_test_teardown(test_end_during_calls, stop_server),
      cmocka_unit_test_teardown(test_route_proofs_stay_spent, stop_server),
      cmocka_unit_test_teardown(test_session_survives_full_set, stop_server),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
