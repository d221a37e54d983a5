/* SPDX-License-Identifier: Apache-2.0
 *
 * Fuzz target: the one-pass request reader (request_text.c) against the
 * general one, on a schema with every kind of type. A request the
 * one-pass reader takes must be accepted by the general reader and be
 * the same request; anything else aborts.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cedar/cedar_int.h"
#include "cedar/cedar_schema_ent.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char SCHEMA[] =
    "entity User;\n"
    "entity Doc;\n"
    "entity Color enum [\"red\", \"green\"];\n"
    "type Info = {n: Long, tags: Set<String>, who: User, s?: String, col?: Color,\n"
    "  when?: datetime, ip?: ipaddr, amt?: decimal, age?: duration,\n"
    "  inner?: {flag: Bool, docs?: Set<Doc>, deep?: Set<Set<Long>>}};\n"
    "action view appliesTo { principal: [User], resource: [Doc], context: Info };\n"
    "action ping appliesTo { principal: [User], resource: [Doc, User], context: {} };\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static cedar_schema *s;
  if (!s && cedar_schema_parse(SCHEMA, strlen(SCHEMA), &s, NULL) != 0) abort();
  cedar_request *fast = NULL, *tree = NULL;
  int rc = cedar__request_from_text((const char *)data, size, s, &fast);
  if (rc == 0) {
    if (cedar__request_from_tree((const char *)data, size, s, 1, &tree, NULL) != 0 ||
        !cedar__request_same(fast, tree))
      abort();
  } else if (rc != CEDAR__DECLINE && rc != -WD_E_NOMEM) {
    abort();
  }
  cedar_request_free(fast);
  cedar_request_free(tree);
  return 0;
}
