/* SPDX-License-Identifier: Apache-2.0
 *
 * Requests whose body arrives after what their headers showed has
 * changed. The credentials are checked when the headers arrive, and the
 * client decides when the body follows: a call, a renewal or an admin
 * action parked between the two must be refused if its credential was
 * revoked meanwhile (an intent change, a rotated admin token), and leave
 * no record. Also the nesting limit of a call's arguments, and two calls
 * of one task in flight together, which must not both pass a data-flow
 * rule that either would fail after the other.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "../../support/raw_http.h"
#include "gov/gov_int.h"
/* The parallel test's rounds deny about one call in two, all of one
 * agent: under the usual rule of 20 a slow run would quarantine it. */
#define WD_FIXTURE_QUARANTINE_DENIALS 1000u
#include "service_fixture.h"

static uint16_t port(void) { return (uint16_t)wd_gov_port(gov); }

/* POST /v1/authorize with body must be answered 200 with decision want. */
static void expect_decision(const char *tok, const char *body, const char *want) {
  resp r;
  call("POST", "/v1/authorize", tok, body, &r);
  assert_int_equal(r.status, 200);
  assert_string_equal(str(&r, "decision"), want);
  clear(&r);
}

/* Sends only the head of a request with a body of blen bytes, as the
 * agent (task token tok and a fresh proof) or the admin (bearer); gives
 * the server a moment to check it. Returns the socket. */
static int park(const char *method, const char *path, const char *tok, const char *bearer,
                size_t blen) {
  char *p = tok ? proof(method, path, tok) : NULL;
  char head[16384];
  (void)snprintf(head, sizeof head,
                 "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nContent-Type: application/json\r\n"
                 "Authorization: %s %s\r\n%s%s%sContent-Length: %zu\r\nConnection: close\r\n\r\n",
                 method, path, (unsigned)port(), tok ? "DPoP" : "Bearer", tok ? tok : bearer,
                 p ? "DPoP: " : "", p ? p : "", p ? "\r\n" : "", blen);
  wd_free(p);
  int fd = raw_open(port());
  raw_send(fd, head);
  struct timespec ts = {0, 100 * 1000000L};
  nanosleep(&ts, NULL);
  return fd;
}

static void test_late_body_after_intent_change(void **state) {
  (void)state;
  char body[2048], task[128], tok[4096], path[256], out[4096];
  enrol("late", body, sizeof body);
  wd_free(open_task(10, task, sizeof task, tok, sizeof tok));
  int call_fd = park("POST", "/v1/authorize", tok, NULL, strlen(CALL_OK));
  (void)snprintf(path, sizeof path, "/v1/tasks/%s/renew", task);
  int renew_fd = park("POST", path, tok, NULL, 2);

  resp r;
  (void)snprintf(path, sizeof path, "/v1/tasks/%s/intent", task);
  call("POST", path, tok, "{\"intent\":\"summarise the other report\"}", &r);
  assert_int_equal(r.status, 200);
  char fresh[4096];
  (void)snprintf(fresh, sizeof fresh, "%s", str(&r, "token"));
  clear(&r);

  raw_send(call_fd, CALL_OK);
  assert_int_equal(raw_answer(call_fd, out, sizeof out), 401);
  assert_non_null(strstr(out, "task token revoked or task ended"));
  raw_send(renew_fd, "{}");
  assert_int_equal(raw_answer(renew_fd, out, sizeof out), 401);
  assert_int_equal(count_records(task, "authz.decision"), 0);
  assert_int_equal(count_records(task, "token.renewed"), 0);

  expect_decision(fresh, CALL_OK, "allow");
}

/* args {"a":{"a":...{}}} nesting depth levels deep. */
static char *nested(unsigned depth) {
  size_t n = 32 + depth * 7;
  char *b = malloc(n), *p = b;
  assert_non_null(b);
  p += sprintf(p, "{\"tool\":\"fs\",\"operation\":\"read\",\"args\":");
  for (unsigned i = 1; i < depth; i++)
    p += sprintf(p, "{\"a\":");
  p += sprintf(p, "{}");
  for (unsigned i = 1; i < depth; i++)
    *p++ = '}';
  (void)sprintf(p, "}");
  return b;
}

/* Arguments nest at most WD_LIMIT_CALL_ARGS_DEPTH deep; deeper ones are
 * refused naming the field, before anything is counted or recorded. */
static void test_args_nesting(void **state) {
  (void)state;
  char task[128], tok[4096];
  wd_free(open_task(10, task, sizeof task, tok, sizeof tok));
  resp r;
  char *b = nested(WD_LIMIT_CALL_ARGS_DEPTH);
  call("POST", "/v1/authorize", tok, b, &r);
  free(b);
  assert_int_equal(r.status, 200);
  clear(&r);
  b = nested(WD_LIMIT_CALL_ARGS_DEPTH + 1);
  call("POST", "/v1/authorize", tok, b, &r);
  free(b);
  assert_int_equal(r.status, 400);
  assert_string_equal(err_field(&r), "args");
  clear(&r);
  assert_int_equal(count_records(task, "authz.decision"), 1);
  admin("GET", "/v1/audit/verify", NULL, &r);
  assert_true(json_is_true(json_object_get(r.body, "ok")));
  clear(&r);
}

