/* SPDX-License-Identifier: Apache-2.0
 *
 * Loads what a decision needs from files named on the command line:
 * policies (Cedar or EST JSON), template links, entities and the request.
 * Every failure is printed here with the file name, so callers only map
 * the status to an exit code.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cli_cedar.h"
#include "cli_util.h"
#include "util/wd_alloc.h"
#include "util/wd_buf.h"
#include "util/wd_limits.h"

int cli_one_stdin(const char *cmd, const cli_inputs *in) {
  const char *files[] = {in->policies,     in->template_linked, in->entities,
                         in->request_json, in->context,         in->schema};
  return cli_one_stdin_of(cmd, files, sizeof files / sizeof files[0]);
}

static int is_json_policies(const cli_inputs *in) {
  if (in->policy_format) return strcmp(in->policy_format, "json") == 0;
  return cli_ends_with(in->policies, ".json");
}

/* Appends a JSON string as a Cedar string literal body, escaped. */
static int add_cedar_escaped(wd_buf *b, const char *s) {
  int rc = 0;
  for (const unsigned char *p = (const unsigned char *)s; rc == 0 && *p; p++) {
    switch (*p) {
    case '"': rc = wd_buf_adds(b, "\\\""); break;
    case '\\': rc = wd_buf_adds(b, "\\\\"); break;
    case '\n': rc = wd_buf_adds(b, "\\n"); break;
    case '\r': rc = wd_buf_adds(b, "\\r"); break;
    case '\t': rc = wd_buf_adds(b, "\\t"); break;
    default:
      if (*p < 0x20)
        rc = wd_buf_addf(b, "\\u{%x}", (unsigned)*p);
      else
        rc = wd_buf_addc(b, (char)*p);
    }
  }
  return rc;
}

/* A link value is Cedar text ("User::\"a\"") or {"type","id"} possibly
 * wrapped in "__entity". Returns owned Cedar text, or NULL. */
static char *link_value(const json_t *v) {
  if (json_is_string(v)) return wd_strdup(json_string_value(v));
  if (!json_is_object(v)) return NULL;
  const json_t *e = json_object_get(v, "__entity");
  if (e) v = e;
  const json_t *t = json_object_get(v, "type"), *id = json_object_get(v, "id");
  if (!json_is_string(t) || !json_is_string(id)) return NULL;
  wd_buf b;
  wd_buf_init(&b, WD_LIMIT_JSON_BYTES);
  if (wd_buf_addf(&b, "%s::\"", json_string_value(t)) != 0 ||
      add_cedar_escaped(&b, json_string_value(id)) != 0 || wd_buf_addc(&b, '"') != 0)
    return NULL;
  return wd_buf_take(&b);
}

static int load_links(cedar_psbuilder *b, const char *path) {
  char *src = NULL, *pr = NULL, *rs = NULL;
  size_t len = 0;
  json_t *root = NULL;
  json_error_t jerr;
  cedar_diags *d = cedar_diags_new();
  int rc = cli_read_file(path, WD_LIMIT_JSON_BYTES, &src, &len);
  if (rc) goto out;
  rc = -WD_E_NOMEM;
  if (!d) goto out;
  rc = -WD_E_JSON;
  root = json_loadb(src, len, JSON_REJECT_DUPLICATES, &jerr);
  if (!root) {
    fprintf(stderr, "%s:%d:%d: error: malformed JSON: %s\n", path, jerr.line, jerr.column,
            jerr.text);
    goto out;
  }
  if (!json_is_array(root)) {
    fprintf(stderr, "%s: error: expected an array of template links\n", path);
    goto out;
  }
  for (size_t i = 0; i < json_array_size(root); i++) {
    const json_t *l = json_array_get(root, i);
    const json_t *tid = json_object_get(l, "template_id");
    const json_t *nid = json_object_get(l, "link_id");
    if (!nid) nid = json_object_get(l, "new_id");
    const json_t *args = json_object_get(l, "args");
    if (!args) args = json_object_get(l, "values");
    if (!json_is_string(tid) || !json_is_string(nid) || (args && !json_is_object(args))) {
      fprintf(stderr,
              "%s: error: link %zu: expected {\"template_id\": ..., \"link_id\": ..., "
              "\"args\": {\"?principal\": ..., \"?resource\": ...}}\n",
              path, i);
      goto out;
    }
    const json_t *jp = json_object_get(args, "?principal");
    const json_t *jr = json_object_get(args, "?resource");
    pr = jp ? link_value(jp) : NULL;
    rs = jr ? link_value(jr) : NULL;
    if ((jp && !pr) || (jr && !rs)) {
      fprintf(stderr, "%s: error: link %zu: a slot value must be an entity uid\n", path, i);
      goto out;
    }
    rc = cedar_psbuilder_link(b, json_string_value(tid), json_string_value(nid), pr, rs, d);
    if (rc) {
      cli_print_diags(d, path, NULL, 0, rc);
      goto out;
    }
    rc = -WD_E_JSON;
    wd_free(pr);
    wd_free(rs);
    pr = rs = NULL;
  }
  rc = 0;
out:
  wd_free(pr);
  wd_free(rs);
  json_decref(root);
  cedar_diags_free(d);
  wd_free(src);
  return rc;
}

