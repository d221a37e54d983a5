/* SPDX-License-Identifier: Apache-2.0
 *
 * Fuzz target: the .cedarschema reader and the schema translations. The
 * input is read as schema text and, separately, as a JSON schema. Text
 * that translates must round-trip (text -> JSON -> text -> JSON gives the
 * same JSON); nothing may crash, leak or hang.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cedar/cedar_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *src = (const char *)data;
  cedar_diags *d = cedar_diags_new();
  cedar_schema *s = NULL;
  char *j1 = NULL, *t = NULL, *j2 = NULL, *t2 = NULL;
  if (!d) return 0;
  if (cedar_schema_parse(src, size, &s, d) == 0) cedar_schema_free(s);
  cedar_diags_clear(d);
  if (cedar_schema_text_to_json(src, size, &j1, d) == 0) {
    /* A schema that translates once must translate back and forth. */
    if (cedar_schema_json_to_text(j1, strlen(j1), &t, d) != 0 ||
        cedar_schema_text_to_json(t, strlen(t), &j2, d) != 0 || strcmp(j1, j2) != 0)
      abort();
  }
  cedar_diags_clear(d);
  if (cedar_schema_json_to_text(src, size, &t2, d) != 0) t2 = NULL;
  cedar_free(j1);
  cedar_free(t);
  cedar_free(j2);
  cedar_free(t2);
  cedar_diags_free(d);
  return 0;
}
