/* SPDX-License-Identifier: Apache-2.0
 *
 * The scope index's lookup: the candidate policies of one request, from
 * its principal, action and resource and all their ancestors, plus the
 * "always" list and the guarded lists whose literal the request's value
 * matches (index.c builds what this reads).
 */
#include <stdlib.h>
#include <string.h>

#include "../util/wd_alloc.h"
#include "index_int.h"

/* ---- lookup ---------------------------------------------------------------- */

/* Policies gathered for one request; small requests stay on the stack. */
typedef struct gather {
  const cedar__policy **v;
  size_t n, cap;
  const cedar__policy *small[64];
} gather;

/* Moves a full vector of n elements to one twice its *cap, freeing the
 * old one unless it is the caller's stack array small. NULL when out of
 * memory (the old vector is then kept). */
static void *grow(void *v, size_t n, size_t *cap, size_t elem, const void *small) {
  void *nv = wd_malloc(*cap * 2 * elem);
  if (!nv) return NULL;
  memcpy(nv, v, n * elem);
  if (v != small) wd_free(v);
  *cap *= 2;
  return nv;
}

static int gather_list(gather *g, const node *nd) {
  for (; nd; nd = nd->next) {
    if (g->n == g->cap) {
      const cedar__policy **nv = grow(g->v, g->n, &g->cap, sizeof *g->v, g->small);
      if (!nv) return -WD_E_NOMEM;
      g->v = nv;
    }
    g->v[g->n++] = nd->p;
  }
  return 0;
}

static int lookup(gather *g, const wd_map *m, const cedar__uid *u) {
  unsigned char buf[256];
  size_t n = cedar__index_key_len(u);
  unsigned char *k = n <= sizeof buf ? buf : wd_malloc(n);
  if (!k) return -WD_E_NOMEM;
  cedar__index_key_fill(k, u);
  const node *nd = wd_map_get(m, k, n);
  if (k != buf) wd_free(k);
  return gather_list(g, nd);
}

/* The ancestors of one uid found so far, breadth first. Everything ever
 * queued counts as seen: a linear check while few, a hash map beyond. */
typedef struct walk {
  const cedar__uid **q;
  size_t n, cap;
  wd_arena *keys; /* the map borrows its keys: they live here */
  wd_map *seen;
  const cedar__uid *small[32];
} walk;

static int walk_seen(walk *w, const cedar__uid *u, int *seen) {
  if (!w->seen) {
    *seen = 0;
    for (size_t i = 0; i < w->n && !*seen; i++)
      *seen = cedar__uid_eq(w->q[i], u) == 1;
    return 0;
  }
  size_t kn = cedar__index_key_len(u);
  unsigned char *k = wd_arena_alloc(w->keys, kn);
  if (!k) return -WD_E_NOMEM;
  cedar__index_key_fill(k, u);
  int rc = wd_map_add(w->seen, k, kn, (void *)k);
  *seen = rc == -WD_E_EXISTS;
  return rc == -WD_E_EXISTS ? 0 : rc;
}

static int walk_push(walk *w, const cedar__uid *u) {
  int seen = 0, rc;
  if (w->n == sizeof w->small / sizeof w->small[0] && !w->seen) {
    /* Past a handful of ancestors a linear check would be quadratic. */
    w->keys = wd_arena_new(WD_LIMIT_VALUE_BYTES);
    w->seen = wd_map_new();
    if (!w->keys || !w->seen) return -WD_E_NOMEM;
    for (size_t i = 0; i < w->n; i++)
      if ((rc = walk_seen(w, w->q[i], &seen))) return rc;
  }
  if ((rc = walk_seen(w, u, &seen)) || seen) return rc;
  if (w->n == w->cap) {
    const cedar__uid **nq = grow(w->q, w->n, &w->cap, sizeof *w->q, w->small);
    if (!nq) return -WD_E_NOMEM;
    w->q = nq;
  }
  w->q[w->n++] = u;
  return 0;
}

/* Looks up u and every ancestor of u (the transitive closure of the
 * direct parents, which is what `in` consults). */
