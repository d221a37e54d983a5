/* SPDX-License-Identifier: Apache-2.0
 *
 * The strict-mode validator's driver: for every static policy and template
 * it checks the entity types, actions and enum ids written in the policy
 * against the schema, enumerates the request environments the scope
 * allows, and types the conditions in each (validate_expr.c). Findings are
 * diagnostics carrying the policy id and the span of the offending
 * expression. It does not parse schemas or policies.
 */
#include <stdio.h>
#include <string.h>

#include "cedar_validate.h"
#include "../util/wd_alloc.h"

#define NO_APPLICABLE "unable to find an applicable action given the policy scope constraints"
#define IMPOSSIBLE                                                                                 \
  "policy is impossible: the policy expression evaluates to false for all "                        \
  "valid requests"

/* Findings of one policy, deduplicated across environments. */
typedef struct pstate {
  const cedar__policy *p;
  cedar_diags *diags;
  uint32_t nerr;
  uint32_t nkept;
  struct {
    uint32_t off;
    char msg[CEDAR_DIAG_MSG];
  } kept[WD_LIMIT_VALIDATE_FINDINGS];
} pstate;

static int report(pstate *ps, cedar_severity sev, uint32_t off, uint32_t len, const char *msg) {
  if (sev == CEDAR_SEV_ERROR) ps->nerr++;
  for (uint32_t i = 0; i < ps->nkept; i++)
    if (ps->kept[i].off == off && strcmp(ps->kept[i].msg, msg) == 0) return 0;
  if (ps->nkept == WD_LIMIT_VALIDATE_FINDINGS) return 0;
  ps->kept[ps->nkept].off = off;
  snprintf(ps->kept[ps->nkept].msg, CEDAR_DIAG_MSG, "%s", msg);
  ps->nkept++;
  cedar_diag g;
  memset(&g, 0, sizeof g);
  g.code = -WD_E_VALIDATE;
  g.sev = sev;
  g.off = off;
  g.len = len;
  if (ps->p->src && !cedar__diags_full(ps->diags))
    cedar__locate(ps->p->src, ps->p->srclen, off, &g.line, &g.col);
  snprintf(g.msg, sizeof g.msg, "%s", msg);
  snprintf(g.policy_id, sizeof g.policy_id, "%.*s", (int)ps->p->id.n, ps->p->id.p);
  /* The list drops what it cannot hold; the count above still fails. */
  (void)cedar__diag_push(ps->diags, &g);
  return 0;
}

/* ---- entity types, actions and enum ids written in the policy ---------- */

static int check_type(const cedar_schema *s, pstate *ps, cedar__str type, uint32_t off,
                      uint32_t len) {
  if (cedar__schema_entity(s, type) || cedar__vt_is_action_type(s, type)) return 0;
  char msg[CEDAR_DIAG_MSG];
  snprintf(msg, sizeof msg, "unrecognized entity type `%.*s`", (int)type.n, type.p);
  return report(ps, CEDAR_SEV_ERROR, off, len, msg);
}

static int check_uid(const cedar_schema *s, pstate *ps, const cedar__uid *uid, uint32_t off,
                     uint32_t len) {
  const cedar__sentity *se = cedar__schema_entity(s, uid->type);
  char msg[CEDAR_DIAG_MSG];
  if (se) {
    if (!se->is_enum) return 0;
    for (uint32_t i = 0; i < se->nenum; i++)
      if (cedar__str_eq(se->enum_ids[i], uid->id)) return 0;
    snprintf(msg, sizeof msg,
             "entity `%.*s::\"%.*s\"` is of an enumerated entity type, but `\"%.*s\"` is not "
             "declared as a valid eid",
             (int)uid->type.n, uid->type.p, (int)uid->id.n, uid->id.p, (int)uid->id.n, uid->id.p);
    return report(ps, CEDAR_SEV_ERROR, off, len, msg);
  }
  if (!cedar__vt_is_action_type(s, uid->type)) return check_type(s, ps, uid->type, off, len);
  if (cedar__schema_action(s, uid)) return 0;
  snprintf(msg, sizeof msg, "unrecognized action `%.*s::\"%.*s\"`", (int)uid->type.n, uid->type.p,
           (int)uid->id.n, uid->id.p);
  return report(ps, CEDAR_SEV_ERROR, off, len, msg);
}

