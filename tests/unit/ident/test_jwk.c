/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for public JWKs: the RFC 8037 thumbprint vector, export and
 * import round trips, and every import rejection (private members, wrong
 * kty or crv, bad lengths, EC points off the curve, Ed25519 points of
 * small order).
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
#include "warden/err.h"

/* RFC 8037 appendix A.2 and A.3. */
static void rfc8037_thumbprint(void **state) {
  (void)state;
  const char *jwk = "{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
                    "\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}";
  wd_ident_key *k = NULL;
  wd_ident_diag d;
  assert_int_equal(wd_ident_key_from_jwk(jwk, strlen(jwk), &k, &d), 0);
  assert_string_equal(wd_ident_key_jkt(k), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
  assert_false(wd_ident_key_has_private(k));
  wd_ident_key_free(k);
}

static void export_import_round_trip(void **state) {
  (void)state;
  const wd_ident_keytype types[] = {WD_IDENT_KEY_ED25519, WD_IDENT_KEY_P256};
  for (size_t i = 0; i < 2; i++) {
    wd_ident_key *k = NULL, *back = NULL;
    assert_int_equal(wd_ident_key_generate(types[i], &k), 0);
    char *text = NULL;
    assert_int_equal(wd_ident_key_to_jwk(k, "kid-1", &text), 0);
    assert_null(strstr(text, "\"d\""));
    assert_non_null(strstr(text, "\"kid\":\"kid-1\""));
    wd_ident_diag d;
    assert_int_equal(wd_ident_key_from_jwk(text, strlen(text), &back, &d), 0);
    assert_string_equal(wd_ident_key_jkt(back), wd_ident_key_jkt(k));
    assert_int_equal(wd_ident_key_type(back), types[i]);
    wd_free(text);
    wd_ident_key_free(k);
    wd_ident_key_free(back);
  }
}

/* A P-256 JWK whose y has its lowest bit flipped: not on the curve. */
static char *off_curve_jwk(void) {
  wd_ident_key *k = NULL;
  json_t *j = NULL;
  assert_int_equal(wd_ident_key_generate(WD_IDENT_KEY_P256, &k), 0);
  assert_int_equal(wd_ident_key_to_jwk_json(k, NULL, &j), 0);
  const char *y = json_string_value(json_object_get(j, "y"));
  uint8_t raw[32];
  size_t n = 0;
  assert_int_equal(wd_ident_b64url_decode(y, strlen(y), raw, sizeof raw, &n), 0);
  raw[31] ^= 1;
  char enc[64];
  assert_int_equal(wd_ident_b64url_encode(raw, 32, enc, sizeof enc), 0);
  assert_int_equal(json_object_set_new(j, "y", json_string(enc)), 0);
  char s[512];
  size_t sn = json_dumpb(j, s, sizeof s - 1, JSON_COMPACT);
  assert_true(sn > 0 && sn < sizeof s);
  s[sn] = 0;
  char *out = wd_strdup(s);
  json_decref(j);
  wd_ident_key_free(k);
  return out;
}

static const char X[] = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";

static void rejects_bad_jwks(void **state) {
  (void)state;
  char *offc = off_curve_jwk();
  char buf[8][256];
  (void)snprintf(buf[0], sizeof buf[0],
                 "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"%s\",\"d\":\"%s\"}", X, X);
  (void)snprintf(buf[1], sizeof buf[1], "{\"kty\":\"OKP\",\"crv\":\"Ed448\",\"x\":\"%s\"}", X);
  (void)snprintf(buf[2], sizeof buf[2], "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"%.40s\"}", X);
  (void)snprintf(buf[3], sizeof buf[3], "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AQAB\"}", X);
  (void)snprintf(buf[4], sizeof buf[4],
                 "{\"kty\":\"EC\",\"crv\":\"P-384\",\"x\":\"%s\",\"y\":\"%s\"}", X, X);
  (void)snprintf(buf[5], sizeof buf[5], "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\"}", X);
  (void)snprintf(buf[6], sizeof buf[6], "{\"kty\":\"oct\",\"k\":\"%s\"}", X);
  (void)snprintf(buf[7], sizeof buf[7],
                 "{\"kty\":\"OKP\",\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"%s\"}", X);
  const struct {
    const char *jwk, *why;
  } rows[] = {
      {buf[0], "private member d"},
      {buf[1], "Ed448"},
      {buf[2], "short x"},
      {buf[3], "RSA"},
      {buf[4], "P-384"},
      {buf[5], "EC without y"},
      {buf[6], "symmetric key"},
      {buf[7], "duplicate kty"},
      {offc, "point off the curve"},
      {"[]", "not an object"},
      {"{", "not JSON"},
  };
  int failed = 0;
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    wd_ident_key *k = NULL;
    wd_ident_diag d;
    int rc = wd_ident_key_from_jwk(rows[i].jwk, strlen(rows[i].jwk), &k, &d);
    if (rc != -WD_E_VALIDATE || k || d.reason != WD_IDENT_R_BAD_KEY) {
      print_error("row %zu (%s): rc %d reason %s\n", i, rows[i].why, rc,
                  wd_ident_reason_name(d.reason));
      failed++;
    }
    wd_ident_key_free(k);
  }
  wd_free(offc);
  assert_int_equal(failed, 0);
}

