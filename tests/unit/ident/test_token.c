/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for task tokens: mint/verify round trip with every claim,
 * and each rejection the service relies on: alg none, the wrong key,
 * tampered payload, unknown kid, another audience or issuer, expiry
 * (with leeway), not-yet-valid, over-long lifetime, missing or mistyped
 * claims, wrong typ, and a retired signing key after its overlap.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "ident/wd_ident.h"
#include "util/wd_alloc.h"
#include "util/wd_buf.h"
#include "warden/err.h"

#define NOW INT64_C(1700000000)
#define ISS "https://warden.example"
#define AUD "warden"
#define SUB "spiffe://example.org/agent/builder"
#define JKT "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"

static wd_ident_keyset *ks;

static int setup(void **state) {
  (void)state;
  return wd_ident_keyset_new(&ks) || wd_ident_keyset_rotate(ks, NOW - 10, 0);
}

static int teardown(void **state) {
  (void)state;
  wd_ident_keyset_free(ks);
  return 0;
}

static wd_ident_token_params params(void) {
  return (wd_ident_token_params){
      .iss = ISS, .sub = SUB, .aud = AUD, .task_id = "task-42", .cnf_jkt = JKT, .now = NOW};
}

static wd_ident_verify_opts opts(int64_t now) {
  return (wd_ident_verify_opts){.iss = ISS, .aud = AUD, .now = now, .leeway = -1};
}

static void round_trip(void **state) {
  (void)state;
  wd_ident_token_params p = params();
  json_t *scope = json_pack("{s:[s,s], s:s}", "tools", "git", "http", "ceiling", "internal");
  p.scope = scope;
  wd_ident_minted m;
  assert_int_equal(wd_ident_token_mint(ks, &p, &m), 0);
  assert_int_equal(m.exp - m.iat, WD_IDENT_TOKEN_TTL_DEFAULT);
  wd_ident_claims c;
  wd_ident_diag d;
  wd_ident_verify_opts o = opts(NOW + 5);
  assert_int_equal(wd_ident_token_verify(ks, m.token, strlen(m.token), &o, &c, &d), 0);
  assert_string_equal(c.iss, ISS);
  assert_string_equal(c.sub, SUB);
  assert_string_equal(c.aud, AUD);
  assert_string_equal(c.task_id, "task-42");
  assert_string_equal(c.jti, m.jti);
  assert_string_equal(c.cnf_jkt, JKT);
  assert_string_equal(c.kid, wd_ident_key_jkt(wd_ident_keyset_active(ks)));
  assert_int_equal(c.exp, NOW + WD_IDENT_TOKEN_TTL_DEFAULT);
  assert_int_equal(c.iat, NOW);
  assert_true(json_equal(c.scope, scope));
  wd_ident_claims_clear(&c);
  wd_ident_claims_clear(&c); /* idempotent */
  json_decref(scope);
  wd_free(m.token);
}

static void mint_rejects_bad_params(void **state) {
  (void)state;
  wd_ident_minted m;
  wd_ident_token_params p = params();
  p.ttl = WD_IDENT_TOKEN_TTL_MAX + 1;
  assert_int_equal(wd_ident_token_mint(ks, &p, &m), -WD_E_INVAL);
  p = params();
  p.sub = NULL;
  assert_int_equal(wd_ident_token_mint(ks, &p, &m), -WD_E_INVAL);
  p = params();
  p.cnf_jkt = "short";
  assert_int_equal(wd_ident_token_mint(ks, &p, &m), -WD_E_INVAL);
  wd_ident_keyset *empty = NULL;
  assert_int_equal(wd_ident_keyset_new(&empty), 0);
  p = params();
  assert_int_equal(wd_ident_token_mint(empty, &p, &m), -WD_E_NOTFOUND);
  wd_ident_keyset_free(empty);
}

/* Signs an arbitrary claims text with the keyset's active key, header
 * given as JSON text (so tests can put anything in it). */
