/* SPDX-License-Identifier: Apache-2.0
 *
 * Typing of calls for the strict validator: the set methods, tags, and
 * the extension functions with their signatures. Extension constructors
 * must be applied to a string literal that parses, as strict mode demands.
 * Operators and the other expression forms are in validate_expr.c.
 */
#include <string.h>

#include "cedar_validate.h"

#define ANY_SET "Set<__cedar::internal::Any>"

/* Argument and result types of the extension functions, receiver first.
 * "Bool" and "Long" name primitives; other names are extension types. */
typedef struct sig {
  const char *args[2];
  const char *ret;
} sig;

static int ext_sig(cedar__fn fn, sig *s) {
  switch (fn) {
  case CEDAR__F_LESS_THAN:
  case CEDAR__F_LESS_THAN_OR_EQUAL:
  case CEDAR__F_GREATER_THAN:
  case CEDAR__F_GREATER_THAN_OR_EQUAL: *s = (sig){{"decimal", "decimal"}, "Bool"}; return 1;
  case CEDAR__F_IS_IPV4:
  case CEDAR__F_IS_IPV6:
  case CEDAR__F_IS_LOOPBACK:
  case CEDAR__F_IS_MULTICAST: *s = (sig){{"ipaddr", NULL}, "Bool"}; return 1;
  case CEDAR__F_IS_IN_RANGE: *s = (sig){{"ipaddr", "ipaddr"}, "Bool"}; return 1;
  case CEDAR__F_OFFSET: *s = (sig){{"datetime", "duration"}, "datetime"}; return 1;
  case CEDAR__F_DURATION_SINCE: *s = (sig){{"datetime", "datetime"}, "duration"}; return 1;
  case CEDAR__F_TO_DATE: *s = (sig){{"datetime", NULL}, "datetime"}; return 1;
  case CEDAR__F_TO_TIME: *s = (sig){{"datetime", NULL}, "duration"}; return 1;
  case CEDAR__F_TO_MILLISECONDS:
  case CEDAR__F_TO_SECONDS:
  case CEDAR__F_TO_MINUTES:
  case CEDAR__F_TO_HOURS:
  case CEDAR__F_TO_DAYS: *s = (sig){{"duration", NULL}, "Long"}; return 1;
  case CEDAR__F_CONTAINS:
  case CEDAR__F_CONTAINS_ALL:
  case CEDAR__F_CONTAINS_ANY:
  case CEDAR__F_IS_EMPTY:
  case CEDAR__F_GET_TAG:
  case CEDAR__F_HAS_TAG:
  case CEDAR__F_DECIMAL:
  case CEDAR__F_IP:
  case CEDAR__F_DATETIME:
  case CEDAR__F_DURATION:
  case CEDAR__F__COUNT: break;
  }
  return 0;
}

static const cedar__vtype *named(const char *n) {
  if (strcmp(n, "Bool") == 0) return &cedar__vt_bool_any;
  if (strcmp(n, "Long") == 0) return &cedar__vt_long;
  return cedar__vt_ext(cedar__cstr(n));
}

static int same_ext(const cedar__vtype *t, const char *name) {
  return t->kind == CEDAR__T_EXT && cedar__str_eq(t->name, cedar__cstr(name));
}

static int unexpected(cedar__vctx *cx, const cedar__expr *e, const cedar__vtype *t,
                      const char *want) {
  wd_buf b;
  wd_buf_init(&b, 95);
  cedar__vt_print(&b, t);
  const char *s = wd_buf_str(&b);
  int rc = cedar__vfail(cx, e, "unexpected type: expected %s but saw %.*s", want,
                        (int)(s ? wd_buf_len(&b) : 0), s ? s : "");
  wd_buf_free(&b);
  return rc;
}

static int constructor(cedar__vctx *cx, const cedar__expr *e, const char *type) {
  const cedar__expr *arg = e->u.call.args[0];
  if (arg->kind != CEDAR__X_LIT || arg->u.lit.kind != CEDAR__V_STRING)
    return cedar__vfail(cx, e,
                        "extension constructors may not be called with non-literal "
                        "expressions");
  char err[CEDAR_DIAG_MSG] = "";
  const char *what = "a duration value";
  int64_t i;
  cedar__ip ip;
  cedar__str s = arg->u.lit.u.s;
  int rc;
  if (strcmp(type, "decimal") == 0) {
    what = "a decimal value";
    rc = cedar__decimal_parse(s, &i, err);
  } else if (strcmp(type, "ipaddr") == 0) {
    what = "IP address";
    rc = cedar__ip_parse(s, &ip, err);
  } else if (strcmp(type, "datetime") == 0) {
    what = "a datetime value";
    rc = cedar__datetime_parse(s, &i, err);
  } else {
    rc = cedar__duration_parse(s, &i, err);
  }
  if (rc == -WD_E_NOMEM) return rc;
  if (rc)
    return cedar__vfail(cx, arg,
                        "error during extension function argument validation: failed to parse "
                        "as %s: `\"%.*s\"`",
                        what, (int)s.n, s.p);
  return 0;
}

static int lub_bool(cedar__vctx *cx, const cedar__expr *e, const cedar__vtype *x,
                    const cedar__vtype *y, const cedar__vtype **ty) {
  int nomem = 0;
  if (!cedar__vt_lub(cx->scratch, x, y, &nomem)) {
    if (nomem) return -WD_E_NOMEM;
    return cedar__vfail_join(cx, e, x, y);
  }
  *ty = &cedar__vt_bool_any;
  return 0;
}

