/* SPDX-License-Identifier: Apache-2.0
 *
 * The automatic quarantine rule against a real server: with 3 denials in
 * 60 s as the rule (WARDEN_QUARANTINE_DENIALS / _WINDOW, the environment
 * form of --quarantine-denials 3 --quarantine-window 60), the third denied
 * call quarantines the agent: its status says so, its task token and new
 * tasks are refused, and the log holds an agent.quarantined record by
 * "warden" naming the rule. An admin release lets it work again and is
 * logged as agent.released; the chain verifies. Then, on a server whose
 * rule is one denial, parallel denied calls quarantine an agent exactly
 * once, and denials decided before an admin's release never quarantine
 * it again after the release.
 */
#define _DEFAULT_SOURCE
#include <dirent.h>
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
#include "store/wd_store.h"
#include "util/wd_alloc.h"

#define TASK_BODY                                                                                  \
  "{\"intent\":\"read the logs\",\"purpose\":\"ops\",\"tools\":[\"fs\"],"                          \
  "\"classification_ceiling\":\"internal\",\"budget\":20}"
/* Not a tool of the task: denied with no policy to cite. */
#define CALL_DENIED                                                                                \
  "{\"tool\":\"shell\",\"operation\":\"exec\",\"classification\":\"internal\",\"environment\":"    \
  "\"prod\"}"

static e2e_server srv;
static e2e_agent alpha;

static int setup(void **state) {
  (void)state;
  /* The child inherits these; flags and environment are the same setting. */
  if (setenv("WARDEN_QUARANTINE_DENIALS", "3", 1) != 0 ||
      setenv("WARDEN_QUARANTINE_WINDOW", "60", 1) != 0)
    return -1;
  return e2e_start_with_agent(&srv, "alpha", "standard", &alpha);
}

static int teardown(void **state) {
  (void)state;
  return e2e_stop_with_agent(&srv, &alpha);
}

static const char *agent_status(void) {
  static char st[32];
  e2e_resp r;
  assert_int_equal(e2e_admin(&srv, "GET", "/v1/agents/alpha", NULL, &r), 0);
  assert_int_equal(r.status, 200);
  const char *s = json_string_value(json_object_get(r.body, "status"));
  (void)snprintf(st, sizeof st, "%s", s ? s : "");
  e2e_resp_clear(&r);
  return st;
}

/* The agent records of the whole log (they belong to no task, so the
 * per-task audit route does not show them): read offline from the
 * server's SQLite file, which WAL mode lets us read while it runs. */
typedef struct found {
  const char *type;
  long n;
  char actor[256];
  json_t *payload; /* the last match's, owned */
} found;

static int on_row(void *ctx, const wd_audit_row *row) {
  found *f = ctx;
  if (strcmp(row->type, f->type) != 0) return 0;
  f->n++;
  (void)snprintf(f->actor, sizeof f->actor, "%s", row->actor ? row->actor : "");
  json_decref(f->payload);
  f->payload = json_loads(row->payload ? row->payload : "{}", 0, NULL);
  return 0;
}

static void scan_log_of(const e2e_server *s, wd_audit_row_cb fn, void *ctx) {
  char path[600] = "";
  DIR *d = opendir(s->data);
  assert_non_null(d);
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    size_t n = strlen(e->d_name);
    if (n > 3 && strcmp(e->d_name + n - 3, ".db") == 0)
      (void)snprintf(path, sizeof path, "%s/%s", s->data, e->d_name);
  }
  (void)closedir(d);
  assert_true(path[0] != 0);
  wd_store *st = NULL;
  assert_int_equal(wd_store_open(path, WD_STORE_READONLY, &st), 0);
  assert_int_equal(wd_store_audit_scan(st, NULL, 1, fn, ctx), 0);
  wd_store_close(st);
}

static void scan_log(found *f) {
  f->n = 0;
  scan_log_of(&srv, on_row, f);
}

