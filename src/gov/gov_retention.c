/* SPDX-License-Identifier: Apache-2.0
 *
 * Retention: the reaper's pass that removes the rows of tasks that ended
 * long ago and of join tokens that expired long ago (wd_store_prune_plan).
 * Each pass is one store.pruned record whose effect removes exactly the
 * rows it counts, so the log says what went and when, and a pass that
 * fails removes nothing.
 */
#define _POSIX_C_SOURCE 200809L
#include "gov/gov_int.h"
#include "util/wd_limits.h"

int wd_gov__prune(wd_gov *g, int64_t now_ms, int *more) {
  wd_store_prune plan;
  *more = 0;
  if (g->retention_ms <= 0 || now_ms <= g->retention_ms) return 0;
  int rc =
      wd_store_prune_plan(g->store, now_ms - g->retention_ms, WD_LIMIT_STORE_PRUNE_ROWS, &plan);
  if (rc) {
    atomic_fetch_add_explicit(&g->counters.prune_failures, 1, memory_order_relaxed);
    return rc;
  }
  if (!plan.tasks && !plan.join_tokens && !plan.part) return 0;
  json_t *p = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "before_ms", (json_int_t)plan.before_ms,
                        "retention_s", (json_int_t)(g->retention_ms / 1000), "tasks",
                        (json_int_t)plan.tasks, "tokens", (json_int_t)plan.tokens, "session_rows",
                        (json_int_t)plan.session_rows, "join_tokens", (json_int_t)plan.join_tokens);
  if (p && plan.task[0] && json_object_set_new(p, "task", json_string(plan.task)) != 0) {
    json_decref(p);
    p = NULL;
  }
  if (!p) return -WD_E_NOMEM;
  wd_store_fx fx = {.kind = WD_STORE_FX_PRUNE, .prune = plan};
  /* A pass that takes part of one task belongs to that task's trace. */
  rc = wd_audit_append_json_fx(g->audit, WD_AUDIT_STORE_PRUNED, "warden",
                               plan.task[0] ? plan.task : NULL, p, &fx, 1, NULL);
  json_decref(p);
  if (rc) {
    /* The only trace of a pass that failed: it wrote nothing. */
    atomic_fetch_add_explicit(&g->counters.prune_failures, 1, memory_order_relaxed);
    return rc;
  }
  atomic_fetch_add_explicit(&g->counters.pruned_tasks, plan.tasks, memory_order_relaxed);
  *more = plan.more;
  return 0;
}
