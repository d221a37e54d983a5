/* SPDX-License-Identifier: Apache-2.0
 *
 * DPoP proofs (RFC 9449): a JWT typed "dpop+jwt", signed by the agent's
 * key, carrying that public key in its header, bound to one request (htm,
 * htu), to one access token (ath) and to a moment (iat). The proof key's
 * thumbprint must equal the task token's cnf.jkt: that is what makes a
 * stolen task token useless. Replay (a jti seen before) is the caller's
 * check; this file returns jti and iat so the store can keep them for
 * the window. make() is the agent side, for the CLI helper and tests.
 */
#include <ctype.h>
#include <string.h>

#include "ident_int.h"
#include "util/wd_alloc.h"
#include "util/wd_buf.h"
#include "warden/err.h"

#define MAX_TIME   (INT64_C(1) << 40)
#define MAX_LEEWAY 300

static int ath_of(const char *token, char out[WD_IDENT_JKT_LEN + 1]) {
  uint8_t md[32];
  int rc = wd_ident__sha256(token, strlen(token), md);
  return rc ? rc : wd_ident_b64url_encode(md, 32, out, WD_IDENT_JKT_LEN + 1);
}

int wd_ident_dpop_make(const wd_ident_key *agent_key, const char *htm, const char *htu,
                       const char *access_token, int64_t now, char **out) {
  *out = NULL;
  if (!agent_key || !htm || !htu || !*htm || !*htu || now < 0 || now > MAX_TIME) return -WD_E_INVAL;
  char jti[32], ath[WD_IDENT_JKT_LEN + 1];
  int rc = wd_ident__random_id(jti, sizeof jti);
  if (!rc && access_token) rc = ath_of(access_token, ath);
  if (rc) return rc;
  json_t *jwk = NULL;
  if ((rc = wd_ident_key_to_jwk_json(agent_key, NULL, &jwk)) != 0) return rc;
  /* The proof carries only the key itself, as in RFC 9449's examples. */
  (void)json_object_del(jwk, "use");
  (void)json_object_del(jwk, "alg");
  json_t *hdr = json_pack("{s:o}", "jwk", jwk);
  json_t *claims =
      json_pack("{s:s, s:s, s:s, s:I}", "jti", jti, "htm", htm, "htu", htu, "iat", (json_int_t)now);
  rc = -WD_E_NOMEM;
  if (!hdr || !claims) goto out;
  if (access_token && json_object_set_new(claims, "ath", json_string(ath)) != 0) goto out;
  rc = wd_ident_jws_sign(agent_key, WD_IDENT_DPOP_TYP, NULL, hdr, claims, out);
out:
  json_decref(hdr);
  json_decref(claims);
  return rc;
}

static int hexval(int c) {
  return c >= '0' && c <= '9'   ? c - '0'
         : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                : -1;
}

/* Appends a path with its percent-encoding normalized (RFC 3986 §6.2.2.1
 * and §6.2.2.2): hex digits in upper case, unreserved characters decoded. */
static int add_path(wd_buf *b, const char *p, size_t n) {
  static const char hex[] = "0123456789ABCDEF";
  int rc = 0;
  for (size_t i = 0; i < n && !rc; i++) {
    int hi = i + 2 < n && p[i] == '%' ? hexval((unsigned char)p[i + 1]) : -1;
    int lo = hi >= 0 ? hexval((unsigned char)p[i + 2]) : -1;
    if (lo < 0) {
      rc = wd_buf_addc(b, p[i]);
      continue;
    }
    int c = hi * 16 + lo;
    i += 2;
    if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      rc = wd_buf_addc(b, (char)c);
    } else {
      char t[3] = {'%', hex[hi], hex[lo]};
      rc = wd_buf_add(b, t, 3);
    }
  }
  return rc;
}

/* Normalizes an http(s) URI for comparison (RFC 9449 §4.3, RFC 3986 §6.2.2
 * and §6.2.3): drops query and fragment, lowercases scheme and host,
 * drops the default port, normalizes the path's percent-encoding, and
 * makes an empty path "/". */
