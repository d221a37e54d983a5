/* SPDX-License-Identifier: Apache-2.0
 *
 * The store failing for real: the running server's file-size limit is
 * lowered (prlimit) so that every write to its SQLite files fails with
 * EFBIG. Calls are then refused with a 500, never allowed and never
 * answered without their record; the server stays up, and once the limit
 * is lifted it decides again. While the log fails /readyz says so, and
 * the server says on its standard error that records could not be
 * written; the log holds exactly the decisions that were answered, the
 * chain verifies, and the server stops cleanly.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <cmocka.h>

#include "e2e.h"

static e2e_server srv;

/* Makes n calls; returns how many were allowed. Every other answer must
 * be a 500 naming an internal error: a fault of the server's is never a
 * denial the agent could argue with, nor an allow. */
static int calls(const e2e_agent *a, const e2e_task *t, int n, int *failed) {
  int allowed = 0;
  *failed = 0;
  for (int i = 0; i < n; i++) {
    e2e_resp r;
    long st = e2e_authorize(NULL, &srv, a->key, t->token, E2E_CALL_OK, &r);
    if (st == 200) {
      assert_string_equal(e2e_decision(&r), "allow");
      allowed++;
    } else {
      assert_int_equal(st, 500);
      assert_string_equal(e2e_err_code(&r), "internal");
      (*failed)++;
    }
    e2e_resp_clear(&r);
  }
  return allowed;
}

/* 1 once the server's standard error holds text (it reports every few
 * seconds), 0 after 15 s. */
static int server_said(const char *text) {
  char path[300], buf[8192];
  (void)snprintf(path, sizeof path, "%s/server.err", srv.root);
  for (int i = 0; i < 150; i++) {
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f) (void)fclose(f);
    buf[n] = '\0';
    if (strstr(buf, text)) return 1;
    struct timespec ts = {0, 100000000L};
    nanosleep(&ts, NULL);
  }
  return 0;
}

/* Sets the server's soft file-size limit; returns the one it replaced. */
static struct rlimit set_fsize(rlim_t soft) {
  struct rlimit old, lim;
  assert_int_equal(prlimit(srv.pid, RLIMIT_FSIZE, NULL, &old), 0);
  lim.rlim_cur = soft;
  lim.rlim_max = old.rlim_max;
  assert_int_equal(prlimit(srv.pid, RLIMIT_FSIZE, &lim, NULL), 0);
  return old;
}

static void test_writes_fail(void **state) {
  (void)state;
  e2e_agent a;
  assert_int_equal(e2e_start_with_agent(&srv, "writer", "standard", &a), 0);
  e2e_task t;
  assert_int_equal(e2e_task_open_simple(&srv, &a, 100000, 900, &t), 201);
  int failed = 0, answered = calls(&a, &t, 20, &failed);
  assert_int_equal(answered, 20);

  /* every page of the database and its log lies beyond */
  struct rlimit before = set_fsize(4096);
  int allowed = calls(&a, &t, 20, &failed);
  assert_int_equal(allowed, 0);
  assert_int_equal(failed, 20);
  int st = 0;
  assert_int_equal(waitpid(srv.pid, &st, WNOHANG), 0); /* still running */
  e2e_resp r;
  assert_int_equal(e2e_http(NULL, &srv, "GET", "/healthz", NULL, NULL, NULL, 0, &r), 0);
  assert_int_equal(r.status, 200);
  e2e_resp_clear(&r);
  /* Out of rotation while its log fails: every decision needs a record. */
  assert_int_equal(e2e_http(NULL, &srv, "GET", "/readyz", NULL, NULL, NULL, 0, &r), 0);
  assert_int_equal(r.status, 503);
  assert_string_equal(e2e_err_code(&r), "not_ready");
  assert_non_null(
      strstr(json_string_value(json_object_get(json_object_get(r.body, "error"), "message")),
             "the evidence log cannot be written: input/output error"));
  e2e_resp_clear(&r);
  /* (in one report or two, as the reports fall) */
  assert_true(server_said("record(s) (input/output error); calls waiting on them were refused"));

  (void)set_fsize(before.rlim_cur);
  answered += calls(&a, &t, 20, &failed);
  assert_int_equal(failed, 0);
  assert_int_equal(answered, 40);
  assert_int_equal(e2e_http(NULL, &srv, "GET", "/readyz", NULL, NULL, NULL, 0, &r), 0);
  assert_int_equal(r.status, 200); /* a record written again: back in rotation */
  e2e_resp_clear(&r);

  /* Exactly the answered decisions are in the log, and it verifies. */
  assert_int_equal(e2e_audit_count(&srv, t.id, "authz.decision"), answered);
  long records = 0;
  assert_int_equal(e2e_audit_verify(&srv, &records), 1);
  e2e_task_clear(&t);
  e2e_agent_clear(&a);
  assert_int_equal(e2e_server_stop(&srv), 0);
  long decisions = -1;
  assert_int_equal(e2e_offline_verify(&srv, "authz.decision", &decisions), 0);
  assert_int_equal(decisions, answered);
  e2e_server_cleanup(&srv);
}

int main(void) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_writes_fail)};
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  curl_global_cleanup();
  return rc;
}
