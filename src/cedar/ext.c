/* SPDX-License-Identifier: Apache-2.0
 *
 * The table of callable functions and methods, and the argument checks the
 * extension files share. The parser resolves names through the table and
 * the evaluator dispatches through it; the behaviour of each entry lives in
 * ext_builtin.c, ext_decimal.c, ext_ipaddr.c, ext_datetime.c and
 * ext_duration.c. Arity is checked by the caller, not here.
 */
#include <string.h>

#include "ext_int.h"

const cedar__fninfo cedar__fn_table[CEDAR__F__COUNT] = {
#define XX(id, nm, method, ar) [CEDAR__F_##id] = {nm, method, ar, cedar__ext_##id},
    CEDAR__FN_MAP(XX)
#undef XX
};

int cedar__fn_lookup(const char *name, size_t n, int is_method) {
  for (int i = 0; i < CEDAR__F__COUNT; i++) {
    const cedar__fninfo *f = &cedar__fn_table[i];
    if (f->is_method == (is_method != 0) && strlen(f->name) == n && memcmp(f->name, name, n) == 0)
      return i;
  }
  return -1;
}

int cedar__ext_want(cedar__evalctx *cx, const cedar__val *v, cedar__vkind k, const char *want) {
  return v->kind == k ? 0 : cedar__eval_type_err(cx, want, v);
}

int cedar__ext_cmp(const cedar__val *a, const cedar__val *b, int *out) {
  if (a->kind != b->kind) return -1;
  switch (a->kind) {
  case CEDAR__V_LONG:
  case CEDAR__V_DATETIME:
  case CEDAR__V_DURATION: *out = a->u.i < b->u.i ? -1 : a->u.i > b->u.i; return 0;
  case CEDAR__V_BOOL:
  case CEDAR__V_STRING:
  case CEDAR__V_ENTITY:
  case CEDAR__V_SET:
  case CEDAR__V_RECORD:
  case CEDAR__V_DECIMAL:
  case CEDAR__V_IPADDR: break;
  }
  return -1;
}
