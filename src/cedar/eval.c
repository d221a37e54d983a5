/* SPDX-License-Identifier: Apache-2.0
 *
 * The expression evaluator: Cedar's dynamic semantics over the AST of
 * cedar_int.h. It decides values, type errors and overflow exactly as the
 * reference does, and words its errors the same way where practical.
 * Scopes, whole policies and cedar_evaluate live in eval_policy.c; the
 * extension functions it dispatches to live in ext*.c. It never allocates
 * outside the request arena and never recurses past WD_LIMIT_EVAL_DEPTH.
 */
#include <stdio.h>
#include <string.h>

#include "cedar_int.h"
#include "eval_int.h"

int cedar__eval_fail(cedar__evalctx *cx, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cx->err, sizeof cx->err, fmt, ap);
  va_end(ap);
  return -WD_E_EVAL;
}

/* The reference's wording for a runtime type: lower case, and entities
 * with their type. */
static void type_name(const cedar__val *v, char *buf, size_t n) {
  const char *s = "value";
  switch (v->kind) {
  case CEDAR__V_BOOL: s = "bool"; break;
  case CEDAR__V_LONG: s = "long"; break;
  case CEDAR__V_STRING: s = "string"; break;
  case CEDAR__V_SET: s = "set"; break;
  case CEDAR__V_RECORD: s = "record"; break;
  case CEDAR__V_DECIMAL: s = "decimal"; break;
  case CEDAR__V_IPADDR: s = "ipaddr"; break;
  case CEDAR__V_DATETIME: s = "datetime"; break;
  case CEDAR__V_DURATION: s = "duration"; break;
  case CEDAR__V_ENTITY:
    snprintf(buf, n, "(entity of type `%.*s`)", (int)v->u.uid->type.n, v->u.uid->type.p);
    return;
  }
  snprintf(buf, n, "%s", s);
}

int cedar__eval_type_err(cedar__evalctx *cx, const char *expected, const cedar__val *got) {
  char g[160];
  type_name(got, g, sizeof g);
  return cedar__eval_fail(cx, "type error: expected %s, got %s", expected, g);
}

void cedar__eval_uid_text(const cedar__uid *uid, char *buf, size_t n) {
  wd_buf b;
  wd_buf_init(&b, n > 1 ? n - 1 : 1);
  if (cedar__uid_print(&b, uid) == 0 && wd_buf_len(&b) > 0) {
    snprintf(buf, n, "%s", wd_buf_str(&b));
  } else {
    /* Printing failed (too long): a truncated plain form still helps. */
    snprintf(buf, n, "%.*s::\"%.*s\"", (int)(uid->type.n > 80 ? 80 : uid->type.n), uid->type.p,
             (int)(uid->id.n > 80 ? 80 : uid->id.n), uid->id.p);
  }
  wd_buf_free(&b);
}

static const char EXP_ENTITY[] = "(entity of type `any_entity_type`)";
static const char EXP_SET_OR_ENTITY[] = "one of [set, (entity of type `any_entity_type`)]";
static const char EXP_REC_OR_ENTITY[] = "one of [record, (entity of type `any_entity_type`)]";

static int want_bool(cedar__evalctx *cx, const cedar__val *v) {
  return v->kind == CEDAR__V_BOOL ? 0 : cedar__eval_type_err(cx, "bool", v);
}

/* Cedar's `in` once both sides are known: lhs must be an entity, rhs an
 * entity or a set made only of entities (checked before any answer). */
int cedar__eval_in(cedar__evalctx *cx, const cedar__val *l, const cedar__val *r, int *res) {
  if (l->kind != CEDAR__V_ENTITY) return cedar__eval_type_err(cx, EXP_ENTITY, l);
  if (r->kind == CEDAR__V_ENTITY) {
    *res = cedar__entities_in(cx->es, l->u.uid, r->u.uid) == 1;
    return 0;
  }
  if (r->kind != CEDAR__V_SET) return cedar__eval_type_err(cx, EXP_SET_OR_ENTITY, r);
  for (uint32_t i = 0; i < r->u.set.n; i++)
    if (r->u.set.v[i].kind != CEDAR__V_ENTITY)
      return cedar__eval_type_err(cx, EXP_ENTITY, &r->u.set.v[i]);
  *res = 0;
  for (uint32_t i = 0; i < r->u.set.n && !*res; i++)
    *res = cedar__entities_in(cx->es, l->u.uid, r->u.set.v[i].u.uid) == 1;
  return 0;
}

