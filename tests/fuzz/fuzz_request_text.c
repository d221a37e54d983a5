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
#include "request_text_schema.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static cedar_schema *s;
  if (!s && cedar_schema_parse(REQUEST_TEXT_SCHEMA, strlen(REQUEST_TEXT_SCHEMA), &s, NULL) != 0)
    abort();
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
