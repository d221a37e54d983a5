/* SPDX-License-Identifier: Apache-2.0
 *
 * Task tokens: short-lived JWTs (RFC 7519) signed by the keyset's active
 * Ed25519 key, explicitly typed "wd-task+jwt" (RFC 8725 §3.11) so that no
 * other JWT signed by a Warden key, and no DPoP proof, can pass for one.
 * Claims: iss, sub (the agent's SPIFFE ID), aud, jti, iat, exp, task_id,
 * scope (an object), cnf.jkt (RFC 9449 §6, the agent key's thumbprint).
 * Verification checks the signature before it reads any claim, then every
 * claim with its type; revocation and replay live in the store.
 */
#include <string.h>

#include "ident_int.h"
#include "util/wd_alloc.h"
#include "warden/err.h"

/* NumericDates past this are nonsense and would overflow leeway sums. */
#define MAX_TIME   (INT64_C(1) << 40)
#define MAX_LEEWAY 300

static int str_ok(const char *s) { return s && *s && strlen(s) <= WD_LIMIT_JWT_STR_BYTES; }

int wd_ident_token_mint(const wd_ident_keyset *ks, const wd_ident_token_params *p,
                        wd_ident_minted *out) {
  memset(out, 0, sizeof *out);
  const wd_ident_key *k = wd_ident_keyset_active(ks);
  if (!k) return -WD_E_NOTFOUND;
  if (!p || !str_ok(p->iss) || !str_ok(p->sub) || !str_ok(p->aud) || !str_ok(p->task_id) ||
      !p->cnf_jkt || strlen(p->cnf_jkt) != WD_IDENT_JKT_LEN ||
      (p->scope && !json_is_object(p->scope)))
    return -WD_E_INVAL;
  int64_t ttl = p->ttl == 0 ? WD_IDENT_TOKEN_TTL_DEFAULT : p->ttl;
  if (ttl < 0 || ttl > WD_IDENT_TOKEN_TTL_MAX || p->now < 0 || p->now > MAX_TIME)
    return -WD_E_INVAL;
  int rc = wd_ident__random_id(out->jti, sizeof out->jti);
  if (rc) return rc;
  out->iat = p->now;
  out->exp = p->now + ttl;
  json_t *scope = p->scope ? json_deep_copy(p->scope) : json_object();
  json_t *claims = scope ? json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:o, s:{s:s}}", "iss",
                                     p->iss, "sub", p->sub, "aud", p->aud, "jti", out->jti, "iat",
                                     (json_int_t)out->iat, "exp", (json_int_t)out->exp, "task_id",
                                     p->task_id, "scope", scope, "cnf", "jkt", p->cnf_jkt)
                         : NULL;
  /* json_pack with "o" steals scope even on failure. */
  if (!claims) return -WD_E_NOMEM;
  rc = wd_ident_jws_sign(k, WD_IDENT_TOKEN_TYP, wd_ident_key_jkt(k), NULL, claims, &out->token);
  json_decref(claims);
  if (rc) memset(out, 0, sizeof *out);
  return rc;
}

void wd_ident_claims_clear(wd_ident_claims *c) {
  if (!c) return;
  wd_free(c->iss);
  wd_free(c->sub);
  wd_free(c->aud);
  wd_free(c->jti);
  wd_free(c->task_id);
  wd_free(c->kid);
  json_decref(c->scope);
  memset(c, 0, sizeof *c);
}

/* Copies a required string claim; MISSING_CLAIM or BAD_CLAIMS otherwise. */
static int take_str(const json_t *pl, const char *name, char **dst, wd_ident_diag *diag) {
  const json_t *v = json_object_get(pl, name);
  if (!v) return wd_ident__fail(diag, WD_IDENT_R_MISSING_CLAIM, "%s", name);
  if (!json_is_string(v) || json_string_length(v) == 0 ||
      json_string_length(v) > WD_LIMIT_JWT_STR_BYTES)
    return wd_ident__fail(diag, WD_IDENT_R_BAD_CLAIMS, "%s must be a non-empty string", name);
  *dst = wd_strndup(json_string_value(v), json_string_length(v));
  return *dst ? 0 : -WD_E_NOMEM;
}

static int take_time(const json_t *pl, const char *name, int required, int64_t *dst,
                     wd_ident_diag *diag) {
  const json_t *v = json_object_get(pl, name);
  if (!v) return required ? wd_ident__fail(diag, WD_IDENT_R_MISSING_CLAIM, "%s", name) : 1;
  if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > MAX_TIME)
    return wd_ident__fail(diag, WD_IDENT_R_BAD_CLAIMS, "%s must be an integer NumericDate", name);
  *dst = (int64_t)json_integer_value(v);
  return 0;
}

static int read_claims(const json_t *pl, wd_ident_claims *c, wd_ident_diag *diag) {
  int rc;
  if ((rc = take_str(pl, "iss", &c->iss, diag)) || (rc = take_str(pl, "sub", &c->sub, diag)) ||
      (rc = take_str(pl, "aud", &c->aud, diag)) || (rc = take_str(pl, "jti", &c->jti, diag)) ||
      (rc = take_str(pl, "task_id", &c->task_id, diag)) ||
      (rc = take_time(pl, "iat", 1, &c->iat, diag)) ||
      (rc = take_time(pl, "exp", 1, &c->exp, diag)))
    return rc;
  rc = take_time(pl, "nbf", 0, &c->nbf, diag);
  if (rc == 1)
    c->nbf = c->iat;
  else if (rc)
    return rc;
  const json_t *cnf = json_object_get(pl, "cnf");
  if (!cnf) return wd_ident__fail(diag, WD_IDENT_R_MISSING_CLAIM, "cnf");
  const char *jkt = wd_ident__json_str(cnf, "jkt");
  if (!jkt || strlen(jkt) != WD_IDENT_JKT_LEN)
    return wd_ident__fail(diag, WD_IDENT_R_BAD_CLAIMS, "cnf.jkt must be a key thumbprint");
  memcpy(c->cnf_jkt, jkt, WD_IDENT_JKT_LEN + 1);
  json_t *scope = json_object_get(pl, "scope");
  if (scope && !json_is_object(scope))
    return wd_ident__fail(diag, WD_IDENT_R_BAD_CLAIMS, "scope must be an object");
  c->scope = scope ? json_incref(scope) : json_object();
  return c->scope ? 0 : -WD_E_NOMEM;
}

