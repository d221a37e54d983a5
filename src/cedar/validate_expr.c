/* SPDX-License-Identifier: Apache-2.0
 *
 * Expression typing for the strict validator: one request environment at
 * a time, Cedar's typing rules with boolean singletons, short-circuiting
 * (a branch proven unreachable is not typed, as in Cedar) and capabilities
 * for optional attributes and tags. Calls to builtin and extension
 * functions are typed in validate_call.c. It does not enumerate
 * environments or check entity literals against the schema (validate.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cedar_validate.h"

#define DEPTH_LIMIT WD_LIMIT_EVAL_DEPTH
#define ANY_ENTITY  "__cedar::internal::AnyEntity"

int cedar__vfail(cedar__vctx *cx, const cedar__expr *e, const char *fmt, ...) {
  if (!cx->failed) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cx->err, sizeof cx->err, fmt, ap);
    va_end(ap);
    cx->failed = 1;
    cx->err_off = e ? e->off : 0;
    cx->err_len = e ? e->len : 0;
  }
  return -WD_E_VALIDATE;
}

/* Type names for messages, in a small per-call buffer: short enough that
 * a message naming two of them still fits CEDAR_DIAG_MSG. */
typedef struct tname {
  char s[96];
} tname;

/* A name longer than the buffer ends in "..."; one too long even to
 * print (the printer gives up past TNAME_PRINT_MAX) is named by its kind,
 * never left empty. */
#define TNAME_PRINT_MAX 65536u

static tname tn(const cedar__vtype *t) {
  tname r;
  wd_buf b;
  wd_buf_init(&b, TNAME_PRINT_MAX);
  cedar__vt_print(&b, t);
  const char *p = wd_buf_str(&b);
  size_t n = p ? wd_buf_len(&b) : 0;
  if (n == 0) {
    p = t->kind == CEDAR__T_RECORD ? "{...}" : t->kind == CEDAR__T_SET ? "Set<...>" : "?";
    n = strlen(p);
  }
  if (n > sizeof r.s - 1) {
    memcpy(r.s, p, sizeof r.s - 4);
    memcpy(r.s + sizeof r.s - 4, "...", 4);
  } else {
    memcpy(r.s, p, n);
    r.s[n] = '\0';
  }
  wd_buf_free(&b);
  return r;
}

static int expect(cedar__vctx *cx, const cedar__expr *e, const cedar__vtype *t, const char *want) {
  return cedar__vfail(cx, e, "unexpected type: expected %s but saw %s", want, tn(t).s);
}

/* Cedar names the two types of a failed join in its own order of types:
 * singletons, primitives, sets, records and entities, extensions. */
static int rank(const cedar__vtype *t) {
  switch (t->kind) {
  case CEDAR__T_BOOL: return t->b == CEDAR__VB_TT ? 1 : t->b == CEDAR__VB_FF ? 2 : 3;
  case CEDAR__T_LONG: return 4;
  case CEDAR__T_STRING: return 5;
  case CEDAR__T_SET: return 6;
  case CEDAR__T_RECORD: return 7;
  case CEDAR__T_ENTITY: return 8;
  case CEDAR__T_EXT: return 9;
  }
  return 0;
}

/* Entity type names order by their last component, then the namespace. */
static int name_cmp(cedar__str a, cedar__str b) {
  cedar__str ab = a, bb = b;
  for (uint32_t i = a.n; i >= 2; i--)
    if (a.p[i - 1] == ':' && a.p[i - 2] == ':') {
      ab = (cedar__str){a.p + i, a.n - i};
      break;
    }
  for (uint32_t i = b.n; i >= 2; i--)
    if (b.p[i - 1] == ':' && b.p[i - 2] == ':') {
      bb = (cedar__str){b.p + i, b.n - i};
      break;
    }
  int c = cedar__str_cmp(ab, bb);
  return c ? c : cedar__str_cmp(a, b);
}

