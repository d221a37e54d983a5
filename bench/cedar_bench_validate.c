/* SPDX-License-Identifier: Apache-2.0
 *
 * The validation workload of the benchmark: generated sets of 1,000 and
 * 10,000 agent-governance policies, type-checked with cedar_validate
 * against docs/policies/governance.cedarschema. The schema and each set are
 * parsed once; what is timed is cedar_validate alone (the figure the 1 s
 * target is about), and separately schema parse + policy parse + validate,
 * which is the work cedar-wasm's validate does on every call.
 *
 * The policies come from twelve templates, written identically in
 * cedar_wasm_bench.js; both sides print an FNV-1a hash of the text so that
 * run.sh can tell when the two generators drift apart. Every set must
 * validate with no finding at all: a finding means the generator (or the
 * validator) is wrong, and the run fails rather than time it.
 */
#define _POSIX_C_SOURCE 200809L

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cedar_bench.h"
#include "warden/cedar.h"

#define VAL_RUNS       5
#define VAL_RUNS_QUICK 3
#define VAL_LINE_MAX   512 /* one generated policy, with room to spare */
#define N_TEMPLATES    12u

static const size_t val_sizes[] = {1000, 10000};
#define N_VAL (sizeof val_sizes / sizeof val_sizes[0])

/* Policy k, from template k % 12. The templates cover attribute chains
 * through entities and records, `has` guards on an optional attribute,
 * set operations, `like`, `is`, extension calls, arithmetic, action groups
 * and every action family of the schema. */
static int gen_one(char *buf, size_t cap, size_t k) {
  switch (k % N_TEMPLATES) {
  case 0:
    return snprintf(buf, cap,
                    "permit(principal == Agent::\"a%zu\", action == Action::\"fs.read\", "
                    "resource == Tool::\"t%zu\") when { context.risk < %zu && "
                    "context.call.classification != \"secret\" };\n",
                    k, k % 50, k % 100);
  case 1:
    return snprintf(buf, cap,
                    "permit(principal, action in Action::\"read\", resource is Data) when { "
                    "resource.classification == \"public\" && principal.tier != \"read_only\" && "
                    "context.task.budget_left > %zu };\n",
                    k % 20);
  case 2:
    return snprintf(buf, cap,
                    "forbid(principal, action in Action::\"export\", resource) when { "
                    "context.call.destination.external && "
                    "context.session.classifications.contains(\"c%zu\") };\n",
                    k % 7);
  case 3:
    return snprintf(buf, cap,
                    "permit(principal is Agent, action == Action::\"task.open\", resource is Task) "
                    "when { context.task has on_behalf_of && "
                    "context.task.on_behalf_of in Team::\"team%zu\" };\n",
                    k % 30);
  case 4:
    return snprintf(buf, cap,
                    "permit(principal, action in [Action::\"fs.write\", Action::\"db.update\"], "
                    "resource) when { context.task.tools.containsAll([Tool::\"fs\", Tool::\"db\"]) "
                    "&& principal.owner.name == \"u%zu\" } unless { "
                    "principal.status == \"quarantined\" };\n",
                    k);
  case 5:
    return snprintf(buf, cap,
                    "forbid(principal, action in Action::\"high_impact\", resource) unless { "
                    "principal.tier == \"high_impact\" && "
                    "context.time.toTime() < duration(\"%zuh\") };\n",
                    k % 24);
  case 6:
    return snprintf(
        buf, cap,
        "permit(principal == Agent::\"a%zu\", action == Action::\"task.change_intent\", "
        "resource) when { context.previous_intent != context.task.intent && "
        "context.task.age < duration(\"%zum\") };\n",
        k, k % 60);
  case 7:
    return snprintf(buf, cap,
                    "permit(principal, action == Action::\"http.get\", resource) when { "
                    "principal.team == Team::\"team%zu\" && "
                    "context.call.operation like \"get*%zu\" && "
                    "context.session.tools.contains(context.call.tool) };\n",
                    k % 30, k % 10);
  case 8:
    return snprintf(buf, cap,
                    "permit(principal, action in Action::\"db\", resource is Data in "
                    "Tool::\"db%zu\") when { resource.classification == \"internal\" && "
                    "context.session.calls < %zu && "
                    "context.call.environment == principal.environment };\n",
                    k % 5, k);
  case 9:
    return snprintf(buf, cap,
                    "permit(principal, action == Action::\"task.renew\", resource) when { "
                    "context.task.calls < context.task.budget_left * 2 && context.risk <= %zu && "
                    "context.session.denials == 0 };\n",
                    k % 100);
  case 10:
    return snprintf(buf, cap,
                    "permit(principal, action == Action::\"email.send\", resource is Tool) when { "
                    "resource.external && resource.risk < %zu && "
                    "context.call.destination != Destination::\"local\" && "
                    "context.task.ceiling == context.call.classification };\n",
                    k % 100);
  default:
    return snprintf(buf, cap,
                    "forbid(principal, action, resource) when { principal.status == \"retired\" || "
                    "context.session.denials > %zu || (context.task has on_behalf_of && "
                    "context.task.on_behalf_of.name == \"n%zu\") };\n",
                    k % 10, k);
  }
}

