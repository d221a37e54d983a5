/* SPDX-License-Identifier: Apache-2.0
 *
 * Capabilities of the strict validator: the facts `e has a` and
 * `e.hasTag(t)` that a guard has proven, which make reading an optional
 * attribute or a tag safe. Sets are small immutable arrays in the policy's
 * scratch arena; expressions are compared structurally, as Cedar does.
 */
#include <string.h>

#include "cedar_validate.h"

static int cap_eq(const cedar__vcap *c, const cedar__expr *on, cedar__str attr,
                  const cedar__expr *tag) {
  if ((c->tag == NULL) != (tag == NULL)) return 0;
  if (tag) {
    if (!cedar__expr_equal(c->tag, tag)) return 0;
  } else if (!cedar__str_eq(c->attr, attr)) {
    return 0;
  }
  return cedar__expr_equal(c->on, on);
}

int cedar__vcaps_has(cedar__vcaps c, const cedar__expr *on, cedar__str attr,
                     const cedar__expr *tag) {
  for (uint32_t i = 0; i < c.n; i++)
    if (cap_eq(&c.v[i], on, attr, tag)) return 1;
  return 0;
}

int cedar__vcaps_one(wd_arena *a, const cedar__expr *on, cedar__str attr, const cedar__expr *tag,
                     cedar__vcaps *out) {
  cedar__vcap *v = wd_arena_alloc(a, sizeof *v);
  if (!v) return -WD_E_NOMEM;
  v->on = on;
  v->attr = attr;
  v->tag = tag;
  out->v = v;
  out->n = 1;
  return 0;
}

int cedar__vcaps_union(wd_arena *a, cedar__vcaps x, cedar__vcaps y, cedar__vcaps *out) {
  if (!y.n) {
    *out = x;
    return 0;
  }
  if (!x.n) {
    *out = y;
    return 0;
  }
  cedar__vcap *v = wd_arena_alloc(a, ((size_t)x.n + y.n) * sizeof *v);
  if (!v) return -WD_E_NOMEM;
  memcpy(v, x.v, x.n * sizeof *v);
  uint32_t n = x.n;
  for (uint32_t i = 0; i < y.n; i++)
    if (!cedar__vcaps_has(x, y.v[i].on, y.v[i].attr, y.v[i].tag)) v[n++] = y.v[i];
  out->v = v;
  out->n = n;
  return 0;
}

int cedar__vcaps_inter(wd_arena *a, cedar__vcaps x, cedar__vcaps y, cedar__vcaps *out) {
  out->v = NULL;
  out->n = 0;
  if (!x.n || !y.n) return 0;
  cedar__vcap *v = wd_arena_alloc(a, x.n * sizeof *v);
  if (!v) return -WD_E_NOMEM;
  uint32_t n = 0;
  for (uint32_t i = 0; i < x.n; i++)
    if (cedar__vcaps_has(y, x.v[i].on, x.v[i].attr, x.v[i].tag)) v[n++] = x.v[i];
  out->v = v;
  out->n = n;
  return 0;
}
