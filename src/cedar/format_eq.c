/* SPDX-License-Identifier: Apache-2.0
 *
 * Structural equality of policies and expressions, ignoring source spans
 * and positions. The formatter's contract is parse(format(p)) == p under
 * this relation, and the fuzzers and tests check exactly that. It is not
 * Cedar's `==` on values (that is cedar__val_eq in value.c).
 *
 * Like patterns compare by their expanded sequence of wildcards and
 * bytes, so "ab" written as one literal or as two is the same pattern;
 * `action in [A]` equals `action in A`.
 */
#include <string.h>

#include "format_int.h"

static int str_eq(cedar__str a, cedar__str b) {
  return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0);
}

static int uid_eq(const cedar__uid *a, const cedar__uid *b) {
  if (!a || !b) return a == b;
  return str_eq(a->type, b->type) && str_eq(a->id, b->id);
}

static int lit_eq(const cedar__val *a, const cedar__val *b) {
  if (a->kind != b->kind) return 0;
  switch (a->kind) {
  case CEDAR__V_BOOL: return !a->u.b == !b->u.b;
  case CEDAR__V_LONG: return a->u.i == b->u.i;
  case CEDAR__V_STRING: return str_eq(a->u.s, b->u.s);
  case CEDAR__V_ENTITY: return uid_eq(a->u.uid, b->u.uid);
  case CEDAR__V_SET:
  case CEDAR__V_RECORD:
  case CEDAR__V_DECIMAL:
  case CEDAR__V_IPADDR:
  case CEDAR__V_DATETIME:
  case CEDAR__V_DURATION: return cedar__val_eq(a, b) == 1;
  }
  return 0;
}

/* Cursor over a pattern as a flat sequence of items: -1 for a wildcard,
 * else a byte. Returns -2 at the end. */
typedef struct patcur {
  const cedar__patelem *pat;
  uint32_t n, i, j;
} patcur;

static int pat_next(patcur *c) {
  while (c->i < c->n) {
    const cedar__patelem *el = &c->pat[c->i];
    if (el->wild) {
      c->i++;
      c->j = 0;
      return -1;
    }
    if (c->j < el->lit.n) return (unsigned char)el->lit.p[c->j++];
    c->i++;
    c->j = 0;
  }
  return -2;
}

static int pat_eq(const cedar__patelem *a, uint32_t na, const cedar__patelem *b, uint32_t nb) {
  patcur x = {a, na, 0, 0}, y = {b, nb, 0, 0};
  for (;;) {
    int p = pat_next(&x), q = pat_next(&y);
    if (p != q) return 0;
    if (p == -2) return 1;
  }
}

static int list_eq(const cedar__expr *const *a, const cedar__expr *const *b, uint32_t n) {
  for (uint32_t i = 0; i < n; i++)
    if (!cedar__expr_equal(a[i], b[i])) return 0;
  return 1;
}

