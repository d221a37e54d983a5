/* SPDX-License-Identifier: Apache-2.0
 *
 * No acknowledged record is lost when the server process dies: four
 * clients make decisions until the server is killed with SIGKILL in the
 * middle of the load. Every decision a client saw answered is then in
 * the evidence log, under its task and at the seq its decision id names;
 * the chain verifies offline, and the restarted server takes the tasks'
 * calls again. (A proof's jti is stored in the transaction of its
 * decision record, so a proof answered before the crash stays spent:
 * e2e_restart shows replays refused across a restart.)
 */
#define _DEFAULT_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "e2e.h"

#define CLIENTS  4
#define MAX_ACKS 20000

static e2e_server srv;
static atomic_int stop;

typedef struct client {
  e2e_agent *agent;
  e2e_task task;
  long acked[MAX_ACKS]; /* seqs of the decisions answered */
  atomic_int nacked;    /* read by the main thread while the load runs */
  int refused;          /* answers other than an allow: there must be none */
} client;

static void *run(void *arg) {
  client *c = arg;
  CURL *curl = curl_easy_init();
  int n = 0;
  while (curl && !atomic_load(&stop) && n < MAX_ACKS) {
    e2e_resp r;
    long st = e2e_authorize(curl, &srv, c->agent->key, c->task.token, E2E_CALL_OK, &r);
    if (st <= 0) { /* the server is gone */
      e2e_resp_clear(&r);
      break;
    }
    const char *id = json_string_value(json_object_get(r.body, "decision_id"));
    if (st == 200 && id && strcmp(e2e_decision(&r), "allow") == 0) {
      c->acked[n++] = atol(id);
      atomic_store(&c->nacked, n);
    } else {
      c->refused++;
    }
    e2e_resp_clear(&r);
  }
  curl_easy_cleanup(curl);
  return NULL;
}

static int acked_total(const client *cl) {
  int n = 0;
  for (int i = 0; i < CLIENTS; i++)
    n += cl[i].nacked;
  return n;
}

/* 1 when every seq in c->acked is an authz.decision record of its task. */
static int all_in_log(const client *c) {
  char path[256];
  (void)snprintf(path, sizeof path, "/v1/audit/tasks/%s", c->task.id);
  e2e_resp r;
  if (e2e_admin(&srv, "GET", path, NULL, &r) < 0 || r.status != 200) {
    e2e_resp_clear(&r);
    return 0;
  }
  json_t *recs = json_object_get(r.body, "records");
  size_t n = json_array_size(recs);
  long *seqs = calloc(n ? n : 1, sizeof *seqs);
  size_t k = 0, i;
  json_t *rec;
  json_array_foreach(recs, i, rec) {
    const char *t = json_string_value(json_object_get(rec, "type"));
    if (seqs && t && strcmp(t, "authz.decision") == 0)
      seqs[k++] = (long)json_integer_value(json_object_get(rec, "seq"));
  }
  int ok = seqs != NULL;
  int acked = atomic_load(&c->nacked);
  for (int a = 0; ok && a < acked; a++) {
    int found = 0;
    for (size_t j = 0; j < k && !found; j++)
      found = seqs[j] == c->acked[a];
    if (!found) {
      fprintf(stderr, "task %s: acknowledged decision %ld is not in the log\n", c->task.id,
              c->acked[a]);
      ok = 0;
    }
  }
  free(seqs);
  e2e_resp_clear(&r);
  return ok;
}

static void test_kill_mid_load(void **state) {
  (void)state;
  e2e_agent a;
  assert_int_equal(e2e_start_with_agent(&srv, "crasher", "standard", &a), 0);
  static client cl[CLIENTS];
  memset(cl, 0, sizeof cl);
  for (int i = 0; i < CLIENTS; i++) {
    cl[i].agent = &a;
    assert_int_equal(e2e_task_open_simple(&srv, &a, 1000000, 900, &cl[i].task), 201);
  }
  atomic_store(&stop, 0);
  pthread_t th[CLIENTS];
  for (int i = 0; i < CLIENTS; i++)
    assert_int_equal(pthread_create(&th[i], NULL, run, &cl[i]), 0);
  /* Kill once the load is well under way, so records are in flight. */
  for (int i = 0; i < 3000 && acked_total(cl) < 1500; i++) {
    struct timespec ts = {0, 5000000L};
    nanosleep(&ts, NULL);
  }
  assert_int_equal(kill(srv.pid, SIGKILL), 0);
  int st = 0;
  assert_int_equal(waitpid(srv.pid, &st, 0), srv.pid);
  srv.pid = 0;
  assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
  atomic_store(&stop, 1);
  for (int i = 0; i < CLIENTS; i++)
    assert_int_equal(pthread_join(th[i], NULL), 0);
  int total = acked_total(cl);
  fprintf(stderr, "e2e_crash: %d decisions answered before the kill\n", total);
  assert_true(total >= 1500);
  for (int i = 0; i < CLIENTS; i++)
    assert_int_equal(cl[i].refused, 0);

  long decisions = -1;
  assert_int_equal(e2e_offline_verify(&srv, "authz.decision", &decisions), 0);
  assert_true(decisions >= total);

  /* The same port: the tokens' DPoP proofs name it. */
  const char *port = strrchr(srv.url, ':');
  assert_non_null(port);
  (void)snprintf(srv.listen, sizeof srv.listen, "127.0.0.1%s", port);
  assert_int_equal(e2e_server_start(&srv), 0);
  for (int i = 0; i < CLIENTS; i++)
    assert_true(all_in_log(&cl[i]));
  long records = 0;
  assert_int_equal(e2e_audit_verify(&srv, &records), 1);
  for (int i = 0; i < CLIENTS; i++) {
    e2e_resp r;
    assert_int_equal(e2e_authorize(NULL, &srv, a.key, cl[i].task.token, E2E_CALL_OK, &r), 200);
    assert_string_equal(e2e_decision(&r), "allow");
    e2e_resp_clear(&r);
  }

  for (int i = 0; i < CLIENTS; i++)
    e2e_task_clear(&cl[i].task);
  assert_int_equal(e2e_stop_with_agent(&srv, &a), 0);
}

int main(void) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_kill_mid_load)};
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  curl_global_cleanup();
  return rc;
}
