/* SPDX-License-Identifier: Apache-2.0
 *
 * Workload identity crypto for `warden serve`: base64url, agent and
 * signing keys (Ed25519, P-256), public JWKs and RFC 7638 thumbprints,
 * compact JWS (EdDSA, ES256), task tokens, DPoP proofs (RFC 9449), the
 * rotating signing keyset, and secret handling (random tokens, hashes,
 * constant-time comparison).
 *
 * This module holds no state beyond what callers hand it: the replay cache
 * for DPoP jti values, token revocation and key storage policy live in the
 * store and the service. Nothing here prints or aborts.
 *
 * Ownership: every `**out` result is owned by the caller and is freed with
 * the matching *_free function (or wd_free for char buffers). Every `const`
 * pointer argument is borrowed for the duration of the call only, unless a
 * comment says otherwise. Every function returns 0 or -WD_E_xxx; a
 * rejected token, proof or key returns -WD_E_VALIDATE and, when a
 * wd_ident_diag is passed, says why in diag->reason and diag->msg.
 */
#ifndef WD_IDENT_H
#define WD_IDENT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "util/wd_limits.h"
#include "warden/export.h"

/* ---- rejection reasons ----------------------------------------------------------- */

#define WD_IDENT_REASON_MAP(XX)                                                                    \
  XX(NONE, "no error")                                                                             \
  XX(MALFORMED, "malformed token")                                                                 \
  XX(TOOBIG, "token too large")                                                                    \
  XX(BAD_HEADER, "invalid JOSE header")                                                            \
  XX(ALG_NOT_ALLOWED, "alg not allowed")                                                           \
  XX(CRIT, "crit header not supported")                                                            \
  XX(BAD_TYP, "wrong typ")                                                                         \
  XX(UNKNOWN_KID, "unknown key id")                                                                \
  XX(SIG_INVALID, "signature invalid")                                                             \
  XX(BAD_CLAIMS, "invalid claims")                                                                 \
  XX(MISSING_CLAIM, "missing claim")                                                               \
  XX(WRONG_ISSUER, "wrong issuer")                                                                 \
  XX(WRONG_AUDIENCE, "wrong audience")                                                             \
  XX(EXPIRED, "token expired")                                                                     \
  XX(NOT_YET_VALID, "token not yet valid")                                                         \
  XX(IAT_FUTURE, "issued in the future")                                                           \
  XX(LIFETIME, "lifetime too long")                                                                \
  XX(BAD_KEY, "invalid key")                                                                       \
  XX(DPOP_MISSING, "DPoP proof missing")                                                           \
  XX(DPOP_HTM, "DPoP htm mismatch")                                                                \
  XX(DPOP_HTU, "DPoP htu mismatch")                                                                \
  XX(DPOP_ATH, "DPoP ath mismatch")                                                                \
  XX(DPOP_IAT, "DPoP iat outside window")                                                          \
  XX(DPOP_KEY_MISMATCH, "DPoP key does not match token")

typedef enum {
#define XX(name, msg) WD_IDENT_R_##name,
  WD_IDENT_REASON_MAP(XX)
#undef XX
      WD_IDENT_R__COUNT
} wd_ident_reason;

/* Why a token, proof or key was refused. Callers embed it (stack). */
typedef struct wd_ident_diag {
  wd_ident_reason reason;
  char msg[WD_LIMIT_DIAG_MSG]; /* "token expired: exp 1700000000 < now 1700000100" */
} wd_ident_diag;

/* Static name ("EXPIRED") and message ("token expired") of a reason. */
const char *wd_ident_reason_name(wd_ident_reason r);
const char *wd_ident_reason_msg(wd_ident_reason r);

/* ---- base64url (RFC 4648 §5, no padding) ---------------------------------------- */

/* Characters needed to encode n bytes, excluding the NUL. */
size_t wd_ident_b64url_enclen(size_t n);
/* Writes the encoding of in[0..n) and a NUL into out[0..outsz).
 * Returns -WD_E_TOOBIG if outsz < enclen(n) + 1. */
