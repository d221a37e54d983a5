/* SPDX-License-Identifier: Apache-2.0
 *
 * The scope index: finds, for one request, the few policies whose scope
 * could match, so a decision does not cost a pass over every policy. Each
 * policy is filed under its most selective scope uid (principal, else
 * resource, else action) or on an "always" list; a request looks up its
 * own uids and all their ancestors. The index only narrows: authz.c still
 * checks every candidate's scope; index_guard.c then rules out policies
 * whose leading `path == literal` test is false.
 */
#include <stdlib.h>
#include <string.h>

#include "../util/wd_alloc.h"
#include "cedar_int.h"

enum { DIM_PRINCIPAL, DIM_ACTION, DIM_RESOURCE, DIM__COUNT };

typedef struct node {
  const cedar__policy *p;
  struct node *next;
} node;

struct cedar__index {
  wd_arena *arena;            /* keys and nodes */
  wd_map *by_uid[DIM__COUNT]; /* encoded uid -> node list */
  node *always;
  cedar__guards guards;
  /* Policies the scope would file under their action or on "always", and
   * which have a guard, may be filed by guard instead, so that those whose
   * literal differs from the request's value are never gathered: by_lit
   * maps (path id, literal) keys (lit_key) to node lists, and by_path
   * lists every such policy by path id, for a path that errors. */
  wd_map *by_lit;
  node **by_path;
};

/* A uid as one byte string: type length, type, id (ids may hold NULs). */
static size_t key_len(const cedar__uid *u) { return 4u + (size_t)u->type.n + u->id.n; }

static void key_fill(unsigned char *k, const cedar__uid *u) {
  uint32_t n = u->type.n;
  memcpy(k, &n, 4);
  if (u->type.n) memcpy(k + 4, u->type.p, u->type.n);
  if (u->id.n) memcpy(k + 4 + u->type.n, u->id.p, u->id.n);
}

static int push(wd_arena *a, node **head, const cedar__policy *p) {
  node *nd = wd_arena_alloc(a, sizeof *nd);
  if (!nd) return -WD_E_NOMEM;
  nd->p = p;
  nd->next = *head;
  *head = nd;
  return 0;
}

static int file_under(cedar__index *ix, int dim, const cedar__uid *u, const cedar__policy *p) {
  size_t n = key_len(u);
  unsigned char *k = wd_arena_alloc(ix->arena, n);
  if (!k) return -WD_E_NOMEM;
  key_fill(k, u);
  node *head = wd_map_get(ix->by_uid[dim], k, n);
  int rc = push(ix->arena, &head, p);
  if (rc == 0) rc = wd_map_put(ix->by_uid[dim], k, n, head);
  return rc;
}

/* The uids a scope pins the variable under (n = 0: it pins nothing). */
static void scope_uids(const cedar__policy *p, const cedar__scope *s, const cedar__uid *const **v,
                       uint32_t *n, const cedar__uid **one) {
  *n = 0;
  *one = NULL;
  switch (s->kind) {
  case CEDAR__SC_EQ:
  case CEDAR__SC_IN:
  case CEDAR__SC_IS_IN:
    *one = s->slot == CEDAR__SLOT_NONE ? s->uid : p->slot_vals[s->slot == CEDAR__SLOT_RESOURCE];
    if (*one) {
      *v = one;
      *n = 1;
    }
    return;
  case CEDAR__SC_IN_SET:
    *v = s->uids;
    *n = s->nuids;
    return;
  case CEDAR__SC_ANY:
  case CEDAR__SC_IS: return;
  }
}

/* The key of a guard path's value: the path id, then the value's key
 * (cedar__guard_key, whose 1 means "equal to no literal"). */
static int lit_key(uint32_t path, const cedar__val *v, wd_buf *k) {
  int rc = wd_buf_add(k, &path, sizeof path);
  return rc ? rc : cedar__guard_key(v, k);
}

/* Files p under its guard's literal; 1 when the literal is too long to be
 * a key (p is then filed by scope). */
static int file_by_guard(cedar__index *ix, const cedar__policy *p, const cedar__guard *gd) {
  wd_buf k;
  wd_buf_init(&k, WD_LIMIT_VALUE_BYTES);
  int rc = lit_key(gd->path, gd->lit, &k);
  if (rc == -WD_E_TOOBIG) rc = 1;
  if (rc == 0) {
    size_t n = wd_buf_len(&k);
    unsigned char *key = wd_arena_alloc(ix->arena, n);
    if (!key) {
      rc = -WD_E_NOMEM;
    } else {
      memcpy(key, wd_buf_str(&k), n);
      node *head = wd_map_get(ix->by_lit, key, n);
      rc = push(ix->arena, &head, p);
      if (rc == 0) rc = wd_map_put(ix->by_lit, key, n, head);
      if (rc == 0) rc = push(ix->arena, &ix->by_path[gd->path - 1], p);
    }
  }
  wd_buf_free(&k);
  return rc;
}

