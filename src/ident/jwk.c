/* SPDX-License-Identifier: Apache-2.0
 *
 * Public JWKs (RFC 7517, RFC 8037 for OKP) and their RFC 7638 thumbprints.
 * Import is the trust boundary for agent keys (enrolment, DPoP headers),
 * so it accepts only what it can fully check: an Ed25519 or P-256 public
 * key, no private members, coordinates of exactly the right length, and
 * an EC point that OpenSSL confirms is on the curve (an off-curve point
 * invites invalid-curve attacks), and for Ed25519 a point that is not of
 * small order (under which anyone can forge signatures). Export writes
 * the same two shapes.
 */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>

#include "ident_int.h"
#include "util/wd_alloc.h"
#include "util/wd_buf.h"
#include "warden/err.h"

#define COORD_B64 44 /* 43 characters and a NUL */

/* The public coordinates in base64url; y is "" for Ed25519. */
static int coords(const wd_ident_key *k, char x[COORD_B64], char y[COORD_B64]) {
  uint8_t raw[32];
  int rc = -WD_E_INTERNAL;
  y[0] = '\0';
  switch (k->type) {
  case WD_IDENT_KEY_ED25519: {
    size_t n = sizeof raw;
    if (EVP_PKEY_get_raw_public_key(k->pkey, raw, &n) != 1 || n != 32) break;
    rc = wd_ident_b64url_encode(raw, 32, x, COORD_B64);
    break;
  }
  case WD_IDENT_KEY_P256: {
    BIGNUM *bx = NULL, *by = NULL;
    if (EVP_PKEY_get_bn_param(k->pkey, OSSL_PKEY_PARAM_EC_PUB_X, &bx) == 1 &&
        EVP_PKEY_get_bn_param(k->pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &by) == 1 &&
        BN_bn2binpad(bx, raw, 32) == 32) {
      rc = wd_ident_b64url_encode(raw, 32, x, COORD_B64);
      if (!rc) rc = BN_bn2binpad(by, raw, 32) == 32 ? 0 : -WD_E_INTERNAL;
      if (!rc) rc = wd_ident_b64url_encode(raw, 32, y, COORD_B64);
    }
    BN_free(bx);
    BN_free(by);
    break;
  }
  }
  ERR_clear_error();
  return rc;
}

int wd_ident__key_thumbprint(wd_ident_key *k) {
  char x[COORD_B64], y[COORD_B64];
  int rc = coords(k, x, y);
  if (rc) return rc;
  /* RFC 7638 §3: required members only, lexicographic order, no spaces. */
  wd_buf b;
  wd_buf_init(&b, 256);
  switch (k->type) {
  case WD_IDENT_KEY_ED25519:
    rc = wd_buf_addf(&b, "{\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":\"%s\"}", x);
    break;
  case WD_IDENT_KEY_P256:
    rc = wd_buf_addf(&b, "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}", x, y);
    break;
  }
  if (rc) return rc;
  uint8_t md[32];
  rc = wd_ident__sha256(wd_buf_str(&b), wd_buf_len(&b), md);
  wd_buf_free(&b);
  if (rc) return rc;
  return wd_ident_b64url_encode(md, 32, k->jkt, sizeof k->jkt);
}

int wd_ident_key_to_jwk_json(const wd_ident_key *k, const char *kid, json_t **out) {
  *out = NULL;
  char x[COORD_B64], y[COORD_B64];
  int rc = coords(k, x, y);
  if (rc) return rc;
  json_t *j = NULL;
  switch (k->type) {
  case WD_IDENT_KEY_ED25519:
    j = json_pack("{s:s, s:s, s:s, s:s, s:s}", "kty", "OKP", "crv", "Ed25519", "x", x, "use", "sig",
                  "alg", "EdDSA");
    break;
  case WD_IDENT_KEY_P256:
    j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "kty", "EC", "crv", "P-256", "x", x, "y", y,
                  "use", "sig", "alg", "ES256");
    break;
  }
  if (!j) return -WD_E_NOMEM;
  if (kid && json_object_set_new(j, "kid", json_string(kid)) != 0) {
    json_decref(j);
    return -WD_E_NOMEM;
  }
  *out = j;
  return 0;
}

