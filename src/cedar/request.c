/* SPDX-License-Identifier: Apache-2.0
 *
 * STUB: placeholder so the tree links; replaced by the real implementation.
 */
#include "cedar_int.h"

int cedar_request_from_json(const char *json, size_t len, const cedar_schema *schema, cedar_request **out, cedar_diags *diags) { (void)json; (void)len; (void)schema; (void)out; (void)diags; return -WD_E_INTERNAL; }
int cedar_request_new(const char *principal, const char *action, const char *resource, const char *context_json, size_t context_len, const cedar_schema *schema, cedar_request **out, cedar_diags *diags) { (void)principal; (void)action; (void)resource; (void)context_json; (void)context_len; (void)schema; (void)out; (void)diags; return -WD_E_INTERNAL; }
void cedar_request_free(cedar_request *rq) { (void)rq;  }
