/* SPDX-License-Identifier: Apache-2.0
 *
 * The engine's private header, shared by the files of src/cedar/ (like
 * sqliteInt.h). It defines the value model, the AST and the entry points
 * each file offers the others. Nothing here is part of the public API.
 *
 * Memory: every value and AST node lives in a wd_arena. Values built while
 * evaluating one request live in that request's arena; literals and AST
 * nodes live in the policy set's arena. Pointers between them are borrowed.
 */
#ifndef CEDAR_INT_H
#define CEDAR_INT_H

#include <jansson.h>
#include <stdarg.h>
#include <stdint.h>

#include "warden/cedar.h"
#include "../util/wd_arena.h"
#include "../util/wd_buf.h"
#include "../util/wd_limits.h"
#include "../util/wd_map.h"

/* ======================================================================== */
/* Values                                                                   */
/* ======================================================================== */

/* A byte string; not NUL-terminated in general and may contain NUL. */
typedef struct cedar__str {
  const char *p;
  uint32_t n;
} cedar__str;

/* An entity uid. type is fully qualified ("Ns::Sub::Type"), id unescaped. */
typedef struct cedar__uid {
  cedar__str type;
  cedar__str id;
} cedar__uid;

typedef enum {
  CEDAR__V_BOOL,
  CEDAR__V_LONG,
  CEDAR__V_STRING,
  CEDAR__V_ENTITY,
  CEDAR__V_SET,
  CEDAR__V_RECORD,
  CEDAR__V_DECIMAL,  /* u.i = value * 10^4 */
  CEDAR__V_IPADDR,   /* u.ip */
  CEDAR__V_DATETIME, /* u.i = milliseconds since the Unix epoch, UTC */
  CEDAR__V_DURATION, /* u.i = milliseconds */
} cedar__vkind;

typedef struct cedar__ip {
  uint8_t v6;       /* 0 for IPv4 (addr[0..4)), 1 for IPv6 */
  uint8_t prefix;   /* prefix length; 32 or 128 when none was written */
  uint8_t addr[16]; /* network byte order */
} cedar__ip;

typedef struct cedar__val cedar__val;
struct cedar__val {
  cedar__vkind kind;
  union {
    int b;                 /* BOOL: 0 or 1 */
    int64_t i;             /* LONG, DECIMAL, DATETIME, DURATION */
    cedar__str s;          /* STRING */
    const cedar__uid *uid; /* ENTITY */
    struct {
      const cedar__val *v; /* INVARIANT: sorted by cedar__val_cmp, no duplicates */
      uint32_t n;
    } set;
    struct {
      const cedar__str *k; /* INVARIANT: sorted by cedar__str_cmp, unique */
      const cedar__val *v;
      uint32_t n;
    } rec;
    cedar__ip ip; /* IPADDR */
  } u;
};

/* value.c ---------------------------------------------------------------- */

/* Byte-wise comparison, shorter first on a common prefix. */
int cedar__str_cmp(cedar__str a, cedar__str b);
int cedar__str_eq(cedar__str a, cedar__str b);
/* Wraps a NUL-terminated C string (borrowed). */
cedar__str cedar__cstr(const char *s);
int cedar__uid_eq(const cedar__uid *a, const cedar__uid *b);
int cedar__uid_cmp(const cedar__uid *a, const cedar__uid *b);
/* A total order over all values (kind first), used to canonicalize sets. */
int cedar__val_cmp(const cedar__val *a, const cedar__val *b);
/* Cedar's == : structural equality; values of different kinds are unequal. */
int cedar__val_eq(const cedar__val *a, const cedar__val *b);
/* Builds a set from n values (copied into a): sorts and removes duplicates. */
int cedar__set_make(wd_arena *a, const cedar__val *vals, uint32_t n, cedar__val *out);
/* ord[0..n) gets the indexes of keys[0..n) in key order, equal keys by
 * index. -WD_E_NOMEM. */
