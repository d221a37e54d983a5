/* SPDX-License-Identifier: Apache-2.0
 *
 * A cache of public keys imported from JWKs. Every DPoP proof carries its
 * key as a JWK; rebuilding a P-256 key from it (point decoding and the
 * on-curve check) costs about 38 us, as much as the signature check
 * itself, and an agent sends the same key on every call. Entries are keyed
 * by the JWK's public members exactly as sent (kty, crv, x, y), each
 * length-prefixed, so a hit can only return the key those members
 * describe; a JWK spelled otherwise misses and is imported as usual, and
 * one with a member that is not a string is never cached. The table is
 * direct-mapped behind one mutex held for a string compare; keys are
 * shared by reference count.
 *
 * A second table remembers whole DPoP header segments, exactly as sent,
 * with the key and alg they carry: an agent's header is the same text on
 * every proof, so a hit skips decoding the header and its JWK. An entry
 * is made only after the header passed every check and a proof under it
 * verified, and equal text decodes to an equal header, so a hit answers
 * what decoding would.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "ident_int.h"
#include "util/wd_alloc.h"
#include "util/wd_limits.h"
#include "util/wd_map.h"
#include "warden/err.h"

typedef struct kslot {
  char *id; /* owned: a JWK's jwk_id, or a header segment */
  size_t len;
  wd_ident_key *key;
  wd_ident_alg alg;
} kslot;

struct wd_ident_keycache {
  pthread_mutex_t mu;
  size_t n; /* a power of two */
  kslot *slots;
  kslot *headers;
};

int wd_ident_keycache_new(size_t slots, wd_ident_keycache **out) {
  *out = NULL;
  if (slots == 0 || slots > WD_LIMIT_KEYCACHE_SLOTS) return -WD_E_INVAL;
  size_t n = 1;
  while (n < slots)
    n <<= 1;
  wd_ident_keycache *c = wd_calloc(1, sizeof *c);
  if (!c) return -WD_E_NOMEM;
  if (!(c->slots = wd_calloc(n, sizeof *c->slots)) ||
      !(c->headers = wd_calloc(n, sizeof *c->headers)) || pthread_mutex_init(&c->mu, NULL) != 0) {
    wd_free(c->slots);
    wd_free(c->headers);
    wd_free(c);
    return -WD_E_NOMEM;
  }
  c->n = n;
  *out = c;
  return 0;
}

void wd_ident_keycache_free(wd_ident_keycache *c) {
  if (!c) return;
  for (size_t i = 0; i < c->n; i++) {
    wd_free(c->slots[i].id);
    wd_ident_key_free(c->slots[i].key);
    wd_free(c->headers[i].id);
    wd_ident_key_free(c->headers[i].key);
  }
  pthread_mutex_destroy(&c->mu);
  wd_free(c->slots);
  wd_free(c->headers);
  wd_free(c);
}

/* The entry id of a JWK: each of kty, crv, x and y as "-" when absent or
 * as "<length>:<bytes>", so the id parses back into the members it came
 * from and two JWKs that differ in them never share it. (Joined with '|',
 * a member could hold the separator, and an empty or non-string member
 * read the same as a missing one: an Ed25519 JWK with "y": "" hit the
 * entry of the same key without y, though the importer refuses it.)
 * NULL, and no caching, for a member that is not a string or holds a NUL,
 * or an id too long for len: the importer says what is wrong. */
static char *jwk_id(const json_t *jwk, char *buf, size_t len) {
  static const char *const names[] = {"kty", "crv", "x", "y"};
  size_t at = 0;
  for (size_t i = 0; i < 4; i++) {
    const json_t *m = json_object_get(jwk, names[i]);
    int w;
    if (!m) {
      w = snprintf(buf + at, len - at, "-");
    } else {
      if (!json_is_string(m)) return NULL;
      const char *v = json_string_value(m);
      size_t n = json_string_length(m);
      if (strlen(v) != n) return NULL;
      w = snprintf(buf + at, len - at, "%zu:%s", n, v);
    }
    if (w < 0 || (size_t)w >= len - at) return NULL;
    at += (size_t)w;
  }
  return buf;
}

#define SEED_JWK    0x6b6579u
#define SEED_HEADER 0x686472u

/* The slot of id[0..n) in table t; each table hashes with its own seed. */
static kslot *slot_of(const wd_ident_keycache *c, kslot *t, uint64_t seed, const char *id,
                      size_t n) {
  return &t[wd_hash_bytes(id, n, seed) & (c->n - 1)];
}

/* A reference to the key s keeps for id[0..n) (its alg in *alg, when not
 * NULL), or NULL. */
static wd_ident_key *slot_get(wd_ident_keycache *c, const kslot *s, const char *id, size_t n,
                              wd_ident_alg *alg) {
  wd_ident_key *k = NULL;
  pthread_mutex_lock(&c->mu);
  if (s->id && s->len == n && memcmp(s->id, id, n) == 0) {
    k = wd_ident__key_ref(s->key);
    if (alg) *alg = s->alg;
  }
  pthread_mutex_unlock(&c->mu);
  return k;
}

/* Makes s keep k for id[0..n), dropping what it kept; best effort. */
static void slot_put(wd_ident_keycache *c, kslot *s, const char *id, size_t n, wd_ident_key *k,
                     wd_ident_alg alg) {
  char *copy = wd_strndup(id, n);
  if (!copy) return; /* the key is fine; it just is not remembered */
  pthread_mutex_lock(&c->mu);
  char *old_id = s->id;
  wd_ident_key *old = s->key;
  s->id = copy;
  s->len = n;
  s->key = wd_ident__key_ref(k);
  s->alg = alg;
  pthread_mutex_unlock(&c->mu);
  wd_free(old_id);
  wd_ident_key_free(old);
}

int wd_ident_key_from_jwk_cached(wd_ident_keycache *c, const json_t *jwk, wd_ident_key **out,
                                 wd_ident_diag *diag) {
  *out = NULL;
  wd_ident__diag_ok(diag);
  char buf[512];
  const char *id = c && json_is_object(jwk) ? jwk_id(jwk, buf, sizeof buf) : NULL;
  if (!id) return wd_ident_key_from_jwk_json(jwk, out, diag);
  int rc = wd_ident__jwk_public_only(jwk, diag);
  if (rc) return rc;
  size_t n = strlen(id);
  kslot *s = slot_of(c, c->slots, SEED_JWK, id, n);
  if ((*out = slot_get(c, s, id, n, NULL)) != NULL) return 0;
  if ((rc = wd_ident_key_from_jwk_json(jwk, out, diag)) != 0) return rc;
  slot_put(c, s, id, n, *out, wd_ident_key_alg(*out));
  return 0;
}

wd_ident_key *wd_ident__keycache_header_get(wd_ident_keycache *c, const char *seg, size_t n,
                                            wd_ident_alg *alg) {
  if (!c || n == 0 || n > WD_LIMIT_PROOF_HEADER_KEPT) return NULL;
  return slot_get(c, slot_of(c, c->headers, SEED_HEADER, seg, n), seg, n, alg);
}

void wd_ident__keycache_header_put(wd_ident_keycache *c, const char *seg, size_t n, wd_ident_key *k,
                                   wd_ident_alg alg) {
  if (!c || !k || n == 0 || n > WD_LIMIT_PROOF_HEADER_KEPT) return;
  slot_put(c, slot_of(c, c->headers, SEED_HEADER, seg, n), seg, n, k, alg);
}
