/* SPDX-License-Identifier: Apache-2.0
 *
 * Fuzz target for the EST reader and writer: any JSON input either fails
 * cleanly or loads into a set whose EST, loaded again, writes the same
 * EST; and the set's Cedar text must parse. Any mismatch traps.
 */
#include <stdint.h>
#include <string.h>

#include "cedar/cedar_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 65536) return 0;
  cedar_psbuilder *b = cedar_psbuilder_new();
  cedar_diags *d = cedar_diags_new();
  cedar_policyset *ps = NULL, *ps2 = NULL;
  wd_arena *a = NULL;
  char *est = NULL, *est2 = NULL, *text = NULL;
  if (!b || !d) goto out;
  if (cedar_psbuilder_add_est(b, (const char *)data, size, d) != 0) goto out;
  if (cedar_psbuilder_build(b, &ps) != 0) goto out;
  if (cedar_policyset_to_est(ps, &est) != 0) goto out;
  if (cedar_psbuilder_add_est(b, est, strlen(est), d) != 0) __builtin_trap();
  if (cedar_psbuilder_build(b, &ps2) != 0) goto out;
  if (cedar_policyset_to_est(ps2, &est2) != 0) goto out;
  if (strcmp(est, est2) != 0) __builtin_trap();
  if (cedar_policyset_format(ps, &text) != 0) goto out;
  /* Parsed without the set's id checks: two policies may share an @id. */
  a = wd_arena_new(64u << 20);
  cedar__policy **pp = NULL;
  uint32_t n = 0;
  if (a && cedar__parse_policies(a, text, strlen(text), 0, &pp, &n, NULL) != 0) __builtin_trap();
out:
  cedar_free(est);
  cedar_free(est2);
  cedar_free(text);
  cedar_policyset_unref(ps);
  cedar_policyset_unref(ps2);
  wd_arena_free(a);
  cedar_diags_free(d);
  cedar_psbuilder_free(b);
  return 0;
}
