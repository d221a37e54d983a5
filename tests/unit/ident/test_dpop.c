/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for DPoP proofs: make/verify round trips with both key
 * types, htu normalisation, and each rejection: missing proof, a proof by
 * the wrong key, wrong htm, htu, ath, stale or future iat, wrong typ, a
 * private key in the header, a proof forged for a small-order key, and
 * that a replayed proof returns the same jti (the store rejects it; this
 * module has no replay cache).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "ident/wd_ident.h"
#include "util/wd_alloc.h"
#include "warden/err.h"

#define NOW   INT64_C(1700000000)
#define URL   "https://warden.example:8443/v1/authorize"
#define TOKEN "eyJhbGciOiJFZERTQSJ9.e30.task-token-stand-in"

static wd_ident_key *ed, *ec;

static int setup(void **state) {
  (void)state;
  return wd_ident_key_generate(WD_IDENT_KEY_ED25519, &ed) ||
         wd_ident_key_generate(WD_IDENT_KEY_P256, &ec);
}

static int teardown(void **state) {
  (void)state;
  wd_ident_key_free(ed);
  wd_ident_key_free(ec);
  return 0;
}

static wd_ident_dpop_opts opts(const wd_ident_key *k) {
  return (wd_ident_dpop_opts){.htm = "POST",
                              .htu = URL,
                              .access_token = TOKEN,
                              .cnf_jkt = wd_ident_key_jkt(k),
                              .now = NOW,
                              .leeway = -1};
}

static void round_trip_and_replay(void **state) {
  (void)state;
  const wd_ident_key *keys[] = {ed, ec, ed, ec};
  wd_ident_keycache *cache = NULL;
  assert_int_equal(wd_ident_keycache_new(8, &cache), 0);
  /* Without a key cache, then with one (the replay and the second proof
   * run on the header it kept). */
  for (size_t i = 0; i < 4; i++) {
    char *proof = NULL;
    assert_int_equal(wd_ident_dpop_make(keys[i], "POST", URL, TOKEN, NOW - 3, &proof), 0);
    wd_ident_dpop_opts o = opts(keys[i]);
    o.keys = i < 2 ? NULL : cache;
    wd_ident_dpop_result r1, r2;
    wd_ident_diag d;
    assert_int_equal(wd_ident_dpop_verify(proof, strlen(proof), &o, &r1, &d), 0);
    assert_int_equal(r1.iat, NOW - 3);
    assert_string_equal(r1.jkt, wd_ident_key_jkt(keys[i]));
    assert_true(strlen(r1.jti) >= 16);
    /* A replay verifies again and yields the same jti: the caller's cache
     * is what rejects it. */
    assert_int_equal(wd_ident_dpop_verify(proof, strlen(proof), &o, &r2, &d), 0);
    assert_string_equal(r1.jti, r2.jti);
    wd_free(proof);
    /* Two proofs never share a jti. */
    assert_int_equal(wd_ident_dpop_make(keys[i], "POST", URL, TOKEN, NOW, &proof), 0);
    assert_int_equal(wd_ident_dpop_verify(proof, strlen(proof), &o, &r2, &d), 0);
    assert_string_not_equal(r1.jti, r2.jti);
    wd_free(proof);
  }
  wd_ident_keycache_free(cache);
}

