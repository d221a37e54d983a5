/* SPDX-License-Identifier: Apache-2.0
 *
 * Parsed entity stores kept for reuse (gov_entcache.h): a direct-mapped
 * table by hash of the text, one mutex per shard held only to take or
 * swap a reference. A parse happens outside the lock; two threads that
 * miss on the same text both parse, and the later one's store is kept.
 */
#include <stdatomic.h>
#include <string.h>

#include <pthread.h>

#include "gov/gov_entcache.h"
#include "util/wd_alloc.h"
#include "util/wd_limits.h"
#include "util/wd_map.h"

#define SHARDS 16u

struct wd_gov__entref {
  atomic_uint refs;
  uint64_t hash;
  size_t len;
  cedar_entities *es; /* owned */
  char *text;         /* owned */
};

struct wd_gov__entcache {
  const cedar_schema *schema;
  pthread_mutex_t mu[SHARDS];
  wd_gov__entref *slot[WD_LIMIT_GOV_ENTITY_CACHE];
};

_Static_assert((WD_LIMIT_GOV_ENTITY_CACHE & (WD_LIMIT_GOV_ENTITY_CACHE - 1)) == 0 &&
                   WD_LIMIT_GOV_ENTITY_CACHE % SHARDS == 0,
               "the entity cache is a power of two, in whole shards");

void wd_gov__entref_release(wd_gov__entref *r) {
  if (!r || atomic_fetch_sub(&r->refs, 1) != 1) return;
  cedar_entities_free(r->es);
  wd_free(r->text);
  wd_free(r);
}

int wd_gov__entcache_new(const cedar_schema *schema, wd_gov__entcache **out) {
  wd_gov__entcache *c = wd_calloc(1, sizeof *c);
  *out = NULL;
  if (!c) return -WD_E_NOMEM;
  c->schema = schema;
  for (unsigned i = 0; i < SHARDS; i++) {
    if (pthread_mutex_init(&c->mu[i], NULL) != 0) {
      while (i--)
        (void)pthread_mutex_destroy(&c->mu[i]);
      wd_free(c);
      return -WD_E_NOMEM;
    }
  }
  *out = c;
  return 0;
}

void wd_gov__entcache_free(wd_gov__entcache *c) {
  if (!c) return;
  for (unsigned i = 0; i < WD_LIMIT_GOV_ENTITY_CACHE; i++)
    wd_gov__entref_release(c->slot[i]);
  for (unsigned i = 0; i < SHARDS; i++)
    (void)pthread_mutex_destroy(&c->mu[i]);
  wd_free(c);
}

static wd_gov__entref *take(wd_gov__entcache *c, unsigned i, uint64_t h, const char *text,
                            size_t len) {
  pthread_mutex_t *mu = &c->mu[i % SHARDS];
  (void)pthread_mutex_lock(mu);
  wd_gov__entref *r = c->slot[i];
  if (r && r->hash == h && r->len == len && memcmp(r->text, text, len) == 0)
    atomic_fetch_add(&r->refs, 1);
  else
    r = NULL;
  (void)pthread_mutex_unlock(mu);
  return r;
}

static void keep(wd_gov__entcache *c, unsigned i, wd_gov__entref *r) {
  pthread_mutex_t *mu = &c->mu[i % SHARDS];
  atomic_fetch_add(&r->refs, 1);
  (void)pthread_mutex_lock(mu);
  wd_gov__entref *old = c->slot[i];
  c->slot[i] = r;
  (void)pthread_mutex_unlock(mu);
  wd_gov__entref_release(old);
}

int wd_gov__entcache_get(wd_gov__entcache *c, const char *text, size_t len,
                         const cedar_entities **es, wd_gov__entref **ref, cedar_diags *d) {
  *es = NULL;
  *ref = NULL;
  uint64_t h = wd_hash_bytes(text, len, 0x5bd1e9955bd1e995ull);
  unsigned i = (unsigned)h & (WD_LIMIT_GOV_ENTITY_CACHE - 1);
  wd_gov__entref *r = len <= WD_LIMIT_GOV_ENTITY_CACHED ? take(c, i, h, text, len) : NULL;
  if (r) goto done;
  r = wd_calloc(1, sizeof *r);
  if (!r) return -WD_E_NOMEM;
  atomic_init(&r->refs, 1);
  r->hash = h;
  r->len = len;
  int rc = cedar_entities_from_json(text, len, c->schema, &r->es, d);
  if (rc) {
    wd_free(r);
    return rc;
  }
  if (len <= WD_LIMIT_GOV_ENTITY_CACHED && (r->text = wd_malloc(len ? len : 1)) != NULL) {
    memcpy(r->text, text, len);
    keep(c, i, r);
  }
done:
  *es = r->es;
  *ref = r;
  return 0;
}