static char *gen_policies(size_t n, size_t *len) {
  size_t cap = n * VAL_LINE_MAX + 1, used = 0;
  char *buf = malloc(cap);
  if (!buf) return NULL;
  for (size_t k = 0; k < n; k++) {
    int w = gen_one(buf + used, cap - used, k);
    if (w < 0 || (size_t)w >= VAL_LINE_MAX) {
      free(buf);
      return NULL;
    }
    used += (size_t)w;
  }
  *len = used;
  return buf;
}

/* FNV-1a, 32 bits: enough to notice the two generators disagreeing. */
static uint32_t fnv1a(const char *s, size_t n) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < n; i++) {
    h ^= (uint8_t)s[i];
    h *= 16777619u;
  }
  return h;
}

static int cmp_ms(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Validates once; returns 0 only when there is no finding at all. */
static int validate_clean(const cedar_schema *sc, const cedar_policyset *ps, size_t n) {
  cedar_diags *d = cedar_diags_new();
  int rc;
  if (!d) return -1;
  rc = cedar_validate(sc, ps, d);
  if (rc == 0 && cedar_diags_count(d) == 0) {
    cedar_diags_free(d);
    return 0;
  }
  fprintf(stderr, "cedar_bench: validating %zu generated policies: rc %d, %zu finding(s)\n", n, rc,
          cedar_diags_count(d));
  if (cedar_diags_count(d)) {
    const cedar_diag *g = cedar_diags_get(d, 0);
    fprintf(stderr, "  first: %s: %s\n", g->policy_id, g->msg);
  }
  cedar_diags_free(d);
  return -1;
}

/* One cold run, as the reference does it: parse both, then validate. */
static double full_run_ms(const char *stext, size_t slen, const char *ptext, size_t plen) {
  cedar_schema *sc = NULL;
  cedar_policyset *ps = NULL;
  cedar_diags *d = cedar_diags_new();
  double t = bench_now_s(), ms = -1;
  if (d && cedar_schema_parse(stext, slen, &sc, NULL) == 0 &&
      cedar_policyset_parse(ptext, plen, &ps, NULL) == 0 && cedar_validate(sc, ps, d) == 0)
    ms = (bench_now_s() - t) * 1e3;
  cedar_policyset_unref(ps);
  cedar_schema_free(sc);
  cedar_diags_free(d);
  return ms;
}

int bench_validate(const char *schema_path, int quick) {
  const int runs = quick ? VAL_RUNS_QUICK : VAL_RUNS;
  size_t slen = 0;
  char *stext = bench_slurp(schema_path, &slen);
  cedar_schema *sc = NULL;
  int rc = 1;

  if (!stext || cedar_schema_parse(stext, slen, &sc, NULL) != 0) {
    fprintf(stderr, "cedar_bench: cannot read the schema %s\n", schema_path);
    goto out;
  }
  for (size_t si = 0; si < N_VAL; si++) {
    size_t n = val_sizes[si], plen = 0;
    char *ptext = gen_policies(n, &plen);
    cedar_policyset *ps = NULL;
    double val[VAL_RUNS], full[VAL_RUNS];
    int ok = ptext && cedar_policyset_parse(ptext, plen, &ps, NULL) == 0 &&
             validate_clean(sc, ps, n) == 0;
    /* Both kinds of run alternate, so a change in load hits both alike. */
    for (int r = 0; ok && r < runs; r++) {
      cedar_diags *d = cedar_diags_new();
      double t = bench_now_s();
      ok = d && cedar_validate(sc, ps, d) == 0;
      val[r] = (bench_now_s() - t) * 1e3;
      cedar_diags_free(d);
      full[r] = full_run_ms(stext, slen, ptext, plen);
      ok = ok && full[r] >= 0;
    }
    if (ok) {
      uint32_t h = fnv1a(ptext, plen);
      qsort(val, (size_t)runs, sizeof val[0], cmp_ms);
      qsort(full, (size_t)runs, sizeof full[0], cmp_ms);
      printf("{\"engine\":\"warden\",\"workload\":\"validate\",\"policies\":%zu,\"bytes\":%zu,"
             "\"hash\":\"%08" PRIx32 "\",\"runs\":%d,\"validate_ms\":%.3f,\"validate_ms_min\":%.3f,"
             "\"parse_validate_ms\":%.3f}\n",
             n, plen, h, runs, val[runs / 2], val[0], full[runs / 2]);
      fprintf(stderr,
              "warden validate %5zu policies: %9.3f ms validate only, %9.3f ms parse + validate\n",
              n, val[runs / 2], full[runs / 2]);
    } else {
      fprintf(stderr, "cedar_bench: validation workload of %zu policies failed\n", n);
    }
    cedar_policyset_unref(ps);
    free(ptext);
    if (!ok) goto out;
  }
  rc = 0;
out:
  cedar_schema_free(sc);
  free(stext);
  return rc;
}
