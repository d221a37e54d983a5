/* SPDX-License-Identifier: Apache-2.0
 *
 * GET /metrics: the service's counters in the Prometheus text format
 * (version 0.0.4), for the admin token (as Vault guards its metrics): the
 * decisions answered by outcome and those denied without a policy
 * deciding, tasks opened and ended, quarantines, responses by status
 * class, the evidence log's records and commits, the active policy
 * version and the start time. Aggregates only: no agent, task or tool
 * names, whose number would grow without bound.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>

#include "gov/gov_int.h"
#include "util/wd_buf.h"
#include "util/wd_limits.h"

static int family(wd_buf *b, const char *name, const char *type, const char *help) {
  return wd_buf_addf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static int sample(wd_buf *b, const char *name, const char *labels, uint64_t v) {
  return wd_buf_addf(b, "%s%s %llu\n", name, labels, (unsigned long long)v);
}

static uint64_t get(atomic_uint_least64_t *c) {
  return atomic_load_explicit(c, memory_order_relaxed);
}

uint64_t wd_gov_log_failures(wd_gov *g, int *last_error) {
  uint64_t failed = 0;
  if (last_error) *last_error = 0;
  if (g) wd_audit_stats(g->audit, NULL, NULL, &failed, last_error);
  return failed;
}

int wd_gov__h_metrics(wd_http_req *req, wd_http_resp *resp, void *svc) {
  (void)req;
  wd_gov *g = svc;
  wd_gov__counters *c = &g->counters;
  uint64_t records = 0, commits = 0, failed = 0;
  wd_audit_stats(g->audit, &records, &commits, &failed, NULL);
  wd_gov__snap s;
  wd_gov__snap_get(g, &s);
  int64_t version = s.version;
  wd_gov__snap_put(&s);
  static const char *const classes[6] = {"none", "1xx", "2xx", "3xx", "4xx", "5xx"};
  wd_buf b;
  wd_buf_init(&b, WD_LIMIT_BUF_DEFAULT);
  (void)(family(&b, "warden_decisions_total", "counter",
                "Per-call authorization decisions answered, by outcome.") ||
         sample(&b, "warden_decisions_total", "{decision=\"allow\"}", get(&c->allow)) ||
         sample(&b, "warden_decisions_total", "{decision=\"deny\"}", get(&c->deny)) ||
         family(&b, "warden_decisions_failed_closed_total", "counter",
                "Denials no policy decided: an internal error, a full session, a call racing "
                "its task's end.") ||
         sample(&b, "warden_decisions_failed_closed_total", "", get(&c->failed_closed)) ||
         family(&b, "warden_tasks_opened_total", "counter", "Tasks opened.") ||
         sample(&b, "warden_tasks_opened_total", "", get(&c->tasks_opened)) ||
         family(&b, "warden_tasks_ended_total", "counter",
                "Tasks ended: completed, failed, cancelled, expired, exhausted or revoked.") ||
         sample(&b, "warden_tasks_ended_total", "", get(&c->tasks_ended)) ||
         family(&b, "warden_agents_quarantined_total", "counter",
                "Agents quarantined, by an admin or by the automatic rule.") ||
         sample(&b, "warden_agents_quarantined_total", "", get(&c->quarantines)) ||
         family(&b, "warden_retention_tasks_pruned_total", "counter",
                "Ended tasks whose rows retention removed.") ||
         sample(&b, "warden_retention_tasks_pruned_total", "", get(&c->pruned_tasks)) ||
         family(&b, "warden_retention_failures_total", "counter",
                "Retention passes that removed nothing for a failure (retried).") ||
         sample(&b, "warden_retention_failures_total", "", get(&c->prune_failures)));
  (void)family(&b, "warden_http_responses_total", "counter",
               "HTTP requests ended, by the class of the status sent (none: no answer).");
  for (int i = 0; i < 6; i++) {
    char l[32];
    (void)snprintf(l, sizeof l, "{class=\"%s\"}", classes[i]);
    (void)sample(&b, "warden_http_responses_total", l, get(&c->http[i]));
  }
  (void)(family(&b, "warden_audit_records_total", "counter",
                "Evidence records written since the start.") ||
         sample(&b, "warden_audit_records_total", "", records) ||
         family(&b, "warden_audit_commits_total", "counter",
                "Evidence-log transactions since the start (group commits).") ||
         sample(&b, "warden_audit_commits_total", "", commits) ||
         family(&b, "warden_audit_failures_total", "counter",
                "Evidence records the store failed to write.") ||
         sample(&b, "warden_audit_failures_total", "", failed) ||
         family(&b, "warden_policy_version", "gauge", "The active policy-set version.") ||
         sample(&b, "warden_policy_version", "", (uint64_t)(version > 0 ? version : 0)) ||
         family(&b, "warden_start_time_seconds", "gauge", "When this process started (Unix).") ||
         sample(&b, "warden_start_time_seconds", "", (uint64_t)(g->started_ms / 1000)));
  /* wd_buf failures stick: one check covers every append above. */
  size_t len = wd_buf_len(&b);
  char *text = wd_buf_take(&b);
  if (!text) return -WD_E_NOMEM;
  int rc = wd_http_resp_text(resp, 200, text, len);
  if (!rc) rc = wd_http_resp_header(resp, "Content-Type", "text/plain; version=0.0.4");
  return rc;
}

void wd_gov__count_http(wd_gov *g, unsigned status) {
  unsigned i = status >= 100 && status < 600 ? status / 100 : 0;
  atomic_fetch_add_explicit(&g->counters.http[i], 1, memory_order_relaxed);
}