static int is_ordered(cedar__vkind k) {
  return k == CEDAR__V_LONG || k == CEDAR__V_DATETIME || k == CEDAR__V_DURATION;
}

static const char *ordered_name(cedar__vkind k) {
  return k == CEDAR__V_LONG ? "long" : k == CEDAR__V_DATETIME ? "datetime" : "duration";
}

/* Ordering is defined on Long, and on datetime and duration against their
 * own kind (the reference accepts `<` on those, not on decimal). On a
 * mismatch the operand named follows the reference: Long on either side
 * first, then the left operand's kind, then the right's. */
static int compare(cedar__evalctx *cx, const cedar__val *a, const cedar__val *b, int *c) {
  if (a->kind != b->kind || !is_ordered(a->kind)) {
    if (a->kind == CEDAR__V_LONG) return cedar__eval_type_err(cx, "long", b);
    if (b->kind == CEDAR__V_LONG) return cedar__eval_type_err(cx, "long", a);
    if (is_ordered(a->kind)) return cedar__eval_type_err(cx, ordered_name(a->kind), b);
    if (is_ordered(b->kind)) return cedar__eval_type_err(cx, ordered_name(b->kind), a);
    return cedar__eval_type_err(cx, "one of [long, datetime, duration]", a);
  }
  *c = a->u.i < b->u.i ? -1 : a->u.i > b->u.i;
  return 0;
}

static int arith(cedar__evalctx *cx, cedar__xkind k, const cedar__val *a, const cedar__val *b,
                 cedar__val *out) {
  if (a->kind != CEDAR__V_LONG) return cedar__eval_type_err(cx, "long", a);
  if (b->kind != CEDAR__V_LONG) return cedar__eval_type_err(cx, "long", b);
  int64_t r = 0;
  int ovf = 0;
  const char *verb = "add";
  if (k == CEDAR__X_ADD) {
    ovf = __builtin_add_overflow(a->u.i, b->u.i, &r);
  } else if (k == CEDAR__X_SUB) {
    ovf = __builtin_sub_overflow(a->u.i, b->u.i, &r);
    verb = "subtract";
  } else {
    ovf = __builtin_mul_overflow(a->u.i, b->u.i, &r);
    verb = "multiply";
  }
  if (ovf)
    return cedar__eval_fail(cx,
                            "integer overflow while attempting to %s the values `%lld` and "
                            "`%lld`",
                            verb, (long long)a->u.i, (long long)b->u.i);
  out->kind = CEDAR__V_LONG;
  out->u.i = r;
  return 0;
}

/* Glob matching over bytes. A pattern literal is valid UTF-8, so it can
 * only match at character boundaries and byte matching equals the
 * reference's character matching. One backtrack point (the last `*`)
 * suffices: a later star subsumes every earlier choice. */
static int like_match(cedar__str s, const cedar__patelem *pat, uint32_t np) {
  uint32_t i = 0, j = 0, k = 0; /* text offset; element and byte within it */
  uint32_t star_j = UINT32_MAX, star_i = 0;
  for (;;) {
    while (j < np && !pat[j].wild && k == pat[j].lit.n) {
      j++;
      k = 0;
    }
    if (j < np && pat[j].wild) {
      star_j = j++;
      k = 0;
      star_i = i;
      continue;
    }
    if (i == s.n && j == np) return 1;
    if (j < np && i < s.n && pat[j].lit.p[k] == s.p[i]) {
      i++;
      k++;
      continue;
    }
    if (star_j == UINT32_MAX || star_i >= s.n) return 0;
    j = star_j + 1;
    k = 0;
    i = ++star_i;
  }
}