static int check_expr(const cedar_schema *s, pstate *ps, const cedar__expr *e, uint32_t depth) {
  int rc = 0;
  /* Left-deep chains (a && b && c ...) are followed in a loop. */
  while (e && rc == 0) {
    if (depth > WD_LIMIT_EVAL_DEPTH) return 0;
    switch (e->kind) {
    case CEDAR__X_LIT:
      if (e->u.lit.kind == CEDAR__V_ENTITY) rc = check_uid(s, ps, e->u.lit.u.uid, e->off, e->len);
      return rc;
    case CEDAR__X_VAR: return 0;
    case CEDAR__X_IF:
      rc = check_expr(s, ps, e->u.op.c, depth + 1);
      if (rc == 0) rc = check_expr(s, ps, e->u.op.b, depth + 1);
      e = e->u.op.a;
      break;
    case CEDAR__X_AND:
    case CEDAR__X_OR:
    case CEDAR__X_EQ:
    case CEDAR__X_NE:
    case CEDAR__X_LT:
    case CEDAR__X_LE:
    case CEDAR__X_GT:
    case CEDAR__X_GE:
    case CEDAR__X_IN:
    case CEDAR__X_ADD:
    case CEDAR__X_SUB:
    case CEDAR__X_MUL:
      rc = check_expr(s, ps, e->u.op.b, depth + 1);
      e = e->u.op.a;
      break;
    case CEDAR__X_NOT:
    case CEDAR__X_NEG: e = e->u.op.a; break;
    case CEDAR__X_HAS:
    case CEDAR__X_GETATTR: e = e->u.attr.e; break;
    case CEDAR__X_LIKE: e = e->u.like.e; break;
    case CEDAR__X_IS:
      rc = check_type(s, ps, e->u.is.type, e->off, e->len);
      if (rc == 0 && e->u.is.in) rc = check_expr(s, ps, e->u.is.in, depth + 1);
      e = e->u.is.e;
      break;
    case CEDAR__X_SET:
      for (uint32_t i = 0; i < e->u.list.n && rc == 0; i++)
        rc = check_expr(s, ps, e->u.list.items[i], depth + 1);
      return rc;
    case CEDAR__X_RECORD:
      for (uint32_t i = 0; i < e->u.rec.n && rc == 0; i++)
        rc = check_expr(s, ps, e->u.rec.vals[i], depth + 1);
      return rc;
    case CEDAR__X_CALL:
      for (uint32_t i = 0; i < e->u.call.n && rc == 0; i++)
        rc = check_expr(s, ps, e->u.call.args[i], depth + 1);
      return rc;
    }
    depth++;
  }
  return rc;
}

static int check_scope(const cedar_schema *s, pstate *ps, const cedar__scope *sc) {
  int rc = 0;
  if ((sc->kind == CEDAR__SC_IS || sc->kind == CEDAR__SC_IS_IN))
    rc = check_type(s, ps, sc->type, sc->off, sc->len);
  if (rc == 0 && sc->uid && sc->slot == CEDAR__SLOT_NONE &&
      (sc->kind == CEDAR__SC_EQ || sc->kind == CEDAR__SC_IN || sc->kind == CEDAR__SC_IS_IN))
    rc = check_uid(s, ps, sc->uid, sc->off, sc->len);
  if (sc->kind == CEDAR__SC_IN_SET)
    for (uint32_t i = 0; i < sc->nuids && rc == 0; i++)
      rc = check_uid(s, ps, sc->uids[i], sc->off, sc->len);
  return rc;
}

/* ---- request environments ---------------------------------------------- */

/* Whether an entity type may satisfy a principal or resource scope; this
 * is exactly when Cedar types the scope constraint as other than false. */
static int scope_allows_type(const cedar_schema *s, const cedar__scope *sc, cedar__str t) {
  int slot = sc->slot != CEDAR__SLOT_NONE || !sc->uid;
  switch (sc->kind) {
  case CEDAR__SC_ANY: return 1;
  case CEDAR__SC_EQ: return slot || cedar__str_eq(sc->uid->type, t);
  case CEDAR__SC_IN: return slot || cedar__vt_entity_desc(s, t, sc->uid->type);
  case CEDAR__SC_IS: return cedar__str_eq(sc->type, t);
  case CEDAR__SC_IS_IN:
    return cedar__str_eq(sc->type, t) && (slot || cedar__vt_entity_desc(s, t, sc->uid->type));
  case CEDAR__SC_IN_SET: return 0;
  }
  return 0;
}

static int scope_allows_action(const cedar_schema *s, const cedar__scope *sc, const cedar__uid *a) {
  switch (sc->kind) {
  case CEDAR__SC_ANY: return 1;
  case CEDAR__SC_EQ: return sc->uid && cedar__uid_eq(sc->uid, a);
  case CEDAR__SC_IN: return sc->uid && cedar__vt_action_desc(s, a, sc->uid);
  case CEDAR__SC_IN_SET:
    for (uint32_t i = 0; i < sc->nuids; i++)
      if (cedar__vt_action_desc(s, a, sc->uids[i])) return 1;
    return 0;
  case CEDAR__SC_IS:
  case CEDAR__SC_IS_IN: return 0;
  }
  return 0;
}

