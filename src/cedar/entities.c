/* SPDX-License-Identifier: Apache-2.0
 *
 * STUB: placeholder so the tree links; replaced by the real implementation.
 */
#include "cedar_int.h"

int cedar_entities_from_json(const char *json, size_t len, const cedar_schema *schema, cedar_entities **out, cedar_diags *diags) { (void)json; (void)len; (void)schema; (void)out; (void)diags; return -WD_E_INTERNAL; }
cedar_entities * cedar_entities_empty(void) { return NULL; }
void cedar_entities_free(cedar_entities *es) { (void)es;  }
size_t cedar_entities_count(const cedar_entities *es) { (void)es; return 0; }
const cedar__entity * cedar__entities_find(const cedar_entities *es, const cedar__uid *uid) { (void)es; (void)uid; return NULL; }
int cedar__entities_in(const cedar_entities *es, const cedar__uid *a, const cedar__uid *b) { (void)es; (void)a; (void)b; return -WD_E_INTERNAL; }
