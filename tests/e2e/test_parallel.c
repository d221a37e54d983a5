/* SPDX-License-Identifier: Apache-2.0
 *
 * No lost records: 8 parallel clients, each with its own task and
 * keep-alive connection, make 10,000 decisions in all (a fresh DPoP proof
 * per call). Afterwards the log holds exactly 10,000 decision records and
 * the chain verifies, online and offline after a graceful stop.
 */
#define _DEFAULT_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "e2e.h"

#define CLIENTS 8
#define TOTAL   10000
static e2e_server srv;

typedef struct client {
  e2e_agent *agent;
  e2e_task task;
  int calls;
  int allowed, failed;
} client;

static void *run(void *arg) {
  client *c = arg;
  CURL *curl = curl_easy_init();
  for (int i = 0; i < c->calls && curl; i++) {
    e2e_resp r;
    long st = e2e_authorize(curl, &srv, c->agent->key, c->task.token, E2E_CALL_OK, &r);
    if (st == 200 && strcmp(e2e_decision(&r), "allow") == 0)
      c->allowed++;
    else
      c->failed++;
    e2e_resp_clear(&r);
  }
  curl_easy_cleanup(curl);
  return NULL;
}

static void test_no_lost_records(void **state) {
  (void)state;
  assert_int_equal(e2e_server_start(&srv), 0);
  e2e_agent a;
  assert_int_equal(e2e_agent_enroll(&srv, "loader", "standard", &a), 0);
  client cl[CLIENTS];
  memset(cl, 0, sizeof cl);
  for (int i = 0; i < CLIENTS; i++) {
    cl[i].agent = &a;
    cl[i].calls = TOTAL / CLIENTS;
    assert_int_equal(e2e_task_open_simple(&srv, &a, TOTAL, 900, &cl[i].task), 201);
  }
  long before = -1;
  assert_int_equal(e2e_offline_verify(&srv, "authz.decision", &before), 0);
  assert_int_equal(before, 0);

  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  pthread_t th[CLIENTS];
  for (int i = 0; i < CLIENTS; i++)
    assert_int_equal(pthread_create(&th[i], NULL, run, &cl[i]), 0);
  int allowed = 0, failed = 0;
  for (int i = 0; i < CLIENTS; i++) {
    assert_int_equal(pthread_join(th[i], NULL), 0);
    allowed += cl[i].allowed;
    failed += cl[i].failed;
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
  fprintf(stderr, "e2e_parallel: %d decisions in %.1f s (%.0f/s), %d failed\n", allowed, secs,
          (double)allowed / secs, failed);
  assert_int_equal(failed, 0);
  assert_int_equal(allowed, TOTAL);

  for (int i = 0; i < CLIENTS; i++)
    assert_int_equal(e2e_audit_count(&srv, cl[i].task.id, "authz.decision"), TOTAL / CLIENTS);
  long records = 0;
  assert_int_equal(e2e_audit_verify(&srv, &records), 1);

  assert_int_equal(e2e_server_stop(&srv), 0);
  long after = -1;
  assert_int_equal(e2e_offline_verify(&srv, "authz.decision", &after), 0);
  assert_int_equal(after, TOTAL);
  long all = -1;
  assert_int_equal(e2e_offline_verify(&srv, NULL, &all), 0);
  assert_true(all >= records);

  for (int i = 0; i < CLIENTS; i++)
    e2e_task_clear(&cl[i].task);
  e2e_agent_clear(&a);
  e2e_server_cleanup(&srv);
}

int main(void) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_no_lost_records)};
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  curl_global_cleanup();
  return rc;
}