static void test_auto_quarantine_and_release(void **state) {
  (void)state;
  e2e_task t;
  assert_int_equal(e2e_task_open_simple(&srv, &alpha, 20, 600, &t), 201);
  e2e_resp r;
  assert_int_equal(e2e_authorize(NULL, &srv, alpha.key, t.token, E2E_CALL_OK, &r), 200);
  assert_string_equal(e2e_decision(&r), "allow");
  e2e_resp_clear(&r);

  /* Two denials stay under the rule. */
  for (int i = 0; i < 2; i++) {
    assert_int_equal(e2e_authorize(NULL, &srv, alpha.key, t.token, CALL_DENIED, &r), 200);
    assert_string_equal(e2e_decision(&r), "deny");
    e2e_resp_clear(&r);
  }
  assert_string_equal(agent_status(), "active");
  found q = {.type = "agent.quarantined"};
  scan_log(&q);
  assert_int_equal(q.n, 0);

  /* The third is still answered (deny), and trips the rule. */
  assert_int_equal(e2e_authorize(NULL, &srv, alpha.key, t.token, CALL_DENIED, &r), 200);
  assert_string_equal(e2e_decision(&r), "deny");
  e2e_resp_clear(&r);
  /* The quarantine follows the answer in the same request; allow the
   * server a moment in case it lands just after the reply. */
  for (int i = 0; i < 100 && strcmp(agent_status(), "quarantined") != 0; i++) {
    struct timespec ts = {0, 50000000L};
    (void)nanosleep(&ts, NULL);
  }
  assert_string_equal(agent_status(), "quarantined");
  assert_int_equal(e2e_audit_count(&srv, t.id, "authz.decision"), 4);

  /* The task token is refused now (403: the contract's answer for a
   * quarantined agent, checked before the token's own revocation), and no
   * decision is added for it. */
  assert_int_equal(e2e_authorize(NULL, &srv, alpha.key, t.token, E2E_CALL_OK, &r), 403);
  assert_string_equal(e2e_err_code(&r), "forbidden");
  e2e_resp_clear(&r);
  assert_int_equal(e2e_audit_count(&srv, t.id, "authz.decision"), 4);
  /* Its task ended with the quarantine. */
  char path[256];
  (void)snprintf(path, sizeof path, "/v1/tasks/%s", t.id);
  assert_int_equal(e2e_admin(&srv, "GET", path, NULL, &r), 0);
  assert_int_equal(r.status, 200);
  assert_string_not_equal(json_string_value(json_object_get(r.body, "status")), "open");
  e2e_resp_clear(&r);
  e2e_task_clear(&t);

  /* No new task while quarantined. */
  assert_int_equal(e2e_task_open(&srv, alpha.key, TASK_BODY, &t, &r), 403);
  assert_string_equal(e2e_err_code(&r), "forbidden");
  e2e_resp_clear(&r);

  /* The log says who did it and why. */
  scan_log(&q);
  assert_int_equal(q.n, 1);
  assert_string_equal(q.actor, "warden");
  assert_non_null(q.payload);
  assert_string_equal(json_string_value(json_object_get(q.payload, "agent")), alpha.id);
  assert_string_equal(json_string_value(json_object_get(q.payload, "status")), "quarantined");
  const char *why = json_string_value(json_object_get(q.payload, "reason"));
  assert_non_null(why);
  assert_non_null(strstr(why, "3 denials"));
  assert_non_null(strstr(why, "60 s"));
  json_decref(q.payload);

  /* Release is an admin action, logged; then tasks open and work again. */
  assert_int_equal(
      e2e_admin(&srv, "POST", "/v1/agents/alpha/release", "{\"reason\":\"e2e: reviewed\"}", &r), 0);
  assert_int_equal(r.status, 200);
  assert_string_equal(json_string_value(json_object_get(r.body, "status")), "active");
  e2e_resp_clear(&r);
  assert_string_equal(agent_status(), "active");
  found rel = {.type = "agent.released"};
  scan_log(&rel);
  assert_int_equal(rel.n, 1);
  assert_string_equal(rel.actor, "admin");
  assert_non_null(rel.payload);
  assert_string_equal(json_string_value(json_object_get(rel.payload, "reason")), "e2e: reviewed");
  json_decref(rel.payload);

  assert_int_equal(e2e_task_open(&srv, alpha.key, TASK_BODY, &t, &r), 201);
  e2e_resp_clear(&r);
  assert_int_equal(e2e_authorize(NULL, &srv, alpha.key, t.token, E2E_CALL_OK, &r), 200);
  assert_string_equal(e2e_decision(&r), "allow");
  e2e_resp_clear(&r);
  /* The window starts afresh: one denial does not trip it again. */
  assert_int_equal(e2e_authorize(NULL, &srv, alpha.key, t.token, CALL_DENIED, &r), 200);
  assert_string_equal(e2e_decision(&r), "deny");
  e2e_resp_clear(&r);
  assert_string_equal(agent_status(), "active");
  e2e_task_clear(&t);
}

/* ---- late denials against a rule of one ---------------------------------------- */

#define RACE_ROUNDS  12
#define RACE_CLIENTS 8
#define RACE_CALLS   4

typedef struct racer {
  const e2e_server *s;
  const e2e_agent *a;
  const char *token;
  int bad; /* answers other than a deny or a refusal of the ended task */
} racer;