static int tag_call(cedar__vctx *cx, const cedar__expr *e, cedar__vcaps c,
                    const cedar__vtype *const *at, const cedar__vtype **ty, cedar__vcaps *out) {
  const cedar__expr *on = e->u.call.args[0], *tag = e->u.call.args[1];
  if (at[0]->kind != CEDAR__T_ENTITY)
    return unexpected(cx, on, at[0], "__cedar::internal::AnyEntity");
  if (at[1]->kind != CEDAR__T_STRING) return unexpected(cx, tag, at[1], "String");
  cedar__str name = at[0]->name;
  const cedar__sentity *se = cedar__schema_entity(cx->s, name);
  if (!se && !cedar__vt_is_action_type(cx->s, name))
    return cedar__vfail(cx, on, "unrecognized entity type `%.*s`", (int)name.n, name.p);
  const cedar__vtype *tt = se ? cx->tags[se - cx->s->entities] : NULL;
  int known = cedar__vcaps_has(c, on, (cedar__str){NULL, 0}, tag);
  if (e->u.call.fn == CEDAR__F_HAS_TAG) {
    if (!tt) {
      *ty = &cedar__vt_bool_ff;
      return 0;
    }
    if (known) {
      *ty = &cedar__vt_bool_tt;
      return 0;
    }
    *ty = &cedar__vt_bool_any;
    return cedar__vcaps_one(cx->scratch, on, (cedar__str){NULL, 0}, tag, out);
  }
  if (!tt || !known) {
    wd_buf b;
    wd_buf_init(&b, 64);
    int r = cedar__format_expr(&b, tag);
    const char *s = wd_buf_str(&b);
    (void)r;
    int rc = cedar__vfail(cx, e,
                          "unable to guarantee safety of access to tag `%.*s` on entity "
                          "type `%.*s`",
                          (int)(s ? wd_buf_len(&b) : 0), s ? s : "", (int)name.n, name.p);
    wd_buf_free(&b);
    return rc;
  }
  *ty = tt;
  return 0;
}

int cedar__vcall(cedar__vctx *cx, const cedar__expr *e, cedar__vcaps c, const cedar__vtype **ty,
                 cedar__vcaps *out) {
  cedar__fn fn = e->u.call.fn;
  uint32_t n = e->u.call.n;
  const cedar__fninfo *fi = &cedar__fn_table[fn];
  const cedar__vtype *at[2] = {NULL, NULL};
  for (uint32_t i = 0; i < n; i++) {
    const cedar__vtype *t;
    cedar__vcaps ignore;
    int rc = cedar__vexpr(cx, e->u.call.args[i], c, &t, &ignore);
    if (rc) return rc;
    if (i < 2) at[i] = t;
  }
  if (n != fi->arity)
    return cedar__vfail(cx, e,
                        "wrong number of arguments in extension function application. "
                        "Expected %u, got %u",
                        (unsigned)fi->arity, (unsigned)n);
  const cedar__expr *const *args = e->u.call.args;
  switch (fn) {
  case CEDAR__F_CONTAINS:
    if (at[0]->kind != CEDAR__T_SET) return unexpected(cx, args[0], at[0], ANY_SET);
    return lub_bool(cx, e, at[0]->elem, at[1], ty);
  case CEDAR__F_CONTAINS_ALL:
  case CEDAR__F_CONTAINS_ANY:
    if (at[0]->kind != CEDAR__T_SET) return unexpected(cx, args[0], at[0], ANY_SET);
    if (at[1]->kind != CEDAR__T_SET) return unexpected(cx, args[1], at[1], ANY_SET);
    return lub_bool(cx, e, at[0], at[1], ty);
  case CEDAR__F_IS_EMPTY:
    if (at[0]->kind != CEDAR__T_SET) return unexpected(cx, args[0], at[0], ANY_SET);
    *ty = &cedar__vt_bool_any;
    return 0;
  case CEDAR__F_GET_TAG:
  case CEDAR__F_HAS_TAG: return tag_call(cx, e, c, at, ty, out);
  case CEDAR__F_DECIMAL: *ty = named("decimal"); return constructor(cx, e, "decimal");
  case CEDAR__F_IP: *ty = named("ipaddr"); return constructor(cx, e, "ipaddr");
  case CEDAR__F_DATETIME: *ty = named("datetime"); return constructor(cx, e, "datetime");
  case CEDAR__F_DURATION: *ty = named("duration"); return constructor(cx, e, "duration");
  case CEDAR__F_LESS_THAN:
  case CEDAR__F_LESS_THAN_OR_EQUAL:
  case CEDAR__F_GREATER_THAN:
  case CEDAR__F_GREATER_THAN_OR_EQUAL:
  case CEDAR__F_IS_IPV4:
  case CEDAR__F_IS_IPV6:
  case CEDAR__F_IS_LOOPBACK:
  case CEDAR__F_IS_MULTICAST:
  case CEDAR__F_IS_IN_RANGE:
  case CEDAR__F_OFFSET:
  case CEDAR__F_DURATION_SINCE:
  case CEDAR__F_TO_DATE:
  case CEDAR__F_TO_TIME:
  case CEDAR__F_TO_MILLISECONDS:
  case CEDAR__F_TO_SECONDS:
  case CEDAR__F_TO_MINUTES:
  case CEDAR__F_TO_HOURS:
  case CEDAR__F_TO_DAYS:
  case CEDAR__F__COUNT: break;
  }
  sig s;
  if (!ext_sig(fn, &s)) return -WD_E_INTERNAL;
  for (uint32_t i = 0; i < n && i < 2; i++)
    if (s.args[i] && !same_ext(at[i], s.args[i])) return unexpected(cx, args[i], at[i], s.args[i]);
  *ty = named(s.ret);
  return 0;
}
