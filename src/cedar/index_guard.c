/* SPDX-License-Identifier: Apache-2.0
 *
 * Guards: a policy whose first clause is `when { <path> == <literal> && ... }`
 * (either side of the ==, path = a variable and attribute accesses) cannot
 * be satisfied, and cannot error, once <path> has evaluated without error
 * to something other than <literal>: == never errors and && stops at the
 * first false operand. The path is evaluated once per request, however
 * many policies test it, so a large set of policies keyed on, say,
 * context.call.operation costs one lookup and a comparison each. A path
 * that errors skips nothing: evaluating the policy reports the error.
 */
#include <string.h>

#include "../util/wd_alloc.h"
#include "../util/wd_buf.h"
#include "cedar_int.h"

#define PATH_DEPTH 8 /* attribute accesses followed; deeper paths are not guards */

enum { MEMO_UNKNOWN, MEMO_VALUE, MEMO_ERROR };

typedef struct memo_slot {
  int state;
  cedar__val v;
} memo_slot;

struct cedar__guardmemo {
  memo_slot *slot; /* by path id, in the request's arena */
};

/* Writes e's path key ("var\0attr\0attr...") when e is a path. */
static int path_key(const cedar__expr *e, wd_buf *k, int depth) {
  if (depth > PATH_DEPTH) return 0;
  if (e->kind == CEDAR__X_VAR) return wd_buf_addf(k, "%d", (int)e->u.var) == 0;
  if (e->kind != CEDAR__X_GETATTR || !path_key(e->u.attr.e, k, depth + 1)) return 0;
  return wd_buf_add(k, "", 1) == 0 && wd_buf_add(k, e->u.attr.attr.p, e->u.attr.attr.n) == 0;
}

static int is_literal(const cedar__expr *e) {
  if (e->kind != CEDAR__X_LIT) return 0;
  cedar__vkind k = e->u.lit.kind;
  return k == CEDAR__V_BOOL || k == CEDAR__V_LONG || k == CEDAR__V_STRING || k == CEDAR__V_ENTITY;
}

/* The leftmost conjunct of p's first clause, when that clause is `when`. */
static const cedar__expr *leading_conjunct(const cedar__policy *p) {
  if (p->nconds == 0 || !p->conds[0].is_when) return NULL;
  const cedar__expr *e = p->conds[0].e;
  while (e->kind == CEDAR__X_AND)
    e = e->u.op.a;
  return e;
}

int cedar__guards_build(wd_arena *a, cedar__policy *const *policies, uint32_t n,
                        cedar__guards *out) {
  memset(out, 0, sizeof *out);
  uint32_t top = 0;
  for (uint32_t i = 0; i < n; i++)
    top = policies[i]->pos + 1 > top ? policies[i]->pos + 1 : top;
  if (top == 0) return 0;
  out->by_pos = wd_arena_alloc(a, (size_t)top * sizeof *out->by_pos);
  wd_map *ids = wd_map_new();
  const cedar__expr **paths = wd_calloc(n ? n : 1, sizeof *paths);
  int rc = -WD_E_NOMEM;
  if (!out->by_pos || !ids || !paths) goto done;
  memset(out->by_pos, 0, (size_t)top * sizeof *out->by_pos);
  out->npos = top;
  rc = 0;
  for (uint32_t i = 0; i < n && rc == 0; i++) {
    const cedar__expr *e = leading_conjunct(policies[i]);
    if (!e || e->kind != CEDAR__X_EQ) continue;
    const cedar__expr *path = e->u.op.a, *lit = e->u.op.b;
    if (is_literal(path)) {
      path = e->u.op.b;
      lit = e->u.op.a;
    }
    wd_buf k;
    wd_buf_init(&k, WD_LIMIT_VALUE_BYTES);
    if (!is_literal(lit) || !path_key(path, &k, 0)) {
      wd_buf_free(&k);
      continue;
    }
    void *have = wd_map_get(ids, wd_buf_str(&k), wd_buf_len(&k));
    uintptr_t id = (uintptr_t)have;
    if (!have) {
      size_t kn = wd_buf_len(&k);
      char *key = wd_arena_alloc(a, kn);
      if (!key) {
        rc = -WD_E_NOMEM;
      } else {
        memcpy(key, wd_buf_str(&k), kn);
        paths[out->npaths] = path;
        id = ++out->npaths;
        rc = wd_map_put(ids, key, kn, (void *)id);
      }
    }
    wd_buf_free(&k);
    out->by_pos[policies[i]->pos].path = (uint32_t)id;
    out->by_pos[policies[i]->pos].lit = &lit->u.lit;
  }
  if (rc == 0 && out->npaths) {
    out->paths = wd_arena_alloc(a, out->npaths * sizeof *out->paths);
    if (!out->paths)
      rc = -WD_E_NOMEM;
    else
      memcpy(out->paths, paths, out->npaths * sizeof *out->paths);
  }
done:
  wd_map_free(ids);
  wd_free(paths);
  return rc;
}

