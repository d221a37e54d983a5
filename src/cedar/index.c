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
#include "index_int.h"

size_t cedar__index_key_len(const cedar__uid *u) { return 4u + (size_t)u->type.n + u->id.n; }

void cedar__index_key_fill(unsigned char *k, const cedar__uid *u) {
  uint32_t n = u->type.n;
  memcpy(k, &n, 4);
  if (u->type.n) memcpy(k + 4, u->type.p, u->type.n);
  if (u->id.n) memcpy(k + 4 + u->type.n, u->id.p, u->id.n);
}

int cedar__index_lit_key(uint32_t path, const cedar__val *v, wd_buf *k) {
  int rc = wd_buf_add(k, &path, sizeof path);
  return rc ? rc : cedar__guard_key(v, k);
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
  size_t n = cedar__index_key_len(u);
  unsigned char *k = wd_arena_alloc(ix->arena, n);
  if (!k) return -WD_E_NOMEM;
  cedar__index_key_fill(k, u);
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

/* Files p under its guard's literal; 1 when the literal is too long to be
 * a key (p is then filed by scope). */
static int file_by_guard(cedar__index *ix, const cedar__policy *p, const cedar__guard *gd) {
  wd_buf k;
  wd_buf_init(&k, WD_LIMIT_VALUE_BYTES);
  int rc = cedar__index_lit_key(gd->path, gd->lit, &k);
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
  size_t n = cedar__index_key_len(u);
  if (n > 512) return 0;
  cedar__index_key_fill(buf, u);
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
  rc = cedar__index_lit_key(gd->path, gd->lit, &k);
  if (rc == 0) rc = count_add(c, c->lit, wd_buf_str(&k), wd_buf_len(&k));
  wd_buf_free(&k);
  return rc == -WD_E_TOOBIG || rc == 1 ? 0 : rc;
}

/* Whether p goes under its guard's literal rather than its action lists. */
static int by_guard(const counts *c, const cedar__guard *gd, const cedar__policy *p) {
  wd_buf k;
  wd_buf_init(&k, WD_LIMIT_VALUE_BYTES);
  uintptr_t gcost = cedar__index_lit_key(gd->path, gd->lit, &k) == 0
                        ? count_of(c->lit, wd_buf_str(&k), wd_buf_len(&k))
                        : 0;
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
