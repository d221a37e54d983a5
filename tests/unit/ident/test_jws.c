/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for compact JWS: sign/verify round trips for EdDSA and
 * ES256, and the strict decoder and verifier refusing alg "none", other
 * algs, alg/key mismatches, crit, duplicate members, malformed segments,
 * oversized tokens and tampering with any of the three parts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/evp.h>

#include "ident/ident_int.h"
#include "ident/wd_ident.h"
#include "util/wd_alloc.h"
#include "util/wd_buf.h"
#include "warden/err.h"

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

static char *sign(const wd_ident_key *k) {
  json_t *pl = json_pack("{s:s, s:i}", "sub", "spiffe://example.org/agent/a", "n", 1);
  char *tok = NULL;
  assert_int_equal(wd_ident_jws_sign(k, "test+jwt", "kid-1", NULL, pl, &tok), 0);
  json_decref(pl);
  return tok;
}

static void round_trip(void **state) {
  (void)state;
  const wd_ident_key *keys[] = {ed, ec};
  for (size_t i = 0; i < 2; i++) {
    char *tok = sign(keys[i]);
    wd_ident_jws j;
    wd_ident_diag d;
    assert_int_equal(wd_ident_jws_decode(tok, strlen(tok), &j, &d), 0);
    assert_int_equal(j.alg, wd_ident_key_alg(keys[i]));
    assert_string_equal(j.kid, "kid-1");
    assert_string_equal(j.typ, "test+jwt");
    assert_int_equal(json_integer_value(json_object_get(j.payload, "n")), 1);
    assert_int_equal(wd_ident_jws_verify(&j, keys[i], &d), 0);
    /* The other key type must not verify, whatever the signature. */
    assert_int_equal(wd_ident_jws_verify(&j, keys[1 - i], &d), -WD_E_VALIDATE);
    assert_int_equal(d.reason, WD_IDENT_R_ALG_NOT_ALLOWED);
    wd_ident_jws_clear(&j);
    wd_free(tok);
  }
}

static void wrong_key_same_type(void **state) {
  (void)state;
  wd_ident_key *other = NULL;
  assert_int_equal(wd_ident_key_generate(WD_IDENT_KEY_ED25519, &other), 0);
  char *tok = sign(ed);
  wd_ident_jws j;
  wd_ident_diag d;
  assert_int_equal(wd_ident_jws_decode(tok, strlen(tok), &j, &d), 0);
  assert_int_equal(wd_ident_jws_verify(&j, other, &d), -WD_E_VALIDATE);
  assert_int_equal(d.reason, WD_IDENT_R_SIG_INVALID);
  assert_string_equal(d.msg, "signature invalid");
  wd_ident_jws_clear(&j);
  wd_free(tok);
  wd_ident_key_free(other);
}

/* Builds "b64(header).b64(payload).sig" from raw JSON texts. */
static char *forge(const char *hdr, const char *payload, const char *sig) {
  wd_buf b;
  wd_buf_init(&b, 1 << 16);
  char enc[4096];
  assert_int_equal(wd_ident_b64url_encode(hdr, strlen(hdr), enc, sizeof enc), 0);
  assert_int_equal(wd_buf_adds(&b, enc), 0);
  assert_int_equal(wd_buf_addc(&b, '.'), 0);
  assert_int_equal(wd_ident_b64url_encode(payload, strlen(payload), enc, sizeof enc), 0);
  assert_int_equal(wd_buf_adds(&b, enc), 0);
  assert_int_equal(wd_buf_addc(&b, '.'), 0);
  assert_int_equal(wd_buf_adds(&b, sig), 0);
  return wd_buf_take(&b);
}

#define SIG64                                                                                      \
  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

