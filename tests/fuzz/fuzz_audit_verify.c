/* SPDX-License-Identifier: Apache-2.0
 *
 * Fuzz target for the evidence-log verifier on an exported log (JSON
 * lines, attacker-controlled when a log is handed over for audit).
 * Invariants: the verifier returns 0 (intact), -WD_E_VALIDATE with a
 * first broken seq and a reason, or a resource error; an intact verdict
 * counts exactly one record per non-empty line; a broken seq never lies
 * beyond the records that verified plus one. The same text as a segment
 * (no anchor) is intact whenever the whole is, with the same last hash,
 * and an intact segment also counts one record per line.
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
  wd_audit_report seg;
  int src = wd_audit_verify_jsonl_from((const char *)data, size, NULL, 0, &seg);
  if (rc == 0 && (src != 0 || seg.records != rep.records || strcmp(seg.last_hash, rep.last_hash)))
    abort();
  if (src == 0 && (size_t)seg.records != lines) abort();
  if (src == -WD_E_VALIDATE && !seg.reason[0]) abort();
  if (src != 0 && src != -WD_E_VALIDATE && src != -WD_E_NOMEM && src != -WD_E_TOOBIG) abort();
  return 0;
}