int wd_ident_b64url_encode(const void *in, size_t n, char *out, size_t outsz) WD_WUR;
/* Strict decode: rejects '=', characters outside the URL alphabet, a
 * length of 1 mod 4 and non-zero trailing bits. Writes *outlen bytes.
 * Returns -WD_E_PARSE on bad input, -WD_E_TOOBIG if out is too small. */
int wd_ident_b64url_decode(const char *in, size_t n, uint8_t *out, size_t outsz,
                           size_t *outlen) WD_WUR;

/* ---- keys ----------------------------------------------------------------------- */

typedef enum { WD_IDENT_KEY_ED25519 = 1, WD_IDENT_KEY_P256 = 2 } wd_ident_keytype;
typedef enum { WD_IDENT_ALG_EDDSA = 1, WD_IDENT_ALG_ES256 = 2 } wd_ident_alg;

#define WD_IDENT_JKT_LEN 43u /* base64url of a SHA-256 digest */

/* A public key, or a key pair. Opaque; immutable after creation, so it can
 * be shared by threads for signing and verification. */
typedef struct wd_ident_key wd_ident_key;

int wd_ident_key_generate(wd_ident_keytype type, wd_ident_key **out) WD_WUR;
/* Frees the key and cleanses private material; NULL is a no-op. */
void wd_ident_key_free(wd_ident_key *k);
wd_ident_keytype wd_ident_key_type(const wd_ident_key *k);
int wd_ident_key_has_private(const wd_ident_key *k);
/* The JWS alg the key signs with (EdDSA for Ed25519, ES256 for P-256). */
wd_ident_alg wd_ident_key_alg(const wd_ident_key *k);
/* RFC 7638 thumbprint; borrowed, NUL-terminated, WD_IDENT_JKT_LEN chars,
 * valid as long as the key. */
const char *wd_ident_key_jkt(const wd_ident_key *k);

/* Loads a PEM private key (PKCS#8) or public key (SPKI). Other key types
 * and curves are -WD_E_VALIDATE. */
int wd_ident_key_from_pem(const char *pem, size_t len, wd_ident_key **out) WD_WUR;
/* Owned PEM text (free a private PEM with wd_ident_secret_free, which
 * cleanses it, a public one with wd_free). with_private = 0 writes the
 * public key; a key without its private half cannot write one. */
int wd_ident_key_to_pem(const wd_ident_key *k, int with_private, char **out, size_t *outlen) WD_WUR;
/* Writes the private key as PEM to path with mode 0600, atomically
 * (temporary file in the same directory, fsync, rename). */
int wd_ident_key_save(const wd_ident_key *k, const char *path) WD_WUR;
/* Reads a PEM key file written by wd_ident_key_save (or any PEM key). */
int wd_ident_key_load(const char *path, wd_ident_key **out) WD_WUR;

/* Owned public JWK as compact JSON text (free with wd_free); kid is added
 * when non-NULL. Members: kty, crv, x (, y) (, kid, use, alg). */
int wd_ident_key_to_jwk(const wd_ident_key *k, const char *kid, char **out) WD_WUR;
/* The same JWK as an owned jansson object (json_decref). */
int wd_ident_key_to_jwk_json(const wd_ident_key *k, const char *kid, json_t **out) WD_WUR;
/* Imports a public JWK (OKP/Ed25519 or EC/P-256). Rejects private members
 * (d, p, q, dp, dq, qi, k), other kty/crv, wrong lengths and EC points not
 * on the curve, with reason BAD_KEY. */
int wd_ident_key_from_jwk(const char *json, size_t len, wd_ident_key **out,
                          wd_ident_diag *diag) WD_WUR;
int wd_ident_key_from_jwk_json(const json_t *jwk, wd_ident_key **out, wd_ident_diag *diag) WD_WUR;

/* ---- compact JWS ---------------------------------------------------------------- */

/* Signs payload (a JSON object) with protected header {alg, typ, kid}
 * plus every member of extra_header (may be NULL; "alg" in it is
 * ignored). typ and kid may be NULL. Returns the owned compact
 * serialization (free with wd_free). */
