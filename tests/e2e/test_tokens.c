/* SPDX-License-Identifier: Apache-2.0
 *
 * Credentials the service must refuse on /v1/authorize and the task
 * routes: forged task tokens (alg none, the wrong key, a tampered
 * payload), tokens for another audience, expired tokens, another task's
 * token, and DPoP failures (no proof, a proof by the wrong key, a replayed
 * proof). Every refusal is a 401 and leaves no decision in the evidence
 * log; the chain still verifies afterwards.
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
#include "util/wd_alloc.h"

static e2e_server srv;
static e2e_agent alpha, beta;
static e2e_task ta, tb;
static long allowed; /* decisions expected in ta's log */

static int setup(void **state) {
  (void)state;
  if (e2e_start_with_agent(&srv, "alpha", "standard", &alpha) < 0) return -1;
  if (e2e_agent_enroll(&srv, "beta", "standard", &beta) < 0) return -1;
  if (e2e_task_open_simple(&srv, &alpha, 100, 600, &ta) != 201) return -1;
  if (e2e_task_open_simple(&srv, &alpha, 100, 600, &tb) != 201) return -1;
  return 0;
}

static int teardown(void **state) {
  (void)state;
  e2e_task_clear(&ta);
  e2e_task_clear(&tb);
  e2e_agent_clear(&beta);
  return e2e_stop_with_agent(&srv, &alpha);
}

/* A refused credential: 401 `unauthorized`, and no decision recorded. */
static void expect_refused(const char *token, const char *proof_or_null, int make_proof,
                           const wd_ident_key *key) {
  e2e_resp r;
  if (make_proof) {
    assert_int_equal(e2e_authorize(NULL, &srv, key, token, E2E_CALL_OK, &r), 401);
  } else {
    char auth[8192];
    (void)snprintf(auth, sizeof auth, "DPoP %s", token);
    assert_int_equal(e2e_http(NULL, &srv, "POST", "/v1/authorize", auth, proof_or_null, E2E_CALL_OK,
                              strlen(E2E_CALL_OK), &r),
                     0);
    assert_int_equal(r.status, 401);
  }
  assert_string_equal(e2e_err_code(&r), "unauthorized");
  e2e_resp_clear(&r);
  assert_int_equal(e2e_audit_count(&srv, ta.id, "authz.decision"), allowed);
}

static void allow_once(void) {
  e2e_resp r;
  assert_int_equal(e2e_authorize(NULL, &srv, alpha.key, ta.token, E2E_CALL_OK, &r), 200);
  assert_string_equal(e2e_decision(&r), "allow");
  assert_non_null(json_string_value(json_object_get(r.body, "decision_id")));
  e2e_resp_clear(&r);
  allowed++;
  assert_int_equal(e2e_audit_count(&srv, ta.id, "authz.decision"), allowed);
}

static char *b64(const char *s) {
  size_t n = strlen(s);
  size_t m = wd_ident_b64url_enclen(n) + 1;
  char *out = wd_malloc(m);
  assert_non_null(out);
  assert_int_equal(wd_ident_b64url_encode(s, n, out, m), 0);
  return out;
}

static char *join3(const char *a, const char *b, const char *c) {
  size_t n = strlen(a) + strlen(b) + strlen(c) + 3;
  char *out = wd_malloc(n);
  assert_non_null(out);
  (void)snprintf(out, n, "%s.%s.%s", a, b, c);
  return out;
}

static void decode(const char *tok, wd_ident_jws *j) {
  wd_ident_diag d;
  assert_int_equal(wd_ident_jws_decode(tok, strlen(tok), j, &d), 0);
}

static void test_valid_token_allows(void **state) {
  (void)state;
  allow_once();
}

static void test_alg_none(void **state) {
  (void)state;
  wd_ident_jws j;
  decode(ta.token, &j);
  char *ptxt = json_dumps(j.payload, JSON_COMPACT);
  char *h = b64("{\"alg\":\"none\",\"typ\":\"wd-task+jwt\"}");
  char *p = b64(ptxt);
  char *tok = join3(h, p, "");
  expect_refused(tok, NULL, 1, alpha.key);
  free(ptxt); /* jansson's allocator */
  wd_free(h);
  wd_free(p);
  wd_free(tok);
  wd_ident_jws_clear(&j);
}

static void test_wrong_signing_key(void **state) {
  (void)state;
  wd_ident_jws j;
  decode(ta.token, &j);
  wd_ident_key *k = NULL;
  assert_int_equal(wd_ident_key_generate(WD_IDENT_KEY_ED25519, &k), 0);
  char *tok = NULL;
  /* Same kid as the real signing key: only the signature is wrong. */
  assert_int_equal(wd_ident_jws_sign(k, j.typ, j.kid, NULL, j.payload, &tok), 0);
  expect_refused(tok, NULL, 1, alpha.key);
  wd_free(tok);
  wd_ident_key_free(k);
  wd_ident_jws_clear(&j);
}

static void test_tampered_payload(void **state) {
  (void)state;
  wd_ident_jws j;
  decode(ta.token, &j);
  json_t *p = json_deep_copy(j.payload);
  json_int_t exp = json_integer_value(json_object_get(p, "exp"));
  assert_int_equal(json_object_set_new(p, "exp", json_integer(exp + 3600)), 0);
  char *ptxt = json_dumps(p, JSON_COMPACT);
  char *pb = b64(ptxt);
  const char *d1 = strchr(ta.token, '.');
  const char *d2 = strrchr(ta.token, '.');
  char head[1024];
  (void)snprintf(head, sizeof head, "%.*s", (int)(d1 - ta.token), ta.token);
  char *tok = join3(head, pb, d2 + 1);
  expect_refused(tok, NULL, 1, alpha.key);
  free(ptxt);
  wd_free(pb);
  wd_free(tok);
  json_decref(p);
  wd_ident_jws_clear(&j);
}

