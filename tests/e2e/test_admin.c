/* SPDX-License-Identifier: Apache-2.0
 *
 * The admin token's life against a real server, through the CLI:
 * `warden admin rotate-token` replaces it (the old token is refused at
 * once, the new one works); `warden admin reset-token` refuses a data
 * directory a server is running on, and on a stopped one makes a token
 * that the restarted server takes while the rotated one stays refused.
 * Each change is an admin.action record (admin_token.rotated by "admin"
 * with its reason, admin_token.reset by "operator" naming the Unix user),
 * and the chain verifies offline.
 */
#define _DEFAULT_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "e2e.h"
#include "store/wd_store.h"

static e2e_server srv;

static int setup(void **state) {
  (void)state;
  return e2e_server_start(&srv);
}

static int teardown(void **state) {
  (void)state;
  int rc = srv.pid > 0 ? e2e_server_stop(&srv) : 0;
  e2e_server_cleanup(&srv);
  return rc;
}

/* Runs `warden admin ARGS` with WARDEN_ADMIN_TOKEN = token; its stdout's
 * first line into out. Returns the exit status. */
static int cli(const char *token, const char *args, char *out, size_t len) {
  char cmd[1024], all[4096];
  (void)snprintf(cmd, sizeof cmd, "admin %s", args);
  int st = e2e_cli(&srv, token, cmd, all, sizeof all);
  size_t n = strcspn(all, "\n");
  if (n >= len) n = len - 1;
  memcpy(out, all, n);
  out[n] = '\0';
  return st;
}

static long agents_status(const char *token) {
  char auth[256];
  (void)snprintf(auth, sizeof auth, "Bearer %s", token);
  e2e_resp r;
  assert_int_equal(e2e_http(NULL, &srv, "GET", "/v1/agents", auth, NULL, NULL, 0, &r), 0);
  long st = r.status;
  e2e_resp_clear(&r);
  return st;
}

typedef struct seen {
  int rotated, reset;
} seen;

static int on_row(void *ctx, const wd_audit_row *row) {
  seen *s = ctx;
  if (strcmp(row->type, "admin.action") != 0) return 0;
  json_t *p = json_loads(row->payload, 0, NULL);
  const char *action = json_string_value(json_object_get(p, "action"));
  const char *reason = json_string_value(json_object_get(p, "reason"));
  const char *by = json_string_value(json_object_get(p, "by"));
  if (action && strcmp(action, "admin_token.rotated") == 0 && strcmp(row->actor, "admin") == 0 &&
      reason && strcmp(reason, "leaked") == 0)
    s->rotated++;
  if (action && strcmp(action, "admin_token.reset") == 0 && strcmp(row->actor, "operator") == 0 &&
      by && strstr(by, "uid "))
    s->reset++;
  json_decref(p);
  return 0;
}

static void test_rotate_and_reset(void **state) {
  (void)state;
  char t2[256], t3[256], tmp[256], args[600];
  assert_int_equal(cli(E2E_ADMIN_TOKEN, "rotate-token --reason leaked", t2, sizeof t2), 0);
  assert_true(strlen(t2) >= 40);
  assert_int_equal(agents_status(E2E_ADMIN_TOKEN), 401);
  assert_int_equal(agents_status(t2), 200);
  /* The old token can no longer rotate either. */
  assert_int_equal(cli(E2E_ADMIN_TOKEN, "rotate-token", tmp, sizeof tmp), 2);
  assert_int_equal(agents_status(t2), 200);

  (void)snprintf(args, sizeof args, "reset-token --data %s", srv.data);
  assert_int_equal(cli("", args, tmp, sizeof tmp), 1); /* the server holds the directory */
  assert_string_equal(tmp, "");
  assert_int_equal(agents_status(t2), 200);

  assert_int_equal(e2e_server_stop(&srv), 0);
  assert_int_equal(cli("", args, t3, sizeof t3), 0);
  assert_true(strlen(t3) >= 40);
  assert_string_not_equal(t2, t3);
  assert_int_equal(e2e_server_start(&srv), 0);
  assert_int_equal(agents_status(t3), 200);
  assert_int_equal(agents_status(t2), 401);
  assert_int_equal(agents_status(E2E_ADMIN_TOKEN), 401);

  long n = 0;
  assert_int_equal(e2e_offline_verify(&srv, "admin.action", &n), 0);
  char db[512];
  (void)snprintf(db, sizeof db, "%s/warden.db", srv.data);
  wd_store *st = NULL;
  assert_int_equal(wd_store_open(db, WD_STORE_READONLY, &st), 0);
  seen s = {0, 0};
  assert_int_equal(wd_store_audit_scan(st, NULL, 1, on_row, &s), 0);
  wd_store_close(st);
  assert_int_equal(s.rotated, 1);
  assert_int_equal(s.reset, 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_rotate_and_reset),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