/* Types the conditions in one environment. *relevant is cleared when they
 * are false for every request of the environment. */
static int check_env(cedar__vctx *cx, pstate *ps, int *relevant) {
  const cedar__policy *p = ps->p;
  cedar__vcaps caps = {NULL, 0};
  cx->failed = 0;
  cx->depth = 0;
  int rc = 0;
  *relevant = 1;
  for (uint32_t i = 0; i < p->nconds; i++) {
    const cedar__vtype *t;
    cedar__vcaps c1;
    rc = cedar__vexpr(cx, p->conds[i].e, caps, &t, &c1);
    if (rc == 0 && t->kind != CEDAR__T_BOOL) {
      wd_buf b;
      wd_buf_init(&b, 95);
      cedar__vt_print(&b, t);
      const char *s = wd_buf_str(&b);
      rc = cedar__vfail(cx, p->conds[i].e, "unexpected type: expected Bool but saw %.*s",
                        (int)(s ? wd_buf_len(&b) : 0), s ? s : "");
      wd_buf_free(&b);
    }
    if (rc) break;
    cedar__vbool bv = p->conds[i].is_when    ? t->b
                      : t->b == CEDAR__VB_TT ? CEDAR__VB_FF
                      : t->b == CEDAR__VB_FF ? CEDAR__VB_TT
                                             : CEDAR__VB_ANY;
    if (bv == CEDAR__VB_FF) {
      *relevant = 0;
      break;
    }
    if (p->conds[i].is_when && (rc = cedar__vcaps_union(cx->scratch, caps, c1, &caps))) break;
  }
  wd_arena_clear(cx->scratch);
  if (rc == -WD_E_VALIDATE) {
    *relevant = 1; /* Cedar calls a policy impossible only when it types cleanly */
    return report(ps, CEDAR_SEV_ERROR, cx->err_off, cx->err_len, cx->err);
  }
  return rc;
}

/* Cedar types `action in [..]` as a set literal, so its uids must share
 * a type and the set must not be empty. The scope is typed in every
 * environment whose principal passes the principal scope, whatever the
 * action. */
static int check_action_set(const cedar_schema *s, pstate *ps) {
  const cedar__policy *p = ps->p;
  const cedar__scope *sc = &p->action;
  int reached = 0;
  for (uint32_t ai = 0; ai < s->nactions && !reached; ai++)
    for (uint32_t pi = 0; pi < s->actions[ai].nprincipals && !reached; pi++)
      reached = scope_allows_type(s, &p->principal, s->actions[ai].principals[pi]) &&
                s->actions[ai].nresources > 0;
  if (!reached) return 0;
  if (sc->nuids == 0)
    return report(ps, CEDAR_SEV_ERROR, sc->off, sc->len,
                  "empty set literals are forbidden in policies");
  for (uint32_t i = 1; i < sc->nuids; i++) {
    cedar__str a = sc->uids[0]->type, b = sc->uids[i]->type;
    if (cedar__str_eq(a, b)) continue;
    if (cedar__str_cmp(b, a) < 0) {
      cedar__str t = a;
      a = b;
      b = t;
    }
    char msg[CEDAR_DIAG_MSG];
    snprintf(msg, sizeof msg, "the types %.*s and %.*s are not compatible", (int)a.n, a.p, (int)b.n,
             b.p);
    return report(ps, CEDAR_SEV_ERROR, sc->off, sc->len, msg);
  }
  return 0;
}

