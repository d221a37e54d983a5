/* SPDX-License-Identifier: Apache-2.0
 *
 * Fuzz target for the Cedar policy text parser: arbitrary bytes either
 * parse into well-formed policies or fail with at least one diagnostic
 * located inside the input. The same bytes also go through the expression
 * and uid entry points. Any broken invariant traps.
 */
#include <stdint.h>
#include <string.h>

#include "cedar/cedar_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_diags(const cedar_diags *d, size_t size) {
  if (cedar_diags_count(d) == 0) __builtin_trap();
  for (size_t i = 0; i < cedar_diags_count(d); i++) {
    const cedar_diag *g = cedar_diags_get(d, i);
    if (g->off > size || g->line == 0 || g->msg[0] == '\0') __builtin_trap();
  }
}

static void check_scope(const cedar__scope *sc, int *slots) {
  switch (sc->kind) {
  case CEDAR__SC_ANY: return;
  case CEDAR__SC_IS:
    if (sc->type.n == 0) __builtin_trap();
    return;
  case CEDAR__SC_EQ:
  case CEDAR__SC_IN:
  case CEDAR__SC_IS_IN:
    if (sc->slot == CEDAR__SLOT_NONE && !sc->uid) __builtin_trap();
    if (sc->slot != CEDAR__SLOT_NONE) (*slots)++;
    return;
  case CEDAR__SC_IN_SET:
    for (uint32_t i = 0; i < sc->nuids; i++)
      if (!sc->uids[i]) __builtin_trap();
    return;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 65536) return 0;
  const char *src = (const char *)data;
  wd_arena *a = wd_arena_new(64u << 20);
  cedar_diags *d = cedar_diags_new();
  if (!a || !d) goto out;
  cedar__policy **ps = NULL;
  uint32_t n = 0;
  int rc = cedar__parse_policies(a, src, size, 3, &ps, &n, d);
  if (rc == 0) {
    if (cedar_diags_count(d) != 0) __builtin_trap();
    for (uint32_t i = 0; i < n; i++) {
      const cedar__policy *p = ps[i];
      int slots = 0;
      if (!p || p->id.n == 0 || !p->id.p) __builtin_trap();
      if ((size_t)p->off + p->len > size || p->len == 0) __builtin_trap();
      check_scope(&p->principal, &slots);
      check_scope(&p->action, &slots);
      check_scope(&p->resource, &slots);
      if ((slots > 0) != (p->is_template != 0)) __builtin_trap();
      for (uint32_t c = 0; c < p->nconds; c++)
        if (!p->conds[c].e) __builtin_trap();
    }
  } else if (rc == -WD_E_PARSE || rc == -WD_E_TOOBIG) {
    check_diags(d, size);
  } else if (rc != -WD_E_NOMEM) {
    __builtin_trap();
  }

  cedar_diags_clear(d);
  const cedar__expr *e = NULL;
  rc = cedar__parse_expr(a, src, size, &e, d);
  if (rc == 0 && !e) __builtin_trap();
  if (rc == -WD_E_PARSE) check_diags(d, size);

  cedar_diags_clear(d);
  const cedar__uid *u = NULL;
  rc = cedar__parse_uid(a, src, size, &u, d);
  if (rc == 0 && (!u || u->type.n == 0)) __builtin_trap();
  if (rc == -WD_E_PARSE) check_diags(d, size);
out:
  cedar_diags_free(d);
  wd_arena_free(a);
  return 0;
}
