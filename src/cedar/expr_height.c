/* SPDX-License-Identifier: Apache-2.0
 *
 * The height of an AST node, which both builders (parse_expr.c and
 * est_read.c) record on each node as they finish it, so that they can
 * refuse a tree taller than the later recursive stages can walk.
 */
#include "cedar_int.h"

static uint32_t of(const cedar__expr *e) { return e ? e->height : 0; }

static uint32_t tallest(const cedar__expr *const *v, uint32_t n) {
  uint32_t h = 0;
  for (uint32_t i = 0; i < n; i++)
    if (of(v[i]) > h) h = of(v[i]);
  return h;
}

uint32_t cedar__expr_height(const cedar__expr *e) {
  uint32_t h = 0;
  switch (e->kind) {
  case CEDAR__X_LIT:
  case CEDAR__X_VAR: break;
  case CEDAR__X_IF:
  case CEDAR__X_AND:
  case CEDAR__X_OR:
  case CEDAR__X_NOT:
  case CEDAR__X_NEG:
  case CEDAR__X_EQ:
  case CEDAR__X_NE:
  case CEDAR__X_LT:
  case CEDAR__X_LE:
  case CEDAR__X_GT:
  case CEDAR__X_GE:
  case CEDAR__X_IN:
  case CEDAR__X_ADD:
  case CEDAR__X_SUB:
  case CEDAR__X_MUL: {
    const cedar__expr *const ops[3] = {e->u.op.a, e->u.op.b, e->u.op.c};
    h = tallest(ops, 3);
    break;
  }
  case CEDAR__X_HAS:
  case CEDAR__X_GETATTR: h = of(e->u.attr.e); break;
  case CEDAR__X_LIKE: h = of(e->u.like.e); break;
  case CEDAR__X_IS: h = of(e->u.is.e) > of(e->u.is.in) ? of(e->u.is.e) : of(e->u.is.in); break;
  case CEDAR__X_SET: h = tallest(e->u.list.items, e->u.list.n); break;
  case CEDAR__X_RECORD: h = tallest(e->u.rec.vals, e->u.rec.n); break;
  case CEDAR__X_CALL: h = tallest(e->u.call.args, e->u.call.n); break;
  }
  /* Saturates: a height past any limit only has to stay past it. */
  return h < UINT32_MAX ? h + 1 : h;
}
