/* SPDX-License-Identifier: Apache-2.0
 *
 * Compact JWS (RFC 7515) with exactly two algorithms: EdDSA over Ed25519
 * (RFC 8037) and ES256 over P-256 with the raw 64-byte r||s signature
 * (RFC 7518 §3.4), never DER. Decoding is separate from verification so
 * callers can pick the key by kid (task tokens) or from the header (DPoP)
 * after the structural checks, but before trusting anything in the
 * payload. The alg is an allow-list and must agree with the key type, so
 * "none", HS256-with-a-public-key and cross-algorithm tricks all fail.
 * JSON Serialization and unencoded payloads (b64:false) are not supported.
 */
#include <string.h>

#include <openssl/ecdsa.h>
#include <openssl/err.h>

#include "ident_int.h"
#include "util/wd_alloc.h"
#include "util/wd_buf.h"
#include "warden/err.h"

static const char *alg_name(wd_ident_alg alg) {
  switch (alg) {
  case WD_IDENT_ALG_EDDSA: return "EdDSA";
  case WD_IDENT_ALG_ES256: return "ES256";
  }
  return "?";
}

/* ES256 signatures travel as r||s, 32 bytes each; OpenSSL speaks DER. */
static int der_to_raw(const uint8_t *der, size_t len, uint8_t raw[64]) {
  const unsigned char *p = der;
  ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)len);
  if (!sig) return -WD_E_INTERNAL;
  const BIGNUM *r = NULL, *s = NULL;
  ECDSA_SIG_get0(sig, &r, &s);
  int ok = BN_bn2binpad(r, raw, 32) == 32 && BN_bn2binpad(s, raw + 32, 32) == 32;
  ECDSA_SIG_free(sig);
  return ok ? 0 : -WD_E_INTERNAL;
}

/* One DER INTEGER from 32 unsigned big-endian bytes: leading zero bytes
 * dropped (one kept for zero), and a zero byte added when the top bit is
 * set, so the value stays positive. */
static size_t der_int(const uint8_t v[32], uint8_t *out) {
  size_t i = 0;
  while (i < 31 && v[i] == 0)
    i++;
  size_t n = 32 - i, pad = v[i] & 0x80 ? 1 : 0;
  out[0] = 0x02;
  out[1] = (uint8_t)(n + pad);
  out[2] = 0;
  memcpy(out + 2 + pad, v + i, n);
  return 2 + pad + n;
}

/* SEQUENCE { INTEGER r, INTEGER s }: at most 72 bytes, so every length
 * fits the short form. */
static int raw_to_der(const uint8_t raw[64], uint8_t *der, size_t cap, size_t *len) {
  uint8_t body[70];
  if (cap < 72) return -WD_E_TOOBIG;
  size_t n = der_int(raw, body);
  n += der_int(raw + 32, body + n);
  der[0] = 0x30;
  der[1] = (uint8_t)n;
  memcpy(der + 2, body, n);
  *len = n + 2;
  return 0;
}

static int sign_raw(const wd_ident_key *k, const char *msg, size_t n, uint8_t sig[64]) {
  if (!k->has_private) return -WD_E_INVAL;
  const char *md = k->type == WD_IDENT_KEY_P256 ? "SHA256" : NULL;
  uint8_t buf[128];
  size_t len = sizeof buf;
  int rc = -WD_E_INTERNAL;
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  if (!ctx) return -WD_E_NOMEM;
  if (EVP_DigestSignInit_ex(ctx, NULL, md, NULL, NULL, k->pkey, NULL) != 1 ||
      EVP_DigestSign(ctx, buf, &len, (const unsigned char *)msg, n) != 1)
    goto out;
  switch (k->type) {
  case WD_IDENT_KEY_ED25519:
    if (len != 64) goto out;
    memcpy(sig, buf, 64);
    rc = 0;
    break;
  case WD_IDENT_KEY_P256: rc = der_to_raw(buf, len, sig); break;
  }
out:
  EVP_MD_CTX_free(ctx);
  ERR_clear_error();
  return rc;
}

static int verify_raw(const wd_ident_key *k, const char *msg, size_t n, const uint8_t sig[64]) {
  if (k->type == WD_IDENT_KEY_P256) {
    uint8_t der[80], md[32];
    size_t dlen = 0;
    if (raw_to_der(sig, der, sizeof der, &dlen) != 0 || wd_ident__sha256(msg, n, md) != 0) return 0;
    return wd_ident__key_verify_digest(k, der, dlen, md);
  }
  int ok = 0;
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  if (ctx && EVP_DigestVerifyInit_ex(ctx, NULL, NULL, NULL, NULL, k->pkey, NULL) == 1 &&
      EVP_DigestVerify(ctx, sig, 64, (const unsigned char *)msg, n) == 1)
    ok = 1;
  EVP_MD_CTX_free(ctx);
  ERR_clear_error();
  return ok;
}