int wd_ident_jws_sign(const wd_ident_key *k, const char *typ, const char *kid,
                      const json_t *extra_header, const json_t *payload, char **out) WD_WUR;

/* A decoded, not yet verified, compact JWS. Embed it; release with
 * wd_ident_jws_clear. Every pointer is owned by the struct. */
typedef struct wd_ident_jws {
  json_t *header;  /* the protected header, a JSON object */
  json_t *payload; /* the payload, a JSON object */
  wd_ident_alg alg;
  const char *kid; /* borrowed from header; NULL when absent */
  const char *typ; /* borrowed from header; NULL when absent */
  char *_input;    /* the signing input "b64(header).b64(payload)" */
  size_t _input_len;
  uint8_t _sig[64];
  size_t _sig_len;
} wd_ident_jws;

/* Splits and decodes a compact JWS without checking the signature. Checks
 * what does not need a key: size limits, three well-formed segments,
 * header and payload are JSON objects without duplicate members, alg is
 * EdDSA or ES256 (never "none"), no crit, and the signature length fits
 * the alg. On error *out is cleared. */
int wd_ident_jws_decode(const char *tok, size_t len, wd_ident_jws *out, wd_ident_diag *diag) WD_WUR;
/* Checks the signature of a decoded JWS against k. The alg must be the
 * one k signs with (an Ed25519 key never verifies ES256, and vice versa). */
int wd_ident_jws_verify(const wd_ident_jws *j, const wd_ident_key *k, wd_ident_diag *diag) WD_WUR;
/* Releases a decoded JWS; safe on a zeroed or already cleared struct. */
void wd_ident_jws_clear(wd_ident_jws *j);

/* ---- signing keyset ------------------------------------------------------------- */

/* Warden's signing keys: one active Ed25519 key, plus retired keys kept
 * for verification until their retire time. kid = the key's jkt. Not
 * thread-safe for writes: the service swaps whole keysets or locks. */
typedef struct wd_ident_keyset wd_ident_keyset;

/* An empty keyset; call wd_ident_keyset_rotate to create the first key. */
int wd_ident_keyset_new(wd_ident_keyset **out) WD_WUR;
void wd_ident_keyset_free(wd_ident_keyset *ks);
/* Generates a new active key. The previous active key stays valid for
 * verification until now + overlap; overlap is raised to at least the
 * longest token lifetime so no live token loses its key. Retired keys
 * past their time are dropped. */
int wd_ident_keyset_rotate(wd_ident_keyset *ks, int64_t now, int64_t overlap) WD_WUR;
/* Drops retired keys whose retire time is before now. */
void wd_ident_keyset_prune(wd_ident_keyset *ks, int64_t now);
/* Borrowed active key (valid until the next rotate/prune/free), or NULL. */
const wd_ident_key *wd_ident_keyset_active(const wd_ident_keyset *ks);
/* Borrowed key with this kid that is still valid at now, or NULL. */
const wd_ident_key *wd_ident_keyset_find(const wd_ident_keyset *ks, const char *kid, int64_t now);
/* wd_ident_keyset_find that also gives the last time the key signed
 * (signed_until may be NULL): when its successor was made, INT64_MAX for
 * the active key. A retired key verifies what it signed before that. */
const wd_ident_key *wd_ident_keyset_find_signer(const wd_ident_keyset *ks, const char *kid,
                                                int64_t now, int64_t *signed_until);
size_t wd_ident_keyset_count(const wd_ident_keyset *ks);
/* Owned JWKS JSON text {"keys":[...]} of every key valid at now
 * (free with wd_free). */
int wd_ident_keyset_jwks(const wd_ident_keyset *ks, int64_t now, char **out) WD_WUR;
/* Saves to dir (created 0700 if missing): one 0600 PEM file per key,
 * <kid>.pem, and a 0600 manifest keyset.json, each written atomically. */
int wd_ident_keyset_save(const wd_ident_keyset *ks, const char *dir) WD_WUR;
/* Loads a keyset saved by wd_ident_keyset_save; checks every key's
 * thumbprint against its kid. -WD_E_NOTFOUND only if there is no
 * manifest; a key file the manifest names but dir lacks is
 * -WD_E_VALIDATE, never a missing keyset. */