static void *deny_calls(void *arg) {
  racer *x = arg;
  for (int i = 0; i < RACE_CALLS; i++) {
    e2e_resp r;
    long st = e2e_authorize(NULL, x->s, x->a->key, x->token, CALL_DENIED, &r);
    if (!(st == 200 && strcmp(e2e_decision(&r), "deny") == 0) && st != 401 && st != 403) x->bad++;
    e2e_resp_clear(&r);
  }
  return NULL;
}

/* The agent's status records in order: Q for quarantined, R for released. */
typedef struct story {
  const char *agent;
  char seen[64];
  size_t n;
} story;

static int on_status(void *ctx, const wd_audit_row *row) {
  story *s = ctx;
  char c = strcmp(row->type, "agent.quarantined") == 0 ? 'Q'
           : strcmp(row->type, "agent.released") == 0  ? 'R'
                                                       : 0;
  if (!c || s->n + 1 >= sizeof s->seen) return 0;
  json_t *p = json_loads(row->payload ? row->payload : "{}", 0, NULL);
  const char *who = json_string_value(json_object_get(p, "agent"));
  if (who && strcmp(who, s->agent) == 0) s->seen[s->n++] = c;
  json_decref(p);
  return 0;
}

static const char *status_of(const e2e_server *s, const char *name) {
  static char st[32];
  char path[128];
  (void)snprintf(path, sizeof path, "/v1/agents/%s", name);
  e2e_resp r;
  assert_int_equal(e2e_admin(s, "GET", path, NULL, &r), 0);
  const char *v = json_string_value(json_object_get(r.body, "status"));
  (void)snprintf(st, sizeof st, "%s", v ? v : "");
  e2e_resp_clear(&r);
  return st;
}

static e2e_server s2;

static void test_release_outlasts_late_denials(void **state) {
  (void)state;
  assert_int_equal(setenv("WARDEN_QUARANTINE_DENIALS", "1", 1), 0);
  assert_int_equal(e2e_server_start(&s2), 0);
  for (int round = 0; round < RACE_ROUNDS; round++) {
    e2e_agent a;
    char name[32];
    (void)snprintf(name, sizeof name, "racer%d", round);
    assert_int_equal(e2e_agent_enroll(&s2, name, "standard", &a), 0);
    e2e_task t;
    assert_int_equal(e2e_task_open_simple(&s2, &a, 1000, 600, &t), 201);
    racer x[RACE_CLIENTS];
    pthread_t th[RACE_CLIENTS];
    for (int i = 0; i < RACE_CLIENTS; i++) {
      x[i] = (racer){.s = &s2, .a = &a, .token = t.token};
      assert_int_equal(pthread_create(&th[i], NULL, deny_calls, &x[i]), 0);
    }
    /* Released as soon as it is seen quarantined, while denials decided
     * before the quarantine may still be on their way to the rule. */
    for (int i = 0; i < 500 && strcmp(status_of(&s2, name), "quarantined") != 0; i++) {
      struct timespec ts = {0, 2000000L};
      (void)nanosleep(&ts, NULL);
    }
    char path[128];
    (void)snprintf(path, sizeof path, "/v1/agents/%s/release", name);
    e2e_resp r;
    assert_int_equal(e2e_admin(&s2, "POST", path, "{\"reason\":\"e2e: reviewed\"}", &r), 0);
    assert_int_equal(r.status, 200);
    e2e_resp_clear(&r);
    for (int i = 0; i < RACE_CLIENTS; i++) {
      assert_int_equal(pthread_join(th[i], NULL), 0);
      assert_int_equal(x[i].bad, 0);
    }
    /* Every answer has been sent, so every denial has been counted. */
    assert_string_equal(status_of(&s2, name), "active");
    story st = {.agent = a.id};
    scan_log_of(&s2, on_status, &st);
    assert_string_equal(st.seen, "QR");
    e2e_task_clear(&t);
    e2e_agent_clear(&a);
  }
  long n = 0;
  assert_int_equal(e2e_audit_verify(&s2, &n), 1);
  assert_int_equal(e2e_server_stop(&s2), 0);
  e2e_server_cleanup(&s2);
}

/* A failed assertion leaves the test early: stop its server anyway. */
static int stop_s2(void **state) {
  (void)state;
  e2e_server_cleanup(&s2);
  return 0;
}

static void test_chain_verifies(void **state) {
  (void)state;
  long n = 0, offline = 0;
  assert_int_equal(e2e_audit_verify(&srv, &n), 1);
  assert_int_equal(e2e_offline_verify(&srv, NULL, &offline), 0);
  assert_int_equal(n, offline);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_auto_quarantine_and_release),
      cmocka_unit_test(test_chain_verifies),
      cmocka_unit_test_teardown(test_release_outlasts_late_denials, stop_s2),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