static int eval_var(cedar__evalctx *cx, cedar__var v, cedar__val *out) {
  static const char *const names[] = {"principal", "action", "resource", "context"};
  if (!cx->rq) return cedar__eval_fail(cx, "no request: `%s` is unavailable", names[v]);
  switch (v) {
  case CEDAR__VAR_PRINCIPAL: *out = cx->rq->principal; break;
  case CEDAR__VAR_ACTION: *out = cx->rq->action; break;
  case CEDAR__VAR_RESOURCE: *out = cx->rq->resource; break;
  case CEDAR__VAR_CONTEXT: *out = cx->rq->context; break;
  }
  return 0;
}

/* e.attr and e has attr. want_has selects the question; for `has`, a
 * missing entity simply lacks every attribute. */
static int eval_attr(cedar__evalctx *cx, const cedar__val *v, cedar__str attr, int want_has,
                     cedar__val *out) {
  const cedar__val *rec = NULL;
  if (v->kind == CEDAR__V_RECORD) {
    rec = v;
  } else if (v->kind == CEDAR__V_ENTITY) {
    const cedar__entity *ent = cedar__entities_find(cx->es, v->u.uid);
    if (!ent) {
      if (want_has) {
        out->kind = CEDAR__V_BOOL;
        out->u.b = 0;
        return 0;
      }
      char u[128];
      cedar__eval_uid_text(v->u.uid, u, sizeof u);
      return cedar__eval_fail(cx, "entity `%s` does not exist", u);
    }
    rec = &ent->attrs;
  } else {
    return cedar__eval_type_err(cx, EXP_REC_OR_ENTITY, v);
  }
  const cedar__val *got = rec->kind == CEDAR__V_RECORD ? cedar__rec_get(rec, attr) : NULL;
  if (want_has) {
    out->kind = CEDAR__V_BOOL;
    out->u.b = got != NULL;
    return 0;
  }
  if (got) {
    *out = *got;
    return 0;
  }
  int an = (int)(attr.n > 100 ? 100 : attr.n);
  if (v->kind == CEDAR__V_RECORD)
    return cedar__eval_fail(cx, "record does not have the attribute `%.*s`", an, attr.p);
  char u[128];
  cedar__eval_uid_text(v->u.uid, u, sizeof u);
  return cedar__eval_fail(cx, "`%s` does not have the attribute `%.*s`", u, an, attr.p);
}

static int eval_list(cedar__evalctx *cx, const cedar__expr *const *items, uint32_t n,
                     cedar__val **vals) {
  *vals = NULL;
  if (n == 0) return 0;
  cedar__val *v = wd_arena_alloc(cx->arena, (size_t)n * sizeof *v);
  if (!v) return -WD_E_NOMEM;
  for (uint32_t i = 0; i < n; i++) {
    int rc = cedar__eval(cx, items[i], &v[i]);
    if (rc) return rc;
  }
  *vals = v;
  return 0;
}

static int eval_call(cedar__evalctx *cx, const cedar__expr *e, cedar__val *out) {
  cedar__val *args = NULL;
  int rc = eval_list(cx, e->u.call.args, e->u.call.n, &args);
  if (rc) return rc;
  if ((unsigned)e->u.call.fn >= CEDAR__F__COUNT) return -WD_E_INTERNAL;
  const cedar__fninfo *f = &cedar__fn_table[e->u.call.fn];
  if (e->u.call.n != f->arity)
    return cedar__eval_fail(cx, "wrong number of arguments to `%s`: expected %u, got %u", f->name,
                            (unsigned)f->arity, (unsigned)e->u.call.n);
  if (!f->impl) return -WD_E_INTERNAL;
  return f->impl(cx, args, out);
}