int wd_ident_keyset_load(const char *dir, wd_ident_keyset **out) WD_WUR;
/* wd_ident_keyset_load that, on any failure but a missing manifest (or
 * out of memory), writes into why (may be NULL) the file at fault and
 * what is wrong with it: "<dir>/<kid>.pem: missing, though keyset.json
 * names it". */
int wd_ident_keyset_load_diag(const char *dir, wd_ident_keyset **out, char *why,
                              size_t whylen) WD_WUR;

/* ---- task tokens ---------------------------------------------------------------- */

#define WD_IDENT_TOKEN_TYP         "wd-task+jwt"
#define WD_IDENT_TOKEN_TTL_DEFAULT 300 /* seconds */
#define WD_IDENT_TOKEN_TTL_MAX     900 /* seconds; the issue's 15 minutes */
#define WD_IDENT_LEEWAY_DEFAULT    30  /* seconds of clock skew tolerated */
/* Seconds a retired key may still have signed after its successor was
 * made: the old key signs until the new set is written and recorded, and
 * a clock set back before a rotation makes the successor look older. */
#define WD_IDENT_RETIRED_MARGIN 60

typedef struct wd_ident_token_params {
  const char *iss;     /* required */
  const char *sub;     /* required: the agent's SPIFFE ID */
  const char *aud;     /* required */
  const char *task_id; /* required */
  const json_t *scope; /* optional JSON object; NULL is {} */
  const char *cnf_jkt; /* required: thumbprint of the agent key */
  int64_t now;         /* unix seconds */
  int64_t ttl;         /* seconds; 0 = default; > TTL_MAX is -WD_E_INVAL */
} wd_ident_token_params;

typedef struct wd_ident_minted {
  char *token; /* owned compact JWS (free with wd_free) */
  char jti[32];
  int64_t iat, exp;
} wd_ident_minted;

/* Mints a task token signed by the keyset's active key. */
int wd_ident_token_mint(const wd_ident_keyset *ks, const wd_ident_token_params *p,
                        wd_ident_minted *out) WD_WUR;

/* Optional cache of tokens whose signature verified (see sigcache.c).
 * Thread-safe; share one per keyset across request threads. */
typedef struct wd_ident_sigcache wd_ident_sigcache;

/* A cache of `slots` entries (rounded up to a power of two, at most
 * WD_LIMIT_SIGCACHE_SLOTS); each holds one token and its claims. */
int wd_ident_sigcache_new(size_t slots, wd_ident_sigcache **out) WD_WUR;
void wd_ident_sigcache_free(wd_ident_sigcache *c);

typedef struct wd_ident_verify_opts {
  const char *iss; /* required exact issuer */
  const char *aud; /* required exact audience */
  int64_t now;
  int64_t leeway;           /* seconds; negative = default */
  wd_ident_sigcache *cache; /* optional, borrowed: skips decoding and checking a token again */
} wd_ident_verify_opts;

/* The claims of a verified task token. Embed; release with
 * wd_ident_claims_clear. Every pointer is owned by the struct. */
typedef struct wd_ident_claims {
  char *iss, *sub, *aud, *jti, *task_id, *kid;
  json_t *scope; /* a JSON object; {} when the token has none */
  char cnf_jkt[WD_IDENT_JKT_LEN + 1];
  int64_t iat, exp, nbf; /* nbf = iat when absent */
} wd_ident_claims;

/* Verifies a task token: structure and alg, typ, signature by kid against
 * ks, then iss, aud, exp/nbf/iat (with leeway), lifetime, and the types of
 * every required claim (iss, sub, aud, jti, iat, exp, task_id, cnf.jkt). */
int wd_ident_token_verify(const wd_ident_keyset *ks, const char *tok, size_t len,
                          const wd_ident_verify_opts *o, wd_ident_claims *out,
                          wd_ident_diag *diag) WD_WUR;
void wd_ident_claims_clear(wd_ident_claims *c);

/* ---- DPoP proofs (RFC 9449) ----------------------------------------------------- */

