/* SPDX-License-Identifier: Apache-2.0
 *
 * The validator's type lattice: conversion from schema types, the strict
 * least upper bound, printing as Cedar's validator does, and the schema
 * hierarchy questions the typing rules ask. It does not type expressions
 * (validate_expr.c does).
 */
#include <stddef.h>
#include <string.h>

#include "cedar_validate.h"
#include "../util/wd_alloc.h"

const cedar__vtype cedar__vt_bool_any = {.kind = CEDAR__T_BOOL, .b = CEDAR__VB_ANY};
const cedar__vtype cedar__vt_bool_tt = {.kind = CEDAR__T_BOOL, .b = CEDAR__VB_TT};
const cedar__vtype cedar__vt_bool_ff = {.kind = CEDAR__T_BOOL, .b = CEDAR__VB_FF};
const cedar__vtype cedar__vt_long = {.kind = CEDAR__T_LONG};
const cedar__vtype cedar__vt_string = {.kind = CEDAR__T_STRING};

#define XT(n)                                                                                      \
  {                                                                                                \
    .kind = CEDAR__T_EXT, .name = { n, sizeof n - 1 }                                              \
  }
static const cedar__vtype ext_types[] = {XT("decimal"), XT("ipaddr"), XT("datetime"),
                                         XT("duration")};
#undef XT

const cedar__vtype *cedar__vt_bool(cedar__vbool b) {
  switch (b) {
  case CEDAR__VB_ANY: return &cedar__vt_bool_any;
  case CEDAR__VB_TT: return &cedar__vt_bool_tt;
  case CEDAR__VB_FF: return &cedar__vt_bool_ff;
  }
  return &cedar__vt_bool_any;
}

const cedar__vtype *cedar__vt_ext(cedar__str name) {
  for (size_t i = 0; i < sizeof ext_types / sizeof ext_types[0]; i++)
    if (cedar__str_eq(ext_types[i].name, name)) return &ext_types[i];
  return NULL;
}

const cedar__vtype *cedar__vt_entity(wd_arena *a, cedar__str name) {
  cedar__vtype *t = wd_arena_calloc(a, 1, sizeof *t);
  if (!t) return NULL;
  t->kind = CEDAR__T_ENTITY;
  t->name = name;
  return t;
}

const cedar__vtype *cedar__vt_set(wd_arena *a, const cedar__vtype *elem) {
  cedar__vtype *t = wd_arena_calloc(a, 1, sizeof *t);
  if (!t) return NULL;
  t->kind = CEDAR__T_SET;
  t->elem = elem;
  return t;
}

const cedar__vtype *cedar__vt_from_schema(wd_arena *a, const cedar__type *st) {
  switch (st->kind) {
  case CEDAR__T_BOOL: return &cedar__vt_bool_any;
  case CEDAR__T_LONG: return &cedar__vt_long;
  case CEDAR__T_STRING: return &cedar__vt_string;
  case CEDAR__T_EXT: {
    const cedar__vtype *t = cedar__vt_ext(st->name);
    return t ? t : cedar__vt_entity(a, st->name);
  }
  case CEDAR__T_ENTITY: return cedar__vt_entity(a, st->name);
  case CEDAR__T_SET: {
    const cedar__vtype *e = cedar__vt_from_schema(a, st->elem);
    return e ? cedar__vt_set(a, e) : NULL;
  }
  case CEDAR__T_RECORD: {
    cedar__vtype *t = wd_arena_calloc(a, 1, sizeof *t);
    cedar__vattr *at = st->nattrs ? wd_arena_calloc(a, st->nattrs, sizeof *at) : NULL;
    if (!t || (st->nattrs && !at)) return NULL;
    for (uint32_t i = 0; i < st->nattrs; i++) {
      at[i].name = st->attrs[i].name;
      at[i].required = st->attrs[i].required;
      at[i].t = cedar__vt_from_schema(a, st->attrs[i].type);
      if (!at[i].t) return NULL;
    }
    t->kind = CEDAR__T_RECORD;
    t->attrs = at;
    t->nattrs = st->nattrs;
    t->open = st->open;
    return t;
  }
  }
  return NULL;
}

_Static_assert(offsetof(cedar__vattr, name) == 0, "cedar__str_find reads the name first");

const cedar__vattr *cedar__vt_attr(const cedar__vtype *rec, cedar__str name) {
  uint32_t i;
  return cedar__str_find(rec->attrs, sizeof *rec->attrs, rec->nattrs, name, &i) ? &rec->attrs[i]
                                                                                : NULL;
}

static const cedar__vtype *lub_record(wd_arena *a, const cedar__vtype *x, const cedar__vtype *y,
                                      int *nomem) {
  /* Strict mode: both records must list the same attributes, with the
   * same qualifiers. */
  if (x->nattrs != y->nattrs) return NULL;
  cedar__vtype *t = wd_arena_calloc(a, 1, sizeof *t);
  cedar__vattr *at = x->nattrs ? wd_arena_calloc(a, x->nattrs, sizeof *at) : NULL;
  if (!t || (x->nattrs && !at)) {
    *nomem = 1;
    return NULL;
  }
  for (uint32_t i = 0; i < x->nattrs; i++) {
    if (!cedar__str_eq(x->attrs[i].name, y->attrs[i].name)) return NULL;
    if (x->attrs[i].required != y->attrs[i].required) return NULL;
    at[i].name = x->attrs[i].name;
    at[i].required = x->attrs[i].required;
    at[i].t = cedar__vt_lub(a, x->attrs[i].t, y->attrs[i].t, nomem);
    if (!at[i].t) return NULL;
  }
  t->kind = CEDAR__T_RECORD;
  t->attrs = at;
  t->nattrs = x->nattrs;
  t->open = x->open || y->open;
  return t;
}

