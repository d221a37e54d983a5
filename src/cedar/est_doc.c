/* SPDX-License-Identifier: Apache-2.0
 *
 * Reads an EST document into a policy set builder: either one policy
 * object, or {"staticPolicies": {id: est}, "templates": {id: est},
 * "templateLinks": [{"templateId", "newId", "values"}]}. Every policy is
 * converted (and every error reported) before anything is added.
 *
 * A lone policy takes its id from @id, else the first free "policyN".
 */
#include <stdio.h>
#include <string.h>

#include "../util/wd_alloc.h"
#include "format_int.h"

typedef struct pending {
  cedar__policy **v;
  size_t n;
} pending;

static int read_group(wd_arena *a, const json_t *obj, const char *group, int templates,
                      pending *out, cedar_diags *diags) {
  if (!json_is_object(obj))
    return cedar__diag(diags, -WD_E_PARSE, "%s: expected an object of policies", group);
  int bad = 0;
  const char *id;
  const json_t *v;
  json_object_foreach((json_t *)(uintptr_t)obj, id, v) {
    char path[160];
    snprintf(path, sizeof path, "%s.%.100s", group, id);
    cedar__policy *p = NULL;
    int rc = cedar__est_to_policy(a, v, path, &p, diags);
    if (rc == -WD_E_NOMEM) return rc;
    if (rc == 0 && !templates && p->is_template) {
      cedar__diag(diags, -WD_E_PARSE, "%s: a static policy cannot have slots", path);
      rc = -WD_E_PARSE;
    }
    if (rc != 0) {
      bad = 1;
      continue;
    }
    /* Everything under "templates" is a template, slots or not. */
    if (templates) p->is_template = 1;
    p->id.n = (uint32_t)strlen(id);
    p->id.p = wd_arena_strndup(a, id, p->id.n);
    if (!p->id.p) return -WD_E_NOMEM;
    out->v[out->n++] = p;
  }
  return bad ? -WD_E_PARSE : 0;
}

static int link_value(const json_t *vals, const char *slot, wd_buf *text, wd_arena *a,
                      const char *path, cedar_diags *diags, const char **out) {
  const json_t *u = json_object_get(vals, slot);
  *out = NULL;
  if (!u) return 0;
  const json_t *e =
      json_is_object(u) && json_object_get(u, "__entity") ? json_object_get(u, "__entity") : u;
  const json_t *t = json_is_object(e) ? json_object_get(e, "type") : NULL;
  const json_t *id = json_is_object(e) ? json_object_get(e, "id") : NULL;
  if (!json_is_string(t) || !json_is_string(id))
    return cedar__diag(diags, -WD_E_PARSE, "%s.values.%s: expected an entity uid", path, slot);
  cedar__uid uid = {{json_string_value(t), (uint32_t)json_string_length(t)},
                    {json_string_value(id), (uint32_t)json_string_length(id)}};
  wd_buf_reset(text);
  int rc = cedar__fmt_uid(text, &uid);
  if (rc != 0) return rc;
  *out = wd_arena_strndup(a, wd_buf_str(text), wd_buf_len(text));
  return *out ? 0 : -WD_E_NOMEM;
}

static int add_links(cedar_psbuilder *b, const json_t *links, cedar_diags *diags) {
  if (!json_is_array(links))
    return cedar__diag(diags, -WD_E_PARSE, "templateLinks: expected an array");
  wd_buf text;
  wd_buf_init(&text, WD_LIMIT_BUF_DEFAULT);
  int rc = 0;
  for (size_t i = 0; i < json_array_size(links) && rc == 0; i++) {
    char path[48];
    snprintf(path, sizeof path, "templateLinks[%zu]", i);
    const json_t *l = json_array_get(links, i);
    const json_t *tid = json_object_get(l, "templateId"), *nid = json_object_get(l, "newId");
    const json_t *vals = json_object_get(l, "values");
    if (!json_is_string(tid) || !json_is_string(nid) || (vals && !json_is_object(vals))) {
      rc = cedar__diag(diags, -WD_E_PARSE, "%s: expected {\"templateId\", \"newId\", \"values\"}",
                       path);
      break;
    }
    const char *pv = NULL, *rv = NULL;
    rc = link_value(vals, "?principal", &text, cedar__psbuilder_arena(b), path, diags, &pv);
    if (rc == 0)
      rc = link_value(vals, "?resource", &text, cedar__psbuilder_arena(b), path, diags, &rv);
    if (rc == 0)
      rc = cedar_psbuilder_link(b, json_string_value(tid), json_string_value(nid), pv, rv, diags);
  }
  wd_buf_free(&text);
  return rc;
}

