/* SPDX-License-Identifier: Apache-2.0
 *
 * `warden cedar validate`: checks policies against a schema in Cedar's
 * strict mode before they govern anything. Exit codes follow the reference
 * CLI: 0 valid, 3 findings, 1 bad input. This file is the command only; the
 * dispatcher lives in cedar.c.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_cedar.h"
#include "cli_util.h"
#include "util/wd_alloc.h"
#include "util/wd_limits.h"

enum { CLI_INVALID = 3 };

static size_t count_sev(const cedar_diags *d, cedar_severity sev) {
  size_t n = 0;
  for (size_t i = 0; i < cedar_diags_count(d); i++)
    n += cedar_diags_get(d, i)->sev == sev;
  return n;
}

int wd_cli_cedar_validate(int argc, char **argv) {
  cli_inputs in;
  memset(&in, 0, sizeof in);
  int help = 0, deny_warnings = 0;
  size_t npos = 0;
  const cli_opt opts[] = {CLI_ARG("--schema", "-s", &in.schema),
                          CLI_ARG("--policies", "-p", &in.policies),
                          CLI_ARG("--policy-format", NULL, &in.policy_format),
                          CLI_FLAG("--deny-warnings", NULL, &deny_warnings), CLI_END};
  int rc = cli_parse_opts("warden cedar validate", argc, argv, opts, NULL, 0, &npos, &help);
  if (rc) return rc;
  if (help) {
    puts("usage: warden cedar validate --schema S --policies P [--deny-warnings]\n"
         "\n"
         "Type-checks every policy and template against the schema (strict mode).\n"
         "S is .cedarschema text, or the JSON format if it ends in .json.\n"
         "Exit 0 when valid, 3 when there are findings (warnings count with\n"
         "--deny-warnings), 1 on bad input.");
    return CLI_OK;
  }
  if (!in.schema || !in.policies) {
    fputs("warden cedar validate: --schema and --policies are required\n", stderr);
    return CLI_USAGE;
  }
  if ((rc = cli_one_stdin("validate", &in)) != 0) return rc;
  if ((rc = cli_policy_format("warden cedar validate", in.policy_format)) != 0) return rc;
  cedar_schema *sc = NULL;
  cedar_policyset *ps = NULL;
  cedar_diags *d = NULL;
  char *src = NULL;
  size_t len = 0;
  const char *shown = strcmp(in.policies, "-") == 0 ? "<stdin>" : in.policies;
  int status = CLI_ERR;
  /* The text too, so findings can be shown under their line. */
  if (cli_load_schema(&in, &sc) || cli_load_policies_text(&in, &ps, &src, &len)) goto out;
  if (!(d = cedar_diags_new())) goto out;
  rc = cedar_validate(sc, ps, d);
  if (rc && rc != -WD_E_VALIDATE) {
    cli_print_diags(d, shown, src, len, rc);
    goto out;
  }
  size_t errs = count_sev(d, CEDAR_SEV_ERROR), warns = count_sev(d, CEDAR_SEV_WARNING);
  if (cedar_diags_count(d)) cli_print_diags(d, shown, src, len, rc);
  if (errs || (deny_warnings && warns)) {
    fprintf(stderr, "validation failed: %zu error(s), %zu warning(s)\n", errs, warns);
    status = CLI_INVALID;
  } else {
    printf("policies are valid%s\n", warns ? " (with warnings)" : "");
    status = CLI_OK;
  }
out:
  wd_free(src);
  cedar_diags_free(d);
  cedar_policyset_unref(ps);
  cedar_schema_free(sc);
  return status;
}
