/* SPDX-License-Identifier: Apache-2.0
 *
 * `warden cedar`: dispatch to the subcommands, and the two that decide
 * things, authorize and evaluate. Built on the public engine API only
 * (warden/cedar.h); policy-text tools live in cedar_policy.c.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_cedar.h"
#include "cli_util.h"

static void usage(FILE *out) {
  fputs("usage: warden cedar <subcommand> [options]\n"
        "\n"
        "subcommands:\n"
        "  authorize         decide a request: prints ALLOW (exit 0) or DENY (exit 2)\n"
        "  evaluate EXPR     evaluate a Cedar expression and print its value\n"
        "  check-parse       check that a policy file parses\n"
        "  format            print policies in canonical form, or check/rewrite files\n"
        "  translate-policy  convert policies between Cedar and JSON (EST)\n"
        "  validate          type-check policies against a schema (exit 3 on findings)\n"
        "  translate-schema  convert a schema between the Cedar and JSON formats\n"
        "\n"
        "Exit status: 0 success or ALLOW, 2 DENY, 1 bad input, 3 invalid, 64 usage error.\n"
        "Run 'warden cedar <subcommand> --help' for its options.\n",
        out);
}

#define REQUEST_HELP                                                                               \
  "  --entities F          entities JSON array (default: none)\n"                                  \
  "  --request-json F      request {\"principal\",\"action\",\"resource\",\"context\"}\n"          \
  "  --principal UID       e.g. 'User::\"alice\"' (instead of --request-json)\n"                   \
  "  --action UID          e.g. 'Action::\"view\"'\n"                                              \
  "  --resource UID        e.g. 'Photo::\"pic.jpg\"'\n"                                            \
  "  --context F           context JSON object (default: {})\n"                                    \
  "  --schema F            validate entities and request against this schema\n"                    \
  "                        (.cedarschema text, or JSON if F ends in .json)\n"

static void authorize_usage(FILE *out) {
  fputs(
      "usage: warden cedar authorize --policies F [--template-linked F] [--entities F]\n"
      "         (--request-json F | --principal P --action A --resource R [--context F])\n"
      "         [-v] [--strict]\n"
      "\n"
      "Prints ALLOW or DENY. Exit 0 for ALLOW, 2 for DENY, 1 for bad input.\n"
      "\n"
      "  --policies F          policies in Cedar syntax, or JSON (EST) if F ends in .json\n"
      "  --policy-format FMT   cedar or json, overriding the guess from the file name\n"
      "  --template-linked F   JSON array of {\"template_id\",\"link_id\",\"args\"}\n" REQUEST_HELP
      "  -v, --verbose         list determining policies (with @reason) and errors\n"
      "  --strict              fail closed: a forbid policy that errors denies\n",
      out);
}

static void evaluate_usage(FILE *out) {
  fputs("usage: warden cedar evaluate EXPR [--entities F]\n"
        "         [--request-json F | --principal P --action A --resource R --context F]\n"
        "\n"
        "Prints the value of EXPR in Cedar syntax. Exit 0, or 1 on an error.\n"
        "\n" REQUEST_HELP,
        out);
}

#define REQUEST_OPTS(in)                                                                           \
  CLI_ARG("--entities", NULL, &(in).entities),                                                     \
      CLI_ARG("--request-json", NULL, &(in).request_json),                                         \
      CLI_ARG("--principal", "-l", &(in).principal), CLI_ARG("--action", "-a", &(in).action),      \
      CLI_ARG("--resource", "-r", &(in).resource), CLI_ARG("--context", "-c", &(in).context),      \
      CLI_ARG("--schema", NULL, &(in).schema)

static int check_request_flags(const char *cmd, const cli_inputs *in, int need_all) {
  int any = in->principal || in->action || in->resource;
  if (in->request_json && (any || in->context)) {
    fprintf(stderr, "warden cedar %s: give either --request-json or the request flags\n", cmd);
    return CLI_USAGE;
  }
  if (need_all && !in->request_json && !(in->principal && in->action && in->resource)) {
    fprintf(stderr,
            "warden cedar %s: a request is needed: --request-json F, or --principal, "
            "--action and --resource\n",
            cmd);
    return CLI_USAGE;
  }
  return 0;
}

static void print_verbose(const cedar_policyset *ps, const cedar_response *r) {
  size_t nr = cedar_response_reason_count(r), ne = cedar_response_error_count(r);
  printf("determining policies:%s\n", nr ? "" : " none");
  for (size_t i = 0; i < nr; i++) {
    const char *id = cedar_response_reason(r, i);
    const char *why = cedar_policyset_annotation(ps, id, "reason");
    if (why)
      printf("  %s: %s\n", id, why);
    else
      printf("  %s\n", id);
  }
  if (ne) printf("errors:\n");
  for (size_t i = 0; i < ne; i++)
    printf("  %s: %s\n", cedar_response_error_policy(r, i), cedar_response_error_message(r, i));
}

int cli_cedar_authorize(int argc, char **argv) {
  cli_inputs in = {0};
  int verbose = 0, strict = 0, help = 0;
  size_t npos = 0;
  const char *pos[1];
  const cli_opt opts[] = {CLI_ARG("--policies", "-p", &in.policies),
                          CLI_ARG("--policy-format", NULL, &in.policy_format),
                          CLI_ARG("--template-linked", "-k", &in.template_linked),
                          REQUEST_OPTS(in),
                          CLI_FLAG("--verbose", "-v", &verbose),
                          CLI_FLAG("--strict", NULL, &strict),
                          CLI_END};
  cedar_policyset *ps = NULL;
  cedar_schema *sc = NULL;
  cedar_entities *es = NULL;
  cedar_request *rq = NULL;
  cedar_response *resp = NULL;
  int rc = cli_parse_opts("warden cedar authorize", argc, argv, opts, pos, 0, &npos, &help);
  if (rc) return rc;
  if (help) {
    authorize_usage(stdout);
    return CLI_OK;
  }
  if (!in.policies) {
    fputs("warden cedar authorize: --policies is required\n", stderr);
    return CLI_USAGE;
  }
  if ((rc = check_request_flags("authorize", &in, 1)) != 0) return rc;
  if ((rc = cli_one_stdin("authorize", &in)) != 0) return rc;
  if ((rc = cli_policy_format("warden cedar authorize", in.policy_format)) != 0) return rc;
  int status = CLI_ERR;
  if (cli_load_policies(&in, &ps) || cli_load_schema(&in, &sc)) goto out;
  in.sc = sc;
  if (cli_load_entities(&in, &es) || cli_load_request(&in, 0, &rq)) goto out;
  cedar_authz_opts ao = {.strict_forbid = strict};
  rc = cedar_authorize(ps, es, rq, &ao, &resp);
  if (rc) {
    fprintf(stderr, "warden cedar authorize: %s\n", wd_strerror(rc));
    goto out;
  }
  cedar_decision dec = cedar_response_decision(resp);
  switch (dec) {
  case CEDAR_ALLOW:
    puts("ALLOW");
    status = CLI_OK;
    break;
  case CEDAR_DENY:
    puts("DENY");
    status = CLI_DENY;
    break;
  }
  if (verbose) print_verbose(ps, resp);
out:
  cedar_response_free(resp);
  cedar_request_free(rq);
  cedar_entities_free(es);
  cedar_schema_free(sc);
  cedar_policyset_unref(ps);
  return status;
}

int cli_cedar_evaluate(int argc, char **argv) {
  cli_inputs in = {0};
  int help = 0;
  size_t npos = 0;
  const char *pos[1];
  const cli_opt opts[] = {REQUEST_OPTS(in), CLI_END};
  cedar_schema *sc = NULL;
  cedar_entities *es = NULL;
  cedar_request *rq = NULL;
  cedar_diags *d = NULL;
  char *val = NULL;
  int rc = cli_parse_opts("warden cedar evaluate", argc, argv, opts, pos, 1, &npos, &help);
  if (rc) return rc;
  if (help) {
    evaluate_usage(stdout);
    return CLI_OK;
  }
  if (npos != 1) {
    fputs("warden cedar evaluate: exactly one expression is needed\n", stderr);
    evaluate_usage(stderr);
    return CLI_USAGE;
  }
  if ((rc = check_request_flags("evaluate", &in, 0)) != 0) return rc;
  if ((rc = cli_one_stdin("evaluate", &in)) != 0) return rc;
  int status = CLI_ERR;
  if (cli_load_schema(&in, &sc)) goto out;
  in.sc = sc;
  if (cli_load_entities(&in, &es) || cli_load_request(&in, 1, &rq)) goto out;
  d = cedar_diags_new();
  if (!d) goto out;
  rc = cedar_evaluate(pos[0], strlen(pos[0]), es, rq, &val, d);
  if (rc) {
    cli_print_diags(d, "<expr>", pos[0], strlen(pos[0]), rc);
    goto out;
  }
  puts(val);
  status = CLI_OK;
out:
  cedar_free(val);
  cedar_diags_free(d);
  cedar_request_free(rq);
  cedar_entities_free(es);
  cedar_schema_free(sc);
  return status;
}

int wd_cli_cedar(int argc, char **argv) {
  static const struct {
    const char *name;
    int (*fn)(int, char **);
  } cmds[] = {
      {"authorize", cli_cedar_authorize},
      {"evaluate", cli_cedar_evaluate},
      {"check-parse", cli_cedar_check_parse},
      {"format", cli_cedar_format},
      {"translate-policy", cli_cedar_translate},
      {"validate", wd_cli_cedar_validate},
      {"translate-schema", wd_cli_cedar_translate_schema},
  };
  if (argc < 2) {
    usage(stderr);
    return CLI_USAGE;
  }
  const char *sub = argv[1];
  if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 || strcmp(sub, "help") == 0) {
    usage(stdout);
    return CLI_OK;
  }
  for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
    if (strcmp(sub, cmds[i].name) == 0) return cmds[i].fn(argc - 1, argv + 1);
  fprintf(stderr, "warden cedar: unknown subcommand '%s'\n", sub);
  usage(stderr);
  return CLI_USAGE;
}
