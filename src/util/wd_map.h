/* SPDX-License-Identifier: Apache-2.0
 *
 * An open-addressing hash map from byte-string keys to pointers. The map
 * borrows its keys: they must outlive the map (typically they live in the
 * same arena as the values). It never frees values.
 */
#ifndef WD_MAP_H
#define WD_MAP_H

#include <stddef.h>
#include <stdint.h>

#include "warden/export.h"

typedef struct wd_map wd_map;

/* Returns an owned empty map (free with wd_map_free), or NULL. */
wd_map *wd_map_new(void);
/* Frees the table; NULL is a no-op. Keys and values are not touched. */
void wd_map_free(wd_map *m);
/* Borrows key[0..klen) and stores val; replaces an existing value.
 * Returns 0, -WD_E_NOMEM or -WD_E_TOOBIG. */
int wd_map_put(wd_map *m, const void *key, size_t klen, void *val) WD_WUR;
/* Like wd_map_put but fails with -WD_E_EXISTS if the key is present. */
int wd_map_add(wd_map *m, const void *key, size_t klen, void *val) WD_WUR;
/* Returns the value stored for the key, or NULL. */
void *wd_map_get(const wd_map *m, const void *key, size_t klen);
size_t wd_map_count(const wd_map *m);
/* Iterates: start with *it = 0; returns 0 when done. */
int wd_map_next(const wd_map *m, size_t *it, const void **key, size_t *klen, void **val);

/* 64-bit FNV-1a-like hash with a good mix; exposed for composite keys. */
uint64_t wd_hash_bytes(const void *p, size_t n, uint64_t seed);

#endif