static char *sign_raw(const char *hdr_extra_typ, const json_t *claims) {
  const wd_ident_key *k = wd_ident_keyset_active(ks);
  char *tok = NULL;
  assert_int_equal(wd_ident_jws_sign(k, hdr_extra_typ, wd_ident_key_jkt(k), NULL, claims, &tok), 0);
  return tok;
}

static json_t *good_claims(void) {
  return json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:{}, s:{s:s}}", "iss", ISS, "sub", SUB,
                   "aud", AUD, "jti", "j1", "iat", (json_int_t)NOW, "exp", (json_int_t)(NOW + 300),
                   "task_id", "t1", "scope", "cnf", "jkt", JKT);
}

static char *with_claim(const char *name, json_t *v) {
  json_t *c = good_claims();
  if (v)
    assert_int_equal(json_object_set_new(c, name, v), 0);
  else
    assert_int_equal(json_object_del(c, name), 0);
  char *tok = sign_raw(WD_IDENT_TOKEN_TYP, c);
  json_decref(c);
  return tok;
}

static char *b64(const char *s) {
  char *out = wd_malloc(wd_ident_b64url_enclen(strlen(s)) + 1);
  assert_int_equal(wd_ident_b64url_encode(s, strlen(s), out, wd_ident_b64url_enclen(strlen(s)) + 1),
                   0);
  return out;
}