int cli_load_policies(const cli_inputs *in, cedar_policyset **out) {
  return cli_load_policies_text(in, out, NULL, NULL);
}

int cli_load_policies_text(const cli_inputs *in, cedar_policyset **out, char **text,
                           size_t *text_len) {
  char *src = NULL;
  size_t len = 0;
  cedar_psbuilder *b = NULL;
  cedar_diags *d = NULL;
  *out = NULL;
  int json = is_json_policies(in);
  int rc = cli_read_file(in->policies, json ? WD_LIMIT_JSON_BYTES : WD_LIMIT_POLICY_TEXT_BYTES,
                         &src, &len);
  if (rc) goto out;
  rc = -WD_E_NOMEM;
  b = cedar_psbuilder_new();
  d = cedar_diags_new();
  if (!b || !d) goto out;
  rc = json ? cedar_psbuilder_add_est(b, src, len, d) : cedar_psbuilder_add_text(b, src, len, d);
  if (rc) {
    cli_print_diags(d, in->policies, src, len, rc);
    goto out;
  }
  if (in->template_linked && (rc = load_links(b, in->template_linked)) != 0) goto out;
  rc = cedar_psbuilder_build(b, out);
  if (rc) fprintf(stderr, "%s: error: %s\n", in->policies, wd_strerror(rc));
  if (rc == 0 && text) {
    *text = src;
    *text_len = len;
    src = NULL;
  }
out:
  cedar_diags_free(d);
  cedar_psbuilder_free(b);
  wd_free(src);
  return rc;
}

int cli_load_schema(const cli_inputs *in, cedar_schema **out) {
  char *src = NULL;
  size_t len = 0;
  cedar_diags *d = NULL;
  *out = NULL;
  if (!in->schema) return 0;
  int json = cli_ends_with(in->schema, ".json");
  int rc = cli_read_file(in->schema, json ? WD_LIMIT_JSON_BYTES : WD_LIMIT_SCHEMA_TEXT_BYTES, &src,
                         &len);
  if (rc) goto out;
  rc = -WD_E_NOMEM;
  d = cedar_diags_new();
  if (!d) goto out;
  rc = json ? cedar_schema_from_json(src, len, out, d) : cedar_schema_parse(src, len, out, d);
  if (rc) cli_print_diags(d, in->schema, src, len, rc);
out:
  cedar_diags_free(d);
  wd_free(src);
  return rc;
}

int cli_load_entities(const cli_inputs *in, cedar_entities **out) {
  char *src = NULL;
  size_t len = 0;
  cedar_diags *d = NULL;
  *out = NULL;
  if (!in->entities) {
    *out = cedar_entities_empty();
    return *out ? 0 : -WD_E_NOMEM;
  }
  int rc = cli_read_file(in->entities, WD_LIMIT_JSON_BYTES, &src, &len);
  if (rc) goto out;
  rc = -WD_E_NOMEM;
  d = cedar_diags_new();
  if (!d) goto out;
  rc = cedar_entities_from_json(src, len, in->sc, out, d);
  if (rc) cli_print_diags(d, in->entities, src, len, rc);
out:
  cedar_diags_free(d);
  wd_free(src);
  return rc;
}

int cli_load_request(const cli_inputs *in, int allow_partial, cedar_request **out) {
  char *src = NULL;
  size_t len = 0;
  const char *file = in->request_json ? in->request_json : in->context;
  cedar_diags *d = cedar_diags_new();
  int rc = -WD_E_NOMEM;
  *out = NULL;
  if (!d) goto out;
  if (file && (rc = cli_read_file(file, WD_LIMIT_JSON_BYTES, &src, &len)) != 0) goto out;
  if (in->request_json) {
    rc = cedar_request_from_json(src, len, in->sc, out, d);
  } else {
    /* evaluate may run without a full request; the placeholders only
     * matter if the expression looks at them. */
    const char *p = in->principal, *a = in->action, *r = in->resource;
    if (in->sc && !(p && a && r)) {
      /* Placeholders would only fail validation with a puzzling message. */
      fputs("error: --schema needs a full request (--principal, --action and --resource)\n",
            stderr);
      rc = -WD_E_INVAL;
      goto out;
    }
    if (allow_partial) {
      if (!p) p = "Unspecified::\"principal\"";
      if (!a) a = "Action::\"unspecified\"";
      if (!r) r = "Unspecified::\"resource\"";
    }
    rc = cedar_request_new(p, a, r, src, len, in->sc, out, d);
    if (!file) file = "<request>";
  }
  if (rc) cli_print_diags(d, file, src, len, rc);
out:
  cedar_diags_free(d);
  wd_free(src);
  return rc;
}
