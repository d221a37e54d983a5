/* SPDX-License-Identifier: Apache-2.0
 *
 * Linear-probing hash map with a power-of-two table kept under 50% load.
 */
#include "wd_map.h"

#include <string.h>

#include "warden/err.h"
#include "wd_alloc.h"

typedef struct slot {
  const void *key; /* NULL marks an empty slot */
  size_t klen;
  uint64_t hash;
  void *val;
} slot;

struct wd_map {
  slot *slots;
  size_t mask; /* table size - 1 */
  size_t count;
};

#define MAP_MAX_ENTRIES ((size_t)1 << 30)

uint64_t wd_hash_bytes(const void *p, size_t n, uint64_t seed) {
  const unsigned char *s = p;
  uint64_t h = 0xcbf29ce484222325ull ^ seed;
  for (size_t i = 0; i < n; i++) {
    h ^= s[i];
    h *= 0x100000001b3ull;
  }
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return h;
}

wd_map *wd_map_new(void) {
  wd_map *m = wd_calloc(1, sizeof *m);
  if (!m) return NULL;
  m->slots = wd_calloc(16, sizeof(slot));
  if (!m->slots) {
    wd_free(m);
    return NULL;
  }
  m->mask = 15;
  return m;
}

void wd_map_free(wd_map *m) {
  if (!m) return;
  wd_free(m->slots);
  wd_free(m);
}

static slot *find(const wd_map *m, const void *key, size_t klen, uint64_t h) {
  size_t i = (size_t)h & m->mask;
  for (;;) {
    slot *s = &m->slots[i];
    if (!s->key) return s;
    if (s->hash == h && s->klen == klen && memcmp(s->key, key, klen) == 0) return s;
    i = (i + 1) & m->mask;
  }
}

static int grow(wd_map *m) {
  size_t nsize = (m->mask + 1) * 2;
  slot *ns = wd_calloc(nsize, sizeof(slot));
  if (!ns) return -WD_E_NOMEM;
  slot *old = m->slots;
  size_t osize = m->mask + 1;
  m->slots = ns;
  m->mask = nsize - 1;
  for (size_t i = 0; i < osize; i++) {
    if (!old[i].key) continue;
    *find(m, old[i].key, old[i].klen, old[i].hash) = old[i];
  }
  wd_free(old);
  return 0;
}

static int insert(wd_map *m, const void *key, size_t klen, void *val, int replace) {
  /* A zero-length key still needs a non-NULL pointer to mark the slot used. */
  if (!key) key = "";
  uint64_t h = wd_hash_bytes(key, klen, 0);
  slot *s = find(m, key, klen, h);
  if (s->key) {
    if (!replace) return -WD_E_EXISTS;
    s->val = val;
    return 0;
  }
  if (m->count >= MAP_MAX_ENTRIES) return -WD_E_TOOBIG;
  if ((m->count + 1) * 2 > m->mask + 1) {
    int rc = grow(m);
    if (rc) return rc;
    s = find(m, key, klen, h);
  }
  s->key = key;
  s->klen = klen;
  s->hash = h;
  s->val = val;
  m->count++;
  return 0;
}

int wd_map_put(wd_map *m, const void *key, size_t klen, void *val) {
  return insert(m, key, klen, val, 1);
}

int wd_map_add(wd_map *m, const void *key, size_t klen, void *val) {
  return insert(m, key, klen, val, 0);
}

void *wd_map_get(const wd_map *m, const void *key, size_t klen) {
  if (!m) return NULL;
  if (!key) key = "";
  slot *s = find(m, key, klen, wd_hash_bytes(key, klen, 0));
  return s->key ? s->val : NULL;
}

size_t wd_map_count(const wd_map *m) { return m ? m->count : 0; }

int wd_map_next(const wd_map *m, size_t *it, const void **key, size_t *klen, void **val) {
  while (*it <= m->mask) {
    slot *s = &m->slots[(*it)++];
    if (!s->key) continue;
    if (key) *key = s->key;
    if (klen) *klen = s->klen;
    if (val) *val = s->val;
    return 1;
  }
  return 0;
}
