/* SPDX-License-Identifier: Apache-2.0
 *
 * `warden cedar` subcommands that work on policy text alone: check-parse,
 * format and translate-policy. They never look at entities or requests.
 */
#include <stdio.h>
#include <string.h>

#include "cli_cedar.h"
#include "cli_util.h"
#include "util/wd_alloc.h"
#include "util/wd_limits.h"

#define MAX_FILES 4096

static int parse_file(const char *path, const char *src, size_t len, int json) {
  cedar_psbuilder *b = cedar_psbuilder_new();
  cedar_diags *d = cedar_diags_new();
  cedar_policyset *ps = NULL;
  int rc = -WD_E_NOMEM;
  if (!b || !d) goto out;
  rc = json ? cedar_psbuilder_add_est(b, src, len, d) : cedar_psbuilder_add_text(b, src, len, d);
  if (rc == 0) rc = cedar_psbuilder_build(b, &ps);
  if (rc) cli_print_diags(d, path, src, len, rc);
out:
  if (rc == -WD_E_NOMEM && !b) fprintf(stderr, "%s: error: out of memory\n", path);
  cedar_policyset_unref(ps);
  cedar_diags_free(d);
  cedar_psbuilder_free(b);
  return rc;
}

int cli_cedar_check_parse(int argc, char **argv) {
  const char *policies = NULL, *format = NULL;
  const char *pos[MAX_FILES];
  size_t npos = 0;
  int help = 0;
  const cli_opt opts[] = {CLI_ARG("--policies", "-p", &policies),
                          CLI_ARG("--policy-format", NULL, &format), CLI_END};
  int rc = cli_parse_opts("warden cedar check-parse", argc, argv, opts, pos, MAX_FILES - 1, &npos,
                          &help);
  if (rc) return rc;
  if (help) {
    puts("usage: warden cedar check-parse [--policies F | F...] [--policy-format cedar|json]\n"
         "\n"
         "Exit 0 if every file parses (stdin when none is given); otherwise prints\n"
         "every error with its location and exits 1.");
    return CLI_OK;
  }
  if (policies) pos[npos++] = policies;
  if (npos == 0) pos[npos++] = "-";
  if ((rc = cli_one_stdin_of("check-parse", pos, npos)) != 0) return rc;
  if ((rc = cli_policy_format("warden cedar check-parse", format)) != 0) return rc;
  int status = CLI_OK;
  for (size_t i = 0; i < npos; i++) {
    char *src = NULL;
    size_t len = 0;
    int json = format ? strcmp(format, "json") == 0 : cli_ends_with(pos[i], ".json");
    if (cli_read_file(pos[i], json ? WD_LIMIT_JSON_BYTES : WD_LIMIT_POLICY_TEXT_BYTES, &src,
                      &len) != 0 ||
        parse_file(strcmp(pos[i], "-") == 0 ? "<stdin>" : pos[i], src, len, json) != 0)
      status = CLI_ERR;
    wd_free(src);
  }
  return status;
}

/* Formats one file. Returns 0 when it was already canonical, 1 when it
 * was not (and was printed or rewritten as asked), or a negative error. */
static int format_one(const char *path, int check, int write) {
  const char *shown = strcmp(path, "-") == 0 ? "<stdin>" : path;
  char *src = NULL, *out = NULL;
  size_t len = 0;
  cedar_diags *d = cedar_diags_new();
  int rc = d ? cli_read_file(path, WD_LIMIT_POLICY_TEXT_BYTES, &src, &len) : -WD_E_NOMEM;
  if (rc) goto done;
  rc = cedar_format_source(src, len, &out, d);
  if (rc) {
    cli_print_diags(d, shown, src, len, rc);
    goto done;
  }
  size_t olen = strlen(out);
  int differs = olen != len || memcmp(out, src, len) != 0;
  if (check) {
    if (differs) printf("not formatted: %s\n", shown);
  } else if (write) {
    if (differs && strcmp(path, "-") != 0) {
      rc = cli_write_atomic(path, out, olen);
      if (rc == 0) printf("formatted: %s\n", shown);
    } else if (differs) {
      fputs(out, stdout);
    }
  } else {
    fputs(out, stdout);
  }
  if (rc == 0) rc = differs;
done:
  cedar_free(out);
  wd_free(src);
  cedar_diags_free(d);
  return rc;
}

int cli_cedar_format(int argc, char **argv) {
  const char *policies = NULL;
  const char *pos[MAX_FILES];
  size_t npos = 0;
  int help = 0, check = 0, write = 0;
  const cli_opt opts[] = {CLI_ARG("--policies", "-p", &policies), CLI_FLAG("--check", NULL, &check),
                          CLI_FLAG("--write", "-w", &write), CLI_END};
  int rc =
      cli_parse_opts("warden cedar format", argc, argv, opts, pos, MAX_FILES - 1, &npos, &help);
  if (rc) return rc;
  if (help) {
    puts("usage: warden cedar format [--policies F | F...] [--check | --write]\n"
         "\n"
         "Prints the policies in canonical form (stdin when no file is given).\n"
         "  --check   print nothing but the names of files that are not formatted;\n"
         "            exit 1 if there is any\n"
         "  --write   rewrite files that are not formatted, in place (atomically)");
    return CLI_OK;
  }
  if (check && write) {
    fputs("warden cedar format: --check and --write exclude each other\n", stderr);
    return CLI_USAGE;
  }
  if (policies) pos[npos++] = policies;
  if (npos == 0) pos[npos++] = "-";
  if ((rc = cli_one_stdin_of("format", pos, npos)) != 0) return rc;
  int status = CLI_OK;
  for (size_t i = 0; i < npos; i++) {
    rc = format_one(pos[i], check, write);
    if (rc < 0 || (rc > 0 && check)) status = CLI_ERR;
  }
  return status;
}

static int translate_run(const char *src, size_t len, int to_json, char **out, cedar_diags *d) {
  cedar_policyset *ps = NULL;
  cedar_psbuilder *b = cedar_psbuilder_new();
  if (!b) return -WD_E_NOMEM;
  int rc =
      to_json ? cedar_psbuilder_add_text(b, src, len, d) : cedar_psbuilder_add_est(b, src, len, d);
  if (rc == 0) rc = cedar_psbuilder_build(b, &ps);
  if (rc == 0) rc = to_json ? cedar_policyset_to_est(ps, out) : cedar_policyset_format(ps, out);
  cedar_policyset_unref(ps);
  cedar_psbuilder_free(b);
  return rc;
}

int cli_cedar_translate(int argc, char **argv) {
  static const cli_translate_spec spec = {
      "translate-policy",
      "--policies",
      "-p",
      "usage: warden cedar translate-policy --direction cedar-to-json|json-to-cedar\n"
      "         [--policies F | F]\n"
      "\n"
      "Converts a policy set between Cedar syntax and the JSON policy format (EST).\n"
      "Reads stdin when no file is given.",
      WD_LIMIT_POLICY_TEXT_BYTES,
      translate_run};
  return cli_translate(&spec, argc, argv);
}
