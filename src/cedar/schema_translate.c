/* SPDX-License-Identifier: Apache-2.0
 *
 * The public face of the .cedarschema format: parsing it into a schema,
 * and translating between it and the JSON schema format. Translation goes
 * through the JSON structure both ways and always resolves the schema
 * first, so an invalid schema is refused rather than translated.
 */
#include <string.h>

#include "../util/wd_alloc.h"
#include "cedar_schema.h"

/* Parses text into its JSON structure and resolves it with locations.
 * *root (a new reference) and *out are optional. */
static int parse_text(const char *src, size_t len, json_t **root, cedar_schema **out,
                      cedar_diags *diags) {
  wd_arena *a = wd_arena_new(WD_LIMIT_JSON_BYTES);
  wd_map *spans = wd_map_new();
  json_t *j = NULL;
  cedar_schema *s = NULL;
  int rc = -WD_E_NOMEM;
  if (!a || !spans) goto out;
  if ((rc = cedar__schema_text_parse(src, len, a, spans, &j, diags))) goto out;
  cedar__schema_loc loc = {src, len, spans};
  if ((rc = cedar__schema_build_loc(j, &loc, &s, diags))) goto out;
out:
  wd_map_free(spans);
  wd_arena_free(a);
  if (rc == 0 && root) *root = json_incref(j);
  if (rc == 0 && out)
    *out = s;
  else
    cedar_schema_free(s);
  json_decref(j);
  return rc;
}

int cedar_schema_parse(const char *src, size_t len, cedar_schema **out, cedar_diags *diags) {
  *out = NULL;
  return parse_text(src, len, NULL, out, diags);
}

static int dump_cb(const char *buf, size_t size, void *data) {
  return wd_buf_add(data, buf, size) ? -1 : 0;
}

int cedar_schema_text_to_json(const char *src, size_t len, char **out, cedar_diags *diags) {
  json_t *root = NULL;
  *out = NULL;
  int rc = parse_text(src, len, &root, NULL, diags);
  if (rc) return rc;
  wd_buf b;
  wd_buf_init(&b, WD_LIMIT_JSON_BYTES);
  rc = json_dump_callback(root, dump_cb, &b, JSON_INDENT(2)) || wd_buf_addc(&b, '\n')
           ? cedar__diag(diags, -WD_E_TOOBIG, "the JSON schema exceeds the size limit")
           : 0;
  json_decref(root);
  if (rc == 0 && !(*out = wd_buf_take(&b))) rc = -WD_E_NOMEM;
  wd_buf_free(&b);
  return rc;
}

int cedar_schema_json_to_text(const char *json, size_t len, char **out, cedar_diags *diags) {
  json_t *root = NULL;
  cedar_schema *s = NULL;
  *out = NULL;
  int rc = cedar__json_load(json, len, &root, diags);
  if (rc) return rc;
  if ((rc = cedar__schema_build(root, &s, diags))) goto out;
  wd_buf b;
  wd_buf_init(&b, WD_LIMIT_SCHEMA_TEXT_BYTES);
  if ((rc = cedar__schema_print_text(&b, root)))
    rc = rc == -WD_E_NOMEM
             ? rc
             : cedar__diag(diags, -WD_E_TOOBIG, "the schema text exceeds the size limit");
  if (rc == 0 && !(*out = wd_buf_take(&b))) rc = -WD_E_NOMEM;
  wd_buf_free(&b);
out:
  cedar_schema_free(s);
  json_decref(root);
  return rc;
}