static void htu_normalisation(void **state) {
  (void)state;
  const struct {
    const char *in_proof, *request;
    int ok;
  } rows[] = {
      {"https://warden.example/v1/authorize", "https://warden.example/v1/authorize?x=1", 1},
      {"https://warden.example/v1/authorize#frag", "https://warden.example/v1/authorize", 1},
      {"HTTPS://Warden.Example/v1/authorize", "https://warden.example/v1/authorize", 1},
      {"https://warden.example:443/v1/authorize", "https://warden.example/v1/authorize", 1},
      {"http://127.0.0.1:80", "http://127.0.0.1/", 1},
      {"https://warden.example/v1/Authorize", "https://warden.example/v1/authorize", 0},
      {"https://warden.example/v1/authorize/", "https://warden.example/v1/authorize", 0},
      {"http://warden.example/v1/authorize", "https://warden.example/v1/authorize", 0},
      {"https://warden.example:8443/v1/authorize", "https://warden.example/v1/authorize", 0},
      {"https://evil.example/v1/authorize", "https://warden.example/v1/authorize", 0},
      {"/v1/authorize", "https://warden.example/v1/authorize", 0},
      {"ftp://warden.example/v1/authorize", "ftp://warden.example/v1/authorize", 0},
      /* Percent-encoding: hex case and unreserved characters normalized;
       * an encoded `?` is part of the path, not its end. */
      {"https://warden.example/v1/authoriz%65", "https://warden.example/v1/authorize", 1},
      {"https://warden.example/v1/tasks/a%2fb", "https://warden.example/v1/tasks/a%2Fb", 1},
      {"https://warden.example/v1/tasks/a%2Fb", "https://warden.example/v1/tasks/a/b", 0},
      {"https://warden.example/v1/tasks/abc", "https://warden.example/v1/tasks/abc%3Fz", 0},
      {"https://warden.example/v1/tasks/abc%3Fz", "https://warden.example/v1/tasks/abc%3Fz", 1},
      {"https://warden.example/v1/x%2", "https://warden.example/v1/x%2", 1},
  };
  int failed = 0;
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    char *proof = NULL;
    assert_int_equal(wd_ident_dpop_make(ed, "GET", rows[i].in_proof, TOKEN, NOW, &proof), 0);
    wd_ident_dpop_opts o = opts(ed);
    o.htm = "GET";
    o.htu = rows[i].request;
    wd_ident_dpop_result r;
    wd_ident_diag d;
    int rc = wd_ident_dpop_verify(proof, strlen(proof), &o, &r, &d);
    if ((rc == 0) != rows[i].ok || (rc && d.reason != WD_IDENT_R_DPOP_HTU)) {
      print_error("row %zu: rc %d %s\n", i, rc, d.msg);
      failed++;
    }
    wd_free(proof);
  }
  assert_int_equal(failed, 0);
}

/* Signs a proof with arbitrary header extras and claims. */
static char *custom(const wd_ident_key *signer, const char *typ, json_t *hdr_extra,
                    json_t *claims) {
  char *tok = NULL;
  assert_int_equal(wd_ident_jws_sign(signer, typ, NULL, hdr_extra, claims, &tok), 0);
  json_decref(hdr_extra);
  json_decref(claims);
  return tok;
}

static json_t *jwk_of(const wd_ident_key *k) {
  json_t *j = NULL;
  assert_int_equal(wd_ident_key_to_jwk_json(k, NULL, &j), 0);
  return json_pack("{s:o}", "jwk", j);
}

