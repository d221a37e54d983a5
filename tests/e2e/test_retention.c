/* SPDX-License-Identifier: Apache-2.0
 *
 * Retention: a server started with WARDEN_RETENTION=1 (the environment
 * form of --retention 1) removes a completed task's rows and an expired
 * join token within seconds, under a store.pruned record that counts
 * exactly what went. The open task is untouched and keeps working; the
 * completed task's token stays refused; its evidence trace is whole and
 * the chain verifies, online and offline.
 */
#define _DEFAULT_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "e2e.h"

static e2e_server srv;
static e2e_agent alpha;

static int setup(void **state) {
  (void)state;
  if (setenv("WARDEN_RETENTION", "1", 1) != 0) return -1;
  return e2e_start_with_agent(&srv, "alpha", "standard", &alpha);
}

static int teardown(void **state) {
  (void)state;
  return e2e_stop_with_agent(&srv, &alpha);
}

/* The sums of the store.pruned records' counts, read through the API. */
typedef struct pruned {
  long records, tasks, tokens, session_rows, join_tokens;
} pruned;

static void pruned_so_far(pruned *p) {
  memset(p, 0, sizeof *p);
  e2e_resp r;
  assert_int_equal(e2e_admin(&srv, "GET", "/v1/audit/records", NULL, &r), 0);
  assert_int_equal(r.status, 200);
  size_t i;
  json_t *rec;
  json_array_foreach(json_object_get(r.body, "records"), i, rec) {
    const char *type = json_string_value(json_object_get(rec, "type"));
    if (!type || strcmp(type, "store.pruned") != 0) continue;
    assert_string_equal(json_string_value(json_object_get(rec, "actor")), "warden");
    json_t *pl = json_object_get(rec, "payload");
    assert_int_equal(json_integer_value(json_object_get(pl, "retention_s")), 1);
    p->records++;
    p->tasks += (long)json_integer_value(json_object_get(pl, "tasks"));
    p->tokens += (long)json_integer_value(json_object_get(pl, "tokens"));
    p->session_rows += (long)json_integer_value(json_object_get(pl, "session_rows"));
    p->join_tokens += (long)json_integer_value(json_object_get(pl, "join_tokens"));
  }
  e2e_resp_clear(&r);
}

/* The value of a sample in GET /metrics, or -1. */
static long metric(const char *name) {
  e2e_resp r;
  char line[128];
  assert_int_equal(e2e_admin(&srv, "GET", "/metrics", NULL, &r), 0);
  assert_int_equal(r.status, 200);
  assert_non_null(r.text);
  (void)snprintf(line, sizeof line, "\n%s ", name);
  const char *at = strstr(r.text, line);
  long v = at ? strtol(at + strlen(line), NULL, 10) : -1;
  e2e_resp_clear(&r);
  return v;
}

static long task_status(const char *id) {
  char path[256];
  (void)snprintf(path, sizeof path, "/v1/tasks/%s", id);
  e2e_resp r;
  assert_int_equal(e2e_admin(&srv, "GET", path, NULL, &r), 0);
  long st = r.status;
  e2e_resp_clear(&r);
  return st;
}

static void test_retention(void **state) {
  (void)state;
  e2e_task done, live;
  e2e_resp r;
  assert_int_equal(e2e_task_open_simple(&srv, &alpha, 50, 900, &done), 201);
  assert_int_equal(e2e_task_open_simple(&srv, &alpha, 50, 900, &live), 201);
  for (int i = 0; i < 2; i++) {
    assert_int_equal(e2e_authorize(NULL, &srv, alpha.key, done.token, E2E_CALL_OK, &r), 200);
    assert_string_equal(e2e_decision(&r), "allow");
    e2e_resp_clear(&r);
  }
  /* A second agent that never enrols: its join token expires in 1 s. */
  assert_int_equal(e2e_admin(&srv, "POST", "/v1/agents",
                             "{\"name\":\"beta\",\"owner\":\"bob\",\"risk_tier\":\"standard\","
                             "\"environment\":\"prod\"}",
                             &r),
                   0);
  assert_int_equal(r.status, 201);
  e2e_resp_clear(&r);
  assert_int_equal(
      e2e_admin(&srv, "POST", "/v1/agents/beta/join-tokens", "{\"ttl_seconds\":1}", &r), 0);
  assert_int_equal(r.status, 201);
  e2e_resp_clear(&r);

  char path[256];
  (void)snprintf(path, sizeof path, "/v1/tasks/%s/complete", done.id);
  assert_int_equal(e2e_task_call(NULL, &srv, alpha.key, done.token, "POST", path, "{}", &r), 0);
  assert_int_equal(r.status, 200);
  e2e_resp_clear(&r);
  long story = e2e_audit_count(&srv, done.id, NULL);
  assert_true(story >= 5);

  /* Gone within seconds: one pass a second at this retention. */
  pruned p;
  int waited = 0;
  for (;;) {
    pruned_so_far(&p);
    if (p.tasks >= 1 && p.join_tokens >= 1) break;
    assert_true(waited < 100);
    usleep(100000);
    waited++;
  }
  assert_int_equal(task_status(done.id), 404);
  /* Exactly what went: the task, its one token, its session's tool,
   * classification and destination, and beta's join token. */
  assert_int_equal(p.tasks, 1);
  assert_int_equal(p.tokens, 1);
  assert_int_equal(p.session_rows, 3);
  assert_int_equal(p.join_tokens, 1);

  assert_int_equal(metric("warden_retention_tasks_pruned_total"), 1);
  assert_int_equal(metric("warden_retention_failures_total"), 0);

  /* The open task stays, and works. */
  assert_int_equal(task_status(live.id), 200);
  assert_int_equal(e2e_authorize(NULL, &srv, alpha.key, live.token, E2E_CALL_OK, &r), 200);
  assert_string_equal(e2e_decision(&r), "allow");
  e2e_resp_clear(&r);
  /* The completed task's token is refused as before. */
  assert_int_equal(e2e_authorize(NULL, &srv, alpha.key, done.token, E2E_CALL_OK, &r), 401);
  assert_string_equal(e2e_err_code(&r), "unauthorized");
  e2e_resp_clear(&r);

  /* The evidence stays whole: the trace and the chain. */
  assert_int_equal(e2e_audit_count(&srv, done.id, NULL), story);
  long records = 0;
  assert_int_equal(e2e_audit_verify(&srv, &records), 1);
  long offline = -1;
  assert_int_equal(e2e_offline_verify(&srv, "store.pruned", &offline), 0);
  assert_int_equal(offline, p.records);
  e2e_task_clear(&done);
  e2e_task_clear(&live);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_retention, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
