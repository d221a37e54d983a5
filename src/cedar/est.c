/* SPDX-License-Identifier: Apache-2.0
 *
 * STUB: placeholder so the tree links; replaced by the real implementation.
 */
#include "cedar_int.h"

int cedar_psbuilder_add_est(cedar_psbuilder *b, const char *json, size_t len, cedar_diags *diags) { (void)b; (void)json; (void)len; (void)diags; return -WD_E_INTERNAL; }
int cedar_policyset_to_est(const cedar_policyset *ps, char **out) { (void)ps; (void)out; return -WD_E_INTERNAL; }
json_t * cedar__est_from_policy(const cedar__policy *p) { (void)p; return NULL; }
int cedar__est_to_policy(wd_arena *a, const json_t *j, const char *path, cedar__policy **out, cedar_diags *diags) { (void)a; (void)j; (void)path; (void)out; (void)diags; return -WD_E_INTERNAL; }