static int add_b64_json(wd_buf *b, const json_t *j) {
  char *text = NULL;
  size_t n = 0;
  int rc = wd_ident__json_dump(j, &text, &n);
  if (rc) return rc;
  if (n > WD_LIMIT_JWS_PART_BYTES) {
    wd_free(text);
    return -WD_E_TOOBIG;
  }
  char enc[(WD_LIMIT_JWS_PART_BYTES / 3 + 1) * 4 + 1];
  rc = wd_ident_b64url_encode(text, n, enc, sizeof enc);
  wd_free(text);
  return rc ? rc : wd_buf_adds(b, enc);
}

int wd_ident_jws_sign(const wd_ident_key *k, const char *typ, const char *kid,
                      const json_t *extra_header, const json_t *payload, char **out) {
  *out = NULL;
  if (!k || !json_is_object(payload) || (extra_header && !json_is_object(extra_header)))
    return -WD_E_INVAL;
  json_t *hdr = extra_header ? json_deep_copy(extra_header) : json_object();
  if (!hdr) return -WD_E_NOMEM;
  int rc = -WD_E_NOMEM;
  wd_buf b;
  wd_buf_init(&b, WD_LIMIT_JWS_BYTES);
  if (json_object_set_new(hdr, "alg", json_string(alg_name(wd_ident_key_alg(k)))) != 0 ||
      (typ && json_object_set_new(hdr, "typ", json_string(typ)) != 0) ||
      (kid && json_object_set_new(hdr, "kid", json_string(kid)) != 0))
    goto out;
  if ((rc = add_b64_json(&b, hdr)) != 0 || (rc = wd_buf_addc(&b, '.')) != 0 ||
      (rc = add_b64_json(&b, payload)) != 0)
    goto out;
  uint8_t sig[64];
  if ((rc = sign_raw(k, wd_buf_str(&b), wd_buf_len(&b), sig)) != 0) goto out;
  char enc[90];
  if ((rc = wd_ident_b64url_encode(sig, sizeof sig, enc, sizeof enc)) != 0 ||
      (rc = wd_buf_addc(&b, '.')) != 0 || (rc = wd_buf_adds(&b, enc)) != 0)
    goto out;
  *out = wd_buf_take(&b);
  rc = *out ? 0 : -WD_E_NOMEM;
out:
  wd_buf_free(&b);
  json_decref(hdr);
  return rc;
}

void wd_ident_jws_clear(wd_ident_jws *j) {
  if (!j) return;
  json_decref(j->header);
  json_decref(j->payload);
  wd_free(j->_input);
  memset(j, 0, sizeof *j);
}

/* Decodes one base64url segment holding a JSON object. */
static json_t *segment_object(const char *s, size_t n) {
  uint8_t buf[WD_LIMIT_JWS_PART_BYTES];
  size_t len = 0;
  if (n == 0 || wd_ident_b64url_decode(s, n, buf, sizeof buf, &len) != 0) return NULL;
  return wd_ident__json_object(buf, len);
}

int wd_ident__jws_split(const char *tok, size_t len, wd_ident__jws_parts *p, wd_ident_diag *diag) {
  memset(p, 0, sizeof *p);
  if (!tok || len == 0) return wd_ident__fail(diag, WD_IDENT_R_MALFORMED, "empty");
  if (len > WD_LIMIT_JWS_BYTES)
    return wd_ident__fail(diag, WD_IDENT_R_TOOBIG, "%zu bytes > %u", len, WD_LIMIT_JWS_BYTES);
  const char *d1 = memchr(tok, '.', len);
  const char *d2 = d1 ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - tok)) : NULL;
  if (!d2 || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - tok)))
    return wd_ident__fail(diag, WD_IDENT_R_MALFORMED, "not three dot-separated segments");
  p->hdr = tok;
  p->hlen = (size_t)(d1 - tok);
  p->pl = d1 + 1;
  p->plen = (size_t)(d2 - d1 - 1);
  p->sig = d2 + 1;
  p->slen = len - (size_t)(d2 + 1 - tok);
  return 0;
}

