/* SPDX-License-Identifier: Apache-2.0
 *
 * STUB: placeholder so the tree links; replaced by the real implementation.
 */
#include "cedar_int.h"

int cedar__parse_policies(wd_arena *a, const char *src, size_t len, uint32_t first_index, cedar__policy ***out, uint32_t *n, cedar_diags *diags) { (void)a; (void)src; (void)len; (void)first_index; (void)out; (void)n; (void)diags; return -WD_E_INTERNAL; }
int cedar__parse_expr(wd_arena *a, const char *src, size_t len, const cedar__expr **out, cedar_diags *diags) { (void)a; (void)src; (void)len; (void)out; (void)diags; return -WD_E_INTERNAL; }
int cedar__parse_uid(wd_arena *a, const char *src, size_t len, const cedar__uid **out, cedar_diags *diags) { (void)a; (void)src; (void)len; (void)out; (void)diags; return -WD_E_INTERNAL; }
int cedar__unescape(wd_arena *a, const char *s, size_t n, cedar__str *out, uint32_t *bad_off) { (void)a; (void)s; (void)n; (void)out; (void)bad_off; return -WD_E_INTERNAL; }
int cedar__parse_pattern(wd_arena *a, const char *s, size_t n, const cedar__patelem **out, uint32_t *nout, uint32_t *bad_off) { (void)a; (void)s; (void)n; (void)out; (void)nout; (void)bad_off; return -WD_E_INTERNAL; }