int cedar__guard_value(const cedar__guards *g, cedar__evalctx *cx, cedar__guardmemo **memo,
                       uint32_t path, const cedar__val **v) {
  if (!*memo) {
    cedar__guardmemo *m = wd_arena_alloc(cx->arena, sizeof *m);
    memo_slot *s = m ? wd_arena_alloc(cx->arena, g->npaths * sizeof *s) : NULL;
    if (!s) return -WD_E_NOMEM;
    memset(s, 0, g->npaths * sizeof *s);
    m->slot = s;
    *memo = m;
  }
  memo_slot *s = &(*memo)->slot[path - 1];
  if (s->state == MEMO_UNKNOWN) {
    cx->depth = 0;
    int rc = cedar__eval(cx, g->paths[path - 1], &s->v);
    if (rc && rc != -WD_E_EVAL) return rc;
    s->state = rc ? MEMO_ERROR : MEMO_VALUE;
    cx->err[0] = '\0';
  }
  *v = &s->v;
  return s->state == MEMO_VALUE;
}

int cedar__guard_false(const cedar__guards *g, cedar__evalctx *cx, cedar__guardmemo **memo,
                       const cedar__policy *p) {
  if (!g || p->pos >= g->npos || g->by_pos[p->pos].path == 0) return 0;
  const cedar__guard *gd = &g->by_pos[p->pos];
  const cedar__val *v = NULL;
  int rc = cedar__guard_value(g, cx, memo, gd->path, &v);
  return rc <= 0 ? rc : cedar__val_eq(v, gd->lit) != 1;
}

int cedar__guard_key(const cedar__val *v, wd_buf *out) {
  char kind = (char)('0' + (int)v->kind);
  int rc = wd_buf_add(out, &kind, 1);
  switch (v->kind) {
  case CEDAR__V_BOOL: {
    char b = v->u.b ? 1 : 0;
    return rc ? rc : wd_buf_add(out, &b, 1);
  }
  case CEDAR__V_LONG: return rc ? rc : wd_buf_add(out, &v->u.i, sizeof v->u.i);
  case CEDAR__V_STRING: return rc ? rc : v->u.s.n ? wd_buf_add(out, v->u.s.p, v->u.s.n) : 0;
  case CEDAR__V_ENTITY: {
    const cedar__uid *u = v->u.uid;
    uint32_t tn = u->type.n;
    if (!rc) rc = wd_buf_add(out, &tn, sizeof tn);
    if (!rc && tn) rc = wd_buf_add(out, u->type.p, tn);
    return rc ? rc : u->id.n ? wd_buf_add(out, u->id.p, u->id.n) : 0;
  }
  case CEDAR__V_SET:
  case CEDAR__V_RECORD:
  case CEDAR__V_DECIMAL:
  case CEDAR__V_IPADDR:
  case CEDAR__V_DATETIME:
  case CEDAR__V_DURATION: break;
  }
  return rc ? rc : 1; /* no literal has this kind: equal to none */
}
