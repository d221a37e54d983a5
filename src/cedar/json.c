/* SPDX-License-Identifier: Apache-2.0
 *
 * STUB: placeholder so the tree links; replaced by the real implementation.
 */
#include "cedar_int.h"

int cedar__json_load(const char *text, size_t len, json_t **out, cedar_diags *diags) { (void)text; (void)len; (void)out; (void)diags; return -WD_E_INTERNAL; }
int cedar__json_uid(wd_arena *a, const json_t *j, const char *path, const cedar__uid **out, cedar_diags *diags) { (void)a; (void)j; (void)path; (void)out; (void)diags; return -WD_E_INTERNAL; }
int cedar__json_val(wd_arena *a, const json_t *j, const char *path, cedar__val *out, cedar_diags *diags) { (void)a; (void)j; (void)path; (void)out; (void)diags; return -WD_E_INTERNAL; }
