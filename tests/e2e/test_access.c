/* SPDX-License-Identifier: Apache-2.0
 *
 * The access log against a real server started with WARDEN_ACCESS_LOG:
 * every request is one JSON line with its peer, method, path, status and
 * who asked (nobody, the admin, or an agent with its task), refused
 * credentials included; no line holds a credential; after the file is
 * moved away, SIGHUP makes the server write a new one.
 */
#define _DEFAULT_SOURCE
#include <setjmp.h>
#include <signal.h>
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
static char logpath[200];

static int setup(void **state) {
  (void)state;
  (void)snprintf(logpath, sizeof logpath, "/tmp/wd-e2e-access-%ld.log", (long)getpid());
  (void)unlink(logpath);
  if (setenv("WARDEN_ACCESS_LOG", logpath, 1) != 0) return -1;
  return e2e_start_with_agent(&srv, "alpha", "standard", &alpha);
}

static int teardown(void **state) {
  (void)state;
  (void)unlink(logpath);
  return e2e_stop_with_agent(&srv, &alpha);
}

static const json_t *find(const json_t *all, const char *path, long status);

/* The lines of the log, parsed, once one for path with status is there:
 * a line is written as its request ends, just after the answer left. */
static json_t *lines(const char *path, long status) {
  json_t *all = NULL;
  for (int tries = 0; tries < 100; tries++) {
    json_decref(all);
    all = json_array();
    FILE *f = fopen(logpath, "r");
    char buf[16384];
    while (f && fgets(buf, sizeof buf, f)) {
      json_error_t e;
      json_t *o = json_loads(buf, 0, &e);
      assert_non_null(o);
      assert_int_equal(json_array_append_new(all, o), 0);
    }
    if (f) fclose(f);
    if (find(all, path, status)) break;
    usleep(20000);
  }
  return all;
}

static const json_t *find(const json_t *all, const char *path, long status) {
  size_t i;
  const json_t *o;
  json_array_foreach(all, i, o) {
    if (strcmp(json_string_value(json_object_get(o, "path")), path) == 0 &&
        json_integer_value(json_object_get(o, "status")) == status)
      return o;
  }
  return NULL;
}

static void test_lines(void **state) {
  (void)state;
  e2e_resp r;
  assert_int_equal(e2e_http(NULL, &srv, "GET", "/healthz", NULL, NULL, NULL, 0, &r), 0);
  e2e_resp_clear(&r);
  assert_int_equal(
      e2e_http(NULL, &srv, "GET", "/v1/agents", "Bearer not-the-token", NULL, NULL, 0, &r), 0);
  assert_int_equal(r.status, 401);
  e2e_resp_clear(&r);
  e2e_task t;
  assert_int_equal(e2e_task_open_simple(&srv, &alpha, 10, 300, &t), 201);
  assert_int_equal(e2e_authorize(NULL, &srv, alpha.key, t.token, E2E_CALL_OK, &r), 200);
  e2e_resp_clear(&r);

  json_t *all = lines("/v1/authorize", 200);
  const json_t *h = find(all, "/healthz", 200);
  assert_non_null(h);
  assert_string_equal(json_string_value(json_object_get(h, "who")), "none");
  assert_string_equal(json_string_value(json_object_get(h, "method")), "GET");
  assert_non_null(strstr(json_string_value(json_object_get(h, "peer")), "127.0.0.1:"));
  assert_true(json_integer_value(json_object_get(h, "us")) >= 0);
  const json_t *bad = find(all, "/v1/agents", 401);
  assert_non_null(bad);
  assert_string_equal(json_string_value(json_object_get(bad, "who")), "none");
  const json_t *adm = find(all, "/v1/agents", 201);
  assert_non_null(adm); /* the fixture's registration */
  assert_string_equal(json_string_value(json_object_get(adm, "who")), "admin");
  const json_t *call = find(all, "/v1/authorize", 200);
  assert_non_null(call);
  assert_string_equal(json_string_value(json_object_get(call, "who")), "agent");
  assert_string_equal(json_string_value(json_object_get(call, "agent")), alpha.id);
  assert_string_equal(json_string_value(json_object_get(call, "task")), t.id);
  json_decref(all);

  /* No credential in any line: tokens and proofs are JWSs ("eyJ..."). */
  FILE *f = fopen(logpath, "r");
  assert_non_null(f);
  char buf[16384];
  while (fgets(buf, sizeof buf, f)) {
    assert_null(strstr(buf, "eyJ"));
    assert_null(strstr(buf, E2E_ADMIN_TOKEN));
  }
  fclose(f);

  /* Rotated away, then SIGHUP: later requests go to a new file. */
  char moved[260];
  (void)snprintf(moved, sizeof moved, "%s.1", logpath);
  assert_int_equal(rename(logpath, moved), 0);
  assert_int_equal(kill(srv.pid, SIGHUP), 0);
  int fresh = 0;
  for (int i = 0; i < 100 && !fresh; i++) {
    assert_int_equal(e2e_http(NULL, &srv, "GET", "/readyz", NULL, NULL, NULL, 0, &r), 0);
    e2e_resp_clear(&r);
    fresh = access(logpath, F_OK) == 0;
    if (!fresh) usleep(20000);
  }
  assert_true(fresh);
  /* The reopen may have made the file before any request came after it. */
  assert_int_equal(e2e_http(NULL, &srv, "GET", "/readyz", NULL, NULL, NULL, 0, &r), 0);
  e2e_resp_clear(&r);
  all = lines("/readyz", 200);
  assert_non_null(find(all, "/readyz", 200));
  json_decref(all);
  (void)unlink(moved);
  e2e_task_clear(&t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_lines),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
