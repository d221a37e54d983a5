/* SPDX-License-Identifier: Apache-2.0
 *
 * STUB: placeholder so the tree links; replaced by the real implementation.
 */
#include "cedar_int.h"

int cedar__index_build(const cedar_policyset *ps, cedar__index **out) { (void)ps; *out = NULL; return -WD_E_INTERNAL; }
void cedar__index_free(cedar__index *ix) { (void)ix; }
int cedar__index_candidates(const cedar__index *ix, const cedar_entities *es, const cedar_request *rq,
                            int (*fn)(void *arg, const cedar__policy *p), void *arg) {
  (void)ix; (void)es; (void)rq; (void)fn; (void)arg; return -WD_E_INTERNAL;
}