static int check_policy(cedar__vctx *cx, pstate *ps) {
  const cedar_schema *s = cx->s;
  const cedar__policy *p = ps->p;
  int rc = check_scope(s, ps, &p->principal);
  if (rc == 0) rc = check_scope(s, ps, &p->action);
  if (rc == 0) rc = check_scope(s, ps, &p->resource);
  for (uint32_t i = 0; i < p->nconds && rc == 0; i++)
    rc = check_expr(s, ps, p->conds[i].e, 0);
  if (rc) return rc;
  /* Like Cedar, type only policies whose names all resolve: an unknown
   * entity type would only repeat itself as type errors. */
  int typecheck = ps->nerr == 0;

  if (typecheck && p->action.kind == CEDAR__SC_IN_SET && (rc = check_action_set(s, ps))) return rc;

  uint32_t nenv = 0, nrelevant = 0;
  for (uint32_t ai = 0; ai < s->nactions; ai++) {
    const cedar__saction *a = &s->actions[ai];
    if (!scope_allows_action(s, &p->action, a->uid)) continue;
    for (uint32_t pi = 0; pi < a->nprincipals; pi++) {
      if (!scope_allows_type(s, &p->principal, a->principals[pi])) continue;
      for (uint32_t ri = 0; ri < a->nresources; ri++) {
        if (!scope_allows_type(s, &p->resource, a->resources[ri])) continue;
        cedar__venv env = {a->principals[pi], a->resources[ri], a, cx->ctxs[ai]};
        int relevant = 1;
        nenv++;
        if (!typecheck) continue;
        cx->env = &env;
        rc = check_env(cx, ps, &relevant);
        cx->env = NULL;
        if (rc) return rc;
        nrelevant += (uint32_t)relevant;
      }
    }
  }
  if (nenv == 0) rc = report(ps, CEDAR_SEV_ERROR, p->off, p->len, NO_APPLICABLE);
  if (rc == 0 && typecheck && nrelevant == 0)
    rc = report(ps, CEDAR_SEV_WARNING, p->off, p->len, IMPOSSIBLE);
  return rc;
}

static int prepare(cedar__vctx *cx) {
  const cedar_schema *s = cx->s;
  cx->types = wd_arena_new(WD_LIMIT_POLICYSET_BYTES);
  cx->scratch = wd_arena_new(WD_LIMIT_VALUE_BYTES);
  cx->shapes = wd_calloc(s->nentities + 1u, sizeof *cx->shapes);
  cx->tags = wd_calloc(s->nentities + 1u, sizeof *cx->tags);
  cx->ctxs = wd_calloc(s->nactions + 1u, sizeof *cx->ctxs);
  if (!cx->types || !cx->scratch || !cx->shapes || !cx->tags || !cx->ctxs) return -WD_E_NOMEM;
  for (uint32_t i = 0; i < s->nentities; i++) {
    cx->shapes[i] = cedar__vt_from_schema(cx->types, s->entities[i].shape);
    if (!cx->shapes[i]) return -WD_E_NOMEM;
    if (s->entities[i].tags &&
        !(cx->tags[i] = cedar__vt_from_schema(cx->types, s->entities[i].tags)))
      return -WD_E_NOMEM;
  }
  for (uint32_t i = 0; i < s->nactions; i++)
    if (!(cx->ctxs[i] = cedar__vt_from_schema(cx->types, s->actions[i].context)))
      return -WD_E_NOMEM;
  return 0;
}

static int validate_one(cedar__vctx *cx, const cedar__policy *p, cedar_diags *diags,
                        uint32_t *nerr) {
  pstate *ps = wd_malloc(sizeof *ps);
  if (!ps) return -WD_E_NOMEM;
  ps->p = p;
  ps->diags = diags;
  ps->nerr = 0;
  ps->nkept = 0;
  int rc = 0;
  if (p->template_id.n) {
    /* A link is checked through its template; only the values bound to
     * its slots are new, and Cedar checks just their entity types. */
    for (int k = 0; k < 2 && rc == 0; k++)
      if (p->slot_vals[k]) rc = check_type(cx->s, ps, p->slot_vals[k]->type, p->off, p->len);
  } else {
    rc = check_policy(cx, ps);
  }
  *nerr += ps->nerr;
  wd_free(ps);
  return rc;
}

int cedar_validate(const cedar_schema *s, const cedar_policyset *ps, cedar_diags *diags) {
  if (!s || !ps) return -WD_E_INVAL;
  cedar__vctx cx;
  memset(&cx, 0, sizeof cx);
  cx.s = s;
  uint32_t nerr = 0;
  int rc = prepare(&cx);
  /* Static policies, templates and links, in the order they were added. */
  uint32_t i = 0, j = 0;
  while (rc == 0 && (i < ps->npolicies || j < ps->ntemplates)) {
    const cedar__policy *p;
    if (j >= ps->ntemplates || (i < ps->npolicies && ps->policies[i]->pos < ps->templates[j]->pos))
      p = ps->policies[i++];
    else
      p = ps->templates[j++];
    rc = validate_one(&cx, p, diags, &nerr);
  }
  wd_free(cx.shapes);
  wd_free(cx.tags);
  wd_free(cx.ctxs);
  wd_arena_free(cx.types);
  wd_arena_free(cx.scratch);
  if (rc) return rc;
  return nerr ? -WD_E_VALIDATE : 0;
}