/* While building: how many policies each action key and each guard
 * literal would hold, so that a guarded policy goes under the shorter of
 * its two lists (a rule copied per operation under `action in
 * Action::"tool"` is best found by its literal; a thousand actions that
 * share one literal, by action). */
typedef struct counts {
  wd_arena *keys;
  wd_map *act, *lit;
} counts;

static uintptr_t count_of(const wd_map *m, const void *k, size_t n) {
  return (uintptr_t)wd_map_get(m, k, n);
}

static int count_add(counts *c, wd_map *m, const void *k, size_t n) {
  uintptr_t have = count_of(m, k, n);
  unsigned char *key = wd_arena_alloc(c->keys, n ? n : 1);
  if (!key) return -WD_E_NOMEM;
  if (n) memcpy(key, k, n);
  return wd_map_put(m, key, n, (void *)(have + 1));
}

/* A uid's map key in buf, when it fits: its length, else 0. */
static size_t small_key(const cedar__uid *u, unsigned char buf[512]) {
  size_t n = key_len(u);
  if (n > 512) return 0;
  key_fill(buf, u);
  return n;
}

/* The action uids p would be filed under (n = 0: none, "always"), when
 * its principal and resource pin nothing. */
static void action_uids(const cedar__policy *p, const cedar__uid *const **v, uint32_t *n,
                        const cedar__uid **one) {
  const cedar__uid *const *pv = NULL;
  const cedar__uid *pone = NULL;
  uint32_t pn = 0, rn = 0;
  scope_uids(p, &p->principal, &pv, &pn, &pone);
  scope_uids(p, &p->resource, &pv, &rn, &pone);
  *n = 0;
  if (pn || rn) return;
  scope_uids(p, &p->action, v, n, one);
}

/* The cost of p's action lists, or UINTPTR_MAX for "always". */
static uintptr_t action_cost(const counts *c, const cedar__policy *p) {
  const cedar__uid *const *v = NULL;
  const cedar__uid *one = NULL;
  uint32_t n = 0;
  action_uids(p, &v, &n, &one);
  if (n == 0) return UINTPTR_MAX;
  uintptr_t sum = 0;
  for (uint32_t i = 0; i < n; i++) {
    unsigned char buf[512];
    size_t kn = small_key(v[i], buf);
    if (kn == 0) return UINTPTR_MAX;
    sum += count_of(c->act, buf, kn);
  }
  return sum;
}

static int count_policy(counts *c, const cedar__guards *g, const cedar__policy *p) {
  const cedar__uid *const *v = NULL;
  const cedar__uid *one = NULL;
  uint32_t n = 0;
  int rc = 0;
  action_uids(p, &v, &n, &one);
  for (uint32_t i = 0; rc == 0 && i < n; i++) {
    unsigned char buf[512];
    size_t kn = small_key(v[i], buf);
    if (kn) rc = count_add(c, c->act, buf, kn);
  }
  if (rc || p->pos >= g->npos || !g->by_pos[p->pos].path) return rc;
  const cedar__guard *gd = &g->by_pos[p->pos];
  wd_buf k;
  wd_buf_init(&k, WD_LIMIT_VALUE_BYTES);
  rc = lit_key(gd->path, gd->lit, &k);
  if (rc == 0) rc = count_add(c, c->lit, wd_buf_str(&k), wd_buf_len(&k));
  wd_buf_free(&k);
  return rc == -WD_E_TOOBIG || rc == 1 ? 0 : rc;
}

/* Whether p goes under its guard's literal rather than its action lists. */
static int by_guard(const counts *c, const cedar__guard *gd, const cedar__policy *p) {
  wd_buf k;
  wd_buf_init(&k, WD_LIMIT_VALUE_BYTES);
  uintptr_t gcost =
      lit_key(gd->path, gd->lit, &k) == 0 ? count_of(c->lit, wd_buf_str(&k), wd_buf_len(&k)) : 0;
  wd_buf_free(&k);
  return gcost > 0 && gcost < action_cost(c, p);
}