static void rejections(void **state) {
  (void)state;
  wd_ident_token_params p = params();
  wd_ident_minted m;
  assert_int_equal(wd_ident_token_mint(ks, &p, &m), 0);
  const char *good = m.token;
  const char *d1 = strchr(good, '.'), *d2 = strrchr(good, '.');

  /* alg none: same payload, header {"alg":"none"}, empty signature. */
  wd_buf none;
  wd_buf_init(&none, 1 << 16);
  char *nh = b64("{\"alg\":\"none\",\"typ\":\"" WD_IDENT_TOKEN_TYP "\"}");
  assert_int_equal(wd_buf_addf(&none, "%s%.*s.", nh, (int)(d2 - d1), d1), 0);
  wd_free(nh);
  /* Tampered payload: aud swapped, original signature kept. */
  wd_buf tamp;
  wd_buf_init(&tamp, 1 << 16);
  json_t *evil = good_claims();
  assert_int_equal(json_object_set_new(evil, "task_id", json_string("other-task")), 0);
  char et[1024];
  size_t etn = json_dumpb(evil, et, sizeof et - 1, JSON_COMPACT | JSON_SORT_KEYS);
  assert_true(etn > 0 && etn < sizeof et);
  et[etn] = '\0';
  json_decref(evil);
  char *ep = b64(et);
  assert_int_equal(wd_buf_addf(&tamp, "%.*s.%s%s", (int)(d1 - good), good, ep, d2), 0);
  wd_free(ep);
  /* Wrong key: a token from another keyset whose kid we do not know, and
   * one that claims our kid but was signed by another key. */
  wd_ident_keyset *other = NULL;
  assert_int_equal(wd_ident_keyset_new(&other), 0);
  assert_int_equal(wd_ident_keyset_rotate(other, NOW, 0), 0);
  wd_ident_minted om;
  assert_int_equal(wd_ident_token_mint(other, &p, &om), 0);
  json_t *gc = good_claims();
  char *forged_kid = NULL;
  assert_int_equal(wd_ident_jws_sign(wd_ident_keyset_active(other), WD_IDENT_TOKEN_TYP,
                                     wd_ident_key_jkt(wd_ident_keyset_active(ks)), NULL, gc,
                                     &forged_kid),
                   0);
  /* ES256 signature with a P-256 key and our kid. */
  wd_ident_key *ec = NULL;
  assert_int_equal(wd_ident_key_generate(WD_IDENT_KEY_P256, &ec), 0);
  char *es = NULL;
  assert_int_equal(wd_ident_jws_sign(ec, WD_IDENT_TOKEN_TYP,
                                     wd_ident_key_jkt(wd_ident_keyset_active(ks)), NULL, gc, &es),
                   0);
  char *dpop_typed = sign_raw(WD_IDENT_DPOP_TYP, gc);
  char *untyped = sign_raw(NULL, gc);
  json_decref(gc);
  json_t *long_life = good_claims();
  assert_int_equal(json_object_set_new(long_life, "exp", json_integer(NOW + 3600)), 0);
  char *longtok = sign_raw(WD_IDENT_TOKEN_TYP, long_life);
  json_decref(long_life);

  char *toks[] = {
      (char *)(uintptr_t)wd_buf_str(&none),
      (char *)(uintptr_t)wd_buf_str(&tamp),
      om.token,
      forged_kid,
      es,
      dpop_typed,
      untyped,
      longtok,
      with_claim("aud", json_string("other-service")),
      with_claim("iss", json_string("https://evil.example")),
      with_claim("aud", json_pack("[s]", AUD)),
      with_claim("exp", NULL),
      with_claim("exp", json_string("soon")),
      with_claim("exp", json_real((double)NOW + 300.5)),
      with_claim("iat", NULL),
      with_claim("sub", NULL),
      with_claim("jti", json_integer(5)),
      with_claim("task_id", NULL),
      with_claim("cnf", NULL),
      with_claim("cnf", json_pack("{s:s}", "jkt", "abc")),
      with_claim("scope", json_string("all")),
      with_claim("nbf", json_integer(NOW + 3600)),
      with_claim("iat", json_integer(NOW + 3600)),
  };
  const wd_ident_reason want[] = {
      WD_IDENT_R_ALG_NOT_ALLOWED, WD_IDENT_R_SIG_INVALID,     WD_IDENT_R_UNKNOWN_KID,
      WD_IDENT_R_SIG_INVALID,     WD_IDENT_R_ALG_NOT_ALLOWED, WD_IDENT_R_BAD_TYP,
      WD_IDENT_R_BAD_TYP,         WD_IDENT_R_LIFETIME,        WD_IDENT_R_WRONG_AUDIENCE,
      WD_IDENT_R_WRONG_ISSUER,    WD_IDENT_R_BAD_CLAIMS,      WD_IDENT_R_MISSING_CLAIM,
      WD_IDENT_R_BAD_CLAIMS,      WD_IDENT_R_BAD_CLAIMS,      WD_IDENT_R_MISSING_CLAIM,
      WD_IDENT_R_MISSING_CLAIM,   WD_IDENT_R_BAD_CLAIMS,      WD_IDENT_R_MISSING_CLAIM,
      WD_IDENT_R_MISSING_CLAIM,   WD_IDENT_R_BAD_CLAIMS,      WD_IDENT_R_BAD_CLAIMS,
      WD_IDENT_R_NOT_YET_VALID,   WD_IDENT_R_BAD_CLAIMS,
  };
  assert_int_equal(sizeof toks / sizeof toks[0], sizeof want / sizeof want[0]);
  int failed = 0;
  for (size_t i = 0; i < sizeof toks / sizeof toks[0]; i++) {
    wd_ident_claims c;
    wd_ident_diag d;
    wd_ident_verify_opts o = opts(NOW + 1);
    int rc = wd_ident_token_verify(ks, toks[i], strlen(toks[i]), &o, &c, &d);
    if (rc != -WD_E_VALIDATE || d.reason != want[i] || c.sub) {
      print_error("row %zu: rc %d reason %s (%s), want %s\n", i, rc, wd_ident_reason_name(d.reason),
                  d.msg, wd_ident_reason_name(want[i]));
      failed++;
    }
    if (i >= 2) wd_free(toks[i]);
  }
  wd_buf_free(&none);
  wd_buf_free(&tamp);
  wd_ident_key_free(ec);
  wd_ident_keyset_free(other);
  wd_free(m.token);
  assert_int_equal(failed, 0);
}

