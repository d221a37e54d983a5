/* SPDX-License-Identifier: Apache-2.0
 *
 * STUB: placeholder so the tree links; replaced by the real implementation.
 */
#include "cedar_int.h"

int cedar_authorize(const cedar_policyset *ps, const cedar_entities *es, const cedar_request *rq, const cedar_authz_opts *opts, cedar_response **out) { (void)ps; (void)es; (void)rq; (void)opts; (void)out; return -WD_E_INTERNAL; }
cedar_decision cedar_response_decision(const cedar_response *r) { (void)r; return CEDAR_DENY; }
size_t cedar_response_reason_count(const cedar_response *r) { (void)r; return 0; }
const char * cedar_response_reason(const cedar_response *r, size_t i) { (void)r; (void)i; return NULL; }
size_t cedar_response_error_count(const cedar_response *r) { (void)r; return 0; }
const char * cedar_response_error_policy(const cedar_response *r, size_t i) { (void)r; (void)i; return NULL; }
const char * cedar_response_error_message(const cedar_response *r, size_t i) { (void)r; (void)i; return NULL; }
void cedar_response_free(cedar_response *r) { (void)r;  }