/* A lone policy: @id names it, else the first "policyN" not yet taken. */
static int add_single(cedar_psbuilder *b, cedar__policy *p, cedar_diags *diags) {
  wd_arena *a = cedar__psbuilder_arena(b);
  for (uint32_t i = 0; i < p->nannots; i++) {
    if (p->annots[i].key.n == 2 && memcmp(p->annots[i].key.p, "id", 2) == 0 &&
        p->annots[i].has_val) {
      p->id = p->annots[i].val;
      return cedar__psbuilder_add(b, p, diags);
    }
  }
  uint32_t n = cedar__psbuilder_next_index(b);
  for (uint32_t tries = 0; tries < 1000; tries++, n++) {
    char id[32];
    int len = snprintf(id, sizeof id, "policy%u", n);
    p->id.p = wd_arena_strndup(a, id, (size_t)len);
    p->id.n = (uint32_t)len;
    if (!p->id.p) return -WD_E_NOMEM;
    int rc = cedar__psbuilder_add(b, p, NULL);
    if (rc != -WD_E_EXISTS) return rc;
  }
  return cedar__psbuilder_add(b, p, diags);
}

int cedar_psbuilder_add_est(cedar_psbuilder *b, const char *json, size_t len, cedar_diags *diags) {
  if (!b || (!json && len)) return -WD_E_INVAL;
  if (len > WD_LIMIT_JSON_BYTES)
    return cedar__diag(diags, -WD_E_TOOBIG, "EST document exceeds %u bytes", WD_LIMIT_JSON_BYTES);
  json_error_t err;
  json_t *doc = json_loadb(json ? json : "", len, CEDAR__JSON_FLAGS, &err);
  if (!doc) {
    cedar__diag_at(diags, json, len, -WD_E_JSON, (uint32_t)err.position, 0, "%s", err.text);
    return -WD_E_PARSE;
  }
  wd_arena *a = cedar__psbuilder_arena(b);
  pending pend = {NULL, 0};
  int rc = 0;
  const json_t *st = json_object_get(doc, "staticPolicies");
  const json_t *tp = json_object_get(doc, "templates");
  const json_t *lk = json_object_get(doc, "templateLinks");
  if (!a) {
    rc = -WD_E_INVAL;
  } else if (st || tp || lk) {
    size_t n = json_object_size(st) + json_object_size(tp);
    pend.v = wd_calloc(n ? n : 1, sizeof *pend.v);
    if (!pend.v) {
      rc = -WD_E_NOMEM;
      goto out;
    }
    int r1 = tp ? read_group(a, tp, "templates", 1, &pend, diags) : 0;
    int r2 = st ? read_group(a, st, "staticPolicies", 0, &pend, diags) : 0;
    rc = r1 ? r1 : r2;
    for (size_t i = 0; i < pend.n && rc == 0; i++)
      rc = cedar__psbuilder_add(b, pend.v[i], diags);
    if (rc == 0 && lk) rc = add_links(b, lk, diags);
  } else {
    cedar__policy *p = NULL;
    rc = cedar__est_to_policy(a, doc, "", &p, diags);
    if (rc == 0) rc = add_single(b, p, diags);
  }
out:
  wd_free(pend.v);
  json_decref(doc);
  if (rc == -WD_E_NOMEM || rc == -WD_E_INVAL) return rc;
  return rc ? -WD_E_PARSE : 0;
}
