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
/* Builds a value of extension type t from its literal string through the
 * type's constructor (ip("..") for ipaddr, and so on); an invalid literal
 * is an error naming path and who (may be NULL). */
int cedar__schema_ext_literal(wd_arena *a, const cedar__type *t, cedar__str lit, const char *path,
                              const char *who, cedar__val *out, cedar_diags *d);
/* The name of the constructor of extension type t ("ip" for ipaddr), or
 * NULL when t is not an extension type this engine knows. */
const char *cedar__schema_ext_fn(const cedar__type *t);
/* 1 when id is allowed for the entity type se: se is NULL, not an
 * enumeration, or lists id. */
int cedar__schema_enum_ok(const cedar__sentity *se, cedar__str id);
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
/* The same, always through a JSON tree: the general reader, which words
 * every error (request_text.c's reader is checked against it). */
int cedar__request_from_tree(const char *json, size_t len, const cedar_schema *schema, int validate,
                             cedar_request **out, cedar_diags *diags);
/* The validated request from its JSON text in one pass, with no JSON tree
 * (request_text.c): 0 and *out (owned) when the text keeps to the plain
 * form (principal, action and resource before the context, every value
 * of its declared type and spelled the plain way, no errors);
 * CEDAR__DECLINE when it does not, and the caller reads it the general
 * way, which also words any error; or -WD_E_NOMEM. */
#define CEDAR__DECLINE 1
int cedar__request_from_text(const char *json, size_t len, const cedar_schema *schema,
                             cedar_request **out);
/* 1 when a and b hold equal principals, actions, resources and contexts
 * that also print the same: the test the one-pass reader is held to. */
int cedar__request_same(const cedar_request *a, const cedar_request *b);

#endif
