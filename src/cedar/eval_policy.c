/* SPDX-License-Identifier: Apache-2.0
 *
 * Whole-policy evaluation: scope constraints (which never error), the
 * when/unless clauses in order, and cedar_evaluate for single expressions.
 * The expression semantics themselves live in eval.c.
 */
#include <string.h>

#include "../util/wd_alloc.h"
#include "cedar_int.h"
#include "eval_int.h"

/* The uid a scope constraint names: its literal, or the linked slot value
 * (NULL for an unlinked template, which then matches nothing). */
static const cedar__uid *scope_target(const cedar__policy *p, const cedar__scope *s) {
  switch (s->slot) {
  case CEDAR__SLOT_NONE: return s->uid;
  case CEDAR__SLOT_PRINCIPAL: return p->slot_vals[0];
  case CEDAR__SLOT_RESOURCE: return p->slot_vals[1];
  }
  return NULL;
}

static int scope_ok(const cedar_entities *es, const cedar__policy *p, const cedar__scope *s,
                    const cedar__val *v) {
  if (v->kind != CEDAR__V_ENTITY) return 0;
  const cedar__uid *u = v->u.uid, *t;
  switch (s->kind) {
  case CEDAR__SC_ANY: return 1;
  case CEDAR__SC_EQ: return (t = scope_target(p, s)) != NULL && cedar__uid_eq(u, t) == 1;
  case CEDAR__SC_IN: return (t = scope_target(p, s)) != NULL && cedar__entities_in(es, u, t) == 1;
  case CEDAR__SC_IS: return cedar__str_eq(u->type, s->type) == 1;
  case CEDAR__SC_IS_IN:
    return cedar__str_eq(u->type, s->type) == 1 && (t = scope_target(p, s)) != NULL &&
           cedar__entities_in(es, u, t) == 1;
  case CEDAR__SC_IN_SET:
    for (uint32_t i = 0; i < s->nuids; i++)
      if (cedar__entities_in(es, u, s->uids[i]) == 1) return 1;
    return 0;
  }
  return 0;
}

int cedar__scope_matches(cedar__evalctx *cx, const cedar__policy *p) {
  if (!cx->rq) return 0;
  return scope_ok(cx->es, p, &p->principal, &cx->rq->principal) &&
         scope_ok(cx->es, p, &p->action, &cx->rq->action) &&
         scope_ok(cx->es, p, &p->resource, &cx->rq->resource);
}

int cedar__policy_eval(cedar__evalctx *cx, const cedar__policy *p, int *sat) {
  *sat = 0;
  if (!cedar__scope_matches(cx, p)) return 0;
  const cedar__policy *saved = cx->policy;
  cx->policy = p;
  int rc = 0;
  /* The clauses form one conjunction: the first that fails decides. */
  for (uint32_t i = 0; i < p->nconds; i++) {
    cedar__val v;
    rc = cedar__eval(cx, p->conds[i].e, &v);
    if (rc == 0 && v.kind != CEDAR__V_BOOL) rc = cedar__eval_type_err(cx, "bool", &v);
    if (rc) goto out;
    if ((v.u.b != 0) != (p->conds[i].is_when != 0)) goto out;
  }
  *sat = 1;
out:
  cx->policy = saved;
  return rc;
}

int cedar_evaluate(const char *expr, size_t len, const cedar_entities *es, const cedar_request *rq,
                   char **out, cedar_diags *diags) {
  if (!expr || !out) return -WD_E_INVAL;
  *out = NULL;
  wd_buf b;
  wd_buf_init(&b, WD_LIMIT_BUF_DEFAULT);
  cedar__evalctx cx;
  memset(&cx, 0, sizeof cx);
  cx.es = es;
  cx.rq = rq;
  int rc = -WD_E_NOMEM;
  cx.arena = wd_arena_new(WD_LIMIT_VALUE_BYTES);
  if (!cx.arena) goto done;
  const cedar__expr *e = NULL;
  rc = cedar__parse_expr(cx.arena, expr, len, &e, diags);
  if (rc) goto done;
  cedar__val v;
  rc = cedar__eval(&cx, e, &v);
  if (rc == -WD_E_EVAL) {
    cedar__diag_at(diags, expr, len, rc, e->off, e->len, "%s", cx.err);
    goto done;
  }
  if (rc) goto done;
  rc = cedar__val_print(&b, &v);
  if (rc) goto done;
  *out = wd_buf_take(&b);
  if (!*out) rc = -WD_E_NOMEM;
done:
  wd_buf_free(&b);
  wd_arena_free(cx.arena);
  return rc;
}
