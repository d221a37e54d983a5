/* SPDX-License-Identifier: Apache-2.0
 *
 * Fuzz target for the evidence-log verifier on an exported log (JSON
 * lines, attacker-controlled when a log is handed over for audit).
 * Invariants: the verifier returns 0 (intact), -WD_E_VALIDATE with a
 * first broken seq and a reason, or a resource error; an intact verdict
 * counts exactly one record per non-empty line; a broken seq never lies
 * beyond the records that verified plus one.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "audit/wd_audit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  wd_audit_report rep;
  size_t lines = 0;
  int rc = wd_audit_verify_jsonl((const char *)data, size, &rep);
  for (size_t i = 0; i < size; i++) {
    size_t start = i;
    while (i < size && data[i] != '\n')
      i++;
    lines += i > start;
  }
  switch (rc) {
  case 0:
    if (rep.bad_seq != 0 || rep.reason[0] || (size_t)rep.records != lines) abort();
    break;
  case -WD_E_VALIDATE:
    if (rep.bad_seq < 1 || rep.bad_seq > rep.records + 1 || !rep.reason[0] ||
        !memchr(rep.reason, '\0', sizeof rep.reason))
      abort();
    break;
  case -WD_E_NOMEM:
  case -WD_E_TOOBIG: break;
  default: abort();
  }
  return 0;
}
