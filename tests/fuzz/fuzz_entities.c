/* SPDX-License-Identifier: Apache-2.0
 *
 * Fuzz target: the entities loader (JSON text parser, value conversion,
 * hierarchy closure). On success it also probes lookups and `in` so the
 * closure is exercised; it must never crash, leak or hang.
 */
#include <stddef.h>
#include <stdint.h>

#include "cedar/cedar_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cedar_diags *d = cedar_diags_new();
  cedar_entities *es = NULL;
  if (cedar_entities_from_json((const char *)data, size, NULL, &es, d) == 0) {
    cedar__uid a = {cedar__cstr("User"), cedar__cstr("alice")};
    cedar__uid b = {cedar__cstr("Group"), cedar__cstr("eng")};
    (void)cedar__entities_find(es, &a);
    (void)cedar__entities_in(es, &a, &b);
    (void)cedar_entities_count(es);
  }
  cedar_entities_free(es);
  cedar_diags_free(d);
  return 0;
}