static int eval_binary(cedar__evalctx *cx, const cedar__expr *e, cedar__val *out) {
  cedar__val a, b;
  int rc = cedar__eval(cx, e->u.op.a, &a);
  if (rc == 0) rc = cedar__eval(cx, e->u.op.b, &b);
  if (rc) return rc;
  int c = 0;
  out->kind = CEDAR__V_BOOL;
  switch (e->kind) {
  case CEDAR__X_EQ: out->u.b = cedar__val_eq(&a, &b) == 1; return 0;
  case CEDAR__X_NE: out->u.b = cedar__val_eq(&a, &b) != 1; return 0;
  case CEDAR__X_LT:
    rc = compare(cx, &a, &b, &c);
    out->u.b = c < 0;
    return rc;
  case CEDAR__X_LE:
    rc = compare(cx, &a, &b, &c);
    out->u.b = c <= 0;
    return rc;
  case CEDAR__X_GT:
    rc = compare(cx, &a, &b, &c);
    out->u.b = c > 0;
    return rc;
  case CEDAR__X_GE:
    rc = compare(cx, &a, &b, &c);
    out->u.b = c >= 0;
    return rc;
  case CEDAR__X_IN: return cedar__eval_in(cx, &a, &b, &out->u.b);
  case CEDAR__X_ADD:
  case CEDAR__X_SUB:
  case CEDAR__X_MUL: return arith(cx, e->kind, &a, &b, out);
  case CEDAR__X_LIT:
  case CEDAR__X_VAR:
  case CEDAR__X_IF:
  case CEDAR__X_AND:
  case CEDAR__X_OR:
  case CEDAR__X_NOT:
  case CEDAR__X_NEG:
  case CEDAR__X_HAS:
  case CEDAR__X_GETATTR:
  case CEDAR__X_LIKE:
  case CEDAR__X_IS:
  case CEDAR__X_SET:
  case CEDAR__X_RECORD:
  case CEDAR__X_CALL: break;
  }
  return -WD_E_INTERNAL;
}

static int eval_is(cedar__evalctx *cx, const cedar__expr *e, cedar__val *out) {
  cedar__val v;
  int rc = cedar__eval(cx, e->u.is.e, &v);
  if (rc) return rc;
  if (v.kind != CEDAR__V_ENTITY) return cedar__eval_type_err(cx, EXP_ENTITY, &v);
  out->kind = CEDAR__V_BOOL;
  out->u.b = cedar__str_eq(v.u.uid->type, e->u.is.type) == 1;
  /* `e is T in x` is `e is T && e in x`: x is not evaluated on a miss. */
  if (!out->u.b || !e->u.is.in) return 0;
  cedar__val r;
  rc = cedar__eval(cx, e->u.is.in, &r);
  if (rc) return rc;
  return cedar__eval_in(cx, &v, &r, &out->u.b);
}

/* Fields are evaluated in key order, not source order: the reference
 * builds records as sorted maps, and which error a record reports first
 * must agree with it. */
static int eval_record(cedar__evalctx *cx, const cedar__expr *e, cedar__val *out) {
  uint32_t n = e->u.rec.n;
  const cedar__str *keys = e->u.rec.keys;
  cedar__val *vals = n ? wd_arena_alloc(cx->arena, (size_t)n * sizeof *vals) : NULL;
  uint32_t *ord = n ? wd_arena_alloc(cx->arena, (size_t)n * sizeof *ord) : NULL;
  if (n && (!vals || !ord)) return -WD_E_NOMEM;
  /* Values are evaluated in key order, so the error a record reports is
   * the same whatever order its keys were written in. */
  if (cedar__key_order(keys, n, ord) != 0) return -WD_E_NOMEM;
  for (uint32_t i = 0; i < n; i++) {
    int rc = cedar__eval(cx, e->u.rec.vals[ord[i]], &vals[ord[i]]);
    if (rc) return rc;
  }
  uint32_t dup = 0;
  int rc = cedar__rec_make(cx->arena, keys, vals, n, out, &dup);
  if (rc == -WD_E_EXISTS) {
    cedar__str k = keys[dup];
    return cedar__eval_fail(cx, "duplicate key `%.*s` in record literal", (int)k.n, k.p);
  }
  return rc;
}

