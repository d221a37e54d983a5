/* SPDX-License-Identifier: Apache-2.0
 *
 * Private to entities.c, request.c, schema_entities.c and schema_request.c
 * (and the conformance runner): reading Cedar JSON values against the
 * types a schema declares, and checking entities and requests against the
 * schema. The untyped JSON value format stays json.c's.
 */
#ifndef CEDAR_SCHEMA_ENT_H
#define CEDAR_SCHEMA_ENT_H

#include "cedar_int.h"
#include "cedar_schema.h"

/* Converts j as a value of type t (t NULL: untyped, as cedar__json_val).
 * A {"type","id"} object is an entity reference where t says entity; a
 * plain string (or {"fn","arg"}) is an extension literal where t says an
 * extension type. Checks that the result conforms to t: every mismatch,
 * missing required or undeclared attribute is an error naming path, and
 * who (e.g. "attribute `x` of `User::\"a\"`", may be NULL) when given. */
int cedar__schema_json_val(wd_arena *a, const cedar_schema *s, const json_t *j,
                           const cedar__type *t, const char *path, const char *who, cedar__val *out,
                           cedar_diags *d);
/* Checks a loaded entity (attrs and tags already read against the schema)
 * for everything else the schema says: its type is declared (actions must
 * be checked later with cedar__schema_check_action), enum ids, the types of
 * its parents. path names the entity ("entities[3]"). */
int cedar__schema_check_entity(const cedar_schema *s, const cedar__entity *e, const char *path,
                               cedar_diags *d);
/* Checks an action entity of the data, once the data's hierarchy is
 * closed: it is a declared action with no attributes, and its ancestors
 * (anc, distinct) are exactly the declared ones, transitively. */
int cedar__schema_check_action(const cedar_schema *s, const cedar__entity *e,
                               const cedar__uid *const *anc, uint32_t nanc, cedar_diags *d);
/* 1 when type names an action entity type (Action or Ns::Action). */
int cedar__schema_is_action_type(cedar__str type);
/* Checks principal, action and resource of rq against the schema: the
 * action is declared, and the principal and resource types are among those
 * it applies to (and declared ids of enum types). The context is read
 * against the schema when it is parsed, not here. */
int cedar__schema_check_request(const cedar_schema *s, const cedar_request *rq, cedar_diags *d);
/* The declared context type of the action uid, or NULL with an error in d
 * when the action is not declared. */
const cedar__type *cedar__schema_context_type(const cedar_schema *s, const cedar__uid *action,
                                              cedar_diags *d);
/* cedar_request_from_json with request validation switched on or off
 * (validate 0: the schema only directs how the context is read, as the
 * corpus's "validateRequest": false does). */
int cedar__request_from_json_ex(const char *json, size_t len, const cedar_schema *schema,
                                int validate, cedar_request **out, cedar_diags *diags);

#endif