static int lookup_with_ancestors(gather *g, const wd_map *m, const cedar_entities *es,
                                 const cedar__uid *u) {
  int rc = lookup(g, m, u);
  const cedar__entity *ent = es ? cedar__entities_find(es, u) : NULL;
  if (rc || !ent || ent->nparents == 0) return rc;
  walk w;
  memset(&w, 0, sizeof w);
  w.q = w.small;
  w.cap = sizeof w.small / sizeof w.small[0];
  if ((rc = walk_push(&w, u))) goto out;
  for (size_t head = 0; rc == 0 && head < w.n; head++) {
    const cedar__uid *a = w.q[head];
    if (head > 0) rc = lookup(g, m, a);
    const cedar__entity *pe = head == 0 ? ent : cedar__entities_find(es, a);
    for (uint32_t i = 0; pe && rc == 0 && i < pe->nparents; i++)
      rc = walk_push(&w, pe->parents[i]);
  }
out:
  wd_map_free(w.seen);
  wd_arena_free(w.keys);
  if (w.q != w.small) wd_free(w.q);
  return rc;
}

#define SORT_MAX 64 /* candidates sorted; above, placed by position */

static int by_pos(const void *a, const void *b) {
  uint32_t x = (*(const cedar__policy *const *)a)->pos;
  uint32_t y = (*(const cedar__policy *const *)b)->pos;
  return x < y ? -1 : x > y;
}

/* The policies filed by guard that the request's path values leave in. */
static int gather_guarded(gather *g, const cedar__index *ix, cedar__evalctx *cx,
                          cedar__guardmemo **memo) {
  int rc = 0;
  for (uint32_t i = 0; rc == 0 && i < ix->guards.npaths; i++) {
    if (!ix->by_path[i]) continue;
    const cedar__val *v = NULL;
    /* Without an evaluation context, nothing is ruled out. */
    rc = cx && memo ? cedar__guard_value(&ix->guards, cx, memo, i + 1, &v) : 0;
    if (rc < 0) break;
    if (rc == 0) { /* the path errors: every such policy errs, and says so */
      rc = gather_list(g, ix->by_path[i]);
      continue;
    }
    wd_buf k;
    wd_buf_init(&k, WD_LIMIT_VALUE_BYTES);
    rc = cedar__index_lit_key(i + 1, v, &k);
    if (rc == 0) rc = gather_list(g, wd_map_get(ix->by_lit, wd_buf_str(&k), wd_buf_len(&k)));
    if (rc == 1 || rc == -WD_E_TOOBIG) rc = 0; /* equal to no literal */
    wd_buf_free(&k);
  }
  return rc;
}

int cedar__index_candidates(const cedar__index *ix, const cedar_entities *es,
                            const cedar_request *rq, cedar__evalctx *cx, cedar__guardmemo **memo,
                            int (*fn)(void *arg, const cedar__policy *p), void *arg) {
  if (!ix || !rq || !fn) return -WD_E_INVAL;
  gather g;
  g.v = g.small;
  g.n = 0;
  g.cap = sizeof g.small / sizeof g.small[0];
  const cedar__val *var[DIM__COUNT] = {&rq->principal, &rq->action, &rq->resource};
  int rc = gather_list(&g, ix->always);
  for (int d = 0; rc == 0 && d < DIM__COUNT; d++)
    if (wd_map_count(ix->by_uid[d]) && var[d]->kind == CEDAR__V_ENTITY)
      rc = lookup_with_ancestors(&g, ix->by_uid[d], es, var[d]->u.uid);
  if (rc == 0 && ix->by_path) rc = gather_guarded(&g, ix, cx, memo);
  if (rc == 0 && g.n > SORT_MAX) {
    /* Many candidates: placing them by position is linear where a sort
     * is not (the per-call cost of a big policy set). */
    uint32_t top = 0;
    for (size_t i = 0; i < g.n; i++)
      top = g.v[i]->pos > top ? g.v[i]->pos : top;
    const cedar__policy **at = wd_calloc((size_t)top + 1, sizeof *at);
    if (!at) {
      rc = -WD_E_NOMEM;
    } else {
      for (size_t i = 0; i < g.n; i++)
        at[g.v[i]->pos] = g.v[i];
      for (size_t i = 0; rc == 0 && i <= top; i++)
        if (at[i]) rc = fn(arg, at[i]);
      wd_free(at);
    }
  } else if (rc == 0) {
    /* Callers want policy order; an action `in [..]` list can file a
     * policy under several ancestors, hence the dedupe. */
    qsort(g.v, g.n, sizeof *g.v, by_pos);
    for (size_t i = 0; rc == 0 && i < g.n; i++)
      if (i == 0 || g.v[i] != g.v[i - 1]) rc = fn(arg, g.v[i]);
  }
  if (g.v != g.small) wd_free(g.v);
  return rc;
}
