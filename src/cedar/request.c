/* SPDX-License-Identifier: Apache-2.0
 *
 * Authorization requests: principal, action, resource and context, built
 * from Cedar's request JSON or from Cedar-syntax uids plus a context
 * document. Each request owns an arena that holds all of its values; the
 * evaluator borrows them. With a schema, the context is read by the
 * action's declared context type and the request is validated
 * (schema_request.c).
 */
#include <string.h>

#include "../util/wd_alloc.h"
#include "cedar_int.h"
#include "cedar_schema_ent.h"
#include "json_path.h"

cedar_request *cedar__request_alloc(void) {
  cedar_request *rq = wd_calloc(1, sizeof *rq);
  if (!rq) return NULL;
  rq->arena = wd_arena_new(WD_LIMIT_VALUE_BYTES);
  if (!rq->arena) {
    wd_free(rq);
    return NULL;
  }
  return rq;
}

void cedar_request_free(cedar_request *rq) {
  if (!rq) return;
  wd_arena_free(rq->arena);
  wd_free(rq);
}

static void set_entity(cedar__val *v, const cedar__uid *u) {
  memset(v, 0, sizeof *v);
  v->kind = CEDAR__V_ENTITY;
  v->u.uid = u;
}

/* A request uid is a JSON uid object or a string in Cedar syntax. */
static int json_req_uid(cedar_request *rq, const json_t *root, const char *key, cedar__val *out,
                        cedar_diags *d) {
  const json_t *j = json_object_get(root, key);
  const cedar__uid *u = NULL;
  int rc;
  if (!j) return cedar__diag(d, -WD_E_JSON, "request: missing \"%s\"", key);
  if (json_is_string(j)) {
    rc = cedar__parse_uid(rq->arena, json_string_value(j), json_string_length(j), &u, d);
    if (rc) return cedar__diag(d, rc, "request.%s: not an entity uid in Cedar syntax", key);
  } else {
    cedar__jpath p;
    cedar__jpath_init(&p, "request");
    (void)cedar__jpath_key(&p, key, strlen(key));
    rc = cedar__json_uid(rq->arena, j, p.buf, &u, d);
    if (rc) return rc;
  }
  set_entity(out, u);
  return 0;
}

static int context_from(cedar_request *rq, const json_t *j, const char *path, const cedar_schema *s,
                        cedar_diags *d) {
  if (!j && !s) return cedar__rec_make(rq->arena, NULL, NULL, 0, &rq->context, NULL);
  if (j && !json_is_object(j))
    return cedar__diag(d, -WD_E_JSON, "%s: expected an object, found %s", path,
                       cedar__json_kind(j));
  int rc;
  if (s) {
    const cedar__type *t = cedar__schema_context_type(s, rq->action.u.uid, d);
    if (!t) return -WD_E_JSON;
    json_t *empty = j ? NULL : json_object();
    if (!j && !empty) return -WD_E_NOMEM;
    rc = cedar__schema_json_val(rq->arena, s, j ? j : empty, t, path, "context", &rq->context, d);
    json_decref(empty);
  } else {
    rc = cedar__json_val(rq->arena, j, path, &rq->context, d);
  }
  if (rc == 0 && rq->context.kind != CEDAR__V_RECORD)
    /* A bare {"__entity":..} or {"__extn":..} is a value, not a context. */
    rc = cedar__diag(d, -WD_E_JSON, "%s: expected a record, found %s", path,
                     cedar__vkind_name(rq->context.kind));
  return rc;
}

int cedar_request_from_json(const char *json, size_t len, const cedar_schema *schema,
                            cedar_request **out, cedar_diags *diags) {
  return cedar__request_from_json_ex(json, len, schema, 1, out, diags);
}

int cedar__request_from_json_ex(const char *json, size_t len, const cedar_schema *schema,
                                int validate, cedar_request **out, cedar_diags *diags) {
  if (!out) return -WD_E_INVAL;
  *out = NULL;
  if (schema && validate) {
    int rc = cedar__request_from_text(json, len, schema, out);
    if (rc != CEDAR__DECLINE)
      return rc == -WD_E_NOMEM ? cedar__diag(diags, rc, "out of memory") : rc;
  }
  return cedar__request_from_tree(json, len, schema, validate, out, diags);
}

int cedar__request_from_tree(const char *json, size_t len, const cedar_schema *schema, int validate,
                             cedar_request **out, cedar_diags *diags) {
  json_t *root = NULL;
  cedar_request *rq = NULL;
  int rc;
  if (!out) return -WD_E_INVAL;
  *out = NULL;
  rc = cedar__json_load(json, len, &root, diags);
  if (rc) goto fail;
  if (!json_is_object(root)) {
    rc = cedar__diag(diags, -WD_E_JSON, "request: expected an object, found %s",
                     cedar__json_kind(root));
    goto fail;
  }
  rq = cedar__request_alloc();
  if (!rq) {
    rc = -WD_E_NOMEM;
    goto fail;
  }
  rc = json_req_uid(rq, root, "principal", &rq->principal, diags);
  if (rc == 0) rc = json_req_uid(rq, root, "action", &rq->action, diags);
  if (rc == 0) rc = json_req_uid(rq, root, "resource", &rq->resource, diags);
  if (rc == 0 && schema && validate) rc = cedar__schema_check_request(schema, rq, diags);
  if (rc == 0)
    rc = context_from(rq, json_object_get(root, "context"), "request.context", schema, diags);
  if (rc) goto fail;
  json_decref(root);
  *out = rq;
  return 0;
fail:
  json_decref(root);
  cedar_request_free(rq);
  return rc;
}

static int text_uid(cedar_request *rq, const char *s, const char *what, cedar__val *out,
                    cedar_diags *d) {
  const cedar__uid *u = NULL;
  if (!s) return cedar__diag(d, -WD_E_INVAL, "request: missing %s", what);
  int rc = cedar__parse_uid(rq->arena, s, strlen(s), &u, d);
  if (rc) return cedar__diag(d, rc, "request: %s is not an entity uid in Cedar syntax", what);
  set_entity(out, u);
  return 0;
}

int cedar_request_new(const char *principal, const char *action, const char *resource,
                      const char *context_json, size_t context_len, const cedar_schema *schema,
                      cedar_request **out, cedar_diags *diags) {
  json_t *ctx = NULL;
  cedar_request *rq = NULL;
  int rc;
  if (!out) return -WD_E_INVAL;
  *out = NULL;
  rq = cedar__request_alloc();
  if (!rq) return -WD_E_NOMEM;
  rc = text_uid(rq, principal, "principal", &rq->principal, diags);
  if (rc == 0) rc = text_uid(rq, action, "action", &rq->action, diags);
  if (rc == 0) rc = text_uid(rq, resource, "resource", &rq->resource, diags);
  if (rc == 0 && schema) rc = cedar__schema_check_request(schema, rq, diags);
  if (rc == 0 && context_json) rc = cedar__json_load(context_json, context_len, &ctx, diags);
  if (rc == 0) rc = context_from(rq, ctx, "context", schema, diags);
  json_decref(ctx);
  if (rc) {
    cedar_request_free(rq);
    return rc;
  }
  *out = rq;
  return 0;
}