static int norm_htu(const char *u, wd_buf *b) {
  wd_buf_reset(b);
  size_t end = strcspn(u, "?#");
  const char *sep = strstr(u, "://");
  if (!sep || (size_t)(sep - u) >= end) return -WD_E_PARSE;
  size_t slen = (size_t)(sep - u);
  const char *auth = sep + 3;
  size_t alen = strcspn(auth, "/?#");
  const char *path = auth + alen;
  size_t plen = end - (size_t)(path - u);
  if (alen == 0) return -WD_E_PARSE;
  int rc = 0;
  for (size_t i = 0; i < slen && !rc; i++)
    rc = wd_buf_addc(b, (char)tolower((unsigned char)u[i]));
  if (!rc) rc = wd_buf_adds(b, "://");
  if (rc) return rc;
  const char *scheme = wd_buf_str(b);
  int https = strncmp(scheme, "https:", 6) == 0, http = strncmp(scheme, "http:", 5) == 0;
  if (!https && !http) return -WD_E_PARSE;
  if ((https && alen > 4 && memcmp(auth + alen - 4, ":443", 4) == 0) ||
      (http && alen > 3 && memcmp(auth + alen - 3, ":80", 3) == 0))
    alen -= https ? 4 : 3;
  for (size_t i = 0; i < alen && !rc; i++)
    rc = wd_buf_addc(b, (char)tolower((unsigned char)auth[i]));
  if (!rc) rc = plen ? add_path(b, path, plen) : wd_buf_addc(b, '/');
  return rc;
}

/* 0 with *same set, or an error (out of memory) that must not be
 * mistaken for a mismatch. A URI that is not absolute http(s) never
 * matches. */
int wd_ident_htu_same(const char *a, const char *b, int *same) {
  wd_buf na, nb;
  wd_buf_init(&na, WD_LIMIT_JWT_STR_BYTES * 2);
  wd_buf_init(&nb, WD_LIMIT_JWT_STR_BYTES * 2);
  *same = 0;
  int rc = norm_htu(a, &na);
  if (!rc) rc = norm_htu(b, &nb);
  if (!rc) *same = strcmp(wd_buf_str(&na), wd_buf_str(&nb)) == 0;
  if (rc == -WD_E_PARSE) rc = 0;
  wd_buf_free(&na);
  wd_buf_free(&nb);
  return rc;
}

/* A string claim within limits, or NULL. */
static const char *claim_str(const char *v) {
  return v && *v && strlen(v) <= WD_LIMIT_JWT_STR_BYTES ? v : NULL;
}

static int check_claims(const wd_ident__dpop_claims *c, const wd_ident_dpop_opts *o,
                        wd_ident_dpop_result *out, wd_ident_diag *diag) {
  const char *jti = claim_str(c->jti), *htm = claim_str(c->htm), *htu = claim_str(c->htu);
  if (!jti || !htm || !htu || !c->has_iat)
    return wd_ident__fail(diag, WD_IDENT_R_MISSING_CLAIM,
                          "jti, htm and htu (strings) and iat (an integer) are required");
  if (strlen(jti) > WD_IDENT_DPOP_JTI_MAX)
    return wd_ident__fail(diag, WD_IDENT_R_BAD_CLAIMS, "jti longer than %u", WD_IDENT_DPOP_JTI_MAX);
  if (strcmp(htm, o->htm) != 0)
    return wd_ident__fail(diag, WD_IDENT_R_DPOP_HTM, "\"%.16s\" for a %.16s request", htm, o->htm);
  int same = 0;
  int rc = wd_ident_htu_same(htu, o->htu, &same);
  if (rc) return rc;
  if (!same) return wd_ident__fail(diag, WD_IDENT_R_DPOP_HTU, "\"%.96s\"", htu);
  int64_t t = c->iat;
  int64_t window = o->window <= 0 ? WD_IDENT_DPOP_WINDOW : o->window;
  int64_t leeway = o->leeway < 0 ? WD_IDENT_LEEWAY_DEFAULT : o->leeway;
  if (window > MAX_TIME) window = MAX_TIME;
  if (leeway > MAX_LEEWAY) leeway = MAX_LEEWAY;
  if (t < 0 || t > MAX_TIME || t < o->now - window)
    return wd_ident__fail(diag, WD_IDENT_R_DPOP_IAT, "iat %lld too old at %lld", (long long)t,
                          (long long)o->now);
  if (t > o->now + leeway)
    return wd_ident__fail(diag, WD_IDENT_R_DPOP_IAT, "iat %lld in the future at %lld", (long long)t,
                          (long long)o->now);
  const char *ath = c->ath;
  char want[WD_IDENT_JKT_LEN + 1];
  rc = ath_of(o->access_token, want);
  if (rc) return rc;
  if (!ath || strlen(ath) != WD_IDENT_JKT_LEN ||
      !wd_ident_secret_equal(ath, want, WD_IDENT_JKT_LEN))
    return wd_ident__fail(diag, WD_IDENT_R_DPOP_ATH,
                          ath ? "not the hash of this token" : "missing");
  memcpy(out->jti, jti, strlen(jti) + 1);
  out->iat = t;
  return 0;
}