int wd_ident__jws_header(const char *seg, size_t n, json_t **hdr, wd_ident_alg *alg,
                         wd_ident_diag *diag) {
  *hdr = segment_object(seg, n);
  if (!*hdr)
    return wd_ident__fail(diag, WD_IDENT_R_BAD_HEADER, "header is not a base64url JSON object");
  int rc;
  const json_t *a = json_object_get(*hdr, "alg");
  if (!json_is_string(a)) {
    rc = wd_ident__fail(diag, WD_IDENT_R_ALG_NOT_ALLOWED, "alg missing");
    goto fail;
  }
  /* "Ed25519" is RFC 9864's fully specified name for what "EdDSA" means
   * here (the only OKP curve taken), which newer JOSE libraries send. */
  if (strcmp(json_string_value(a), "EdDSA") == 0 || strcmp(json_string_value(a), "Ed25519") == 0)
    *alg = WD_IDENT_ALG_EDDSA;
  else if (strcmp(json_string_value(a), "ES256") == 0)
    *alg = WD_IDENT_ALG_ES256;
  else {
    rc = wd_ident__fail(diag, WD_IDENT_R_ALG_NOT_ALLOWED, "\"%.32s\"", json_string_value(a));
    goto fail;
  }
  /* RFC 7515 §4.1.11: we understand no extension, so any crit is fatal. */
  if (json_object_get(*hdr, "crit")) {
    rc = wd_ident__fail(diag, WD_IDENT_R_CRIT, NULL);
    goto fail;
  }
  const json_t *kid = json_object_get(*hdr, "kid");
  const json_t *typ = json_object_get(*hdr, "typ");
  if ((kid && !json_is_string(kid)) || (typ && !json_is_string(typ))) {
    rc = wd_ident__fail(diag, WD_IDENT_R_BAD_HEADER, "kid and typ must be strings");
    goto fail;
  }
  return 0;
fail:
  json_decref(*hdr);
  *hdr = NULL;
  return rc;
}

int wd_ident__jws_sig(const char *seg, size_t n, uint8_t sig[64], wd_ident_diag *diag) {
  uint8_t buf[66];
  size_t len = 0;
  if (wd_ident_b64url_decode(seg, n, buf, sizeof buf, &len) != 0 || len != 64)
    return wd_ident__fail(diag, WD_IDENT_R_MALFORMED, "signature is not 64 base64url bytes");
  memcpy(sig, buf, 64);
  return 0;
}

int wd_ident__jws_check(const wd_ident_key *k, wd_ident_alg alg, const char *input, size_t n,
                        const uint8_t sig[64], wd_ident_diag *diag) {
  if (alg != wd_ident_key_alg(k))
    return wd_ident__fail(diag, WD_IDENT_R_ALG_NOT_ALLOWED, "%s with a %s key", alg_name(alg),
                          k->type == WD_IDENT_KEY_ED25519 ? "Ed25519" : "P-256");
  if (!verify_raw(k, input, n, sig)) return wd_ident__fail(diag, WD_IDENT_R_SIG_INVALID, NULL);
  return 0;
}

int wd_ident_jws_decode(const char *tok, size_t len, wd_ident_jws *out, wd_ident_diag *diag) {
  memset(out, 0, sizeof *out);
  wd_ident__diag_ok(diag);
  wd_ident__jws_parts p;
  int rc = wd_ident__jws_split(tok, len, &p, diag);
  if (rc) return rc;
  if ((rc = wd_ident__jws_header(p.hdr, p.hlen, &out->header, &out->alg, diag)) != 0) goto fail;
  out->kid = wd_ident__json_str(out->header, "kid");
  out->typ = wd_ident__json_str(out->header, "typ");
  out->payload = segment_object(p.pl, p.plen);
  if (!out->payload) {
    rc = wd_ident__fail(diag, WD_IDENT_R_MALFORMED, "payload is not a base64url JSON object");
    goto fail;
  }
  if ((rc = wd_ident__jws_sig(p.sig, p.slen, out->_sig, diag)) != 0) goto fail;
  out->_sig_len = 64;
  out->_input_len = p.hlen + 1 + p.plen;
  out->_input = wd_strndup(tok, out->_input_len);
  if (!out->_input) {
    rc = -WD_E_NOMEM;
    goto fail;
  }
  return 0;
fail:
  wd_ident_jws_clear(out);
  return rc;
}

int wd_ident_jws_verify(const wd_ident_jws *j, const wd_ident_key *k, wd_ident_diag *diag) {
  wd_ident__diag_ok(diag);
  if (!j || !j->_input || !k) return -WD_E_INVAL;
  if (j->_sig_len != 64) return wd_ident__fail(diag, WD_IDENT_R_SIG_INVALID, NULL);
  return wd_ident__jws_check(k, j->alg, j->_input, j->_input_len, j->_sig, diag);
}