/* Sets enc (little-endian, as RFC 8032 encodes y) from a big-endian hex
 * number of at most 64 digits. */
static void le_from_hex(const char *hex, uint8_t enc[32]) {
  memset(enc, 0, 32);
  size_t n = strlen(hex);
  assert_true(n <= 64);
  for (size_t i = 0; i < n; i++) {
    char c = hex[n - 1 - i];
    unsigned v = c >= 'a' ? (unsigned)(c - 'a' + 10) : (unsigned)(c - '0');
    enc[i / 2] |= (uint8_t)(v << (4 * (i % 2)));
  }
}

static int import_x(const uint8_t enc[32], wd_ident_diag *d) {
  char x[64], jwk[128];
  assert_int_equal(wd_ident_b64url_encode(enc, 32, x, sizeof x), 0);
  (void)snprintf(jwk, sizeof jwk, "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"%s\"}", x);
  wd_ident_key *k = NULL;
  int rc = wd_ident_key_from_jwk(jwk, strlen(jwk), &k, d);
  assert_true(rc ? k == NULL : k != NULL);
  wd_ident_key_free(k);
  return rc;
}

/* Every y of a point of small order on edwards25519 (p = 2^255 - 19):
 * 1 (the identity), p-1 (order 2), 0 (order 4), y8 and p-y8 (order 8:
 * y8 solves d*y^4 + 2*y^2 - 1 = 0), and the non-canonical encodings p and
 * p+1 of 0 and 1. Each is refused with either sign bit. */
static void rejects_small_order_ed25519(void **state) {
  (void)state;
  static const char *const ys[] = {
      "0",
      "1",
      "7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffec",
      "5fc536d880238b13933c6d305acdfd5f098eff289f4c345b027b2c28f95e826",
      "7a03ac9277fdc74ec6cc392cfa53202a0f67100d760b3cba4fd84d3d706a17c7",
      "7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffed",
      "7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffee",
  };
  int failed = 0;
  for (size_t i = 0; i < sizeof ys / sizeof ys[0]; i++)
    for (int sign = 0; sign < 2; sign++) {
      uint8_t enc[32];
      le_from_hex(ys[i], enc);
      enc[31] |= (uint8_t)(sign << 7);
      wd_ident_diag d;
      int rc = import_x(enc, &d);
      if (rc != -WD_E_VALIDATE || d.reason != WD_IDENT_R_BAD_KEY || !strstr(d.msg, "small order")) {
        print_error("y %s sign %d: rc %d reason %s (%s)\n", ys[i], sign, rc,
                    wd_ident_reason_name(d.reason), d.msg);
        failed++;
      }
    }
  assert_int_equal(failed, 0);
  /* Ordinary keys, and encodings next to the refused ones, still import. */
  for (int i = 0; i < 32; i++) {
    wd_ident_key *k = NULL;
    json_t *j = NULL;
    assert_int_equal(wd_ident_key_generate(WD_IDENT_KEY_ED25519, &k), 0);
    assert_int_equal(wd_ident_key_to_jwk_json(k, NULL, &j), 0);
    wd_ident_key *back = NULL;
    wd_ident_diag d;
    assert_int_equal(wd_ident_key_from_jwk_json(j, &back, &d), 0);
    assert_string_equal(wd_ident_key_jkt(back), wd_ident_key_jkt(k));
    wd_ident_key_free(back);
    wd_ident_key_free(k);
    json_decref(j);
  }
  /* The base point's y (4/5 mod p) imports. */
  uint8_t enc[32];
  le_from_hex("6666666666666666666666666666666666666666666666666666666666666658", enc);
  wd_ident_diag d;
  assert_int_equal(import_x(enc, &d), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(rfc8037_thumbprint),
      cmocka_unit_test(export_import_round_trip),
      cmocka_unit_test(rejects_bad_jwks),
      cmocka_unit_test(rejects_small_order_ed25519),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
