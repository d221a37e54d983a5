/* SPDX-License-Identifier: Apache-2.0
 *
 * Private header of the extension files (ext.c, ext_builtin.c,
 * ext_decimal.c, ext_ipaddr.c, ext_datetime.c, ext_duration.c): the
 * implementations the function table points at, and the argument checks
 * they share. Nothing outside those files includes it.
 */
#ifndef CEDAR_EXT_INT_H
#define CEDAR_EXT_INT_H

#include "cedar_int.h"
#include "eval_int.h" /* type errors and uid text share the evaluator's wording */

/* 0 when v has kind k, else a type error naming want. */
int cedar__ext_want(cedar__evalctx *cx, const cedar__val *v, cedar__vkind k, const char *want);

/* One prototype per table entry; see CEDAR__FN_MAP for names and arity. */
#define CEDAR__EXT_IMPL(id, nm, method, ar)                                                        \
  int cedar__ext_##id(cedar__evalctx *cx, const cedar__val *args, cedar__val *out);
CEDAR__FN_MAP(CEDAR__EXT_IMPL)
#undef CEDAR__EXT_IMPL

#endif