static int type_cmp(const cedar__vtype *x, const cedar__vtype *y) {
  int rx = rank(x), ry = rank(y);
  if (rx != ry) return rx < ry ? -1 : 1;
  switch (x->kind) {
  case CEDAR__T_SET: return type_cmp(x->elem, y->elem);
  case CEDAR__T_ENTITY:
  case CEDAR__T_EXT: return name_cmp(x->name, y->name);
  case CEDAR__T_RECORD:
    for (uint32_t i = 0; i < x->nattrs && i < y->nattrs; i++) {
      int c = cedar__str_cmp(x->attrs[i].name, y->attrs[i].name);
      if (!c) c = type_cmp(x->attrs[i].t, y->attrs[i].t);
      if (!c) c = x->attrs[i].required - y->attrs[i].required;
      if (c) return c;
    }
    return x->nattrs < y->nattrs ? -1 : x->nattrs > y->nattrs;
  case CEDAR__T_BOOL:
  case CEDAR__T_LONG:
  case CEDAR__T_STRING: break;
  }
  return 0;
}

int cedar__vfail_join(cedar__vctx *cx, const cedar__expr *e, const cedar__vtype *x,
                      const cedar__vtype *y) {
  if (type_cmp(y, x) < 0) {
    const cedar__vtype *t = x;
    x = y;
    y = t;
  }
  return cedar__vfail(cx, e, "the types %s and %s are not compatible", tn(x).s, tn(y).s);
}

static const cedar__vcaps no_caps = {NULL, 0};

/* The uid an expression denotes when it is an entity literal; `action` is
 * known in every environment, so it counts as one. */
static const cedar__uid *lit_uid(const cedar__vctx *cx, const cedar__expr *e) {
  if (e->kind == CEDAR__X_LIT && e->u.lit.kind == CEDAR__V_ENTITY) return e->u.lit.u.uid;
  if (e->kind == CEDAR__X_VAR && e->u.var == CEDAR__VAR_ACTION) return cx->env->action->uid;
  return NULL;
}

static const cedar__vtype *lit_type(cedar__vctx *cx, const cedar__val *v) {
  switch (v->kind) {
  case CEDAR__V_BOOL: return v->u.b ? &cedar__vt_bool_tt : &cedar__vt_bool_ff;
  case CEDAR__V_LONG: return &cedar__vt_long;
  case CEDAR__V_STRING: return &cedar__vt_string;
  case CEDAR__V_ENTITY: return cedar__vt_entity(cx->scratch, v->u.uid->type);
  case CEDAR__V_DECIMAL: return cedar__vt_ext(cedar__cstr("decimal"));
  case CEDAR__V_IPADDR: return cedar__vt_ext(cedar__cstr("ipaddr"));
  case CEDAR__V_DATETIME: return cedar__vt_ext(cedar__cstr("datetime"));
  case CEDAR__V_DURATION: return cedar__vt_ext(cedar__cstr("duration"));
  case CEDAR__V_SET:
  case CEDAR__V_RECORD: return NULL; /* the parser never builds these */
  }
  return NULL;
}

static int is_bool(const cedar__vtype *t) { return t->kind == CEDAR__T_BOOL; }

static cedar__vbool bnot(cedar__vbool b) {
  return b == CEDAR__VB_TT ? CEDAR__VB_FF : b == CEDAR__VB_FF ? CEDAR__VB_TT : CEDAR__VB_ANY;
}

/* The record an attribute is read from: an entity's shape, the context,
 * or a record value. NULL for entity types without attributes (actions). */
static int attr_record(cedar__vctx *cx, const cedar__expr *on, const cedar__vtype *t,
                       const cedar__vtype **rec) {
  *rec = NULL;
  if (t->kind == CEDAR__T_RECORD) {
    *rec = t;
    return 0;
  }
  const cedar__sentity *se = cedar__schema_entity(cx->s, t->name);
  if (se) {
    *rec = cx->shapes[se - cx->s->entities];
    return 0;
  }
  if (cedar__vt_is_action_type(cx->s, t->name)) return 0;
  return cedar__vfail(cx, on, "unrecognized entity type `%.*s`", (int)t->name.n, t->name.p);
}

