/* SPDX-License-Identifier: Apache-2.0
 *
 * Restart: decisions and revocations survive a graceful stop and a new
 * start on the same data directory. A revoked token stays refused, a live
 * task keeps working, and the evidence chain continues and verifies.
 */
#define _DEFAULT_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "e2e.h"

#define CALL_OK                                                                                    \
  "{\"tool\":\"fs\",\"operation\":\"read\",\"classification\":\"internal\",\"environment\":"       \
  "\"prod\"}"

static e2e_server srv;

static void calls(const e2e_agent *a, const e2e_task *t, int n) {
  for (int i = 0; i < n; i++) {
    e2e_resp r;
    assert_int_equal(e2e_authorize(NULL, &srv, a->key, t->token, CALL_OK, &r), 200);
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
  assert_int_equal(e2e_authorize(NULL, &srv, a.key, dead.token, CALL_OK, &r), 401);
  e2e_resp_clear(&r);
  long before = 0;
  assert_int_equal(e2e_audit_verify(&srv, &before), 1);

  assert_int_equal(e2e_server_stop(&srv), 0);
  long decisions = -1;
  assert_int_equal(e2e_offline_verify(&srv, "authz.decision", &decisions), 0);
  assert_int_equal(decisions, 7);

  assert_int_equal(e2e_server_start(&srv), 0);
  /* The revoked token stays refused, on the new process too. */
  assert_int_equal(e2e_authorize(NULL, &srv, a.key, dead.token, CALL_OK, &r), 401);
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

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_restart)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
