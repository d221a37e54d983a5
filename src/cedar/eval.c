/* SPDX-License-Identifier: Apache-2.0
 *
 * STUB: placeholder so the tree links; replaced by the real implementation.
 */
#include "cedar_int.h"

int cedar_evaluate(const char *expr, size_t len, const cedar_entities *es, const cedar_request *rq, char **out, cedar_diags *diags) { (void)expr; (void)len; (void)es; (void)rq; (void)out; (void)diags; return -WD_E_INTERNAL; }
int cedar__eval_fail(cedar__evalctx *cx, const char *fmt, ...) { (void)cx; (void)fmt; return -WD_E_INTERNAL; }
int cedar__eval(cedar__evalctx *cx, const cedar__expr *e, cedar__val *out) { (void)cx; (void)e; (void)out; return -WD_E_INTERNAL; }
int cedar__scope_matches(cedar__evalctx *cx, const cedar__policy *p) { (void)cx; (void)p; return -WD_E_INTERNAL; }
int cedar__policy_eval(cedar__evalctx *cx, const cedar__policy *p, int *sat) { (void)cx; (void)p; (void)sat; return -WD_E_INTERNAL; }