int wd_ident_key_to_jwk(const wd_ident_key *k, const char *kid, char **out) {
  *out = NULL;
  json_t *j = NULL;
  int rc = wd_ident_key_to_jwk_json(k, kid, &j);
  if (rc) return rc;
  rc = wd_ident__json_dump(j, out, NULL);
  json_decref(j);
  return rc;
}

/* Decodes a 32-byte coordinate member. */
static int coord32(const json_t *jwk, const char *name, uint8_t out[32], wd_ident_diag *diag) {
  const char *s = wd_ident__json_str(jwk, name);
  if (!s) return wd_ident__fail(diag, WD_IDENT_R_BAD_KEY, "member \"%s\" missing", name);
  size_t n = 0;
  if (wd_ident_b64url_decode(s, strlen(s), out, 32, &n) != 0 || n != 32)
    return wd_ident__fail(diag, WD_IDENT_R_BAD_KEY, "member \"%s\" is not 32 base64url bytes",
                          name);
  return 0;
}

/* p = 2^255 - 19, little-endian. */
static const uint8_t ED25519_P[32] = {
    0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f};

/* The y coordinates (mod p, little-endian) of the eight points of small
 * order on edwards25519, -x^2 + y^2 = 1 + d*x^2*y^2 with
 * d = -121665/121666 mod p:
 *   y = 1:    the identity (0, 1);
 *   y = p-1:  (0, -1), of order 2;
 *   y = 0:    (+-sqrt(-1), 0), the two points of order 4;
 *   y = y8 and y = p-y8: the four points of order 8, each with both signs
 *     of x. Doubling gives y(2P) = (y^2 + x^2) / (2 + x^2 - y^2), which is
 *     0 (an order-4 point) when x^2 = -y^2; on the curve that means
 *     d*y^4 + 2*y^2 - 1 = 0, whose only roots in the field are +-y8, with
 *     y8 = 0x05fc536d880238b13933c6d305acdfd5f098eff289f4c345b027b2c28f95e826.
 * These values were derived and checked independently (8P is the identity
 * and P is not) with big-integer arithmetic on the curve equation. */
static const uint8_t SMALL_ORDER_Y[5][32] = {
    {0}, /* 0 */
    {1}, /* 1 */
    {0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}, /* p - 1 */
    {0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4,
     0x89, 0xf2, 0xef, 0x98, 0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6,
     0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05}, /* y8 */
    {0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b,
     0x76, 0x0d, 0x10, 0x67, 0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39,
     0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a}, /* p - y8 */
};

/* Whether an RFC 8032 point encoding names a point of small order. Such a
 * key is no key: OpenSSL verifies signatures under it that anyone can make
 * (for the identity, R = identity and S = 0), so whoever enrols one lets
 * every caller sign as that agent. The check is on y alone, reduced mod p
 * so that non-canonical encodings (y >= p) are caught too; the sign bit
 * only picks x, and every small-order y is refused with both signs. */
static int small_order(const uint8_t enc[32]) {
  uint8_t y[32];
  memcpy(y, enc, 32);
  y[31] &= 0x7f; /* bit 255 is the sign of x */
  /* y < 2^255 < 2p, so at most one subtraction of p reduces it. */
  int ge = 1;
  for (int i = 31; i >= 0; i--)
    if (y[i] != ED25519_P[i]) {
      ge = y[i] > ED25519_P[i];
      break;
    }
  if (ge) {
    unsigned borrow = 0;
    for (int i = 0; i < 32; i++) {
      unsigned d = (unsigned)y[i] - ED25519_P[i] - borrow;
      y[i] = (uint8_t)d;
      borrow = (d >> 8) & 1;
    }
  }
  for (size_t i = 0; i < sizeof SMALL_ORDER_Y / sizeof SMALL_ORDER_Y[0]; i++)
    if (memcmp(y, SMALL_ORDER_Y[i], 32) == 0) return 1;
  return 0;
}

static int import_okp(const json_t *jwk, wd_ident_key **out, wd_ident_diag *diag) {
  const char *crv = wd_ident__json_str(jwk, "crv");
  if (!crv || strcmp(crv, "Ed25519") != 0)
    return wd_ident__fail(diag, WD_IDENT_R_BAD_KEY, "OKP crv must be Ed25519");
  if (json_object_get(jwk, "y"))
    return wd_ident__fail(diag, WD_IDENT_R_BAD_KEY, "OKP key has a y member");
  uint8_t x[32];
  int rc = coord32(jwk, "x", x, diag);
  if (rc) return rc;
  if (small_order(x))
    return wd_ident__fail(diag, WD_IDENT_R_BAD_KEY, "Ed25519 public key has small order");
  EVP_PKEY *pkey = EVP_PKEY_new_raw_public_key_ex(NULL, "ED25519", NULL, x, 32);
  ERR_clear_error();
  if (!pkey) return wd_ident__fail(diag, WD_IDENT_R_BAD_KEY, "not an Ed25519 public key");
  return wd_ident__key_wrap(pkey, out);
}