typedef struct racer {
  const char *tok, *body;
  char *proof; /* made before the threads start: the key is not shared */
  long status;
  char decision[16];
  long long seq; /* the decision id: the record's place in the log */
} racer;

static void *race(void *arg) {
  racer *r = arg;
  char auth[8192];
  (void)snprintf(auth, sizeof auth, "DPoP %s", r->tok);
  resp out;
  if (try_http("POST", "/v1/authorize", auth, r->proof, r->body, &out) == CURLE_OK) {
    r->status = out.status;
    (void)snprintf(r->decision, sizeof r->decision, "%s",
                   json_string_value(json_object_get(out.body, "decision")));
    const char *id = json_string_value(json_object_get(out.body, "decision_id"));
    r->seq = id ? atoll(id) : 0;
  }
  clear(&out);
  return NULL;
}

/* A secret read and an external post sent together: whichever is decided
 * second sees the first in the session. Both may be allowed only when the
 * post came first (a read after a post breaks no rule); a post allowed
 * after the read was allowed would have missed the secret. */
static void test_parallel_calls_keep_the_data_flow_rule(void **state) {
  (void)state;
  static const char *const bodies[2] = {
      "{\"tool\":\"fs\",\"operation\":\"read\",\"classification\":\"secret\","
      "\"destination\":\"local\"}",
      "{\"tool\":\"http\",\"operation\":\"post\",\"classification\":\"internal\","
      "\"destination\":\"api.partner.example\"}"};
  for (int round = 0; round < 20; round++) {
    char task[128], tok[4096];
    wd_free(open_task(10, task, sizeof task, tok, sizeof tok));
    racer r[2];
    pthread_t th[2];
    for (int i = 0; i < 2; i++) {
      memset(&r[i], 0, sizeof r[i]);
      r[i].tok = tok;
      r[i].body = bodies[i];
      r[i].proof = proof("POST", "/v1/authorize", tok);
    }
    for (int i = 0; i < 2; i++)
      assert_int_equal(pthread_create(&th[i], NULL, race, &r[i]), 0);
    for (int i = 0; i < 2; i++) {
      pthread_join(th[i], NULL);
      wd_free(r[i].proof);
      assert_int_equal(r[i].status, 200);
    }
    if (strcmp(r[0].decision, "allow") == 0 && strcmp(r[1].decision, "allow") == 0)
      assert_true(r[1].seq < r[0].seq);
  }
}

/* A call that states no classification is taken at the task's ceiling,
 * and that is what its session keeps in the store (the value its record
 * carries outlives the request), so a later export is held by the
 * data-flow rule even after the task is reloaded. */
static void test_unstated_classification_is_kept(void **state) {
  (void)state;
  char task[128], tok[4096];
  wd_free(open_task(10, task, sizeof task, tok, sizeof tok)); /* ceiling secret */
  expect_decision(tok, "{\"tool\":\"fs\",\"operation\":\"read\",\"destination\":\"local\"}",
                  "allow");
  char db[256];
  (void)snprintf(db, sizeof db, "sqlite:%s/var/warden.db", dir);
  wd_store *st = NULL;
  assert_int_equal(wd_store_open(db, WD_STORE_READONLY, &st), 0);
  wd_session ss;
  assert_int_equal(wd_store_task_session(st, task, &ss), 0);
  wd_store_close(st);
  assert_int_equal(ss.classifications.n, 1);
  assert_string_equal(ss.classifications.v[0], "secret");
  wd_store_session_free(&ss);
  wd_gov__live_forget(gov->live, task);
  expect_decision(tok,
                  "{\"tool\":\"http\",\"operation\":\"post\",\"classification\":\"public\","
                  "\"destination\":\"api.partner.example\"}",
                  "deny");
}

/* Last: it replaces the admin token the other tests use. */
static void test_late_admin_body_after_rotation(void **state) {
  (void)state;
  const char *reg = "{\"name\":\"ghost\",\"owner\":\"alice\",\"risk_tier\":\"standard\","
                    "\"environment\":\"prod\"}";
  int fd = park("POST", "/v1/agents", NULL, ADMIN, strlen(reg));
  resp r;
  admin("POST", "/v1/admin/token", "{\"reason\":\"leaked\"}", &r);
  assert_int_equal(r.status, 201);
  char auth[256], out[4096];
  (void)snprintf(auth, sizeof auth, "Bearer %s", str(&r, "token"));
  clear(&r);
  raw_send(fd, reg);
  assert_int_equal(raw_answer(fd, out, sizeof out), 401);
  http("GET", "/v1/agents/ghost", auth, NULL, NULL, &r);
  assert_int_equal(r.status, 404);
  clear(&r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_late_body_after_intent_change),
      cmocka_unit_test(test_args_nesting),
      cmocka_unit_test(test_parallel_calls_keep_the_data_flow_rule),
      cmocka_unit_test(test_unstated_classification_is_kept),
      cmocka_unit_test(test_late_admin_body_after_rotation),
  };
  curl_global_init(CURL_GLOBAL_DEFAULT);
  int rc = cmocka_run_group_tests(tests, setup, teardown);
  curl_global_cleanup();
  return rc;
}
