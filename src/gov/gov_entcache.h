/* SPDX-License-Identifier: Apache-2.0
 *
 * Private to src/gov: parsed entity stores kept for reuse. A task's calls
 * mostly describe the same agent, team, tools and destinations, so the
 * entities text of one call is usually byte for byte that of the last,
 * and parsing it against the schema again is wasted work. Keyed by the
 * whole text, so a hit is the same parse by construction; stores are
 * immutable and shared read-only between threads by reference count.
 */
#ifndef WD_GOV_ENTCACHE_H
#define WD_GOV_ENTCACHE_H

#include <stddef.h>

#include "warden/cedar.h"

typedef struct wd_gov__entcache wd_gov__entcache;
typedef struct wd_gov__entref wd_gov__entref;

/* A cache of stores parsed with schema (borrowed: it must outlive the
 * cache). *out is owned (free with wd_gov__entcache_free). */
int wd_gov__entcache_new(const cedar_schema *schema, wd_gov__entcache **out);
/* Frees the cache; stores still referenced live until released. NULL is
 * a no-op. */
void wd_gov__entcache_free(wd_gov__entcache *c);
/* The store parsed from text[0..len): a kept one, or a new parse that is
 * then kept. On success *ref is an owned reference (release it with
 * wd_gov__entref_release) and *es is borrowed from it. A parse error is
 * returned, with its diagnostics in d, and never kept. */
int wd_gov__entcache_get(wd_gov__entcache *c, const char *text, size_t len,
                         const cedar_entities **es, wd_gov__entref **ref, cedar_diags *d);
/* Drops a reference; NULL is a no-op. */
void wd_gov__entref_release(wd_gov__entref *r);

#endif