int cedar__key_order(const cedar__str *keys, uint32_t n, uint32_t *ord);
/* Builds a record from n key/value pairs (copied into a), sorted by key.
 * Returns -WD_E_EXISTS (and *dup_index) on a duplicate key. */
int cedar__rec_make(wd_arena *a, const cedar__str *keys, const cedar__val *vals, uint32_t n,
                    cedar__val *out, uint32_t *dup_index);
/* Binary search over n names sorted by cedar__str_cmp, one every stride
 * bytes from base (each the first member of its element, or a plain
 * cedar__str array). Returns 1 and *at when found, else 0. */
int cedar__str_find(const void *base, size_t stride, uint32_t n, cedar__str key, uint32_t *at);
/* Looks up key in a RECORD value; returns NULL when absent. */
const cedar__val *cedar__rec_get(const cedar__val *rec, cedar__str key);
/* Membership in a SET value (binary search). */
int cedar__set_has(const cedar__val *set, const cedar__val *v);
/* Arena-allocated copy of a uid and its strings. */
const cedar__uid *cedar__uid_new(wd_arena *a, cedar__str type, cedar__str id);
/* Prints v in Cedar syntax: 1, "s", Ns::T::"id", [..], {..}, decimal("1.0"),
 * ip("10.0.0.0/8"), datetime("..."), duration("..."). */
int cedar__val_print(wd_buf *b, const cedar__val *v);
/* Prints a uid as Ns::T::"id" with Cedar string escapes. */
int cedar__uid_print(wd_buf *b, const cedar__uid *uid);
/* Appends s as a quoted Cedar string literal with escapes. */
int cedar__str_print_quoted(wd_buf *b, cedar__str s);
/* The value in Cedar's JSON value format (__entity, __extn escapes);
 * returns a new jansson reference, or NULL when out of memory. */
json_t *cedar__val_to_json(const cedar__val *v);
/* Name of a kind as Cedar reports it in type errors ("Long", "Set", ...). */
const char *cedar__vkind_name(cedar__vkind k);

/* ======================================================================== */
/* Diagnostics (diag.c)                                                     */
/* ======================================================================== */

/* Appends an error located at a byte span of src (line and column computed
 * from src, which may be NULL). Returns code so callers can `return`. */
int cedar__diag_at(cedar_diags *d, const char *src, size_t srclen, int code, uint32_t off,
                   uint32_t len, const char *fmt, ...) __attribute__((format(printf, 7, 8)));
