/* SPDX-License-Identifier: Apache-2.0
 *
 * STUB: placeholder so the tree links; replaced by the real implementation.
 */
#include "cedar_int.h"

int cedar_policyset_format(const cedar_policyset *ps, char **out) { (void)ps; (void)out; return -WD_E_INTERNAL; }
int cedar_format_source(const char *src, size_t len, char **out, cedar_diags *diags) { (void)src; (void)len; (void)out; (void)diags; return -WD_E_INTERNAL; }
int cedar__format_policy(wd_buf *b, const cedar__policy *p) { (void)b; (void)p; return -WD_E_INTERNAL; }
int cedar__format_expr(wd_buf *b, const cedar__expr *e) { (void)b; (void)e; return -WD_E_INTERNAL; }
int cedar__policy_equal(const cedar__policy *a, const cedar__policy *b) { (void)a; (void)b; return -WD_E_INTERNAL; }
int cedar__expr_equal(const cedar__expr *a, const cedar__expr *b) { (void)a; (void)b; return -WD_E_INTERNAL; }
