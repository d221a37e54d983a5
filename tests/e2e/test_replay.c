/* SPDX-License-Identifier: Apache-2.0
 *
 * A DPoP proof is single use across restarts: a proof spent on an
 * allowed call, one spent on a call refused for a bad body, and one on a
 * body that never reached a handler, are all refused as replays by a new server on the same data
 * directory (which loads the spent jtis back). A second server on a directory another one holds
 * refuses to start.
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
#include "util/wd_alloc.h"

static e2e_server srv;

static long post(const e2e_task *t, const char *proof, const char *body, e2e_resp *r) {
  char auth[8192];
  (void)snprintf(auth, sizeof auth, "DPoP %s", t->token);
  assert_int_equal(
      e2e_http(NULL, &srv, "POST", "/v1/authorize", auth, proof, body, strlen(body), r), 0);
  return r->status;
}

static char *make_proof(const e2e_agent *a, const e2e_task *t) {
  char htu[256];
  (void)snprintf(htu, sizeof htu, "%s/v1/authorize", srv.url);
  char *p = NULL;
  assert_int_equal(wd_ident_dpop_make(a->key, "POST", htu, t->token, e2e_now(), &p), 0);
  return p;
}

static int mentions(const e2e_resp *r, const char *what) {
  const char *m = json_string_value(json_object_get(json_object_get(r->body, "error"), "message"));
  return m && strstr(m, what) != NULL;
}

static void test_replay_across_restart(void **state) {
  (void)state;
  e2e_agent a;
  assert_int_equal(e2e_start_with_agent(&srv, "replayer", "standard", &a), 0);
  e2e_task t;
  assert_int_equal(e2e_task_open_simple(&srv, &a, 50, 900, &t), 201);
  char *spent = make_proof(&a, &t), *refused = make_proof(&a, &t), *unread = make_proof(&a, &t);
  e2e_resp r;
  assert_int_equal(post(&t, spent, E2E_CALL_OK, &r), 200);
  assert_string_equal(e2e_decision(&r), "allow");
  e2e_resp_clear(&r);
  assert_int_equal(post(&t, spent, E2E_CALL_OK, &r), 401);
  assert_true(mentions(&r, "replayed"));
  e2e_resp_clear(&r);
  assert_int_equal(post(&t, refused, "{\"operation\":\"read\"}", &r), 400);
  assert_string_equal(e2e_err_field(&r), "tool");
  e2e_resp_clear(&r);
  /* Refused before any handler: the body does not parse. */
  assert_int_equal(post(&t, unread, "{\"tool\":", &r), 400);
  assert_string_equal(e2e_err_code(&r), "malformed_json");
  e2e_resp_clear(&r);

  /* A second server on the same directory refuses to start. */
  e2e_server other = srv;
  assert_int_equal(e2e_server_start(&other), -1);
  char path[512], buf[4096] = {0};
  (void)snprintf(path, sizeof path, "%s/server.err", srv.root);
  FILE *fe = fopen(path, "r");
  assert_non_null(fe);
  size_t got = fread(buf, 1, sizeof buf - 1, fe);
  buf[got] = '\0';
  (void)fclose(fe);
  assert_non_null(strstr(buf, "is in use by another warden serve"));
  assert_non_null(strstr(buf, srv.data));

  const char *port = strrchr(srv.url, ':');
  assert_non_null(port);
  (void)snprintf(srv.listen, sizeof srv.listen, "127.0.0.1%s", port);
  assert_int_equal(e2e_server_stop(&srv), 0);
  assert_int_equal(e2e_server_start(&srv), 0);
  assert_int_equal(post(&t, spent, E2E_CALL_OK, &r), 401);
  assert_true(mentions(&r, "replayed"));
  e2e_resp_clear(&r);
  assert_int_equal(post(&t, refused, E2E_CALL_OK, &r), 401);
  assert_true(mentions(&r, "replayed"));
  e2e_resp_clear(&r);
  assert_int_equal(post(&t, unread, E2E_CALL_OK, &r), 401);
  assert_true(mentions(&r, "replayed"));
  e2e_resp_clear(&r);
  /* A fresh proof still works, and the log holds one decision. */
  assert_int_equal(e2e_authorize(NULL, &srv, a.key, t.token, E2E_CALL_OK, &r), 200);
  e2e_resp_clear(&r);
  assert_int_equal(e2e_audit_count(&srv, t.id, "authz.decision"), 2);
  wd_free(spent);
  wd_free(refused);
  wd_free(unread);
  e2e_task_clear(&t);
  assert_int_equal(e2e_stop_with_agent(&srv, &a), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_replay_across_restart)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
