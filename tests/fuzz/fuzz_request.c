/* SPDX-License-Identifier: Apache-2.0
 *
 * Fuzz target: request JSON (uids in all three forms, context values with
 * escapes). On success the context is printed and converted back to JSON,
 * covering value_print.c as well.
 */
#include <stddef.h>
#include <stdint.h>

#include "cedar/cedar_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cedar_diags *d = cedar_diags_new();
  cedar_request *rq = NULL;
  if (cedar_request_from_json((const char *)data, size, NULL, &rq, d) == 0) {
    wd_buf b;
    wd_buf_init(&b, 1u << 20);
    (void)cedar__val_print(&b, &rq->context);
    wd_buf_free(&b);
    json_decref(cedar__val_to_json(&rq->context));
  }
  cedar_request_free(rq);
  cedar_diags_free(d);
  return 0;
}