/* Names an attribute access as Cedar does in messages: the path of record
 * attributes from the entity or context it starts at, e.g. "`addr.zip` on
 * entity type `User`". Only called on the way to an error, so re-typing
 * the inner expressions (which typed cleanly already) costs nothing
 * in the common case. */
static void describe(cedar__vctx *cx, const cedar__expr *on, cedar__vcaps c, cedar__str a,
                     char *out, size_t outn) {
  cedar__str segs[16];
  uint32_t k = 0;
  segs[k++] = a;
  char suffix[160] = "";
  const cedar__expr *cur = on;
  for (;;) {
    if (cur->kind == CEDAR__X_VAR && cur->u.var == CEDAR__VAR_CONTEXT) {
      const cedar__uid *u = cx->env->action->uid;
      snprintf(suffix, sizeof suffix, " in context for %.*s::\"%.*s\"", (int)u->type.n, u->type.p,
               (int)u->id.n, u->id.p);
      break;
    }
    const cedar__vtype *t;
    cedar__vcaps ignore;
    if (cur->kind != CEDAR__X_GETATTR && cur->kind != CEDAR__X_VAR) break;
    if (cedar__vexpr(cx, cur, c, &t, &ignore) != 0) break;
    if (t->kind == CEDAR__T_ENTITY) {
      snprintf(suffix, sizeof suffix, " on entity type `%.*s`", (int)t->name.n, t->name.p);
      break;
    }
    if (cur->kind != CEDAR__X_GETATTR || k == sizeof segs / sizeof segs[0]) break;
    segs[k++] = cur->u.attr.attr;
    cur = cur->u.attr.e;
  }
  wd_buf b;
  wd_buf_init(&b, outn - 1);
  int rc = wd_buf_addc(&b, '`');
  while (k-- > 0) {
    rc |= wd_buf_add(&b, segs[k].p, segs[k].n);
    if (k) rc |= wd_buf_addc(&b, '.');
  }
  rc |= wd_buf_addc(&b, '`');
  rc |= wd_buf_adds(&b, suffix);
  (void)rc; /* a message cut at its cap is still a message */
  const char *p = wd_buf_str(&b);
  size_t n = p ? wd_buf_len(&b) : 0;
  if (n > outn - 1) n = outn - 1;
  if (n) memcpy(out, p, n);
  out[n] = '\0';
  wd_buf_free(&b);
}

static int type_has(cedar__vctx *cx, const cedar__expr *e, cedar__vcaps c, const cedar__vtype **ty,
                    cedar__vcaps *out) {
  const cedar__expr *on = e->u.attr.e;
  cedar__str a = e->u.attr.attr;
  const cedar__vtype *t;
  cedar__vcaps ignore;
  int rc = cedar__vexpr(cx, on, c, &t, &ignore);
  if (rc) return rc;
  if (t->kind != CEDAR__T_RECORD && t->kind != CEDAR__T_ENTITY)
    return expect(cx, on, t, "entity or record");
  const cedar__vtype *rec;
  if ((rc = attr_record(cx, on, t, &rec))) return rc;
  const cedar__vattr *at = rec ? cedar__vt_attr(rec, a) : NULL;
  if (!at) {
    *ty = rec && rec->open ? &cedar__vt_bool_any : &cedar__vt_bool_ff;
    return 0;
  }
  /* A required record attribute is always there; an entity might not
   * exist, so even its required attributes are only "maybe". */
  if ((t->kind == CEDAR__T_RECORD && at->required) || cedar__vcaps_has(c, on, a, NULL)) {
    *ty = &cedar__vt_bool_tt;
    return 0;
  }
  *ty = &cedar__vt_bool_any;
  return cedar__vcaps_one(cx->scratch, on, a, NULL, out);
}