/* The proof key named by a decoded header: typ, then the JWK. */
static int header_key(const json_t *hdr, const wd_ident_dpop_opts *o, wd_ident_key **k,
                      wd_ident_diag *diag) {
  const char *typ = wd_ident__json_str(hdr, "typ");
  if (!typ || strcmp(typ, WD_IDENT_DPOP_TYP) != 0)
    return wd_ident__fail(diag, WD_IDENT_R_BAD_TYP, "expected " WD_IDENT_DPOP_TYP);
  const json_t *jwk = json_object_get(hdr, "jwk");
  if (!jwk) return wd_ident__fail(diag, WD_IDENT_R_BAD_KEY, "no jwk in the header");
  return o->keys ? wd_ident_key_from_jwk_cached(o->keys, jwk, k, diag)
                 : wd_ident_key_from_jwk_json(jwk, k, diag);
}

/* The checks run in the order wd_ident_jws_decode and the key lookup
 * would run them, so a proof with several faults names the same one
 * whether its header was remembered or not. */
int wd_ident_dpop_verify(const char *proof, size_t len, const wd_ident_dpop_opts *o,
                         wd_ident_dpop_result *out, wd_ident_diag *diag) {
  memset(out, 0, sizeof *out);
  wd_ident__diag_ok(diag);
  if (!o || !o->htm || !o->htu || !o->access_token || !o->cnf_jkt || o->now < 0 ||
      o->now > MAX_TIME)
    return -WD_E_INVAL;
  if (!proof || len == 0) return wd_ident__fail(diag, WD_IDENT_R_DPOP_MISSING, NULL);
  wd_ident__jws_parts p;
  int rc = wd_ident__jws_split(proof, len, &p, diag);
  if (rc) return rc;
  wd_ident_alg alg = WD_IDENT_ALG_EDDSA;
  json_t *hdr = NULL, *tree = NULL;
  char buf[WD_LIMIT_JWS_PART_BYTES + 1];
  wd_ident__dpop_claims c;
  uint8_t sig[64];
  wd_ident_key *k = wd_ident__keycache_header_get(o->keys, p.hdr, p.hlen, &alg);
  if (!k && (rc = wd_ident__jws_header(p.hdr, p.hlen, &hdr, &alg, diag)) != 0) goto out;
  if ((rc = wd_ident__dpop_claims_read(p.pl, p.plen, buf, &tree, &c, diag)) != 0 ||
      (rc = wd_ident__jws_sig(p.sig, p.slen, sig, diag)) != 0)
    goto out;
  if (!k && (rc = header_key(hdr, o, &k, diag)) != 0) goto out;
  if ((rc = wd_ident__jws_check(k, alg, proof, p.hlen + 1 + p.plen, sig, diag)) != 0) goto out;
  if (hdr) wd_ident__keycache_header_put(o->keys, p.hdr, p.hlen, k, alg);
  if ((rc = check_claims(&c, o, out, diag)) != 0) goto out;
  /* Last: a well-formed proof by another key says "stolen token". */
  if (strcmp(k->jkt, o->cnf_jkt) != 0) {
    rc = wd_ident__fail(diag, WD_IDENT_R_DPOP_KEY_MISMATCH, NULL);
    goto out;
  }
  memcpy(out->jkt, k->jkt, sizeof out->jkt);
out:
  if (rc) memset(out, 0, sizeof *out);
  wd_ident_key_free(k);
  json_decref(hdr);
  json_decref(tree);
  return rc;
}