/* Appends an error with no source location (JSON path errors). */
int cedar__diag(cedar_diags *d, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Appends a fully formed diagnostic. d may be NULL (dropped). */
int cedar__diag_push(cedar_diags *d, const cedar_diag *g);
/* Computes 1-based line and column (in characters) of off in src. */
void cedar__locate(const char *src, size_t len, uint32_t off, uint32_t *line, uint32_t *col);
/* 1 when d takes no more findings (or is NULL): skip locating them. */
int cedar__diags_full(const cedar_diags *d);

/* ======================================================================== */
/* Extension functions and methods (ext.c, ext_*.c)                         */
/* ======================================================================== */

/* Every callable, data-driven: the parser resolves names through the table,
 * the evaluator dispatches through it. Order is part of the table only. */
#define CEDAR__FN_MAP(XX)                                                                          \
  /* id,                   name,                   method, arity */                                \
  XX(CONTAINS, "contains", 1, 2)                                                                   \
  XX(CONTAINS_ALL, "containsAll", 1, 2)                                                            \
  XX(CONTAINS_ANY, "containsAny", 1, 2)                                                            \
  XX(IS_EMPTY, "isEmpty", 1, 1)                                                                    \
  XX(GET_TAG, "getTag", 1, 2)                                                                      \
  XX(HAS_TAG, "hasTag", 1, 2)                                                                      \
  XX(DECIMAL, "decimal", 0, 1)                                                                     \
  XX(LESS_THAN, "lessThan", 1, 2)                                                                  \
  XX(LESS_THAN_OR_EQUAL, "lessThanOrEqual", 1, 2)                                                  \
  XX(GREATER_THAN, "greaterThan", 1, 2)                                                            \
  XX(GREATER_THAN_OR_EQUAL, "greaterThanOrEqual", 1, 2)                                            \
  XX(IP, "ip", 0, 1)                                                                               \
  XX(IS_IPV4, "isIpv4", 1, 1)                                                                      \
  XX(IS_IPV6, "isIpv6", 1, 1)                                                                      \
  XX(IS_LOOPBACK, "isLoopback", 1, 1)                                                              \
  XX(IS_MULTICAST, "isMulticast", 1, 1)                                                            \
  XX(IS_IN_RANGE, "isInRange", 1, 2)                                                               \
  XX(DATETIME, "datetime", 0, 1)                                                                   \
  XX(DURATION, "duration", 0, 1)                                                                   \
  XX(OFFSET, "offset", 1, 2)                                                                       \
  XX(DURATION_SINCE, "durationSince", 1, 2)                                                        \
  XX(TO_DATE, "toDate", 1, 1)                                                                      \
  XX(TO_TIME, "toTime", 1, 1)                                                                      \
  XX(TO_MILLISECONDS, "toMilliseconds", 1, 1)                                                      \
  XX(TO_SECONDS, "toSeconds", 1, 1)                                                                \
  XX(TO_MINUTES, "toMinutes", 1, 1)                                                                \
  XX(TO_HOURS, "toHours", 1, 1)                                                                    \
  XX(TO_DAYS, "toDays", 1, 1)

typedef enum {
#define XX(id, name, method, arity) CEDAR__F_##id,
  CEDAR__FN_MAP(XX)
#undef XX
      CEDAR__F__COUNT
} cedar__fn;

typedef struct cedar__evalctx cedar__evalctx;

/* Calls fn on already-evaluated args (receiver first for methods). On a
 * Cedar error, records the message in cx (cedar__eval_fail) and returns
 * -WD_E_EVAL. Builtins that need entities (getTag, hasTag) read cx->es. */
typedef int (*cedar__fn_impl)(cedar__evalctx *cx, const cedar__val *args, cedar__val *out);

typedef struct cedar__fninfo {
  const char *name;
  uint8_t is_method; /* called as recv.name(args) rather than name(args) */
  uint8_t arity;     /* including the receiver */
  cedar__fn_impl impl;
} cedar__fninfo;

extern const cedar__fninfo cedar__fn_table[CEDAR__F__COUNT];
/* Resolves a name; returns the cedar__fn or -1. A function name is also
 * accepted in its namespaced form only when Cedar accepts it. */
int cedar__fn_lookup(const char *name, size_t n, int is_method);

/* Parses extension literals (also used by the JSON __extn escape).
 * Each returns 0 or -WD_E_EVAL with a message in err (CEDAR_DIAG_MSG). */
int cedar__decimal_parse(cedar__str s, int64_t *out, char *err);
int cedar__ip_parse(cedar__str s, cedar__ip *out, char *err);
int cedar__datetime_parse(cedar__str s, int64_t *out_ms, char *err);
int cedar__duration_parse(cedar__str s, int64_t *out_ms, char *err);
/* Canonical text of extension values, as Cedar prints them. */
int cedar__decimal_print(wd_buf *b, int64_t v);
int cedar__ip_print(wd_buf *b, const cedar__ip *ip);
int cedar__datetime_print(wd_buf *b, int64_t ms);
int cedar__duration_print(wd_buf *b, int64_t ms);
/* Cedar's <, <=, >, >= order: defined only between two LONGs, two
 * DATETIMEs or two DURATIONs (not decimal: it has lessThan & co). Sets *out
 * to -1, 0 or 1 and returns 0, or returns -1 when the kinds don't compare. */
int cedar__ext_cmp(const cedar__val *a, const cedar__val *b, int *out);

/* ======================================================================== */
/* AST (built by parse*.c and est.c, read by everything else)               */
/* ======================================================================== */

typedef enum {
  CEDAR__X_LIT, /* u.lit: BOOL, LONG, STRING or ENTITY */
  CEDAR__X_VAR, /* u.var */
  CEDAR__X_IF,  /* u.op.a ? u.op.b : u.op.c */
  CEDAR__X_AND, /* u.op.a && u.op.b */
  CEDAR__X_OR,  /* u.op.a || u.op.b */
  CEDAR__X_NOT, /* !u.op.a */
  CEDAR__X_NEG, /* -u.op.a (a negative integer literal is a LIT instead) */
  CEDAR__X_EQ,  /* binary operators: u.op.a OP u.op.b */
  CEDAR__X_NE,
  CEDAR__X_LT,
  CEDAR__X_LE,
  CEDAR__X_GT,
  CEDAR__X_GE,
  CEDAR__X_IN,
  CEDAR__X_ADD,
  CEDAR__X_SUB,
  CEDAR__X_MUL,
  CEDAR__X_HAS,     /* u.attr: e has attr ("e has a.b" is desugared) */
  CEDAR__X_GETATTR, /* u.attr: e.attr or e["attr"] */
  CEDAR__X_LIKE,    /* u.like */
  CEDAR__X_IS,      /* u.is: e is T, or e is T in in */
  CEDAR__X_SET,     /* u.list: [a, b] */
  CEDAR__X_RECORD,  /* u.rec: {k: v}, keys unique, in source order */
  CEDAR__X_CALL,    /* u.call: f(args) or args[0].f(args[1..]) */
} cedar__xkind;

typedef enum {
  CEDAR__VAR_PRINCIPAL,
  CEDAR__VAR_ACTION,
  CEDAR__VAR_RESOURCE,
  CEDAR__VAR_CONTEXT,
} cedar__var;

/* One element of a `like` pattern: a wildcard, or literal bytes. */
typedef struct cedar__patelem {
  int wild;
  cedar__str lit; /* unescaped; empty when wild */
} cedar__patelem;

typedef struct cedar__expr cedar__expr;
struct cedar__expr {
  cedar__xkind kind;
  uint32_t off, len; /* source span; 0,0 when built from EST */
  uint32_t height;   /* levels down to the deepest leaf (a leaf is 1); see wd_limits.h */
  union {
    cedar__val lit;
    cedar__var var;
    struct {
      const cedar__expr *a, *b, *c;
    } op;
    struct {
      const cedar__expr *e;
      cedar__str attr;
    } attr;
    struct {
      const cedar__expr *e;
      const cedar__patelem *pat;
      uint32_t n;
    } like;
    struct {
      const cedar__expr *e;
      cedar__str type;
      const cedar__expr *in; /* NULL for plain `is` */
    } is;
    struct {
      const cedar__expr *const *items;
      uint32_t n;
    } list;
    struct {
      const cedar__str *keys;
      const cedar__expr *const *vals;
      uint32_t n;
    } rec;
    struct {
      cedar__fn fn;
      const cedar__expr *const *args;
      uint32_t n;
    } call;
  } u;
};

/* 1 + the tallest stored height among e's children (expr_height.c): the
 * builders set e->height to this once e's children are in place. */
uint32_t cedar__expr_height(const cedar__expr *e);

typedef enum { CEDAR__PERMIT = 0, CEDAR__FORBID = 1 } cedar__effect;

typedef enum {
  CEDAR__SLOT_NONE = -1,
  CEDAR__SLOT_PRINCIPAL = 0,
  CEDAR__SLOT_RESOURCE = 1,
} cedar__slot;

typedef enum {
  CEDAR__SC_ANY,    /* principal */
  CEDAR__SC_EQ,     /* principal == uid|slot */
  CEDAR__SC_IN,     /* principal in uid|slot */
  CEDAR__SC_IS,     /* principal is type */
  CEDAR__SC_IS_IN,  /* principal is type in uid|slot */
  CEDAR__SC_IN_SET, /* action in [uid, ...] (action only) */
} cedar__sckind;

typedef struct cedar__scope {
  cedar__sckind kind;
  uint32_t off, len;             /* source span of the constraint */
  cedar__str type;               /* IS, IS_IN */
  const cedar__uid *uid;         /* EQ, IN, IS_IN when slot is NONE */
  cedar__slot slot;              /* EQ, IN, IS_IN: the slot named instead of a uid */
  const cedar__uid *const *uids; /* IN_SET */
  uint32_t nuids;
} cedar__scope;

typedef struct cedar__cond {
  int is_when; /* 1 for when, 0 for unless */
  const cedar__expr *e;
  uint32_t off, len; /* span of the whole clause, keyword included */
} cedar__cond;

typedef struct cedar__annot {
  cedar__str key;
  cedar__str val; /* unescaped; empty for a value-less annotation */
  int has_val;
  uint32_t off, len;
} cedar__annot;

typedef struct cedar__policy {
  cedar__str id; /* policyN, @id, or the link id */
  cedar__effect effect;
  cedar__scope principal, action, resource;
  const cedar__cond *conds;
  uint32_t nconds;
  const cedar__annot *annots; /* source order */
  uint32_t nannots;
  int is_template;                /* mentions ?principal or ?resource */
  cedar__str template_id;         /* for a linked policy: the template; else empty */
  const cedar__uid *slot_vals[2]; /* for a linked policy: values of the slots */
  uint32_t off, len;              /* span of the whole policy in its source */
  const char *src;                /* the text it was parsed from (set arena copy); NULL from EST */
  uint32_t srclen;
  uint32_t pos; /* position in its policy set (order of addition) */
} cedar__policy;

/* ======================================================================== */
/* Parser (lex.c, parse*.c)                                                 */
/* ======================================================================== */

/* Parses a policy file into arena-owned policies (and templates), in
 * source order. Ids are "policy<first_index + i>" unless @id renames one.
 * Reports every error it can find into diags (with line/col) and returns
 * -WD_E_PARSE if there was any; *out is then unspecified. Never recurses
 * deeper than WD_LIMIT_EXPR_DEPTH, and refuses an expression taller than
 * WD_LIMIT_EXPR_HEIGHT. */
int cedar__parse_policies(wd_arena *a, const char *src, size_t len, uint32_t first_index,
                          cedar__policy ***out, uint32_t *n, cedar_diags *diags);
/* Parses a single expression (for `warden cedar evaluate`). */
int cedar__parse_expr(wd_arena *a, const char *src, size_t len, const cedar__expr **out,
                      cedar_diags *diags);
/* Parses an entity uid in Cedar syntax, e.g. Ns::User::"alice". */
int cedar__parse_uid(wd_arena *a, const char *src, size_t len, const cedar__uid **out,
                     cedar_diags *diags);
/* Unescapes the body of a Cedar string literal (without quotes):
 * \n \r \t \\ \0 \' \" \u{X..}. On error returns -WD_E_PARSE and sets
 * *bad_off to the offending byte offset within s. */
int cedar__unescape(wd_arena *a, const char *s, size_t n, cedar__str *out, uint32_t *bad_off);
/* Parses the body of a `like` pattern literal into elements. */
int cedar__parse_pattern(wd_arena *a, const char *s, size_t n, const cedar__patelem **out,
                         uint32_t *nout, uint32_t *bad_off);

/* ======================================================================== */
/* JSON (json.c): Cedar's JSON value and uid formats, on jansson            */
/* ======================================================================== */

/* jansson decode flags every Cedar JSON input uses: exact 64-bit integers,
 * duplicate keys rejected, embedded NULs allowed. */
#define CEDAR__JSON_FLAGS (JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL)

/* Parses text with limits and reports jansson's line/column on error. */
int cedar__json_load(const char *text, size_t len, json_t **out, cedar_diags *diags);
/* Converts a JSON uid ({"type","id"} or {"__entity":{...}}) into an
 * arena-owned uid. path names the location for errors ("entities[3].uid"). */
int cedar__json_uid(wd_arena *a, const json_t *j, const char *path, const cedar__uid **out,
                    cedar_diags *diags);
/* Converts a JSON value into a Cedar value: integers must be exact,
 * floats and null are errors, {"__entity":..} and {"__extn":{fn,arg|args}}
 * are escapes, other objects are records, arrays are sets. */
int cedar__json_val(wd_arena *a, const json_t *j, const char *path, cedar__val *out,
                    cedar_diags *diags);

/* ======================================================================== */
/* Entities (entities.c) and requests (request.c)                           */
/* ======================================================================== */

typedef struct cedar__entity {
  const cedar__uid *uid;
  cedar__val attrs;                 /* RECORD */
  cedar__val tags;                  /* RECORD; empty when the entity has none */
  const cedar__uid *const *parents; /* direct parents, as loaded */
  uint32_t nparents;
} cedar__entity;

/* Returns the entity with this uid, or NULL. */
const cedar__entity *cedar__entities_find(const cedar_entities *es, const cedar__uid *uid);
/* Cedar's `in` on entities: 1 if a equals b or b is an ancestor of a (in the
 * transitive closure computed at load), else 0. es may be NULL. */
int cedar__entities_in(const cedar_entities *es, const cedar__uid *a, const cedar__uid *b);

struct cedar_request {
  wd_arena *arena;
  cedar__val principal; /* ENTITY */
  cedar__val action;    /* ENTITY */
  cedar__val resource;  /* ENTITY */
  cedar__val context;   /* RECORD */
};

/* An empty request with its arena (free with cedar_request_free), or
 * NULL when out of memory. */
cedar_request *cedar__request_alloc(void);

/* ======================================================================== */
/* Evaluation (eval.c)                                                      */
/* ======================================================================== */

struct cedar__evalctx {
  wd_arena *arena;          /* per-request scratch for values */
  const cedar_entities *es; /* may be NULL */
  const cedar_request *rq;
  const cedar__policy *policy; /* policy under evaluation, for slot values */
  uint32_t depth;
  char err[CEDAR_DIAG_MSG]; /* message of the last evaluation error */
};

/* Records a Cedar evaluation error in cx and returns -WD_E_EVAL. */
int cedar__eval_fail(cedar__evalctx *cx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Evaluates e. Returns 0 with *out set, -WD_E_EVAL with cx->err set for a
 * Cedar error, or another negative code (-WD_E_NOMEM) for an internal one. */
int cedar__eval(cedar__evalctx *cx, const cedar__expr *e, cedar__val *out);
/* 1 if the request satisfies p's scope, else 0 (scopes never error). */
int cedar__scope_matches(cedar__evalctx *cx, const cedar__policy *p);
/* Evaluates p (scope and conditions): 0 with *sat set, or an error as
 * cedar__eval does. */
int cedar__policy_eval(cedar__evalctx *cx, const cedar__policy *p, int *sat);

/* ======================================================================== */
/* Policy sets (policyset.c, index.c, authz.c)                              */
/* ======================================================================== */

typedef struct cedar__index cedar__index;
/* Per-request values of the guard paths (index_guard.c). */
typedef struct cedar__guardmemo cedar__guardmemo;

struct cedar_policyset {
  _Atomic long refs;
  wd_arena *arena;          /* owns every policy, template and AST node */
  cedar__policy **policies; /* static and linked, in order of addition */
  uint32_t npolicies;
  cedar__policy **templates;
  uint32_t ntemplates;
  wd_map *by_id; /* id -> cedar__policy*, templates included */
  cedar__index *index;
};

/* Internals the EST reader (est.c) uses to add policies to a builder. */
wd_arena *cedar__psbuilder_arena(cedar_psbuilder *b);
/* The N of the next default id "policyN". */
uint32_t cedar__psbuilder_next_index(const cedar_psbuilder *b);
/* Adds p, which must live in the builder's arena; -WD_E_EXISTS (with a
 * diagnostic) when its id is taken. Templates are recognized by
 * p->is_template. */
int cedar__psbuilder_add(cedar_psbuilder *b, cedar__policy *p, cedar_diags *diags);

/* Builds the scope index over ps->policies. Returns owned (free with
 * cedar__index_free). */
int cedar__index_build(const cedar_policyset *ps, cedar__index **out);
void cedar__index_free(cedar__index *ix);
/* Calls fn, in policy order, for every policy that may be satisfied by rq
 * or may error on it (a superset; never misses one): those whose scope may
 * match, less those filed under a guard whose path has a value other
 * than their literal. cx evaluates guard paths, whose values *memo keeps
 * for the request (see cedar__guard_false). Stops early if fn returns
 * non-zero and returns that value. */
int cedar__index_candidates(const cedar__index *ix, const cedar_entities *es,
                            const cedar_request *rq, cedar__evalctx *cx, cedar__guardmemo **memo,
                            int (*fn)(void *arg, const cedar__policy *p), void *arg);

/* Guards (index_guard.c): per policy, the `path == literal` its first
 * clause starts with, when it has one; every array lives in the arena
 * given to cedar__guards_build. */
typedef struct cedar__guard {
  uint32_t path;         /* path id + 1; 0: the policy has no guard */
  const cedar__val *lit; /* borrowed from the policy's AST */
} cedar__guard;

typedef struct cedar__guards {
  cedar__guard *by_pos; /* by policy pos */
  uint32_t npos;
  const cedar__expr **paths; /* by path id: one representative expression */
  uint32_t npaths;
} cedar__guards;

int cedar__guards_build(wd_arena *a, cedar__policy *const *policies, uint32_t n,
                        cedar__guards *out);
/* 1 when p's guard path evaluates, without error, to a value other than
 * its literal: p can then neither be satisfied nor error. 0 otherwise
 * (no guard, equal, or the path errors: evaluating p reports that), or
 * -WD_E_NOMEM. *memo starts NULL; it is allocated in cx->arena and holds
 * each path's value for the rest of the request. */
int cedar__guard_false(const cedar__guards *g, cedar__evalctx *cx, cedar__guardmemo **memo,
                       const cedar__policy *p);
/* The request's value of guard path `path` (an id + 1, as in
 * cedar__guard.path): 1 with *v set (in the memo), 0 when the path
 * errors, or -WD_E_NOMEM. */
int cedar__guard_value(const cedar__guards *g, cedar__evalctx *cx, cedar__guardmemo **memo,
                       uint32_t path, const cedar__val **v);
/* Appends to out bytes that are equal for two values exactly when Cedar's
 * == holds between them, for the kinds a guard literal can have. 0, 1
 * when v's kind is not one of those (it equals no literal), or an error
 * from out. */
int cedar__guard_key(const cedar__val *v, wd_buf *out);
/* The guards of an index's policies; NULL for no index. */
const cedar__guards *cedar__index_guards(const cedar__index *ix);

/* ======================================================================== */
/* Formatting and EST (format.c, est.c)                                     */
/* ======================================================================== */

/* Appends the canonical Cedar text of p (annotations included). */
int cedar__format_policy(wd_buf *b, const cedar__policy *p);
/* Appends the canonical Cedar text of e. */
int cedar__format_expr(wd_buf *b, const cedar__expr *e);
/* AST equality ignoring source spans and positions. */
int cedar__policy_equal(const cedar__policy *a, const cedar__policy *b);
int cedar__expr_equal(const cedar__expr *a, const cedar__expr *b);
/* EST conversion of one policy (new jansson reference) and back. */
json_t *cedar__est_from_policy(const cedar__policy *p);
int cedar__est_to_policy(wd_arena *a, const json_t *j, const char *path, cedar__policy **out,
                         cedar_diags *diags);

#endif