static int check_claims(const wd_ident_claims *c, const wd_ident_verify_opts *o,
                        int64_t signed_until, wd_ident_diag *diag) {
  int64_t leeway = o->leeway < 0 ? WD_IDENT_LEEWAY_DEFAULT : o->leeway;
  if (leeway > MAX_LEEWAY) leeway = MAX_LEEWAY;
  if (strcmp(c->iss, o->iss) != 0)
    return wd_ident__fail(diag, WD_IDENT_R_WRONG_ISSUER, "\"%.64s\"", c->iss);
  if (strcmp(c->aud, o->aud) != 0)
    return wd_ident__fail(diag, WD_IDENT_R_WRONG_AUDIENCE, "\"%.64s\"", c->aud);
  if (c->exp <= c->iat) return wd_ident__fail(diag, WD_IDENT_R_BAD_CLAIMS, "exp before iat");
  if (c->exp - c->iat > WD_IDENT_TOKEN_TTL_MAX)
    return wd_ident__fail(diag, WD_IDENT_R_LIFETIME, "%lld s > %d s", (long long)(c->exp - c->iat),
                          WD_IDENT_TOKEN_TTL_MAX);
  if (o->now >= c->exp + leeway)
    return wd_ident__fail(diag, WD_IDENT_R_EXPIRED, "exp %lld, now %lld", (long long)c->exp,
                          (long long)o->now);
  /* Only a leaked retired key signs after its retirement. */
  if (signed_until != INT64_MAX && c->iat > signed_until + WD_IDENT_RETIRED_MARGIN)
    return wd_ident__fail(diag, WD_IDENT_R_BAD_CLAIMS, "iat %lld is after its key was retired",
                          (long long)c->iat);
  if (c->iat > o->now + leeway)
    return wd_ident__fail(diag, WD_IDENT_R_IAT_FUTURE, "iat %lld, now %lld", (long long)c->iat,
                          (long long)o->now);
  if (c->nbf > o->now + leeway)
    return wd_ident__fail(diag, WD_IDENT_R_NOT_YET_VALID, "nbf %lld, now %lld", (long long)c->nbf,
                          (long long)o->now);
  return 0;
}

int wd_ident_token_verify(const wd_ident_keyset *ks, const char *tok, size_t len,
                          const wd_ident_verify_opts *o, wd_ident_claims *out,
                          wd_ident_diag *diag) {
  memset(out, 0, sizeof *out);
  wd_ident__diag_ok(diag);
  if (!ks || !o || !o->iss || !o->aud || o->now < 0 || o->now > MAX_TIME) return -WD_E_INVAL;
  /* A token kept by the cache verified before: its key must still be in
   * the keyset, and its times are checked against now as for any other. */
  int rc = wd_ident__sigcache_get(o->cache, tok, len, out);
  if (rc < 0) return rc;
  int64_t until = INT64_MAX;
  if (rc == 1) {
    rc = wd_ident_keyset_find_signer(ks, out->kid, o->now, &until)
             ? check_claims(out, o, until, diag)
             : wd_ident__fail(diag, WD_IDENT_R_UNKNOWN_KID, "\"%.64s\"", out->kid);
    if (rc) wd_ident_claims_clear(out);
    return rc;
  }
  wd_ident_jws j;
  rc = wd_ident_jws_decode(tok, len, &j, diag);
  if (rc) return rc;
  if (j.alg != WD_IDENT_ALG_EDDSA) {
    rc = wd_ident__fail(diag, WD_IDENT_R_ALG_NOT_ALLOWED, "task tokens are EdDSA");
    goto out;
  }
  if (!j.typ || strcmp(j.typ, WD_IDENT_TOKEN_TYP) != 0) {
    rc = wd_ident__fail(diag, WD_IDENT_R_BAD_TYP, "expected " WD_IDENT_TOKEN_TYP);
    goto out;
  }
  const wd_ident_key *k = wd_ident_keyset_find_signer(ks, j.kid, o->now, &until);
  if (!k) {
    rc = wd_ident__fail(diag, WD_IDENT_R_UNKNOWN_KID, "\"%.64s\"", j.kid ? j.kid : "");
    goto out;
  }
  if ((rc = wd_ident_jws_verify(&j, k, diag)) != 0) goto out;
  if ((rc = read_claims(j.payload, out, diag)) != 0) goto out;
  out->kid = wd_strdup(j.kid);
  if (!out->kid) {
    rc = -WD_E_NOMEM;
    goto out;
  }
  /* Kept once structure, signature and claim types are right; the times
   * are checked on every use, so an expired token is refused from the
   * cache as it would be without it. */
  wd_ident__sigcache_put(o->cache, tok, len, out);
  rc = check_claims(out, o, until, diag);
out:
  if (rc) wd_ident_claims_clear(out);
  wd_ident_jws_clear(&j);
  return rc;
}