int cedar__expr_equal(const cedar__expr *a, const cedar__expr *b) {
  /* The loop follows left children so that long left-deep chains (which
   * the parser builds without recursing) do not recurse here either. */
  for (;;) {
    if (!a || !b) return a == b;
    if (a->kind != b->kind) return 0;
    switch (a->kind) {
    case CEDAR__X_LIT: return lit_eq(&a->u.lit, &b->u.lit);
    case CEDAR__X_VAR: return a->u.var == b->u.var;
    case CEDAR__X_IF:
      if (!cedar__expr_equal(a->u.op.b, b->u.op.b) || !cedar__expr_equal(a->u.op.c, b->u.op.c))
        return 0;
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
      if (!cedar__expr_equal(a->u.op.b, b->u.op.b)) return 0;
      break;
    case CEDAR__X_NOT:
    case CEDAR__X_NEG: break;
    case CEDAR__X_HAS:
    case CEDAR__X_GETATTR:
      if (!str_eq(a->u.attr.attr, b->u.attr.attr)) return 0;
      a = a->u.attr.e;
      b = b->u.attr.e;
      continue;
    case CEDAR__X_LIKE:
      if (!pat_eq(a->u.like.pat, a->u.like.n, b->u.like.pat, b->u.like.n)) return 0;
      a = a->u.like.e;
      b = b->u.like.e;
      continue;
    case CEDAR__X_IS:
      if (!str_eq(a->u.is.type, b->u.is.type) || !cedar__expr_equal(a->u.is.in, b->u.is.in))
        return 0;
      a = a->u.is.e;
      b = b->u.is.e;
      continue;
    case CEDAR__X_SET:
      return a->u.list.n == b->u.list.n && list_eq(a->u.list.items, b->u.list.items, a->u.list.n);
    case CEDAR__X_RECORD:
      if (a->u.rec.n != b->u.rec.n) return 0;
      for (uint32_t i = 0; i < a->u.rec.n; i++)
        if (!str_eq(a->u.rec.keys[i], b->u.rec.keys[i])) return 0;
      return list_eq(a->u.rec.vals, b->u.rec.vals, a->u.rec.n);
    case CEDAR__X_CALL:
      if (a->u.call.fn != b->u.call.fn || a->u.call.n != b->u.call.n) return 0;
      if (a->u.call.n == 0) return 1;
      if (!list_eq(a->u.call.args + 1, b->u.call.args + 1, a->u.call.n - 1)) return 0;
      a = a->u.call.args[0];
      b = b->u.call.args[0];
      continue;
    }
    a = a->u.op.a;
    b = b->u.op.a;
  }
}

/* `action in [A]` and `action in A` mean the same, and EST writes the
 * first as the second, so they compare equal. */
static int single_in(const cedar__scope *s, const cedar__uid **u) {
  if (s->kind == CEDAR__SC_IN_SET && s->nuids == 1)
    *u = s->uids[0];
  else if (s->kind == CEDAR__SC_IN && s->slot == CEDAR__SLOT_NONE)
    *u = s->uid;
  else
    return 0;
  return 1;
}

static int scope_eq(const cedar__scope *a, const cedar__scope *b) {
  const cedar__uid *ua, *ub;
  if (single_in(a, &ua) && single_in(b, &ub)) return uid_eq(ua, ub);
  if (a->kind != b->kind) return 0;
  switch (a->kind) {
  case CEDAR__SC_ANY: return 1;
  case CEDAR__SC_IS: return str_eq(a->type, b->type);
  case CEDAR__SC_IS_IN:
    if (!str_eq(a->type, b->type)) return 0;
    /* fall through */
  case CEDAR__SC_EQ:
  case CEDAR__SC_IN:
    if (a->slot != b->slot) return 0;
    return a->slot != CEDAR__SLOT_NONE || uid_eq(a->uid, b->uid);
  case CEDAR__SC_IN_SET:
    if (a->nuids != b->nuids) return 0;
    for (uint32_t i = 0; i < a->nuids; i++)
      if (!uid_eq(a->uids[i], b->uids[i])) return 0;
    return 1;
  }
  return 0;
}

int cedar__policy_equal(const cedar__policy *a, const cedar__policy *b) {
  if (!a || !b) return a == b;
  if (!str_eq(a->id, b->id) || a->effect != b->effect || !a->is_template != !b->is_template)
    return 0;
  if (!scope_eq(&a->principal, &b->principal) || !scope_eq(&a->action, &b->action) ||
      !scope_eq(&a->resource, &b->resource))
    return 0;
  if (a->nconds != b->nconds || a->nannots != b->nannots) return 0;
  for (uint32_t i = 0; i < a->nconds; i++) {
    if (!a->conds[i].is_when != !b->conds[i].is_when) return 0;
    if (!cedar__expr_equal(a->conds[i].e, b->conds[i].e)) return 0;
  }
  for (uint32_t i = 0; i < a->nannots; i++) {
    const cedar__annot *x = &a->annots[i], *y = &b->annots[i];
    if (!str_eq(x->key, y->key) || !x->has_val != !y->has_val || !str_eq(x->val, y->val)) return 0;
  }
  if (!str_eq(a->template_id, b->template_id)) return 0;
  return uid_eq(a->slot_vals[0], b->slot_vals[0]) && uid_eq(a->slot_vals[1], b->slot_vals[1]);
}