/* Tokens signed with the server's real key, so only one claim is wrong:
 * the test reads the keyset from the data directory it owns and re-signs
 * the issued token's payload (same jti) after changing aud or the times. */
static char *mint_variant(const char *aud, int64_t shift) {
  char dir[512];
  (void)snprintf(dir, sizeof dir, "%s/keys", srv.data);
  wd_ident_keyset *ks = NULL;
  assert_int_equal(wd_ident_keyset_load(dir, &ks), 0);
  const wd_ident_key *k = wd_ident_keyset_active(ks);
  assert_non_null(k);
  wd_ident_jws j;
  decode(ta.token, &j);
  assert_string_equal(j.kid, wd_ident_key_jkt(k));
  json_t *pl = json_deep_copy(j.payload);
  if (aud) assert_int_equal(json_object_set_new(pl, "aud", json_string(aud)), 0);
  const char *times[] = {"iat", "nbf", "exp"};
  for (size_t i = 0; i < 3 && shift != 0; i++) {
    json_t *v = json_object_get(pl, times[i]);
    if (v) assert_int_equal(json_integer_set(v, json_integer_value(v) + shift), 0);
  }
  char *tok = NULL;
  assert_int_equal(wd_ident_jws_sign(k, j.typ, j.kid, NULL, pl, &tok), 0);
  json_decref(pl);
  wd_ident_jws_clear(&j);
  wd_ident_keyset_free(ks);
  return tok;
}

static void test_minted_control(void **state) {
  (void)state;
  /* The re-signed, unchanged token is accepted, so the variants below
   * fail for the one claim they change and for nothing else. */
  char *tok = mint_variant(NULL, 0);
  e2e_resp r;
  assert_int_equal(e2e_authorize(NULL, &srv, alpha.key, tok, E2E_CALL_OK, &r), 200);
  assert_string_equal(e2e_decision(&r), "allow");
  e2e_resp_clear(&r);
  wd_free(tok);
  allowed++;
  assert_int_equal(e2e_audit_count(&srv, ta.id, "authz.decision"), allowed);
}

static void test_other_audience(void **state) {
  (void)state;
  char *tok = mint_variant("https://elsewhere.example", 0);
  expect_refused(tok, NULL, 1, alpha.key);
  wd_free(tok);
}

static void test_expired(void **state) {
  (void)state;
  char *tok = mint_variant(NULL, -3600);
  expect_refused(tok, NULL, 1, alpha.key);
  wd_free(tok);
}

static void test_other_tasks_token(void **state) {
  (void)state;
  /* tb's token on ta's routes: refused, and ta stays open. */
  char path[256];
  (void)snprintf(path, sizeof path, "/v1/tasks/%s/complete", ta.id);
  e2e_resp r;
  assert_int_equal(e2e_task_call(NULL, &srv, alpha.key, tb.token, "POST", path, "{}", &r), 0);
  assert_int_equal(r.status, 401);
  assert_string_equal(e2e_err_code(&r), "unauthorized");
  e2e_resp_clear(&r);
  (void)snprintf(path, sizeof path, "/v1/tasks/%s/renew", ta.id);
  assert_int_equal(e2e_task_call(NULL, &srv, alpha.key, tb.token, "POST", path, "{}", &r), 0);
  assert_int_equal(r.status, 401);
  assert_string_equal(e2e_err_code(&r), "unauthorized");
  e2e_resp_clear(&r);
  assert_int_equal(e2e_audit_count(&srv, ta.id, "task.ended"), 0);
  allow_once();
}

static void test_no_proof(void **state) {
  (void)state;
  expect_refused(ta.token, NULL, 0, NULL);
}

static void test_proof_wrong_key(void **state) {
  (void)state;
  /* beta's key holds no claim on alpha's token (cnf.jkt). */
  expect_refused(ta.token, NULL, 1, beta.key);
}

static void test_replayed_proof(void **state) {
  (void)state;
  char htu[512], auth[8192];
  (void)snprintf(htu, sizeof htu, "%s/v1/authorize", srv.url);
  (void)snprintf(auth, sizeof auth, "DPoP %s", ta.token);
  char *p = NULL;
  assert_int_equal(wd_ident_dpop_make(alpha.key, "POST", htu, ta.token, e2e_now(), &p), 0);
  e2e_resp r;
  assert_int_equal(
      e2e_http(NULL, &srv, "POST", "/v1/authorize", auth, p, E2E_CALL_OK, strlen(E2E_CALL_OK), &r),
      0);
  assert_int_equal(r.status, 200);
  assert_string_equal(e2e_decision(&r), "allow");
  e2e_resp_clear(&r);
  allowed++;
  expect_refused(ta.token, p, 0, NULL);
  wd_free(p);
}

static void test_chain_verifies(void **state) {
  (void)state;
  long n = 0;
  assert_int_equal(e2e_audit_verify(&srv, &n), 1);
  assert_true(n > 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_valid_token_allows),
      cmocka_unit_test(test_alg_none),
      cmocka_unit_test(test_wrong_signing_key),
      cmocka_unit_test(test_tampered_payload),
      cmocka_unit_test(test_minted_control),
      cmocka_unit_test(test_other_audience),
      cmocka_unit_test(test_expired),
      cmocka_unit_test(test_other_tasks_token),
      cmocka_unit_test(test_no_proof),
      cmocka_unit_test(test_proof_wrong_key),
      cmocka_unit_test(test_replayed_proof),
      cmocka_unit_test(test_chain_verifies),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
