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