static int import_ec(const json_t *jwk, wd_ident_key **out, wd_ident_diag *diag) {
  const char *crv = wd_ident__json_str(jwk, "crv");
  if (!crv || strcmp(crv, "P-256") != 0)
    return wd_ident__fail(diag, WD_IDENT_R_BAD_KEY, "EC crv must be P-256");
  uint8_t point[65];
  point[0] = 0x04; /* uncompressed SEC1 encoding */
  int rc = coord32(jwk, "x", point + 1, diag);
  if (!rc) rc = coord32(jwk, "y", point + 33, diag);
  if (rc) return rc;

  EVP_PKEY *pkey = NULL;
  EVP_PKEY_CTX *ctx = NULL, *check = NULL;
  OSSL_PARAM *params = NULL;
  OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
  rc = -WD_E_NOMEM;
  if (!bld ||
      OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point) != 1 ||
      !(params = OSSL_PARAM_BLD_to_param(bld)))
    goto out;
  ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
  if (!ctx || EVP_PKEY_fromdata_init(ctx) != 1) goto out;
  if (EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1 || !pkey) {
    rc = wd_ident__fail(diag, WD_IDENT_R_BAD_KEY, "EC point is not on P-256");
    goto out;
  }
  check = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
  if (!check) goto out;
  /* The quick check (on the curve, not infinity) is complete for P-256,
   * whose cofactor is 1; the full check adds a costly n*Q multiplication
   * on the per-request DPoP path. */
  if (EVP_PKEY_public_check_quick(check) != 1) {
    rc = wd_ident__fail(diag, WD_IDENT_R_BAD_KEY, "EC point is not on P-256");
    goto out;
  }
  rc = wd_ident__key_wrap(pkey, out);
  pkey = NULL;
out:
  EVP_PKEY_free(pkey);
  EVP_PKEY_CTX_free(check);
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  OSSL_PARAM_BLD_free(bld);
  ERR_clear_error();
  return rc;
}

int wd_ident__jwk_public_only(const json_t *jwk, wd_ident_diag *diag) {
  static const char *const private_members[] = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"};
  if (!json_is_object(jwk)) return wd_ident__fail(diag, WD_IDENT_R_BAD_KEY, "JWK is not an object");
  for (size_t i = 0; i < sizeof private_members / sizeof private_members[0]; i++)
    if (json_object_get(jwk, private_members[i]))
      return wd_ident__fail(diag, WD_IDENT_R_BAD_KEY, "JWK has private member \"%s\"",
                            private_members[i]);
  return 0;
}

int wd_ident_key_from_jwk_json(const json_t *jwk, wd_ident_key **out, wd_ident_diag *diag) {
  *out = NULL;
  wd_ident__diag_ok(diag);
  int rc = wd_ident__jwk_public_only(jwk, diag);
  if (rc) return rc;
  const char *kty = wd_ident__json_str(jwk, "kty");
  if (kty && strcmp(kty, "OKP") == 0) return import_okp(jwk, out, diag);
  if (kty && strcmp(kty, "EC") == 0) return import_ec(jwk, out, diag);
  return wd_ident__fail(diag, WD_IDENT_R_BAD_KEY, "kty must be OKP or EC");
}

int wd_ident_key_from_jwk(const char *json, size_t len, wd_ident_key **out, wd_ident_diag *diag) {
  *out = NULL;
  if (!json) return -WD_E_INVAL;
  if (len > WD_LIMIT_JWS_PART_BYTES)
    return wd_ident__fail(diag, WD_IDENT_R_TOOBIG, "JWK too large");
  json_t *j = wd_ident__json_object(json, len);
  if (!j) return wd_ident__fail(diag, WD_IDENT_R_BAD_KEY, "JWK is not a JSON object");
  int rc = wd_ident_key_from_jwk_json(j, out, diag);
  json_decref(j);
  return rc;
}