const cedar__vtype *cedar__vt_lub(wd_arena *a, const cedar__vtype *x, const cedar__vtype *y,
                                  int *nomem) {
  if (x == y) return x;
  if (x->kind != y->kind) return NULL;
  switch (x->kind) {
  case CEDAR__T_BOOL: return x->b == y->b ? x : &cedar__vt_bool_any;
  case CEDAR__T_LONG:
  case CEDAR__T_STRING: return x;
  case CEDAR__T_ENTITY:
  case CEDAR__T_EXT: return cedar__str_eq(x->name, y->name) ? x : NULL;
  case CEDAR__T_SET: {
    const cedar__vtype *e = cedar__vt_lub(a, x->elem, y->elem, nomem);
    if (!e) return NULL;
    if (e == x->elem) return x;
    const cedar__vtype *t = cedar__vt_set(a, e);
    if (!t) *nomem = 1;
    return t;
  }
  case CEDAR__T_RECORD: return lub_record(a, x, y, nomem);
  }
  return NULL;
}

void cedar__vt_print(wd_buf *b, const cedar__vtype *t) {
  /* Messages are best effort: a buffer past its cap holds nothing, and
   * the caller names the type another way. */
  int rc = 0;
  switch (t->kind) {
  case CEDAR__T_BOOL:
    rc = wd_buf_adds(b, t->b == CEDAR__VB_TT   ? "__cedar::internal::True"
                        : t->b == CEDAR__VB_FF ? "__cedar::internal::False"
                                               : "Bool");
    break;
  case CEDAR__T_LONG: rc = wd_buf_adds(b, "Long"); break;
  case CEDAR__T_STRING: rc = wd_buf_adds(b, "String"); break;
  case CEDAR__T_ENTITY:
  case CEDAR__T_EXT: rc = wd_buf_add(b, t->name.p, t->name.n); break;
  case CEDAR__T_SET:
    rc = wd_buf_adds(b, "Set<");
    cedar__vt_print(b, t->elem);
    rc |= wd_buf_addc(b, '>');
    break;
  case CEDAR__T_RECORD:
    rc = wd_buf_addc(b, '{');
    for (uint32_t i = 0; i < t->nattrs && rc == 0; i++) {
      rc |= wd_buf_add(b, t->attrs[i].name.p, t->attrs[i].name.n);
      rc |= wd_buf_adds(b, t->attrs[i].required ? ": " : "?: ");
      cedar__vt_print(b, t->attrs[i].t);
      rc |= wd_buf_addc(b, ',');
    }
    rc |= wd_buf_addc(b, '}');
    break;
  }
  (void)rc;
}

/* Depth-first search over memberOfTypes; the visited marks bound the walk
 * even when the declared hierarchy has cycles. */
int cedar__vt_entity_desc(const cedar_schema *s, cedar__str a, cedar__str b) {
  if (cedar__str_eq(a, b)) return 1;
  if (!s->nentities) return 0;
  const cedar__sentity *start = cedar__schema_entity(s, a);
  if (!start) return 0;
  uint8_t small[256];
  uint32_t *stack = NULL;
  uint8_t *seen = s->nentities <= sizeof small ? small : wd_malloc(s->nentities);
  stack = wd_malloc((size_t)s->nentities * sizeof *stack);
  int found = 0;
  if (!seen || !stack) goto done;
  memset(seen, 0, s->nentities);
  uint32_t sp = 0;
  uint32_t si = (uint32_t)(start - s->entities);
  seen[si] = 1;
  stack[sp++] = si;
  while (sp && !found) {
    const cedar__sentity *e = &s->entities[stack[--sp]];
    for (uint32_t i = 0; i < e->nparents && !found; i++) {
      if (cedar__str_eq(e->parents[i], b)) {
        found = 1;
        break;
      }
      const cedar__sentity *p = cedar__schema_entity(s, e->parents[i]);
      if (!p) continue;
      uint32_t pi = (uint32_t)(p - s->entities);
      if (seen[pi]) continue;
      seen[pi] = 1;
      stack[sp++] = pi;
    }
  }
done:
  if (seen != small) wd_free(seen);
  wd_free(stack);
  return found;
}

int cedar__vt_action_desc(const cedar_schema *s, const cedar__uid *a, const cedar__uid *b) {
  if (cedar__uid_eq(a, b)) return 1;
  const cedar__saction *start = cedar__schema_action(s, a);
  if (!start || !s->nactions) return 0;
  uint8_t *seen = wd_calloc(s->nactions, 1);
  uint32_t *stack = wd_malloc((size_t)s->nactions * sizeof *stack);
  int found = 0;
  if (!seen || !stack) goto done;
  uint32_t sp = 0;
  uint32_t si = (uint32_t)(start - s->actions);
  seen[si] = 1;
  stack[sp++] = si;
  while (sp && !found) {
    const cedar__saction *e = &s->actions[stack[--sp]];
    for (uint32_t i = 0; i < e->nparents && !found; i++) {
      if (cedar__uid_eq(e->parents[i], b)) {
        found = 1;
        break;
      }
      const cedar__saction *p = cedar__schema_action(s, e->parents[i]);
      if (!p) continue;
      uint32_t pi = (uint32_t)(p - s->actions);
      if (seen[pi]) continue;
      seen[pi] = 1;
      stack[sp++] = pi;
    }
  }
done:
  wd_free(seen);
  wd_free(stack);
  return found;
}

int cedar__vt_is_action_type(const cedar_schema *s, cedar__str name) {
  for (uint32_t i = 0; i < s->nactions; i++)
    if (cedar__str_eq(s->actions[i].uid->type, name)) return 1;
  return 0;
}