static void decode_rejections(void **state) {
  (void)state;
  char *forged[] = {
      forge("{\"alg\":\"none\"}", "{}", ""),
      forge("{\"alg\":\"none\"}", "{}", SIG64),
      forge("{\"alg\":\"HS256\"}", "{}", SIG64),
      forge("{\"alg\":\"RS256\"}", "{}", SIG64),
      forge("{\"alg\":\"eddsa\"}", "{}", SIG64),
      forge("{\"typ\":\"JWT\"}", "{}", SIG64),
      forge("{\"alg\":\"EdDSA\",\"crit\":[\"exp\"],\"exp\":1}", "{}", SIG64),
      forge("{\"alg\":\"EdDSA\",\"alg\":\"none\"}", "{}", SIG64),
      forge("{\"alg\":\"EdDSA\",\"kid\":7}", "{}", SIG64),
      forge("[\"alg\",\"EdDSA\"]", "{}", SIG64),
      forge("{\"alg\":\"EdDSA\"}", "[]", SIG64),
      forge("{\"alg\":\"EdDSA\"}", "{\"a\":1,\"a\":2}", SIG64),
      forge("{\"alg\":\"EdDSA\"}", "not json", SIG64),
      forge("{\"alg\":\"EdDSA\"}", "{}", "AAAA"),
      forge("{\"alg\":\"EdDSA\"}", "{}", SIG64 "AA"),
      forge("{\"alg\":\"EdDSA\"}", "{}", SIG64 "="),
      forge("{\"alg\":\"EdDSA\"}", "{}", SIG64 ".x"),
  };
  const wd_ident_reason want[] = {
      WD_IDENT_R_ALG_NOT_ALLOWED,
      WD_IDENT_R_ALG_NOT_ALLOWED,
      WD_IDENT_R_ALG_NOT_ALLOWED,
      WD_IDENT_R_ALG_NOT_ALLOWED,
      WD_IDENT_R_ALG_NOT_ALLOWED,
      WD_IDENT_R_ALG_NOT_ALLOWED,
      WD_IDENT_R_CRIT,
      WD_IDENT_R_BAD_HEADER,
      WD_IDENT_R_BAD_HEADER,
      WD_IDENT_R_BAD_HEADER,
      WD_IDENT_R_MALFORMED,
      WD_IDENT_R_MALFORMED,
      WD_IDENT_R_MALFORMED,
      WD_IDENT_R_MALFORMED,
      WD_IDENT_R_MALFORMED,
      WD_IDENT_R_MALFORMED,
      WD_IDENT_R_MALFORMED,
  };
  int failed = 0;
  for (size_t i = 0; i < sizeof forged / sizeof forged[0]; i++) {
    wd_ident_jws j;
    wd_ident_diag d;
    int rc = wd_ident_jws_decode(forged[i], strlen(forged[i]), &j, &d);
    if (rc != -WD_E_VALIDATE || d.reason != want[i] || j.header || j.payload) {
      print_error("row %zu: rc %d reason %s (%s), want %s\n", i, rc, wd_ident_reason_name(d.reason),
                  d.msg, wd_ident_reason_name(want[i]));
      failed++;
    }
    wd_free(forged[i]);
  }
  const char *raw[] = {"", "a", "a.b", "a.b.c.d", "..", "e30.e30.", (".e30." SIG64)};
  for (size_t i = 0; i < sizeof raw / sizeof raw[0]; i++) {
    wd_ident_jws j;
    wd_ident_diag d;
    if (wd_ident_jws_decode(raw[i], strlen(raw[i]), &j, &d) != -WD_E_VALIDATE) {
      print_error("raw row %zu accepted\n", i);
      failed++;
    }
  }
  assert_int_equal(failed, 0);
}

static void oversized(void **state) {
  (void)state;
  size_t n = WD_LIMIT_JWS_BYTES + 1;
  char *big = wd_malloc(n);
  memset(big, 'A', n);
  wd_ident_jws j;
  wd_ident_diag d;
  assert_int_equal(wd_ident_jws_decode(big, n, &j, &d), -WD_E_VALIDATE);
  assert_int_equal(d.reason, WD_IDENT_R_TOOBIG);
  wd_free(big);
}

/* Replaces segment seg (0..2) of tok with repl. */
static char *splice(const char *tok, int seg, const char *repl) {
  const char *d1 = strchr(tok, '.'), *d2 = strchr(d1 + 1, '.');
  wd_buf b;
  wd_buf_init(&b, 1 << 16);
  const char *starts[] = {tok, d1 + 1, d2 + 1};
  const size_t lens[] = {(size_t)(d1 - tok), (size_t)(d2 - d1 - 1), strlen(d2 + 1)};
  for (int i = 0; i < 3; i++) {
    if (i) assert_int_equal(wd_buf_addc(&b, '.'), 0);
    if (i == seg)
      assert_int_equal(wd_buf_adds(&b, repl), 0);
    else
      assert_int_equal(wd_buf_add(&b, starts[i], lens[i]), 0);
  }
  return wd_buf_take(&b);
}

/* A JWS signed by k's key with the header text given (test-made, since
 * the signer always writes its own alg). */
static char *signed_with_header(const wd_ident_key *k, const char *htext) {
  char hdr[256], pl[64], sig[128];
  assert_int_equal(wd_ident_b64url_encode(htext, strlen(htext), hdr, sizeof hdr), 0);
  assert_int_equal(wd_ident_b64url_encode("{\"n\":1}", 7, pl, sizeof pl), 0);
  char input[400];
  int n = snprintf(input, sizeof input, "%s.%s", hdr, pl);
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  uint8_t raw[64];
  size_t rlen = sizeof raw;
  assert_non_null(ctx);
  assert_int_equal(EVP_DigestSignInit(ctx, NULL, NULL, NULL, k->pkey), 1);
  assert_int_equal(EVP_DigestSign(ctx, raw, &rlen, (const uint8_t *)input, (size_t)n), 1);
  EVP_MD_CTX_free(ctx);
  assert_int_equal(wd_ident_b64url_encode(raw, rlen, sig, sizeof sig), 0);
  char *out = NULL;
  wd_buf b;
  wd_buf_init(&b, 1024);
  assert_int_equal(wd_buf_addf(&b, "%s.%s", input, sig), 0);
  out = wd_buf_take(&b);
  assert_non_null(out);
  return out;
}

