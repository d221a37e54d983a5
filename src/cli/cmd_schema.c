/* SPDX-License-Identifier: Apache-2.0
 *
 * `warden cedar translate-schema`: converts a schema between the Cedar
 * schema format (.cedarschema) and the JSON schema format. The schema is
 * resolved on the way, so an invalid one is reported, not translated. This
 * file is the command only; the dispatcher lives in cedar.c.
 */
#include "cli.h"
#include "cli_util.h"
#include "util/wd_limits.h"

static int run(const char *src, size_t len, int to_json, char **out, cedar_diags *d) {
  return to_json ? cedar_schema_text_to_json(src, len, out, d)
                 : cedar_schema_json_to_text(src, len, out, d);
}

int wd_cli_cedar_translate_schema(int argc, char **argv) {
  static const cli_translate_spec spec = {
      "translate-schema",
      "--schema",
      "-s",
      "usage: warden cedar translate-schema --direction cedar-to-json|json-to-cedar\n"
      "         [--schema F | F]\n"
      "\n"
      "Converts a schema between the Cedar schema format and the JSON schema\n"
      "format. Reads stdin when no file is given. Exit 1 on any error.",
      WD_LIMIT_SCHEMA_TEXT_BYTES,
      run};
  return cli_translate(&spec, argc, argv);
}
