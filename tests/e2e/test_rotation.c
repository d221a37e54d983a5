/* SPDX-License-Identifier: Apache-2.0
 *
 * Signing-key rotation on a timer: a server started with
 * WARDEN_KEY_ROTATION=1 rotates every second. A token issued before the
 * rotations still authorizes (with a fresh proof) because the old key
 * stays published in /.well-known/jwks.json; a renewed token is signed by
 * a new key; every key, from the first start's on, has an admin.action
 * key.rotated record by "warden", and the chain still verifies, online
 * and offline.
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
#include "store/wd_store.h"
#include "util/wd_alloc.h"

static e2e_server srv;
static e2e_agent alpha;

static int setup(void **state) {
  (void)state;
  /* The child inherits it: the environment form of --key-rotation. */
  if (setenv("WARDEN_KEY_ROTATION", "1", 1) != 0) return -1;
  int rc = e2e_start_with_agent(&srv, "alpha", "standard", &alpha);
  (void)unsetenv("WARDEN_KEY_ROTATION");
  return rc;
}

static int teardown(void **state) {
  (void)state;
  return e2e_stop_with_agent(&srv, &alpha);
}

/* The kid in a compact JWS's protected header, into out. */
static void token_kid(const char *tok, char *out, size_t len) {
  const char *dot = strchr(tok, '.');
  assert_non_null(dot);
  uint8_t hdr[1024];
  size_t n = 0;
  assert_int_equal(wd_ident_b64url_decode(tok, (size_t)(dot - tok), hdr, sizeof hdr, &n), 0);
  json_t *h = json_loadb((const char *)hdr, n, 0, NULL);
  assert_non_null(h);
  const char *kid = json_string_value(json_object_get(h, "kid"));
  assert_non_null(kid);
  (void)snprintf(out, len, "%s", kid);
  json_decref(h);
}

/* 1 when the JWKS lists kid; *n gets the number of keys. */
static int jwks_has(const char *kid, size_t *n) {
  e2e_resp r;
  assert_int_equal(e2e_http(NULL, &srv, "GET", "/.well-known/jwks.json", NULL, NULL, NULL, 0, &r),
                   0);
  assert_int_equal(r.status, 200);
  json_t *keys = json_object_get(r.body, "keys");
  assert_true(json_is_array(keys));
  *n = json_array_size(keys);
  int found = 0;
  size_t i;
  json_t *k;
  json_array_foreach(keys, i, k) {
    const char *x = json_string_value(json_object_get(k, "kid"));
    if (x && strcmp(x, kid) == 0) found = 1;
  }
  e2e_resp_clear(&r);
  return found;
}

static void allow(const char *token) {
  e2e_resp r;
  assert_int_equal(e2e_authorize(NULL, &srv, alpha.key, token, E2E_CALL_OK, &r), 200);
  assert_string_equal(e2e_decision(&r), "allow");
  e2e_resp_clear(&r);
}

typedef struct scan {
  long n;
  int retired_kid0;  /* a record names kid0 as the key it replaced */
  int recorded_kid0; /* a record names kid0 as the new key */
  int chained;       /* each record's previous is the kid of the one before */
  const char *kid0;
  char last[64];
} scan;

static int on_row(void *ctx, const wd_audit_row *row) {
  scan *s = ctx;
  if (strcmp(row->type, "admin.action") != 0) return 0;
  json_t *p = json_loads(row->payload, 0, NULL);
  const char *action = json_string_value(json_object_get(p, "action"));
  if (action && strcmp(action, "key.rotated") == 0 && strcmp(row->actor, "warden") == 0) {
    const char *prev = json_string_value(json_object_get(p, "previous"));
    const char *kid = json_string_value(json_object_get(p, "kid"));
    /* Only the first start's key replaces none. */
    if (!kid || (s->n == 0) != !prev || (prev && strcmp(prev, s->last) != 0)) s->chained = 0;
    if (kid && strcmp(kid, s->kid0) == 0) s->recorded_kid0 = 1;
    if (prev && strcmp(prev, s->kid0) == 0) s->retired_kid0 = 1;
    (void)snprintf(s->last, sizeof s->last, "%s", kid ? kid : "");
    s->n++;
  }
  json_decref(p);
  return 0;
}

static void test_timer_rotation(void **state) {
  (void)state;
  e2e_task t;
  assert_int_equal(e2e_task_open_simple(&srv, &alpha, 50, 900, &t), 201);
  char kid0[64], kid1[64];
  token_kid(t.token, kid0, sizeof kid0);
  allow(t.token);

  usleep(2500 * 1000);
  size_t n = 0;
  assert_true(jwks_has(kid0, &n)); /* retired, still published */
  assert_true(n >= 2);
  allow(t.token); /* signed by the old key; a fresh proof */

  char path[256];
  (void)snprintf(path, sizeof path, "/v1/tasks/%s/renew", t.id);
  e2e_resp r;
  assert_int_equal(e2e_task_call(NULL, &srv, alpha.key, t.token, "POST", path, "{}", &r), 0);
  assert_int_equal(r.status, 200);
  const char *tok = json_string_value(json_object_get(r.body, "token"));
  assert_non_null(tok);
  char *renewed = wd_strdup(tok);
  assert_non_null(renewed);
  e2e_resp_clear(&r);
  token_kid(renewed, kid1, sizeof kid1);
  assert_string_not_equal(kid0, kid1);
  assert_true(jwks_has(kid1, &n));
  allow(renewed);

  long records = 0;
  assert_int_equal(e2e_audit_verify(&srv, &records), 1);
  /* Offline, on the live SQLite file: the chain and the rotation records. */
  long rotated = -1;
  assert_int_equal(e2e_offline_verify(&srv, "admin.action", &rotated), 0);
  assert_true(rotated >= 4); /* admin_token.created, the start's key and two rotations */
  char db[512];
  (void)snprintf(db, sizeof db, "%s/warden.db", srv.data);
  wd_store *st = NULL;
  assert_int_equal(wd_store_open(db, WD_STORE_READONLY, &st), 0);
  scan s = {.kid0 = kid0, .chained = 1};
  assert_int_equal(wd_store_audit_scan(st, NULL, 1, on_row, &s), 0);
  wd_store_close(st);
  assert_true(s.n >= 2);
  assert_true(s.chained);
  assert_true(s.retired_kid0);
  assert_true(s.recorded_kid0);
  wd_free(renewed);
  e2e_task_clear(&t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_timer_rotation),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
