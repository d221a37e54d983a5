/* SPDX-License-Identifier: Apache-2.0
 *
 * `warden cedar translate-schema`: converts a schema between the Cedar
 * schema format (.cedarschema) and the JSON schema format. The schema is
 * resolved on the way, so an invalid one is reported, not translated. This
 * file is the command only; the dispatcher lives in cedar.c.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_util.h"
#include "util/wd_alloc.h"
#include "util/wd_limits.h"

int wd_cli_cedar_translate_schema(int argc, char **argv) {
  const char *schema = NULL, *dir = NULL;
  const char *pos[1];
  size_t npos = 0;
  int help = 0;
  const cli_opt opts[] = {
      {"--schema", "-s", 1, &schema, NULL}, {"--direction", NULL, 1, &dir, NULL}, {0}};
  int rc = cli_parse_opts("translate-schema", argc, argv, opts, pos, 1, &npos, &help);
  if (rc) return rc;
  if (help) {
    puts("usage: warden cedar translate-schema --direction cedar-to-json|json-to-cedar\n"
         "         [--schema F | F]\n"
         "\n"
         "Converts a schema between the Cedar schema format and the JSON schema\n"
         "format. Reads stdin when no file is given. Exit 1 on any error.");
    return CLI_OK;
  }
  int to_json = dir && strcmp(dir, "cedar-to-json") == 0;
  if (!dir || (!to_json && strcmp(dir, "json-to-cedar") != 0)) {
    fputs("warden cedar translate-schema: --direction must be cedar-to-json or json-to-cedar\n",
          stderr);
    return CLI_USAGE;
  }
  if (schema && npos) {
    fputs("warden cedar translate-schema: give one input file\n", stderr);
    return CLI_USAGE;
  }
  const char *path = schema ? schema : npos ? pos[0] : "-";
  const char *shown = strcmp(path, "-") == 0 ? "<stdin>" : path;
  char *src = NULL, *out = NULL;
  size_t len = 0;
  cedar_diags *d = NULL;
  int status = CLI_ERR;
  if (cli_read_file(path, to_json ? WD_LIMIT_SCHEMA_TEXT_BYTES : WD_LIMIT_JSON_BYTES, &src, &len))
    goto out;
  if (!(d = cedar_diags_new())) {
    fprintf(stderr, "%s: error: %s\n", shown, wd_strerror(-WD_E_NOMEM));
    goto out;
  }
  rc = to_json ? cedar_schema_text_to_json(src, len, &out, d)
               : cedar_schema_json_to_text(src, len, &out, d);
  if (rc) {
    cli_print_diags(d, shown, src, len, rc);
    goto out;
  }
  fputs(out, stdout);
  if (out[0] && out[strlen(out) - 1] != '\n') putchar('\n');
  status = CLI_OK;
out:
  cedar_free(out);
  cedar_diags_free(d);
  wd_free(src);
  return status;
}