static int file_policy(cedar__index *ix, const counts *c, const cedar__policy *p) {
  const cedar__scope *sc[DIM__COUNT] = {&p->principal, &p->action, &p->resource};
  static const int order[] = {DIM_PRINCIPAL, DIM_RESOURCE, DIM_ACTION};
  const cedar__guards *g = &ix->guards;
  const cedar__guard *gd = p->pos < g->npos && g->by_pos[p->pos].path ? &g->by_pos[p->pos] : NULL;
  for (size_t o = 0; o < sizeof order / sizeof order[0]; o++) {
    const cedar__uid *const *v = NULL;
    const cedar__uid *one = NULL;
    uint32_t n = 0;
    int dim = order[o];
    scope_uids(p, sc[dim], &v, &n, &one);
    if (n == 0) continue;
    /* A principal or resource uid is the more selective key. */
    if (dim == DIM_ACTION && gd && by_guard(c, gd, p)) {
      int rc = file_by_guard(ix, p, gd);
      if (rc != 1) return rc;
    }
    for (uint32_t i = 0; i < n; i++) {
      int rc = file_under(ix, dim, v[i], p);
      if (rc) return rc;
    }
    return 0;
  }
  int rc = gd ? file_by_guard(ix, p, gd) : 1;
  return rc == 1 ? push(ix->arena, &ix->always, p) : rc;
}

void cedar__index_free(cedar__index *ix) {
  if (!ix) return;
  for (int d = 0; d < DIM__COUNT; d++)
    wd_map_free(ix->by_uid[d]);
  wd_map_free(ix->by_lit);
  wd_free(ix->by_path);
  wd_arena_free(ix->arena);
  wd_free(ix);
}

int cedar__index_build(const cedar_policyset *ps, cedar__index **out) {
  *out = NULL;
  cedar__index *ix = wd_calloc(1, sizeof *ix);
  if (!ix) return -WD_E_NOMEM;
  int rc = -WD_E_NOMEM;
  ix->arena = wd_arena_new(WD_LIMIT_POLICYSET_BYTES);
  if (!ix->arena) goto fail;
  for (int d = 0; d < DIM__COUNT; d++)
    if (!(ix->by_uid[d] = wd_map_new())) goto fail;
  if ((rc = cedar__guards_build(ix->arena, ps->policies, ps->npolicies, &ix->guards))) goto fail;
  if (ix->guards.npaths) {
    rc = -WD_E_NOMEM;
    ix->by_lit = wd_map_new();
    ix->by_path = wd_calloc(ix->guards.npaths, sizeof *ix->by_path);
    if (!ix->by_lit || !ix->by_path) goto fail;
  }
  counts c = {wd_arena_new(WD_LIMIT_POLICYSET_BYTES), wd_map_new(), wd_map_new()};
  rc = c.keys && c.act && c.lit ? 0 : -WD_E_NOMEM;
  for (uint32_t i = 0; rc == 0 && ix->by_path && i < ps->npolicies; i++)
    rc = count_policy(&c, &ix->guards, ps->policies[i]);
  for (uint32_t i = 0; rc == 0 && i < ps->npolicies; i++)
    rc = file_policy(ix, &c, ps->policies[i]);
  wd_map_free(c.act);
  wd_map_free(c.lit);
  wd_arena_free(c.keys);
  if (rc) goto fail;
  *out = ix;
  return 0;
fail:
  cedar__index_free(ix);
  return rc;
}

const cedar__guards *cedar__index_guards(const cedar__index *ix) { return ix ? &ix->guards : NULL; }

/* ---- lookup ---------------------------------------------------------------- */

/* Policies gathered for one request; small requests stay on the stack. */
typedef struct gather {
  const cedar__policy **v;
  size_t n, cap;
  const cedar__policy *small[64];
} gather;

static int gather_list(gather *g, const node *nd) {
  for (; nd; nd = nd->next) {
    if (g->n == g->cap) {
      size_t ncap = g->cap * 2;
      const cedar__policy **nv = wd_malloc(ncap * sizeof *nv);
      if (!nv) return -WD_E_NOMEM;
      memcpy(nv, g->v, g->n * sizeof *nv);
      if (g->v != g->small) wd_free(g->v);
      g->v = nv;
      g->cap = ncap;
    }
    g->v[g->n++] = nd->p;
  }
  return 0;
}

static int lookup(gather *g, const wd_map *m, const cedar__uid *u) {
  unsigned char buf[256];
  size_t n = key_len(u);
  unsigned char *k = n <= sizeof buf ? buf : wd_malloc(n);
  if (!k) return -WD_E_NOMEM;
  key_fill(k, u);
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
  size_t kn = key_len(u);
  unsigned char *k = wd_arena_alloc(w->keys, kn);
  if (!k) return -WD_E_NOMEM;
  key_fill(k, u);
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
    size_t ncap = w->cap * 2;
    const cedar__uid **nq = wd_malloc(ncap * sizeof *nq);
    if (!nq) return -WD_E_NOMEM;
    memcpy(nq, w->q, w->n * sizeof *nq);
    if (w->q != w->small) wd_free(w->q);
    w->q = nq;
    w->cap = ncap;
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
    rc = lit_key(i + 1, v, &k);
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