static void rejections(void **state) {
  (void)state;
  char *p[24];
  size_t n = 0;
  wd_ident_reason want[24];
#define ROW(expr, reason)                                                                          \
  do {                                                                                             \
    p[n] = (expr);                                                                                 \
    want[n++] = (reason);                                                                          \
  } while (0)
  char *t = NULL;
  /* Proof by another key than the token's cnf.jkt (a stolen token). */
  ROW((assert_int_equal(wd_ident_dpop_make(ec, "POST", URL, TOKEN, NOW, &t), 0), t),
      WD_IDENT_R_DPOP_KEY_MISMATCH);
  ROW((assert_int_equal(wd_ident_dpop_make(ed, "GET", URL, TOKEN, NOW, &t), 0), t),
      WD_IDENT_R_DPOP_HTM);
  ROW((assert_int_equal(wd_ident_dpop_make(ed, "post", URL, TOKEN, NOW, &t), 0), t),
      WD_IDENT_R_DPOP_HTM);
  ROW((assert_int_equal(
           wd_ident_dpop_make(ed, "POST", "https://warden.example:8443/v1/tasks", TOKEN, NOW, &t),
           0),
       t),
      WD_IDENT_R_DPOP_HTU);
  ROW((assert_int_equal(wd_ident_dpop_make(ed, "POST", URL, "another.token.x", NOW, &t), 0), t),
      WD_IDENT_R_DPOP_ATH);
  ROW((assert_int_equal(wd_ident_dpop_make(ed, "POST", URL, NULL, NOW, &t), 0), t),
      WD_IDENT_R_DPOP_ATH);
  ROW((assert_int_equal(wd_ident_dpop_make(ed, "POST", URL, TOKEN, NOW - 61, &t), 0), t),
      WD_IDENT_R_DPOP_IAT);
  ROW((assert_int_equal(wd_ident_dpop_make(ed, "POST", URL, TOKEN, NOW + 31, &t), 0), t),
      WD_IDENT_R_DPOP_IAT);
  json_t *claims = json_pack("{s:s, s:s, s:s, s:I}", "jti", "j", "htm", "POST", "htu", URL, "iat",
                             (json_int_t)NOW);
  ROW(custom(ed, "JWT", jwk_of(ed), json_deep_copy(claims)), WD_IDENT_R_BAD_TYP);
  ROW(custom(ed, WD_IDENT_DPOP_TYP, NULL, json_deep_copy(claims)), WD_IDENT_R_BAD_KEY);
  json_t *withd = jwk_of(ed);
  assert_int_equal(json_object_set_new(json_object_get(withd, "jwk"), "d", json_string("AAAA")), 0);
  ROW(custom(ed, WD_IDENT_DPOP_TYP, withd, json_deep_copy(claims)), WD_IDENT_R_BAD_KEY);
  /* Header names the ed key but the proof is signed by another key. */
  wd_ident_key *other = NULL;
  assert_int_equal(wd_ident_key_generate(WD_IDENT_KEY_ED25519, &other), 0);
  ROW(custom(other, WD_IDENT_DPOP_TYP, jwk_of(ed), json_deep_copy(claims)), WD_IDENT_R_SIG_INVALID);
  wd_ident_key_free(other);
  json_t *nojti = json_deep_copy(claims);
  assert_int_equal(json_object_del(nojti, "jti"), 0);
  ROW(custom(ed, WD_IDENT_DPOP_TYP, jwk_of(ed), nojti), WD_IDENT_R_MISSING_CLAIM);
  json_decref(claims);
  /* Under a header the cache knows: a flipped signature, and a payload
   * moved under another proof's header and signature. */
  char *a = NULL, *b = NULL;
  assert_int_equal(wd_ident_dpop_make(ed, "POST", URL, TOKEN, NOW, &a), 0);
  assert_int_equal(wd_ident_dpop_make(ed, "POST", URL, TOKEN, NOW, &b), 0);
  a[strlen(a) - 2] = a[strlen(a) - 2] == 'A' ? 'B' : 'A';
  ROW(a, WD_IDENT_R_SIG_INVALID);
  char *pa = strchr(b, '.'), *pb = strrchr(b, '.');
  char *moved = wd_malloc(strlen(b) + 64);
  assert_non_null(moved);
  const char *other_payload = strchr(a, '.') + 1;
  snprintf(moved, strlen(b) + 64, "%.*s.%.*s%s", (int)(pa - b), b,
           (int)(strrchr(a, '.') - other_payload), other_payload, pb);
  ROW(moved, WD_IDENT_R_SIG_INVALID);
  wd_free(b);
#undef ROW
  /* Without a key cache, then twice through one: the first pass fills it
   * (a header is kept once a proof under it verified), the second runs on
   * remembered headers. Every row must fail the same way in each. */
  wd_ident_keycache *cache = NULL;
  assert_int_equal(wd_ident_keycache_new(64, &cache), 0);
  char *warm = NULL;
  assert_int_equal(wd_ident_dpop_make(ed, "POST", URL, TOKEN, NOW, &warm), 0);
  int failed = 0;
  for (int pass = 0; pass < 3; pass++) {
    for (size_t i = 0; i < n; i++) {
      wd_ident_dpop_opts o = opts(ed);
      o.keys = pass ? cache : NULL;
      wd_ident_dpop_result r;
      wd_ident_diag d;
      int rc = wd_ident_dpop_verify(p[i], strlen(p[i]), &o, &r, &d);
      if (rc != -WD_E_VALIDATE || d.reason != want[i] || r.jti[0]) {
        print_error("pass %d row %zu: rc %d reason %s (%s), want %s\n", pass, i, rc,
                    wd_ident_reason_name(d.reason), d.msg, wd_ident_reason_name(want[i]));
        failed++;
      }
      if (pass == 1 && i == 0) /* a good proof: its header is kept from here on */
        assert_int_equal(wd_ident_dpop_verify(warm, strlen(warm), &o, &r, &d), 0);
    }
  }
  for (size_t i = 0; i < n; i++)
    wd_free(p[i]);
  wd_free(warm);
  wd_ident_keycache_free(cache);
  wd_ident_dpop_opts o = opts(ed);
  wd_ident_dpop_result r;
  wd_ident_diag d;
  assert_int_equal(wd_ident_dpop_verify(NULL, 0, &o, &r, &d), -WD_E_VALIDATE);
  assert_int_equal(d.reason, WD_IDENT_R_DPOP_MISSING);
  assert_int_equal(failed, 0);
}

