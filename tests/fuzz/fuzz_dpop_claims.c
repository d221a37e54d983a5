/* SPDX-License-Identifier: Apache-2.0
 *
 * Fuzz target for the DPoP payload's flat reader (src/ident/dpop_claims.c):
 * whatever it takes, jansson must read the same way, and what it declines
 * must reach jansson unchanged.
 */
#include <stdint.h>
#include <stdlib.h>

#include "dpop_claims_agree.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (dpop_claims_agree((const char *)data, size) < 0) abort();
  return 0;
}
