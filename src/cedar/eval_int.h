/* SPDX-License-Identifier: Apache-2.0
 *
 * Helpers shared by the evaluator's files (eval.c, eval_policy.c) and the
 * extension files through ext_int.h: the reference's error wording and the
 * `in` operator.
 */
#ifndef CEDAR_EVAL_INT_H
#define CEDAR_EVAL_INT_H

#include <stddef.h>

#include "cedar_int.h"

/* Records "type error: expected <expected>, got <kind of got>". */
int cedar__eval_type_err(cedar__evalctx *cx, const char *expected, const cedar__val *got);
/* Cedar text of uid for messages, truncated to n bytes. */
void cedar__eval_uid_text(const cedar__uid *uid, char *buf, size_t n);
/* `l in r` on evaluated operands; sets *res or records a type error. */
int cedar__eval_in(cedar__evalctx *cx, const cedar__val *l, const cedar__val *r, int *res);

#endif
