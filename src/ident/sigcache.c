/* SPDX-License-Identifier: Apache-2.0
 *
 * A cache of task tokens whose signature already verified, so that an
 * agent calling /v1/authorize many times with one token pays for one
 * Ed25519 verification, not one per call (the DPoP proof still costs one
 * per call). Entries are SHA-256(kid || token) in a fixed direct-mapped
 * table: nothing is ever inserted before a successful verification, a
 * hit needs the exact token under the exact key, and the key lookup by
 * kid (with its retire time) still happens on every call, so rotation and
 * expiry behave as without the cache. Claims are always re-checked. The
 * table is shared by threads behind one mutex held for a 32-byte copy.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ident_int.h"
#include "util/wd_alloc.h"
#include "warden/err.h"

typedef struct slot {
  uint8_t digest[32];
  int used;
} slot;

struct wd_ident_sigcache {
  pthread_mutex_t mu;
  size_t n; /* a power of two */
  slot *slots;
};

int wd_ident_sigcache_new(size_t slots, wd_ident_sigcache **out) {
  *out = NULL;
  if (slots == 0 || slots > WD_LIMIT_SIGCACHE_SLOTS) return -WD_E_INVAL;
  size_t n = 1;
  while (n < slots)
    n <<= 1;
  wd_ident_sigcache *c = wd_calloc(1, sizeof *c);
  if (!c) return -WD_E_NOMEM;
  c->slots = wd_calloc(n, sizeof *c->slots);
  if (!c->slots || pthread_mutex_init(&c->mu, NULL) != 0) {
    wd_free(c->slots);
    wd_free(c);
    return -WD_E_NOMEM;
  }
  c->n = n;
  *out = c;
  return 0;
}

void wd_ident_sigcache_free(wd_ident_sigcache *c) {
  if (!c) return;
  (void)pthread_mutex_destroy(&c->mu);
  wd_free(c->slots);
  wd_free(c);
}

int wd_ident__sigcache_digest(const wd_ident_key *k, const char *tok, size_t len, uint8_t md[32]) {
  int rc = -WD_E_INTERNAL;
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  if (!ctx) return -WD_E_NOMEM;
  /* The kid is fixed-length, so kid || token cannot be split two ways. */
  if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
      EVP_DigestUpdate(ctx, k->jkt, WD_IDENT_JKT_LEN) == 1 &&
      EVP_DigestUpdate(ctx, tok, len) == 1 && EVP_DigestFinal_ex(ctx, md, NULL) == 1)
    rc = 0;
  EVP_MD_CTX_free(ctx);
  return rc;
}

static size_t index_of(const wd_ident_sigcache *c, const uint8_t md[32]) {
  size_t h = 0;
  memcpy(&h, md, sizeof h);
  return h & (c->n - 1);
}

int wd_ident__sigcache_has(wd_ident_sigcache *c, const uint8_t md[32]) {
  if (!c) return 0;
  slot s;
  size_t i = index_of(c, md);
  if (pthread_mutex_lock(&c->mu) != 0) return 0;
  s = c->slots[i];
  (void)pthread_mutex_unlock(&c->mu);
  return s.used && CRYPTO_memcmp(s.digest, md, 32) == 0;
}

void wd_ident__sigcache_put(wd_ident_sigcache *c, const uint8_t md[32]) {
  if (!c) return;
  size_t i = index_of(c, md);
  if (pthread_mutex_lock(&c->mu) != 0) return;
  memcpy(c->slots[i].digest, md, 32);
  c->slots[i].used = 1;
  (void)pthread_mutex_unlock(&c->mu);
}