static int eval_node(cedar__evalctx *cx, const cedar__expr *e, cedar__val *out) {
  cedar__val v;
  int rc;
  switch (e->kind) {
  case CEDAR__X_LIT: *out = e->u.lit; return 0;
  case CEDAR__X_VAR: return eval_var(cx, e->u.var, out);
  case CEDAR__X_IF:
    if ((rc = cedar__eval(cx, e->u.op.a, &v)) || (rc = want_bool(cx, &v))) return rc;
    return cedar__eval(cx, v.u.b ? e->u.op.b : e->u.op.c, out);
  case CEDAR__X_AND:
  case CEDAR__X_OR:
    if ((rc = cedar__eval(cx, e->u.op.a, &v)) || (rc = want_bool(cx, &v))) return rc;
    /* The left side decides when it is false for && and true for ||. */
    if ((e->kind == CEDAR__X_AND) != (v.u.b != 0)) {
      *out = v;
      return 0;
    }
    if ((rc = cedar__eval(cx, e->u.op.b, out)) || (rc = want_bool(cx, out))) return rc;
    return 0;
  case CEDAR__X_NOT:
    if ((rc = cedar__eval(cx, e->u.op.a, &v)) || (rc = want_bool(cx, &v))) return rc;
    out->kind = CEDAR__V_BOOL;
    out->u.b = !v.u.b;
    return 0;
  case CEDAR__X_NEG:
    if ((rc = cedar__eval(cx, e->u.op.a, &v))) return rc;
    if (v.kind != CEDAR__V_LONG) return cedar__eval_type_err(cx, "long", &v);
    if (v.u.i == INT64_MIN)
      return cedar__eval_fail(cx, "integer overflow while attempting to negate the value `%lld`",
                              (long long)v.u.i);
    out->kind = CEDAR__V_LONG;
    out->u.i = -v.u.i;
    return 0;
  case CEDAR__X_EQ:
  case CEDAR__X_NE:
  case CEDAR__X_LT:
  case CEDAR__X_LE:
  case CEDAR__X_GT:
  case CEDAR__X_GE:
  case CEDAR__X_IN:
  case CEDAR__X_ADD:
  case CEDAR__X_SUB:
  case CEDAR__X_MUL: return eval_binary(cx, e, out);
  case CEDAR__X_HAS:
  case CEDAR__X_GETATTR:
    if ((rc = cedar__eval(cx, e->u.attr.e, &v))) return rc;
    return eval_attr(cx, &v, e->u.attr.attr, e->kind == CEDAR__X_HAS, out);
  case CEDAR__X_LIKE:
    if ((rc = cedar__eval(cx, e->u.like.e, &v))) return rc;
    if (v.kind != CEDAR__V_STRING) return cedar__eval_type_err(cx, "string", &v);
    out->kind = CEDAR__V_BOOL;
    out->u.b = like_match(v.u.s, e->u.like.pat, e->u.like.n);
    return 0;
  case CEDAR__X_IS: return eval_is(cx, e, out);
  case CEDAR__X_SET: {
    cedar__val *vals = NULL;
    if ((rc = eval_list(cx, e->u.list.items, e->u.list.n, &vals))) return rc;
    return cedar__set_make(cx->arena, vals, e->u.list.n, out);
  }
  case CEDAR__X_RECORD: return eval_record(cx, e, out);
  case CEDAR__X_CALL: return eval_call(cx, e, out);
  }
  return -WD_E_INTERNAL;
}

int cedar__eval(cedar__evalctx *cx, const cedar__expr *e, cedar__val *out) {
  if (!e) return -WD_E_INTERNAL;
  if (cx->depth >= WD_LIMIT_EVAL_DEPTH)
    return cedar__eval_fail(cx, "expression nested too deeply to evaluate (limit %u)",
                            WD_LIMIT_EVAL_DEPTH);
  cx->depth++;
  int rc = eval_node(cx, e, out);
  cx->depth--;
  return rc;
}