#define WD_IDENT_DPOP_TYP     "dpop+jwt"
#define WD_IDENT_DPOP_WINDOW  60 /* seconds a proof stays acceptable */
#define WD_IDENT_DPOP_JTI_MAX 128u

/* Agent side: a proof for one request. access_token may be NULL (no ath).
 * jti is random. Owned result (free with wd_free). */
int wd_ident_dpop_make(const wd_ident_key *agent_key, const char *htm, const char *htu,
                       const char *access_token, int64_t now, char **out) WD_WUR;

/* Optional cache of public keys imported from JWKs (see keycache.c), so an
 * agent's proof key is rebuilt once, not on every proof: importing a
 * P-256 key costs about as much as verifying with it. Thread-safe. */
typedef struct wd_ident_keycache wd_ident_keycache;
/* A cache of `slots` entries (rounded up to a power of two, at most
 * WD_LIMIT_KEYCACHE_SLOTS). */
int wd_ident_keycache_new(size_t slots, wd_ident_keycache **out) WD_WUR;
void wd_ident_keycache_free(wd_ident_keycache *c);
/* wd_ident_key_from_jwk_json through the cache; *out is a reference the
 * caller releases with wd_ident_key_free as usual. */
int wd_ident_key_from_jwk_cached(wd_ident_keycache *c, const json_t *jwk, wd_ident_key **out,
                                 wd_ident_diag *diag) WD_WUR;

typedef struct wd_ident_dpop_opts {
  const char *htm;          /* required: the request method */
  const char *htu;          /* required: the request URI (query and fragment ignored) */
  const char *access_token; /* required: the presented task token, for ath */
  const char *cnf_jkt;      /* required: the token's cnf.jkt */
  int64_t now;
  int64_t window;          /* accepted age of iat in seconds; <= 0 = default */
  int64_t leeway;          /* accepted future skew; negative = default */
  wd_ident_keycache *keys; /* optional, borrowed: shares imported proof keys */
} wd_ident_dpop_opts;

typedef struct wd_ident_dpop_result {
  char jti[WD_IDENT_DPOP_JTI_MAX + 1]; /* for the caller's replay cache */
  int64_t iat;                         /* replay entries may expire at iat + window */
  char jkt[WD_IDENT_JKT_LEN + 1];
} wd_ident_dpop_result;

/* Verifies a proof against the request. proof may be NULL (DPOP_MISSING).
 * Does not check replay: the caller must reject a jti it has seen. */
int wd_ident_dpop_verify(const char *proof, size_t len, const wd_ident_dpop_opts *o,
                         wd_ident_dpop_result *out, wd_ident_diag *diag) WD_WUR;

/* Whether two URIs name the same DPoP target (RFC 9449 section 4.3):
 * scheme and host compared without case, the default port dropped, query
 * and fragment ignored. 0 with *same set (a URI that is not absolute
 * http(s) never matches), or -WD_E_NOMEM. */
int wd_ident_htu_same(const char *a, const char *b, int *same) WD_WUR;

/* ---- secrets -------------------------------------------------------------------- */

#define WD_IDENT_HASH_HEX_LEN 64u

/* An owned random base64url token of nbytes (16..256) random bytes. */
int wd_ident_random_token(size_t nbytes, char **out) WD_WUR;
/* Writes the lowercase hex SHA-256 of s[0..n) and a NUL into out. */
int wd_ident_secret_hash(const void *s, size_t n, char out[WD_IDENT_HASH_HEX_LEN + 1]) WD_WUR;
/* 1 if a[0..n) == b[0..n), in time independent of the contents. */
int wd_ident_secret_equal(const void *a, const void *b, size_t n);
/* 1 if SHA-256(presented) equals stored_hex (as from secret_hash), in
 * constant time; 0 otherwise, including on a malformed stored_hex. */
int wd_ident_secret_check(const void *presented, size_t n, const char *stored_hex);
/* Overwrites p[0..n) so the compiler cannot elide it. */
void wd_ident_cleanse(void *p, size_t n);
/* Cleanses a NUL-terminated owned string, then frees it; NULL is a no-op. */
void wd_ident_secret_free(char *s);

#endif
