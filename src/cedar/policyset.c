/* SPDX-License-Identifier: Apache-2.0
 *
 * STUB: placeholder so the tree links; replaced by the real implementation.
 */
#include "cedar_int.h"

cedar_psbuilder * cedar_psbuilder_new(void) { return NULL; }
void cedar_psbuilder_free(cedar_psbuilder *b) { (void)b;  }
int cedar_psbuilder_add_text(cedar_psbuilder *b, const char *src, size_t len, cedar_diags *diags) { (void)b; (void)src; (void)len; (void)diags; return -WD_E_INTERNAL; }
int cedar_psbuilder_link(cedar_psbuilder *b, const char *template_id, const char *new_id, const char *principal, const char *resource, cedar_diags *diags) { (void)b; (void)template_id; (void)new_id; (void)principal; (void)resource; (void)diags; return -WD_E_INTERNAL; }
int cedar_psbuilder_build(cedar_psbuilder *b, cedar_policyset **out) { (void)b; (void)out; return -WD_E_INTERNAL; }
int cedar_policyset_parse(const char *src, size_t len, cedar_policyset **out, cedar_diags *diags) { (void)src; (void)len; (void)out; (void)diags; return -WD_E_INTERNAL; }
cedar_policyset * cedar_policyset_ref(cedar_policyset *ps) { (void)ps; return NULL; }
void cedar_policyset_unref(cedar_policyset *ps) { (void)ps;  }
size_t cedar_policyset_count(const cedar_policyset *ps) { (void)ps; return 0; }
const char * cedar_policyset_policy_id(const cedar_policyset *ps, size_t i) { (void)ps; (void)i; return NULL; }
const char * cedar_policyset_annotation(const cedar_policyset *ps, const char *id, const char *key) { (void)ps; (void)id; (void)key; return NULL; }
wd_arena * cedar__psbuilder_arena(cedar_psbuilder *b) { (void)b; return NULL; }
uint32_t cedar__psbuilder_next_index(const cedar_psbuilder *b) { (void)b; return 0; }
int cedar__psbuilder_add(cedar_psbuilder *b, cedar__policy *p, cedar_diags *diags) { (void)b; (void)p; (void)diags; return -WD_E_INTERNAL; }
