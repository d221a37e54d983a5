/* SPDX-License-Identifier: Apache-2.0
 *
 * Private declarations shared by the files of the identity module: the key
 * layout, diagnostics, the JSON helpers that keep jansson's output in
 * wd_malloc'd memory, and the file helpers (atomic 0600 writes). Nothing
 * here is visible outside src/ident/.
 */
#ifndef WD_IDENT_INT_H
#define WD_IDENT_INT_H

#include <stdatomic.h>

#include <openssl/evp.h>

#include "util/wd_limits.h"
#include "wd_ident.h"

struct wd_ident_key {
  _Atomic unsigned refs; /* the key cache shares public keys */
  EVP_PKEY *pkey;        /* owned */
  wd_ident_keytype type;
  int has_private;
  char jkt[WD_IDENT_JKT_LEN + 1];
  struct wd_ident__vpool *vpool; /* owned: ready verify contexts (key.c) */
};

/* Wraps pkey (taking ownership, even on failure) after checking its type
 * and computing its thumbprint. */
int wd_ident__key_wrap(EVP_PKEY *pkey, wd_ident_key **out);
/* SHA-256 of p[0..n) into out: 0, or -WD_E_INTERNAL. */
int wd_ident__sha256(const void *p, size_t n, uint8_t out[32]);
/* Verifies a P-256 signature (DER) over a SHA-256 digest with k, through
 * one of k's ready EVP_PKEY_CTX: setting a context up (fetching the
 * algorithm by name) cost as much as a third of the verification. 1 when
 * valid, 0 when not or on any failure. */
int wd_ident__key_verify_digest(const wd_ident_key *k, const uint8_t *der, size_t der_len,
                                const uint8_t digest[32]);
/* A new reference to k (the key cache hands out shared keys). */
wd_ident_key *wd_ident__key_ref(wd_ident_key *k);
/* Refuses a JWK carrying private members. */
int wd_ident__jwk_public_only(const json_t *jwk, wd_ident_diag *diag);
/* Computes the RFC 7638 thumbprint of k into k->jkt. */
int wd_ident__key_thumbprint(wd_ident_key *k);

/* Compact JWS pieces (jws.c), shared by wd_ident_jws_decode and the DPoP
 * check, which skips the header's decoding for a header it has seen. */
typedef struct wd_ident__jws_parts {
  const char *hdr, *pl, *sig; /* borrowed: the segments, in the token */
  size_t hlen, plen, slen;
} wd_ident__jws_parts;
/* Checks size and the three segments. */
int wd_ident__jws_split(const char *tok, size_t len, wd_ident__jws_parts *p, wd_ident_diag *diag);
/* Decodes a header segment into *hdr (owned by the caller) and checks
 * what needs no key: alg allowed, no crit, kid and typ strings. */
int wd_ident__jws_header(const char *seg, size_t n, json_t **hdr, wd_ident_alg *alg,
                         wd_ident_diag *diag);
/* Decodes a signature segment of exactly 64 bytes. */
int wd_ident__jws_sig(const char *seg, size_t n, uint8_t sig[64], wd_ident_diag *diag);
/* Checks that alg is k's and sig is k's signature over input[0..n). */
int wd_ident__jws_check(const wd_ident_key *k, wd_ident_alg alg, const char *input, size_t n,
                        const uint8_t sig[64], wd_ident_diag *diag);

/* Proof headers (keycache.c): the key and alg of a DPoP header segment,
 * remembered by its exact text once every header check passed and a
 * proof under it verified. get: a reference (release it with
 * wd_ident_key_free), or NULL. put: best effort. Both accept a NULL cache. */
wd_ident_key *wd_ident__keycache_header_get(wd_ident_keycache *c, const char *seg, size_t n,
                                            wd_ident_alg *alg);
void wd_ident__keycache_header_put(wd_ident_keycache *c, const char *seg, size_t n, wd_ident_key *k,
                                   wd_ident_alg alg);

/* A DPoP proof's claims (dpop_claims.c). A string member is set only when
 * the claim is a JSON string, iat only when it is a JSON integer. */
typedef struct wd_ident__dpop_claims {
  const char *jti, *htm, *htu, *ath;
  int has_iat;
  int64_t iat;
} wd_ident__dpop_claims;
/* Reads a payload segment: base64url, a JSON object, its claims. The
 * strings point into buf or into *tree, which the caller releases with
 * json_decref (NULL when the text was read without jansson). */
int wd_ident__dpop_claims_read(const char *seg, size_t n, char buf[WD_LIMIT_JWS_PART_BYTES + 1],
                               json_t **tree, wd_ident__dpop_claims *c, wd_ident_diag *diag);
/* The plain spelling alone, in place: 1 when s[0..n) is an object whose
 * members are printable-ASCII strings without escapes or non-negative
 * integers, with no member twice; 0 to leave the text to jansson. */
int wd_ident__dpop_claims_flat(char *s, size_t n, wd_ident__dpop_claims *c);
/* The claims of a parsed payload. */
void wd_ident__dpop_claims_tree(const json_t *payload, wd_ident__dpop_claims *c);

/* Verified-token cache (sigcache.c). get: 1 with a copy of the claims
 * of exactly this token in *out (clear it with wd_ident_claims_clear), 0
 * when it is not kept, or -WD_E_NOMEM. put: keeps a copy of a token that
 * verified and its claims (best effort). Both accept a NULL cache. */
int wd_ident__sigcache_get(wd_ident_sigcache *c, const char *tok, size_t len, wd_ident_claims *out);
void wd_ident__sigcache_put(wd_ident_sigcache *c, const char *tok, size_t len,
                            const wd_ident_claims *claims);

/* Sets diag (NULL-safe) and returns -WD_E_VALIDATE. */
int wd_ident__fail(wd_ident_diag *diag, wd_ident_reason r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void wd_ident__diag_ok(wd_ident_diag *diag);

/* Compact, sorted JSON text of j in wd_malloc'd memory (free with wd_free). */
int wd_ident__json_dump(const json_t *j, char **out, size_t *outlen);
/* Parses a JSON object from s[0..n), rejecting duplicate members and NULs. */
json_t *wd_ident__json_object(const void *s, size_t n);
/* Borrowed string member, or NULL if absent or not a string. */
const char *wd_ident__json_str(const json_t *obj, const char *name);
/* 0 and *out if the member is an integer (JSON number without fraction). */
int wd_ident__json_int(const json_t *obj, const char *name, int64_t *out);

/* A random jti: 16 random bytes in base64url, into out[0..outsz). */
int wd_ident__random_id(char *out, size_t outsz);

/* Writes data to path atomically with mode 0600 (temp file + fsync + rename). */
int wd_ident__write_file_0600(const char *path, const void *data, size_t len);
/* Reads at most cap bytes of path into an owned NUL-terminated buffer. */
int wd_ident__read_file(const char *path, size_t cap, char **out, size_t *outlen);

#endif
