/* SPDX-License-Identifier: Apache-2.0
 *
 * The builtin methods that are not extension types: the set tests
 * (contains, containsAll, containsAny, isEmpty) and entity tags (getTag,
 * hasTag). Argument kinds are checked receiver first, as the reference
 * does; set membership is Cedar equality through cedar__set_has.
 */

#include "ext_int.h"

static const char EXP_ENTITY[] = "(entity of type `any_entity_type`)";

int cedar__ext_CONTAINS(cedar__evalctx *cx, const cedar__val *args, cedar__val *out) {
  int rc = cedar__ext_want(cx, &args[0], CEDAR__V_SET, "set");
  if (rc) return rc;
  out->kind = CEDAR__V_BOOL;
  out->u.b = cedar__set_has(&args[0], &args[1]) ? 1 : 0;
  return 0;
}

/* Shared body of containsAll (want_all) and containsAny. */
static int contains_many(cedar__evalctx *cx, const cedar__val *args, cedar__val *out,
                         int want_all) {
  int rc = cedar__ext_want(cx, &args[0], CEDAR__V_SET, "set");
  if (rc) return rc;
  rc = cedar__ext_want(cx, &args[1], CEDAR__V_SET, "set");
  if (rc) return rc;
  int res = want_all;
  for (uint32_t i = 0; i < args[1].u.set.n; i++) {
    int has = cedar__set_has(&args[0], &args[1].u.set.v[i]) ? 1 : 0;
    if (has != want_all) {
      res = has;
      break;
    }
  }
  out->kind = CEDAR__V_BOOL;
  out->u.b = res;
  return 0;
}

int cedar__ext_CONTAINS_ALL(cedar__evalctx *cx, const cedar__val *args, cedar__val *out) {
  return contains_many(cx, args, out, 1);
}

int cedar__ext_CONTAINS_ANY(cedar__evalctx *cx, const cedar__val *args, cedar__val *out) {
  return contains_many(cx, args, out, 0);
}

int cedar__ext_IS_EMPTY(cedar__evalctx *cx, const cedar__val *args, cedar__val *out) {
  int rc = cedar__ext_want(cx, &args[0], CEDAR__V_SET, "set");
  if (rc) return rc;
  out->kind = CEDAR__V_BOOL;
  out->u.b = args[0].u.set.n == 0;
  return 0;
}

/* Checks the arguments of getTag/hasTag and finds the entity (NULL when
 * it does not exist). */
static int tag_args(cedar__evalctx *cx, const cedar__val *args, const cedar__entity **ent) {
  if (args[0].kind != CEDAR__V_ENTITY) return cedar__eval_type_err(cx, EXP_ENTITY, &args[0]);
  int rc = cedar__ext_want(cx, &args[1], CEDAR__V_STRING, "string");
  if (rc) return rc;
  *ent = cx->es ? cedar__entities_find(cx->es, args[0].u.uid) : NULL;
  return 0;
}

int cedar__ext_GET_TAG(cedar__evalctx *cx, const cedar__val *args, cedar__val *out) {
  const cedar__entity *ent = NULL;
  int rc = tag_args(cx, args, &ent);
  if (rc) return rc;
  char who[160];
  if (!ent) {
    cedar__eval_uid_text(args[0].u.uid, who, sizeof who);
    return cedar__eval_fail(cx, "entity `%s` does not exist", who);
  }
  const cedar__val *v =
      ent->tags.kind == CEDAR__V_RECORD ? cedar__rec_get(&ent->tags, args[1].u.s) : NULL;
  if (!v) {
    cedar__eval_uid_text(args[0].u.uid, who, sizeof who);
    cedar__str k = args[1].u.s;
    return cedar__eval_fail(cx, "`%s` does not have the tag `%.*s`", who,
                            (int)(k.n > 80 ? 80 : k.n), k.p);
  }
  *out = *v;
  return 0;
}

int cedar__ext_HAS_TAG(cedar__evalctx *cx, const cedar__val *args, cedar__val *out) {
  const cedar__entity *ent = NULL;
  int rc = tag_args(cx, args, &ent);
  if (rc) return rc;
  out->kind = CEDAR__V_BOOL;
  out->u.b = ent && ent->tags.kind == CEDAR__V_RECORD && cedar__rec_get(&ent->tags, args[1].u.s);
  return 0;
}