/* RFC 9864's fully specified "Ed25519" is taken as "EdDSA" is, and only
 * for an Ed25519 key. */
static void fully_specified_ed25519(void **state) {
  (void)state;
  char *tok = signed_with_header(ed, "{\"alg\":\"Ed25519\",\"typ\":\"test+jwt\"}");
  wd_ident_jws j;
  wd_ident_diag d;
  assert_int_equal(wd_ident_jws_decode(tok, strlen(tok), &j, &d), 0);
  assert_int_equal(j.alg, WD_IDENT_ALG_EDDSA);
  assert_int_equal(wd_ident_jws_verify(&j, ed, &d), 0);
  assert_int_equal(wd_ident_jws_verify(&j, ec, &d), -WD_E_VALIDATE);
  wd_ident_jws_clear(&j);
  wd_free(tok);
}

static void tampering(void **state) {
  (void)state;
  const wd_ident_key *keys[] = {ed, ec};
  int failed = 0;
  for (size_t i = 0; i < 2; i++) {
    char *tok = sign(keys[i]);
    char hdr[256], pl[256], sig[128];
    const char *alg = i == 0 ? "EdDSA" : "ES256";
    char htext[128];
    (void)snprintf(htext, sizeof htext, "{\"alg\":\"%s\",\"kid\":\"kid-2\",\"typ\":\"test+jwt\"}",
                   alg);
    assert_int_equal(wd_ident_b64url_encode(htext, strlen(htext), hdr, sizeof hdr), 0);
    const char *ptext = "{\"n\":2,\"sub\":\"spiffe://example.org/agent/a\"}";
    assert_int_equal(wd_ident_b64url_encode(ptext, strlen(ptext), pl, sizeof pl), 0);
    /* Flip one bit in the first signature byte. */
    const char *s = strrchr(tok, '.') + 1;
    uint8_t raw[64];
    size_t n = 0;
    assert_int_equal(wd_ident_b64url_decode(s, strlen(s), raw, sizeof raw, &n), 0);
    raw[0] ^= 0x01;
    assert_int_equal(wd_ident_b64url_encode(raw, n, sig, sizeof sig), 0);
    char *bad[] = {splice(tok, 0, hdr), splice(tok, 1, pl), splice(tok, 2, sig)};
    for (int b = 0; b < 3; b++) {
      wd_ident_jws j;
      wd_ident_diag d;
      int rc = wd_ident_jws_decode(bad[b], strlen(bad[b]), &j, &d);
      if (rc == 0) rc = wd_ident_jws_verify(&j, keys[i], &d);
      if (rc != -WD_E_VALIDATE || d.reason != WD_IDENT_R_SIG_INVALID) {
        print_error("key %zu part %d: rc %d %s\n", i, b, rc, d.msg);
        failed++;
      }
      wd_ident_jws_clear(&j);
      wd_free(bad[b]);
    }
    wd_free(tok);
  }
  assert_int_equal(failed, 0);
}

/* ES256 signatures travel as r||s and are verified as DER built by hand:
 * over many signatures some r or s start with a zero byte (shorter
 * INTEGER) and about half with the top bit set (a zero byte added); each
 * verifies, and a flipped bit in either half does not. */
static void es256_der_forms(void **state) {
  (void)state;
  for (int i = 0; i < 400; i++) {
    json_t *pl = json_pack("{s:i}", "n", i);
    char *tok = NULL;
    assert_int_equal(wd_ident_jws_sign(ec, "test+jwt", NULL, NULL, pl, &tok), 0);
    json_decref(pl);
    wd_ident_jws j;
    wd_ident_diag d;
    assert_int_equal(wd_ident_jws_decode(tok, strlen(tok), &j, &d), 0);
    assert_int_equal(wd_ident_jws_verify(&j, ec, &d), 0);
    wd_ident_jws_clear(&j);
    size_t n = strlen(tok);
    /* the signature's first and last base64url characters: r, then s */
    size_t at[2] = {strrchr(tok, '.') - tok + 1, n - 2};
    for (int k = 0; k < 2; k++) {
      char saved = tok[at[k]];
      tok[at[k]] = saved == 'A' ? 'B' : 'A';
      if (wd_ident_jws_decode(tok, n, &j, &d) == 0) {
        assert_int_equal(wd_ident_jws_verify(&j, ec, &d), -WD_E_VALIDATE);
        wd_ident_jws_clear(&j);
      }
      tok[at[k]] = saved;
    }
    wd_free(tok);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(round_trip),
      cmocka_unit_test(wrong_key_same_type),
      cmocka_unit_test(decode_rejections),
      cmocka_unit_test(oversized),
      cmocka_unit_test(fully_specified_ed25519),
      cmocka_unit_test(tampering),
      cmocka_unit_test(es256_der_forms),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