static int type_getattr(cedar__vctx *cx, const cedar__expr *e, cedar__vcaps c,
                        const cedar__vtype **ty) {
  const cedar__expr *on = e->u.attr.e;
  cedar__str a = e->u.attr.attr;
  const cedar__vtype *t;
  cedar__vcaps ignore;
  int rc = cedar__vexpr(cx, on, c, &t, &ignore);
  if (rc) return rc;
  if (t->kind != CEDAR__T_RECORD && t->kind != CEDAR__T_ENTITY)
    return expect(cx, on, t, "entity or record");
  const cedar__vtype *rec;
  if ((rc = attr_record(cx, on, t, &rec))) return rc;
  const cedar__vattr *at = rec ? cedar__vt_attr(rec, a) : NULL;
  if (at && (at->required || cedar__vcaps_has(c, on, a, NULL))) {
    *ty = at->t;
    return 0;
  }
  char what[CEDAR_DIAG_MSG / 2];
  describe(cx, on, c, a, what, sizeof what);
  if (!at) return cedar__vfail(cx, e, "attribute %s not found", what);
  return cedar__vfail(cx, e, "unable to guarantee safety of access to optional attribute %s", what);
}

/* Cedar's ==: literals compare, compatible types give Bool, two different
 * entity types can never be equal, anything else is an error. */
static int type_eq(cedar__vctx *cx, const cedar__expr *e, const cedar__vtype *x,
                   const cedar__vtype *y, cedar__vbool *out) {
  const cedar__expr *l = e->u.op.a, *r = e->u.op.b;
  const cedar__uid *lu = lit_uid(cx, l), *ru = lit_uid(cx, r);
  if (lu && ru) {
    *out = cedar__uid_eq(lu, ru) ? CEDAR__VB_TT : CEDAR__VB_FF;
    return 0;
  }
  if (l->kind == CEDAR__X_LIT && r->kind == CEDAR__X_LIT) {
    *out = cedar__val_eq(&l->u.lit, &r->u.lit) ? CEDAR__VB_TT : CEDAR__VB_FF;
    return 0;
  }
  int nomem = 0;
  if (cedar__vt_lub(cx->scratch, x, y, &nomem)) {
    *out = CEDAR__VB_ANY;
    return 0;
  }
  if (nomem) return -WD_E_NOMEM;
  if (x->kind == CEDAR__T_ENTITY && y->kind == CEDAR__T_ENTITY) {
    *out = CEDAR__VB_FF;
    return 0;
  }
  return cedar__vfail_join(cx, e, x, y);
}

/* lhs in rhs, both already typed. */
static int type_in(cedar__vctx *cx, const cedar__expr *e, const cedar__expr *l,
                   const cedar__vtype *x, const cedar__expr *r, const cedar__vtype *y,
                   cedar__vbool *out) {
  if (x->kind != CEDAR__T_ENTITY) return expect(cx, l, x, ANY_ENTITY);
  const cedar__uid *lu = lit_uid(cx, l);
  const cedar__saction *la = lu ? cedar__schema_action(cx->s, lu) : NULL;
  if (y->kind == CEDAR__T_ENTITY) {
    const cedar__uid *ru = lit_uid(cx, r);
    if (la && ru) {
      *out = cedar__vt_action_desc(cx->s, lu, ru) ? CEDAR__VB_TT : CEDAR__VB_FF;
      return 0;
    }
    *out = cedar__vt_entity_desc(cx->s, x->name, y->name) ? CEDAR__VB_ANY : CEDAR__VB_FF;
    return 0;
  }
  if (y->kind == CEDAR__T_SET && y->elem->kind == CEDAR__T_ENTITY) {
    if (la && r->kind == CEDAR__X_SET) {
      int all = 1, any = 0;
      for (uint32_t i = 0; i < r->u.list.n && all; i++) {
        const cedar__uid *ru = lit_uid(cx, r->u.list.items[i]);
        if (!ru)
          all = 0;
        else if (cedar__vt_action_desc(cx->s, lu, ru))
          any = 1;
      }
      if (all) {
        *out = any ? CEDAR__VB_TT : CEDAR__VB_FF;
        return 0;
      }
    }
    *out = cedar__vt_entity_desc(cx->s, x->name, y->elem->name) ? CEDAR__VB_ANY : CEDAR__VB_FF;
    return 0;
  }
  (void)e;
  return expect(cx, r, y, "Set<" ANY_ENTITY ">, or " ANY_ENTITY);
}