static void expiry_and_leeway(void **state) {
  (void)state;
  wd_ident_token_params p = params();
  p.ttl = 60;
  wd_ident_minted m;
  assert_int_equal(wd_ident_token_mint(ks, &p, &m), 0);
  const struct {
    int64_t now, leeway;
    wd_ident_reason want;
  } rows[] = {
      {NOW + 59, 0, WD_IDENT_R_NONE},        {NOW + 60, 0, WD_IDENT_R_EXPIRED},
      {NOW + 70, 30, WD_IDENT_R_NONE},       {NOW + 90, 30, WD_IDENT_R_EXPIRED},
      {NOW + 10000, -1, WD_IDENT_R_EXPIRED}, {NOW - 20, 30, WD_IDENT_R_NONE},
      {NOW - 40, 30, WD_IDENT_R_IAT_FUTURE},
  };
  int failed = 0;
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    wd_ident_verify_opts o = {.iss = ISS, .aud = AUD, .now = rows[i].now, .leeway = rows[i].leeway};
    wd_ident_claims c;
    wd_ident_diag d;
    int rc = wd_ident_token_verify(ks, m.token, strlen(m.token), &o, &c, &d);
    if (d.reason != rows[i].want || (rc == 0) != (rows[i].want == WD_IDENT_R_NONE)) {
      print_error("row %zu: rc %d %s\n", i, rc, d.msg);
      failed++;
    }
    wd_ident_claims_clear(&c);
  }
  wd_free(m.token);
  assert_int_equal(failed, 0);
}

/* Every allocation failure fails closed (an error, never acceptance of a
 * half-checked token) and leaks nothing; jansson's own allocations are
 * outside the hook. */
static void allocation_failures(void **state) {
  (void)state;
  wd_ident_key *agent = NULL;
  assert_int_equal(wd_ident_key_generate(WD_IDENT_KEY_P256, &agent), 0);
  for (long n = 0; n < 64; n++) {
    wd_ident_token_params p = params();
    p.cnf_jkt = wd_ident_key_jkt(agent);
    wd_ident_minted m;
    wd_test_fail_alloc_after(n);
    int rc = wd_ident_token_mint(ks, &p, &m);
    wd_test_fail_alloc_after(-1);
    assert_true(rc == 0 || rc == -WD_E_NOMEM);
    if (rc) continue;
    char *proof = NULL;
    wd_test_fail_alloc_after(n);
    rc = wd_ident_dpop_make(agent, "POST", "https://w.example/v1/authorize", m.token, NOW, &proof);
    wd_test_fail_alloc_after(-1);
    assert_true(rc == 0 || rc == -WD_E_NOMEM);
    if (rc == 0) {
      wd_ident_verify_opts o = opts(NOW);
      wd_ident_claims c;
      wd_ident_diag d;
      wd_test_fail_alloc_after(n);
      rc = wd_ident_token_verify(ks, m.token, strlen(m.token), &o, &c, &d);
      wd_test_fail_alloc_after(-1);
      assert_true(rc == 0 || rc == -WD_E_NOMEM);
      wd_ident_claims_clear(&c);
      wd_ident_dpop_opts po = {.htm = "POST",
                               .htu = "https://w.example/v1/authorize",
                               .access_token = m.token,
                               .cnf_jkt = wd_ident_key_jkt(agent),
                               .now = NOW,
                               .leeway = -1};
      wd_ident_dpop_result r;
      wd_test_fail_alloc_after(n);
      rc = wd_ident_dpop_verify(proof, strlen(proof), &po, &r, &d);
      wd_test_fail_alloc_after(-1);
      assert_true(rc == 0 || rc == -WD_E_NOMEM);
      wd_free(proof);
    }
    wd_free(m.token);
  }
  wd_ident_key_free(agent);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(round_trip),          cmocka_unit_test(mint_rejects_bad_params),
      cmocka_unit_test(rejections),          cmocka_unit_test(expiry_and_leeway),
      cmocka_unit_test(allocation_failures),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
