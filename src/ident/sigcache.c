/* SPDX-License-Identifier: Apache-2.0
 *
 * A cache of task tokens that verified, so that an agent calling
 * /v1/authorize many times with one token pays for decoding it and
 * checking its signature once, not once per call (the DPoP proof still
 * costs one verification per call). An entry holds the exact token text
 * and the claims read from it; a hit needs the same bytes, compared in
 * full. Nothing is stored before a successful verification, and on every
 * hit the caller still looks the kid up in the keyset (so rotation and
 * retirement behave as without the cache) and checks the claims against
 * the current time. The table is direct-mapped, shared by threads behind
 * one mutex held to compare and copy one entry.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ident_int.h"
#include "util/wd_alloc.h"
#include "util/wd_map.h"
#include "warden/err.h"

typedef struct slot {
  char *tok; /* owned; NULL when empty */
  size_t len;
  wd_ident_claims claims; /* owned */
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

static void slot_clear(slot *s) {
  wd_free(s->tok);
  wd_ident_claims_clear(&s->claims);
  memset(s, 0, sizeof *s);
}

void wd_ident_sigcache_free(wd_ident_sigcache *c) {
  if (!c) return;
  for (size_t i = 0; i < c->n; i++)
    slot_clear(&c->slots[i]);
  (void)pthread_mutex_destroy(&c->mu);
  wd_free(c->slots);
  wd_free(c);
}

static size_t index_of(const wd_ident_sigcache *c, const char *tok, size_t len) {
  return (size_t)wd_hash_bytes(tok, len, 0x243f6a8885a308d3ull) & (c->n - 1);
}

/* Copies every claim of src into dst (the scope object is shared: it is
 * never modified once read). */
static int claims_copy(wd_ident_claims *dst, const wd_ident_claims *src) {
  memset(dst, 0, sizeof *dst);
  dst->iss = wd_strdup(src->iss);
  dst->sub = wd_strdup(src->sub);
  dst->aud = wd_strdup(src->aud);
  dst->jti = wd_strdup(src->jti);
  dst->task_id = wd_strdup(src->task_id);
  dst->kid = wd_strdup(src->kid);
  dst->scope = json_incref(src->scope);
  memcpy(dst->cnf_jkt, src->cnf_jkt, sizeof dst->cnf_jkt);
  dst->iat = src->iat;
  dst->exp = src->exp;
  dst->nbf = src->nbf;
  if (dst->iss && dst->sub && dst->aud && dst->jti && dst->task_id && dst->kid && dst->scope)
    return 0;
  wd_ident_claims_clear(dst);
  return -WD_E_NOMEM;
}

int wd_ident__sigcache_get(wd_ident_sigcache *c, const char *tok, size_t len,
                           wd_ident_claims *out) {
  if (!c) return 0;
  slot *s = &c->slots[index_of(c, tok, len)];
  int rc = 0;
  if (pthread_mutex_lock(&c->mu) != 0) return 0;
  if (s->tok && s->len == len && CRYPTO_memcmp(s->tok, tok, len) == 0)
    rc = claims_copy(out, &s->claims) == 0 ? 1 : -WD_E_NOMEM;
  (void)pthread_mutex_unlock(&c->mu);
  return rc;
}

void wd_ident__sigcache_put(wd_ident_sigcache *c, const char *tok, size_t len,
                            const wd_ident_claims *claims) {
  if (!c) return;
  slot fresh = {.tok = wd_malloc(len + 1), .len = len};
  if (!fresh.tok || claims_copy(&fresh.claims, claims) != 0) {
    wd_free(fresh.tok);
    return; /* a cache: nothing lost but the next call's work */
  }
  memcpy(fresh.tok, tok, len);
  fresh.tok[len] = '\0';
  slot *s = &c->slots[index_of(c, tok, len)];
  if (pthread_mutex_lock(&c->mu) != 0) {
    slot_clear(&fresh);
    return;
  }
  slot old = *s;
  *s = fresh;
  (void)pthread_mutex_unlock(&c->mu);
  slot_clear(&old);
}