static int is_cmp_type(const cedar__vtype *t) {
  if (t->kind == CEDAR__T_LONG) return 1;
  return t->kind == CEDAR__T_EXT && (cedar__str_eq(t->name, cedar__cstr("datetime")) ||
                                     cedar__str_eq(t->name, cedar__cstr("duration")));
}

static int type_binary(cedar__vctx *cx, const cedar__expr *e, cedar__vcaps c,
                       const cedar__vtype **ty) {
  const cedar__vtype *x, *y;
  cedar__vcaps ignore;
  int rc = cedar__vexpr(cx, e->u.op.a, c, &x, &ignore);
  if (rc) return rc;
  if ((rc = cedar__vexpr(cx, e->u.op.b, c, &y, &ignore))) return rc;
  cedar__vbool b = CEDAR__VB_ANY;
  switch (e->kind) {
  case CEDAR__X_EQ:
  case CEDAR__X_NE:
    if ((rc = type_eq(cx, e, x, y, &b))) return rc;
    *ty = cedar__vt_bool(e->kind == CEDAR__X_NE ? bnot(b) : b);
    return 0;
  case CEDAR__X_LT:
  case CEDAR__X_LE:
  case CEDAR__X_GT:
  case CEDAR__X_GE:
    if (!is_cmp_type(x)) return expect(cx, e->u.op.a, x, "datetime, or duration, or Long");
    if (x->kind != y->kind || !cedar__str_eq(x->name, y->name))
      return expect(cx, e->u.op.b, y, tn(x).s);
    *ty = &cedar__vt_bool_any;
    return 0;
  case CEDAR__X_IN:
    if ((rc = type_in(cx, e, e->u.op.a, x, e->u.op.b, y, &b))) return rc;
    *ty = cedar__vt_bool(b);
    return 0;
  case CEDAR__X_ADD: /* type_arith */
  case CEDAR__X_SUB:
  case CEDAR__X_MUL:
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

static int type_if(cedar__vctx *cx, const cedar__expr *e, cedar__vcaps c, const cedar__vtype **ty,
                   cedar__vcaps *out) {
  const cedar__vtype *t1, *t2, *t3;
  cedar__vcaps c1, c2, c3, cc;
  int rc = cedar__vexpr(cx, e->u.op.a, c, &t1, &c1);
  if (rc) return rc;
  if (!is_bool(t1)) return expect(cx, e->u.op.a, t1, "Bool");
  if (t1->b == CEDAR__VB_FF) return cedar__vexpr(cx, e->u.op.c, c, ty, out);
  if ((rc = cedar__vcaps_union(cx->scratch, c, c1, &cc))) return rc;
  if ((rc = cedar__vexpr(cx, e->u.op.b, cc, &t2, &c2))) return rc;
  if (t1->b == CEDAR__VB_TT) {
    *ty = t2;
    return cedar__vcaps_union(cx->scratch, c1, c2, out);
  }
  if ((rc = cedar__vexpr(cx, e->u.op.c, c, &t3, &c3))) return rc;
  int nomem = 0;
  *ty = cedar__vt_lub(cx->scratch, t2, t3, &nomem);
  if (!*ty) return nomem ? -WD_E_NOMEM : cedar__vfail_join(cx, e, t2, t3);
  if ((rc = cedar__vcaps_union(cx->scratch, c1, c2, &cc))) return rc;
  return cedar__vcaps_inter(cx->scratch, cc, c3, out);
}

/* Chains like a && b && c, a || b || c and 1 + 2 + 3 are left-deep and
 * may be long (the parser builds them without recursing), so they are
 * typed along their spine in a loop: the leftmost operand first, then each
 * right operand from the innermost node out. */
static int spine(cedar__vctx *cx, const cedar__expr *e, int (*same)(cedar__xkind),
                 const cedar__expr ***nodes, uint32_t *n, const cedar__expr **leftmost) {
  uint32_t k = 0;
  const cedar__expr *x = e;
  for (; same(x->kind); x = x->u.op.a)
    k++;
  const cedar__expr **v = wd_arena_alloc(cx->scratch, (size_t)k * sizeof *v);
  if (!v) return -WD_E_NOMEM;
  x = e;
  for (uint32_t i = 0; i < k; i++, x = x->u.op.a)
    v[k - 1 - i] = x;
  *nodes = v;
  *n = k;
  *leftmost = x;
  return 0;
}

static int is_and(cedar__xkind k) { return k == CEDAR__X_AND; }
static int is_or(cedar__xkind k) { return k == CEDAR__X_OR; }
static int is_arith(cedar__xkind k) {
  return k == CEDAR__X_ADD || k == CEDAR__X_SUB || k == CEDAR__X_MUL;
}

static int type_and(cedar__vctx *cx, const cedar__expr *e, cedar__vcaps c, const cedar__vtype **ty,
                    cedar__vcaps *out) {
  const cedar__expr **nodes, *left;
  uint32_t n;
  int rc = spine(cx, e, is_and, &nodes, &n, &left);
  if (rc) return rc;
  const cedar__vtype *t1, *t2;
  cedar__vcaps c1, c2, cc;
  if ((rc = cedar__vexpr(cx, left, c, &t1, &c1))) return rc;
  if (!is_bool(t1)) return expect(cx, left, t1, "Bool");
  for (uint32_t i = 0; i < n && t1->b != CEDAR__VB_FF; i++) {
    const cedar__expr *r = nodes[i]->u.op.b;
    if ((rc = cedar__vcaps_union(cx->scratch, c, c1, &cc))) return rc;
    if ((rc = cedar__vexpr(cx, r, cc, &t2, &c2))) return rc;
    if (!is_bool(t2)) return expect(cx, r, t2, "Bool");
    if (t2->b == CEDAR__VB_FF) {
      t1 = t2;
      break;
    }
    if (t2->b != CEDAR__VB_TT) t1 = &cedar__vt_bool_any;
    if ((rc = cedar__vcaps_union(cx->scratch, c1, c2, &c1))) return rc;
  }
  *ty = t1;
  if (t1->b != CEDAR__VB_FF) *out = c1;
  return 0;
}

static int type_or(cedar__vctx *cx, const cedar__expr *e, cedar__vcaps c, const cedar__vtype **ty,
                   cedar__vcaps *out) {
  const cedar__expr **nodes, *left;
  uint32_t n;
  int rc = spine(cx, e, is_or, &nodes, &n, &left);
  if (rc) return rc;
  const cedar__vtype *t1, *t2;
  cedar__vcaps c1, c2;
  if ((rc = cedar__vexpr(cx, left, c, &t1, &c1))) return rc;
  if (!is_bool(t1)) return expect(cx, left, t1, "Bool");
  for (uint32_t i = 0; i < n && t1->b != CEDAR__VB_TT; i++) {
    const cedar__expr *r = nodes[i]->u.op.b;
    if ((rc = cedar__vexpr(cx, r, c, &t2, &c2))) return rc;
    if (!is_bool(t2)) return expect(cx, r, t2, "Bool");
    if (t1->b == CEDAR__VB_FF) {
      t1 = t2;
      c1 = c2;
    } else if (t2->b == CEDAR__VB_TT) {
      t1 = t2;
    } else if (t2->b != CEDAR__VB_FF) {
      t1 = &cedar__vt_bool_any;
      if ((rc = cedar__vcaps_inter(cx->scratch, c1, c2, &c1))) return rc;
    }
  }
  *ty = t1;
  if (t1->b != CEDAR__VB_TT) *out = c1;
  return 0;
}

static int type_arith(cedar__vctx *cx, const cedar__expr *e, cedar__vcaps c,
                      const cedar__vtype **ty) {
  const cedar__expr **nodes, *left;
  uint32_t n;
  int rc = spine(cx, e, is_arith, &nodes, &n, &left);
  if (rc) return rc;
  const cedar__vtype *t;
  cedar__vcaps ignore;
  if ((rc = cedar__vexpr(cx, left, c, &t, &ignore))) return rc;
  if (t->kind != CEDAR__T_LONG) return expect(cx, left, t, "Long");
  for (uint32_t i = 0; i < n; i++) {
    const cedar__expr *r = nodes[i]->u.op.b;
    if ((rc = cedar__vexpr(cx, r, c, &t, &ignore))) return rc;
    if (t->kind != CEDAR__T_LONG) return expect(cx, r, t, "Long");
  }
  *ty = &cedar__vt_long;
  return 0;
}

static int type_is(cedar__vctx *cx, const cedar__expr *e, cedar__vcaps c, const cedar__vtype **ty) {
  const cedar__vtype *t, *y;
  cedar__vcaps ignore;
  int rc = cedar__vexpr(cx, e->u.is.e, c, &t, &ignore);
  if (rc) return rc;
  if (t->kind != CEDAR__T_ENTITY) return expect(cx, e->u.is.e, t, ANY_ENTITY);
  cedar__vbool b = cedar__str_eq(t->name, e->u.is.type) ? CEDAR__VB_TT : CEDAR__VB_FF;
  if (b == CEDAR__VB_FF || !e->u.is.in) {
    *ty = cedar__vt_bool(b);
    return 0;
  }
  if ((rc = cedar__vexpr(cx, e->u.is.in, c, &y, &ignore))) return rc;
  if ((rc = type_in(cx, e, e->u.is.e, t, e->u.is.in, y, &b))) return rc;
  *ty = cedar__vt_bool(b);
  return 0;
}

static int type_set(cedar__vctx *cx, const cedar__expr *e, cedar__vcaps c,
                    const cedar__vtype **ty) {
  if (e->u.list.n == 0) return cedar__vfail(cx, e, "empty set literals are forbidden in policies");
  const cedar__vtype *acc = NULL;
  for (uint32_t i = 0; i < e->u.list.n; i++) {
    const cedar__vtype *t;
    cedar__vcaps ignore;
    int rc = cedar__vexpr(cx, e->u.list.items[i], c, &t, &ignore);
    if (rc) return rc;
    if (!acc) {
      acc = t;
      continue;
    }
    int nomem = 0;
    const cedar__vtype *l = cedar__vt_lub(cx->scratch, acc, t, &nomem);
    if (!l) return nomem ? -WD_E_NOMEM : cedar__vfail_join(cx, e, acc, t);
    acc = l;
  }
  *ty = cedar__vt_set(cx->scratch, acc);
  return *ty ? 0 : -WD_E_NOMEM;
}

static int attr_order(const void *a, const void *b) {
  return cedar__str_cmp(((const cedar__vattr *)a)->name, ((const cedar__vattr *)b)->name);
}

static int type_record(cedar__vctx *cx, const cedar__expr *e, cedar__vcaps c,
                       const cedar__vtype **ty) {
  uint32_t n = e->u.rec.n;
  cedar__vtype *t = wd_arena_calloc(cx->scratch, 1, sizeof *t);
  cedar__vattr *at = n ? wd_arena_calloc(cx->scratch, n, sizeof *at) : NULL;
  if (!t || (n && !at)) return -WD_E_NOMEM;
  for (uint32_t i = 0; i < n; i++) {
    const cedar__vtype *vt;
    cedar__vcaps ignore;
    int rc = cedar__vexpr(cx, e->u.rec.vals[i], c, &vt, &ignore);
    if (rc) return rc;
    at[i].name = e->u.rec.keys[i];
    at[i].t = vt;
    at[i].required = 1;
  }
  /* Record types keep their attributes sorted by name; the parser made
   * the keys unique. */
  if (n > 1) qsort(at, n, sizeof *at, attr_order);
  t->kind = CEDAR__T_RECORD;
  t->attrs = at;
  t->nattrs = n;
  *ty = t;
  return 0;
}

static int type_of(cedar__vctx *cx, const cedar__expr *e, cedar__vcaps c, const cedar__vtype **ty,
                   cedar__vcaps *out) {
  const cedar__vtype *t;
  cedar__vcaps ignore;
  int rc;
  switch (e->kind) {
  case CEDAR__X_LIT: *ty = lit_type(cx, &e->u.lit); return *ty ? 0 : -WD_E_NOMEM;
  case CEDAR__X_VAR:
    switch (e->u.var) {
    case CEDAR__VAR_PRINCIPAL: *ty = cedar__vt_entity(cx->scratch, cx->env->principal); break;
    case CEDAR__VAR_ACTION: *ty = cedar__vt_entity(cx->scratch, cx->env->action->uid->type); break;
    case CEDAR__VAR_RESOURCE: *ty = cedar__vt_entity(cx->scratch, cx->env->resource); break;
    case CEDAR__VAR_CONTEXT: *ty = cx->env->context; break;
    }
    return *ty ? 0 : -WD_E_NOMEM;
  case CEDAR__X_IF: return type_if(cx, e, c, ty, out);
  case CEDAR__X_AND: return type_and(cx, e, c, ty, out);
  case CEDAR__X_OR: return type_or(cx, e, c, ty, out);
  case CEDAR__X_NOT:
    if ((rc = cedar__vexpr(cx, e->u.op.a, c, &t, &ignore))) return rc;
    if (!is_bool(t)) return expect(cx, e->u.op.a, t, "Bool");
    *ty = cedar__vt_bool(bnot(t->b));
    return 0;
  case CEDAR__X_NEG:
    if ((rc = cedar__vexpr(cx, e->u.op.a, c, &t, &ignore))) return rc;
    if (t->kind != CEDAR__T_LONG) return expect(cx, e->u.op.a, t, "Long");
    *ty = t;
    return 0;
  case CEDAR__X_EQ:
  case CEDAR__X_NE:
  case CEDAR__X_LT:
  case CEDAR__X_LE:
  case CEDAR__X_GT:
  case CEDAR__X_GE:
  case CEDAR__X_IN: return type_binary(cx, e, c, ty);
  case CEDAR__X_ADD:
  case CEDAR__X_SUB:
  case CEDAR__X_MUL: return type_arith(cx, e, c, ty);
  case CEDAR__X_HAS: return type_has(cx, e, c, ty, out);
  case CEDAR__X_GETATTR: return type_getattr(cx, e, c, ty);
  case CEDAR__X_LIKE:
    if ((rc = cedar__vexpr(cx, e->u.like.e, c, &t, &ignore))) return rc;
    if (t->kind != CEDAR__T_STRING) return expect(cx, e->u.like.e, t, "String");
    *ty = &cedar__vt_bool_any;
    return 0;
  case CEDAR__X_IS: return type_is(cx, e, c, ty);
  case CEDAR__X_SET: return type_set(cx, e, c, ty);
  case CEDAR__X_RECORD: return type_record(cx, e, c, ty);
  case CEDAR__X_CALL: return cedar__vcall(cx, e, c, ty, out);
  }
  return -WD_E_INTERNAL;
}

int cedar__vexpr(cedar__vctx *cx, const cedar__expr *e, cedar__vcaps in, const cedar__vtype **ty,
                 cedar__vcaps *out) {
  *out = no_caps;
  *ty = NULL;
  if (cx->depth >= DEPTH_LIMIT)
    return cedar__vfail(cx, e, "expression nested deeper than %u levels", DEPTH_LIMIT);
  cx->depth++;
  int rc = type_of(cx, e, in, ty, out);
  cx->depth--;
  return rc;
}
