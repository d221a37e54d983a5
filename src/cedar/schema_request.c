/* SPDX-License-Identifier: Apache-2.0
 *
 * Request validation against a schema (the reference's validateRequest):
 * the action is declared, and the principal and resource have types the
 * action applies to. Reading the context by the action's declared context
 * type is request.c's, through cedar__schema_json_val. Entities are
 * schema_entities.c's.
 */
#include <string.h>

#include "cedar_schema_ent.h"

static void uid_str(const cedar__uid *u, char *out, size_t cap) {
  wd_buf b;
  wd_buf_init(&b, cap - 1);
  int rc = cedar__uid_print(&b, u);
  size_t n = rc == 0 && wd_buf_str(&b) ? wd_buf_len(&b) : 0;
  memcpy(out, n ? wd_buf_str(&b) : "?", n ? n : 2);
  out[n ? n : 1] = '\0';
  wd_buf_free(&b);
}

const cedar__type *cedar__schema_context_type(const cedar_schema *s, const cedar__uid *action,
                                              cedar_diags *d) {
  const cedar__saction *sa = cedar__schema_action(s, action);
  if (!sa) {
    char u[128];
    uid_str(action, u, sizeof u);
    (void)cedar__diag(d, -WD_E_JSON, "request: action `%s` is not declared in the schema", u);
    return NULL;
  }
  return sa->context;
}

static int has_type(const cedar__str *types, uint32_t n, cedar__str t) {
  for (uint32_t i = 0; i < n; i++)
    if (cedar__str_eq(types[i], t)) return 1;
  return 0;
}

/* One of principal or resource: its type must be one the action applies
 * to, and an enum type's id must be declared. The uids are printed only
 * for a message: this runs on every request. */
static int check_one(const cedar_schema *s, const char *role, const cedar__uid *u,
                     const cedar__str *types, uint32_t ntypes, const cedar__uid *act,
                     cedar_diags *d) {
  char us[128], as[128];
  if (!has_type(types, ntypes, u->type)) {
    if (!cedar__schema_entity(s, u->type))
      return cedar__diag(d, -WD_E_JSON, "request: %s type `%.*s` is not declared in the schema",
                         role, (int)u->type.n, u->type.p);
    uid_str(u, us, sizeof us);
    uid_str(act, as, sizeof as);
    if (ntypes == 0)
      return cedar__diag(d, -WD_E_JSON,
                         "request: %s `%s` is not valid for action `%s`, which applies to no %s "
                         "types in the schema",
                         role, us, as, role);
    return cedar__diag(d, -WD_E_JSON,
                       "request: %s type `%.*s` is not valid for action `%s` according to the "
                       "schema (%s `%s`)",
                       role, (int)u->type.n, u->type.p, as, role, us);
  }
  if (!cedar__schema_enum_ok(cedar__schema_entity(s, u->type), u->id)) {
    uid_str(u, us, sizeof us);
    return cedar__diag(d, -WD_E_JSON,
                       "request: %s `%s` is of an enumerated entity type, but its id is not one "
                       "of the declared ids",
                       role, us);
  }
  return 0;
}

int cedar__schema_check_request(const cedar_schema *s, const cedar_request *rq, cedar_diags *d) {
  const cedar__uid *act = rq->action.u.uid;
  const cedar__saction *sa = cedar__schema_action(s, act);
  if (!sa) {
    char as[128];
    uid_str(act, as, sizeof as);
    return cedar__diag(d, -WD_E_JSON, "request: action `%s` is not declared in the schema", as);
  }
  int rc = check_one(s, "principal", rq->principal.u.uid, sa->principals, sa->nprincipals, act, d);
  if (rc == 0)
    rc = check_one(s, "resource", rq->resource.u.uid, sa->resources, sa->nresources, act, d);
  return rc;
}

static const cedar__tattr *find_attr(const cedar__type *t, const char *name) {
  size_t n = strlen(name);
  for (uint32_t i = 0; t->kind == CEDAR__T_RECORD && i < t->nattrs; i++)
    if (t->attrs[i].name.n == n && memcmp(t->attrs[i].name.p, name, n) == 0) return &t->attrs[i];
  return NULL;
}

int cedar_schema_context_declares(const cedar_schema *s, const char *action_id,
                                  const char *const *path, size_t depth, const char *name) {
  if (!s || !action_id || (depth && !path) || !name) return 0;
  size_t n = strlen(action_id);
  if (n > UINT32_MAX) return 0;
  cedar__uid uid = {{"Action", 6}, {action_id, (uint32_t)n}};
  const cedar__saction *sa = cedar__schema_action(s, &uid);
  const cedar__type *t = sa ? sa->context : NULL;
  for (size_t i = 0; t && i < depth; i++) {
    const cedar__tattr *a = find_attr(t, path[i]);
    t = a ? a->type : NULL;
  }
  if (!t || t->kind != CEDAR__T_RECORD) return 0;
  return t->open || find_attr(t, name) != NULL;
}