/* The Ed25519 identity point, y = 1, as a public key: for it the
 * signature R = identity, S = 0 satisfies [S]B = R + [k]A for every
 * message, so anyone could sign as an agent enrolled with it. */
#define IDENTITY_X "AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

static void forged_small_order_proof(void **state) {
  (void)state;
  uint8_t pub[32] = {1}, sig[64] = {1};
  /* The forgery is real: OpenSSL accepts it under the raw key, so the
   * refusal has to come from the JWK importer. */
  EVP_PKEY *raw = EVP_PKEY_new_raw_public_key_ex(NULL, "ED25519", NULL, pub, 32);
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  assert_non_null(raw);
  assert_non_null(md);
  static const char msg[] = "any message at all";
  assert_int_equal(EVP_DigestVerifyInit_ex(md, NULL, NULL, NULL, NULL, raw, NULL), 1);
  assert_int_equal(EVP_DigestVerify(md, sig, 64, (const uint8_t *)msg, sizeof msg - 1), 1);
  EVP_MD_CTX_free(md);
  EVP_PKEY_free(raw);

  /* A good proof's payload under the identity key's header and the
   * forged signature. */
  char *good = NULL;
  assert_int_equal(wd_ident_dpop_make(ed, "POST", URL, TOKEN, NOW, &good), 0);
  static const char hdr[] = "{\"typ\":\"" WD_IDENT_DPOP_TYP "\",\"alg\":\"EdDSA\",\"jwk\":"
                            "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" IDENTITY_X "\"}}";
  char h64[256], s64[128];
  assert_int_equal(wd_ident_b64url_encode(hdr, sizeof hdr - 1, h64, sizeof h64), 0);
  assert_int_equal(wd_ident_b64url_encode(sig, 64, s64, sizeof s64), 0);
  const char *pl = strchr(good, '.') + 1;
  char forged[1024];
  int n =
      snprintf(forged, sizeof forged, "%s.%.*s.%s", h64, (int)(strrchr(good, '.') - pl), pl, s64);
  assert_true(n > 0 && (size_t)n < sizeof forged);
  wd_free(good);

  /* A token bound to the identity key by its RFC 7638 thumbprint. */
  static const char tp[] = "{\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":\"" IDENTITY_X "\"}";
  uint8_t dig[32];
  char jkt[64];
  assert_non_null(SHA256((const uint8_t *)tp, sizeof tp - 1, dig));
  assert_int_equal(wd_ident_b64url_encode(dig, 32, jkt, sizeof jkt), 0);
  wd_ident_keycache *cache = NULL;
  assert_int_equal(wd_ident_keycache_new(8, &cache), 0);
  for (int pass = 0; pass < 3; pass++) {
    wd_ident_dpop_opts o = opts(ed);
    o.cnf_jkt = jkt;
    o.keys = pass ? cache : NULL;
    wd_ident_dpop_result r;
    wd_ident_diag d;
    assert_int_equal(wd_ident_dpop_verify(forged, (size_t)n, &o, &r, &d), -WD_E_VALIDATE);
    assert_int_equal(d.reason, WD_IDENT_R_BAD_KEY);
    assert_string_equal(r.jkt, "");
  }
  wd_ident_keycache_free(cache);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(round_trip_and_replay),
      cmocka_unit_test(htu_normalisation),
      cmocka_unit_test(rejections),
      cmocka_unit_test(forged_small_order_proof),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
