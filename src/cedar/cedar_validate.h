/* SPDX-License-Identifier: Apache-2.0
 *
 * Private header of the strict-mode validator (validate*.c): the typing
 * lattice, capabilities and the per-run context. The validator follows
 * Cedar's strict typechecker: every policy is typed once per request
 * environment (action, principal type, resource type) its scope allows.
 * Nothing here is used outside validate*.c.
 */
#ifndef CEDAR_VALIDATE_H
#define CEDAR_VALIDATE_H

#include "cedar_schema.h"

/* Booleans carry a singleton refinement: `true`, `false`, or either. */
typedef enum { CEDAR__VB_ANY = 0, CEDAR__VB_TT = 1, CEDAR__VB_FF = 2 } cedar__vbool;

typedef struct cedar__vtype cedar__vtype;

typedef struct cedar__vattr {
  cedar__str name;
  const cedar__vtype *t;
  int required;
} cedar__vattr;

/* A type of the typing lattice; the kinds are the schema's. */
struct cedar__vtype {
  cedar__tkind kind;
  cedar__vbool b;            /* BOOL */
  cedar__str name;           /* ENTITY, EXT */
  const cedar__vtype *elem;  /* SET */
  const cedar__vattr *attrs; /* RECORD: sorted by name, unique */
  uint32_t nattrs;
  int open; /* RECORD: may hold attributes not listed */
};

/* A capability: `on has attr` (tag NULL) or `on.hasTag(tag)` proven true. */
typedef struct cedar__vcap {
  const cedar__expr *on;
  cedar__str attr;
  const cedar__expr *tag;
} cedar__vcap;

typedef struct cedar__vcaps {
  const cedar__vcap *v;
  uint32_t n;
} cedar__vcaps;

/* One request environment. */
typedef struct cedar__venv {
  cedar__str principal;
  cedar__str resource;
  const cedar__saction *action;
  const cedar__vtype *context;
} cedar__venv;

typedef struct cedar__vctx {
  const cedar_schema *s;
  wd_arena *types;             /* converted schema types, for the whole run */
  wd_arena *scratch;           /* per policy */
  const cedar__vtype **shapes; /* per schema entity index */
  const cedar__vtype **tags;   /* per schema entity index; NULL: no tags */
  const cedar__vtype **ctxs;   /* per schema action index */
  const cedar__venv *env;
  uint32_t depth;
  /* the first type error of the current environment */
  int failed;
  uint32_t err_off, err_len;
  char err[CEDAR_DIAG_MSG];
} cedar__vctx;

extern const cedar__vtype cedar__vt_bool_any, cedar__vt_bool_tt, cedar__vt_bool_ff;
extern const cedar__vtype cedar__vt_long, cedar__vt_string;

/* validate_type.c -------------------------------------------------------- */

/* Converts a schema type into the lattice (allocated in a). NULL on OOM. */
const cedar__vtype *cedar__vt_from_schema(wd_arena *a, const cedar__type *t);
const cedar__vtype *cedar__vt_bool(cedar__vbool b);
const cedar__vtype *cedar__vt_entity(wd_arena *a, cedar__str name);
const cedar__vtype *cedar__vt_ext(cedar__str name);
const cedar__vtype *cedar__vt_set(wd_arena *a, const cedar__vtype *elem);
/* Strict least upper bound; NULL when there is none (or out of memory,
 * which *nomem reports). */
const cedar__vtype *cedar__vt_lub(wd_arena *a, const cedar__vtype *x, const cedar__vtype *y,
                                  int *nomem);
/* Appends the type as Cedar's validator prints it. */
void cedar__vt_print(wd_buf *b, const cedar__vtype *t);
const cedar__vattr *cedar__vt_attr(const cedar__vtype *rec, cedar__str name);
/* 1 if entities of type a may be members of (or equal to) entities of
 * type b, following memberOfTypes transitively. */
int cedar__vt_entity_desc(const cedar_schema *s, cedar__str a, cedar__str b);
/* 1 if action a equals b or is a member of it, transitively. */
int cedar__vt_action_desc(const cedar_schema *s, const cedar__uid *a, const cedar__uid *b);
/* 1 if name is the entity type of some declared action. */
int cedar__vt_is_action_type(const cedar_schema *s, cedar__str name);

/* validate_caps.c -------------------------------------------------------- */

int cedar__vcaps_has(cedar__vcaps c, const cedar__expr *on, cedar__str attr,
                     const cedar__expr *tag);
/* Capabilities are immutable; these build new ones in a. */
int cedar__vcaps_one(wd_arena *a, const cedar__expr *on, cedar__str attr, const cedar__expr *tag,
                     cedar__vcaps *out);
int cedar__vcaps_union(wd_arena *a, cedar__vcaps x, cedar__vcaps y, cedar__vcaps *out);
int cedar__vcaps_inter(wd_arena *a, cedar__vcaps x, cedar__vcaps y, cedar__vcaps *out);

/* validate_expr.c -------------------------------------------------------- */

/* Types e in the current environment under capabilities in. Returns 0 with
 * *ty and *out set, -WD_E_VALIDATE after recording a type error in cx, or
 * -WD_E_NOMEM. */
int cedar__vexpr(cedar__vctx *cx, const cedar__expr *e, cedar__vcaps in, const cedar__vtype **ty,
                 cedar__vcaps *out);
/* Records the first type error of an environment; returns -WD_E_VALIDATE. */
int cedar__vfail(cedar__vctx *cx, const cedar__expr *e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Records "the types X and Y are not compatible" (a failed join). */
int cedar__vfail_join(cedar__vctx *cx, const cedar__expr *e, const cedar__vtype *x,
                      const cedar__vtype *y);

/* validate_call.c -------------------------------------------------------- */

/* Types a call to a builtin method or an extension function. */
int cedar__vcall(cedar__vctx *cx, const cedar__expr *e, cedar__vcaps c, const cedar__vtype **ty,
                 cedar__vcaps *out);

#endif
