/* SPDX-License-Identifier: Apache-2.0
 *
 * The JSON policy format (EST) on the way in: one EST object into an
 * arena-owned cedar__policy, checked as strictly as the text parser checks
 * Cedar syntax (known operators, arities, slots only in the scope, action
 * uids of type Action). Every error names its JSON path, e.g.
 * "staticPolicies.p1.conditions[0].body.&&.left: unknown operator `&`".
 *
 * Strings are copied into the arena: the jansson document dies first.
 * Reading a whole document into a builder is est_doc.c; the writer is est.c.
 */
#include <stdio.h>
#include <string.h>

#include "format_int.h"

typedef struct rd {
  wd_arena *a;
  cedar_diags *d;
  char path[200];
  size_t plen;
  uint32_t depth;  /* expressions being read: as tall as the parser takes */
  uint32_t vdepth; /* literal values being read: as deep as the parser nests brackets */
} rd;

static int fail(rd *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(rd *r, const char *fmt, ...) {
  char msg[CEDAR_DIAG_MSG];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return cedar__diag(r->d, -WD_E_PARSE, "%s: %s", r->plen ? r->path : "(root)", msg);
}

/* Appends a path step; returns the old length for path_pop. Paths are for
 * messages only, so an over-long one is cut rather than refused. */
static size_t path_push(rd *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static size_t path_push(rd *r, const char *fmt, ...) {
  size_t old = r->plen;
  if (r->plen < sizeof r->path - 1) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(r->path + r->plen, sizeof r->path - r->plen, fmt, ap);
    va_end(ap);
    if (n > 0) r->plen += (size_t)n;
    if (r->plen >= sizeof r->path) r->plen = sizeof r->path - 1;
  }
  return old;
}

static void path_pop(rd *r, size_t old) {
  r->plen = old;
  r->path[old] = '\0';
}

static int get_str(rd *r, const json_t *j, cedar__str *out) {
  if (!json_is_string(j)) return fail(r, "expected a string");
  size_t n = json_string_length(j);
  if (n > WD_LIMIT_STRING_BYTES)
    return fail(r, "string longer than %u bytes", WD_LIMIT_STRING_BYTES);
  char *p = wd_arena_strndup(r->a, json_string_value(j), n);
  if (!p) return -WD_E_NOMEM;
  out->p = p;
  out->n = (uint32_t)n;
  return 0;
}

/* A required member: reports "missing `key`" at the current path. */
static const json_t *member(rd *r, const json_t *o, const char *key) {
  const json_t *v = json_object_get(o, key);
  if (!v) fail(r, "missing `%s`", key);
  return v;
}

static int valid_type(cedar__str t) {
  uint32_t start = 0;
  for (uint32_t i = 0; i <= t.n; i++) {
    if (i == t.n || (t.p[i] == ':' && i + 1 < t.n && t.p[i + 1] == ':')) {
      cedar__str seg = {t.p + start, i - start};
      if (!cedar__fmt_is_ident(seg)) return 0;
      start = i + 2;
      i++;
    }
  }
  return 1;
}

static int get_type(rd *r, const json_t *j, cedar__str *out) {
  int rc = get_str(r, j, out);
  if (rc == 0 && !valid_type(*out))
    rc = fail(r, "`%.*s` is not an entity type name", (int)(out->n > 100 ? 100 : out->n), out->p);
  return rc;
}

/* {"type":..,"id":..}, optionally wrapped in {"__entity": ..}. */
static int get_uid(rd *r, const json_t *j, const cedar__uid **out) {
  if (!json_is_object(j)) return fail(r, "expected an entity uid object");
  const json_t *w = json_object_get(j, "__entity");
  if (w) j = w;
  if (!json_is_object(j)) return fail(r, "expected an entity uid object");
  const json_t *t = member(r, j, "type"), *id = member(r, j, "id");
  if (!t || !id) return -WD_E_PARSE;
  cedar__uid *u = wd_arena_calloc(r->a, 1, sizeof *u);
  if (!u) return -WD_E_NOMEM;
  size_t old = path_push(r, ".type");
  int rc = get_type(r, t, &u->type);
  path_pop(r, old);
  if (rc == 0) {
    old = path_push(r, ".id");
    rc = get_str(r, id, &u->id);
    path_pop(r, old);
  }
  *out = u;
  return rc;
}

static cedar__expr *new_expr(rd *r, cedar__xkind k) {
  cedar__expr *e = wd_arena_calloc(r->a, 1, sizeof *e);
  if (e) e->kind = k;
  return e;
}

/* Records e's height once its children are in place. The reader's own
 * recursion limit does not bound it (`has` with a long attribute path
 * builds a chain in a loop), and the tree must obey the limit the text
 * parser enforces, for the same reason: the evaluator walks no taller. */
static int grown(rd *r, cedar__expr *e) {
  e->height = cedar__expr_height(e);
  if (e->height <= WD_LIMIT_EXPR_HEIGHT) return 0;
  return fail(r, "expression nested too deeply (limit %u levels)", WD_LIMIT_EXPR_HEIGHT);
}

static int read_expr(rd *r, const json_t *j, const cedar__expr **out);

/* Reads o[key] as an expression, with key added to the path. */
static int sub(rd *r, const json_t *o, const char *key, const cedar__expr **out) {
  const json_t *v = member(r, o, key);
  if (!v) return -WD_E_PARSE;
  size_t old = path_push(r, ".%s", key);
  int rc = read_expr(r, v, out);
  path_pop(r, old);
  return rc;
}

static int read_list(rd *r, const json_t *arr, const cedar__expr *const **items, uint32_t *n,
                     int (*one)(rd *, const json_t *, const cedar__expr **)) {
  size_t cnt = json_array_size(arr);
  const cedar__expr **v = wd_arena_calloc(r->a, cnt ? cnt : 1, sizeof *v);
  if (!v) return -WD_E_NOMEM;
  for (size_t i = 0; i < cnt; i++) {
    size_t old = path_push(r, "[%zu]", i);
    int rc = one(r, json_array_get(arr, i), &v[i]);
    path_pop(r, old);
    if (rc != 0) return rc;
  }
  *items = v;
  *n = (uint32_t)cnt;
  return 0;
}

/* A literal in Cedar's JSON value form, as an expression: sets and
 * records become SET/RECORD nodes, __extn becomes a constructor call. */
static int read_value(rd *r, const json_t *j, const cedar__expr **out) {
  if (++r->vdepth > WD_LIMIT_EXPR_DEPTH)
    return fail(r, "value nested deeper than %u", WD_LIMIT_EXPR_DEPTH);
  int rc = 0;
  cedar__expr *e = NULL;
  if (json_is_boolean(j) || json_is_integer(j) || json_is_string(j)) {
    if (!(e = new_expr(r, CEDAR__X_LIT))) return -WD_E_NOMEM;
    if (json_is_boolean(j)) {
      e->u.lit.kind = CEDAR__V_BOOL;
      e->u.lit.u.b = json_is_true(j);
    } else if (json_is_integer(j)) {
      e->u.lit.kind = CEDAR__V_LONG;
      e->u.lit.u.i = (int64_t)json_integer_value(j);
    } else {
      e->u.lit.kind = CEDAR__V_STRING;
      rc = get_str(r, j, &e->u.lit.u.s);
    }
  } else if (json_is_array(j)) {
    if (!(e = new_expr(r, CEDAR__X_SET))) return -WD_E_NOMEM;
    rc = read_list(r, j, &e->u.list.items, &e->u.list.n, read_value);
  } else if (json_is_object(j) && json_object_get(j, "__entity")) {
    if (!(e = new_expr(r, CEDAR__X_LIT))) return -WD_E_NOMEM;
    e->u.lit.kind = CEDAR__V_ENTITY;
    rc = get_uid(r, j, &e->u.lit.u.uid);
  } else if (json_is_object(j) && json_object_get(j, "__extn")) {
    const json_t *x = json_object_get(j, "__extn");
    const json_t *fn = json_is_object(x) ? json_object_get(x, "fn") : NULL;
    const json_t *arg = json_is_object(x) ? json_object_get(x, "arg") : NULL;
    if (!json_is_string(fn) || !arg) return fail(r, "`__extn` needs `fn` and `arg`");
    int f = cedar__fmt_fn_find(json_string_value(fn), json_string_length(fn));
    if (f < 0 || cedar__fmt_fn_arity((cedar__fn)f) != 1 || cedar__fmt_fn_is_method((cedar__fn)f))
      return fail(r, "unknown extension constructor `%s`", json_string_value(fn));
    const cedar__expr **args = wd_arena_calloc(r->a, 1, sizeof *args);
    if (!args || !(e = new_expr(r, CEDAR__X_CALL))) return -WD_E_NOMEM;
    size_t old = path_push(r, ".__extn.arg");
    rc = read_value(r, arg, &args[0]);
    path_pop(r, old);
    e->u.call.fn = (cedar__fn)f;
    e->u.call.args = args;
    e->u.call.n = 1;
  } else if (json_is_object(j)) {
    size_t n = json_object_size(j), i = 0;
    cedar__str *keys = wd_arena_calloc(r->a, n ? n : 1, sizeof *keys);
    const cedar__expr **vals = wd_arena_calloc(r->a, n ? n : 1, sizeof *vals);
    if (!keys || !vals || !(e = new_expr(r, CEDAR__X_RECORD))) return -WD_E_NOMEM;
    const char *k;
    size_t kn;
    const json_t *v;
    json_object_keylen_foreach((json_t *)(uintptr_t)j, k, kn, v) {
      size_t old = path_push(r, ".%s", k);
      keys[i].p = wd_arena_strndup(r->a, k, kn);
      keys[i].n = (uint32_t)kn;
      rc = keys[i].p ? read_value(r, v, &vals[i]) : -WD_E_NOMEM;
      path_pop(r, old);
      if (rc != 0) break;
      i++;
    }
    e->u.rec.keys = keys;
    e->u.rec.vals = vals;
    e->u.rec.n = (uint32_t)n;
  } else {
    rc = fail(r, "expected a Cedar value (null and floats are not)");
  }
  r->vdepth--;
  *out = e;
  return rc == 0 ? grown(r, e) : rc;
}

static int read_binop(rd *r, const json_t *body, cedar__xkind k, cedar__expr **out) {
  cedar__expr *e = new_expr(r, k);
  if (!e) return -WD_E_NOMEM;
  *out = e;
  int rc = sub(r, body, "left", &e->u.op.a);
  if (rc == 0) rc = sub(r, body, "right", &e->u.op.b);
  return rc;
}

static int read_call(rd *r, cedar__fn fn, const cedar__expr **args, uint32_t n, cedar__expr **out) {
  cedar__expr *e = new_expr(r, CEDAR__X_CALL);
  const cedar__expr **v = wd_arena_memdup(r->a, args, (n ? n : 1) * sizeof *v);
  if (!e || !v) return -WD_E_NOMEM;
  e->u.call.fn = fn;
  e->u.call.args = v;
  e->u.call.n = n;
  *out = e;
  return 0;
}

/* `e has a.b.c` arrives as an attr array; desugar it the way the parser
 * does: e has a && e.a has b && e.a.b has c. */
static int read_has(rd *r, const json_t *body, cedar__expr **out) {
  const cedar__expr *base;
  int rc = sub(r, body, "left", &base);
  if (rc != 0) return rc;
  const json_t *attr = member(r, body, "attr");
  if (!attr) return -WD_E_PARSE;
  size_t old = path_push(r, ".attr");
  size_t n = json_is_array(attr) ? json_array_size(attr) : 1;
  if (json_is_array(attr) && n == 0) rc = fail(r, "empty attribute path");
  const cedar__expr *acc = NULL, *recv = base;
  for (size_t i = 0; i < n && rc == 0; i++) {
    const json_t *one = json_is_array(attr) ? json_array_get(attr, i) : attr;
    cedar__str name;
    if ((rc = get_str(r, one, &name)) != 0) break;
    cedar__expr *h = new_expr(r, CEDAR__X_HAS);
    if (!h) return -WD_E_NOMEM;
    h->u.attr.e = recv;
    h->u.attr.attr = name;
    if ((rc = grown(r, h)) != 0) break;
    if (acc) {
      cedar__expr *and = new_expr(r, CEDAR__X_AND);
      if (!and) return -WD_E_NOMEM;
      and->u.op.a = acc;
      and->u.op.b = h;
      if ((rc = grown(r, and)) != 0) break;
      acc = and;
    } else {
      acc = h;
    }
    cedar__expr *g = new_expr(r, CEDAR__X_GETATTR);
    if (!g) return -WD_E_NOMEM;
    g->u.attr.e = recv;
    g->u.attr.attr = name;
    if ((rc = grown(r, g)) != 0) break;
    recv = g;
  }
  path_pop(r, old);
  *out = (cedar__expr *)(uintptr_t)acc;
  return rc;
}

static int read_like(rd *r, const json_t *body, cedar__expr **out) {
  cedar__expr *e = new_expr(r, CEDAR__X_LIKE);
  if (!e) return -WD_E_NOMEM;
  *out = e;
  int rc = sub(r, body, "left", &e->u.like.e);
  const json_t *pat = rc == 0 ? member(r, body, "pattern") : NULL;
  if (rc != 0 || !pat) return rc ? rc : -WD_E_PARSE;
  size_t old = path_push(r, ".pattern");
  if (!json_is_array(pat)) rc = fail(r, "expected an array");
  size_t n = json_array_size(pat), k = 0;
  cedar__patelem *v = wd_arena_calloc(r->a, n ? n : 1, sizeof *v);
  if (!v) return -WD_E_NOMEM;
  /* Adjacent literals merge, so the node matches what the parser builds. */
  for (size_t i = 0; i < n && rc == 0; i++) {
    const json_t *el = json_array_get(pat, i);
    const json_t *lit = json_is_object(el) ? json_object_get(el, "Literal") : NULL;
    size_t o2 = path_push(r, "[%zu]", i);
    if (json_is_string(el) && strcmp(json_string_value(el), "Wildcard") == 0) {
      v[k++].wild = 1;
    } else if (json_is_string(lit)) {
      cedar__str s;
      rc = get_str(r, lit, &s);
      if (rc == 0 && k > 0 && !v[k - 1].wild) {
        char *m = wd_arena_alloc(r->a, (size_t)v[k - 1].lit.n + s.n + 1);
        if (!m) return -WD_E_NOMEM;
        memcpy(m, v[k - 1].lit.p, v[k - 1].lit.n);
        memcpy(m + v[k - 1].lit.n, s.p, s.n);
        v[k - 1].lit.p = m;
        v[k - 1].lit.n += s.n;
      } else if (rc == 0) {
        v[k++].lit = s;
      }
    } else {
      rc = fail(r, "expected \"Wildcard\" or {\"Literal\": string}");
    }
    path_pop(r, o2);
  }
  path_pop(r, old);
  e->u.like.pat = v;
  e->u.like.n = (uint32_t)k;
  return rc;
}

static int read_is(rd *r, const json_t *body, cedar__expr **out) {
  cedar__expr *e = new_expr(r, CEDAR__X_IS);
  if (!e) return -WD_E_NOMEM;
  *out = e;
  int rc = sub(r, body, "left", &e->u.is.e);
  const json_t *t = rc == 0 ? member(r, body, "entity_type") : NULL;
  if (rc != 0 || !t) return rc ? rc : -WD_E_PARSE;
  size_t old = path_push(r, ".entity_type");
  rc = get_type(r, t, &e->u.is.type);
  path_pop(r, old);
  if (rc == 0 && json_object_get(body, "in")) rc = sub(r, body, "in", &e->u.is.in);
  return rc;
}

static int read_fn(rd *r, const char *key, const json_t *body, cedar__expr **out) {
  int f = cedar__fmt_fn_find(key, strlen(key));
  if (f < 0) return fail(r, "unknown operator or function `%s`", key);
  cedar__fn fn = (cedar__fn)f;
  const cedar__expr *args[2] = {NULL, NULL};
  int rc;
  switch (fn) {
  case CEDAR__F_CONTAINS:
  case CEDAR__F_CONTAINS_ALL:
  case CEDAR__F_CONTAINS_ANY:
  case CEDAR__F_GET_TAG:
  case CEDAR__F_HAS_TAG:
    if (!json_is_object(body)) return fail(r, "expected {\"left\", \"right\"}");
    rc = sub(r, body, "left", &args[0]);
    if (rc == 0) rc = sub(r, body, "right", &args[1]);
    return rc ? rc : read_call(r, fn, args, 2, out);
  case CEDAR__F_IS_EMPTY:
    if (!json_is_object(body)) return fail(r, "expected {\"arg\"}");
    rc = sub(r, body, "arg", &args[0]);
    return rc ? rc : read_call(r, fn, args, 1, out);
  case CEDAR__F_DECIMAL:
  case CEDAR__F_LESS_THAN:
  case CEDAR__F_LESS_THAN_OR_EQUAL:
  case CEDAR__F_GREATER_THAN:
  case CEDAR__F_GREATER_THAN_OR_EQUAL:
  case CEDAR__F_IP:
  case CEDAR__F_IS_IPV4:
  case CEDAR__F_IS_IPV6:
  case CEDAR__F_IS_LOOPBACK:
  case CEDAR__F_IS_MULTICAST:
  case CEDAR__F_IS_IN_RANGE:
  case CEDAR__F_DATETIME:
  case CEDAR__F_DURATION:
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
  if (!json_is_array(body)) return fail(r, "expected an array of arguments");
  /* Arity is checked when the call is evaluated, as the reference does;
   * only a method needs its receiver to be printable. */
  if (cedar__fmt_fn_is_method(fn) && json_array_size(body) == 0)
    return fail(r, "method `%s` needs a receiver", key);
  cedar__expr *e = new_expr(r, CEDAR__X_CALL);
  if (!e) return -WD_E_NOMEM;
  e->u.call.fn = fn;
  *out = e;
  return read_list(r, body, &e->u.call.args, &e->u.call.n, read_expr);
}

static int read_node(rd *r, const char *key, const json_t *body, cedar__expr **out) {
  static const char *const vars[] = {"principal", "action", "resource", "context"};
  cedar__expr *e;
  int rc;
  if (strcmp(key, "Value") == 0) {
    const cedar__expr *v = NULL;
    rc = read_value(r, body, &v);
    *out = (cedar__expr *)(uintptr_t)v;
    return rc;
  }
  if (strcmp(key, "Var") == 0) {
    for (int i = 0; i < 4; i++) {
      if (json_is_string(body) && strcmp(json_string_value(body), vars[i]) == 0) {
        if (!(e = new_expr(r, CEDAR__X_VAR))) return -WD_E_NOMEM;
        e->u.var = (cedar__var)i;
        *out = e;
        return 0;
      }
    }
    return fail(r, "unknown variable");
  }
  if (strcmp(key, "Slot") == 0) return fail(r, "slots may only appear in the scope");
  if (strcmp(key, "Set") == 0) {
    if (!json_is_array(body)) return fail(r, "expected an array");
    if (!(e = new_expr(r, CEDAR__X_SET))) return -WD_E_NOMEM;
    *out = e;
    return read_list(r, body, &e->u.list.items, &e->u.list.n, read_expr);
  }
  if (strcmp(key, "Record") == 0) {
    if (!json_is_object(body)) return fail(r, "expected an object");
    size_t n = json_object_size(body), i = 0;
    cedar__str *keys = wd_arena_calloc(r->a, n ? n : 1, sizeof *keys);
    const cedar__expr **vals = wd_arena_calloc(r->a, n ? n : 1, sizeof *vals);
    if (!keys || !vals || !(e = new_expr(r, CEDAR__X_RECORD))) return -WD_E_NOMEM;
    *out = e;
    const char *k;
    size_t kn;
    const json_t *v;
    rc = 0;
    json_object_keylen_foreach((json_t *)(uintptr_t)body, k, kn, v) {
      keys[i].p = wd_arena_strndup(r->a, k, kn);
      keys[i].n = (uint32_t)kn;
      if (!keys[i].p) return -WD_E_NOMEM;
      size_t old = path_push(r, ".%s", k);
      rc = read_expr(r, v, &vals[i]);
      path_pop(r, old);
      if (rc != 0) return rc;
      i++;
    }
    e->u.rec.keys = keys;
    e->u.rec.vals = vals;
    e->u.rec.n = (uint32_t)n;
    return 0;
  }
  if (strcmp(key, "Unknown") == 0) return fail(r, "unknowns are not supported");
  if (strcmp(key, "fn") == 0 || strcmp(key, "args") == 0) return fail(r, "unexpected `%s`", key);
  if (!json_is_object(body) && !json_is_array(body)) return fail(r, "expected an object");
  cedar__xkind op;
  if (cedar__fmt_binop_find(key, &op)) return read_binop(r, body, op, out);
  if (strcmp(key, "!") == 0 || strcmp(key, "neg") == 0) {
    if (!(e = new_expr(r, key[0] == '!' ? CEDAR__X_NOT : CEDAR__X_NEG))) return -WD_E_NOMEM;
    *out = e;
    return sub(r, body, "arg", &e->u.op.a);
  }
  if (strcmp(key, ".") == 0) {
    if (!(e = new_expr(r, CEDAR__X_GETATTR))) return -WD_E_NOMEM;
    *out = e;
    rc = sub(r, body, "left", &e->u.attr.e);
    const json_t *attr = rc == 0 ? member(r, body, "attr") : NULL;
    if (rc != 0 || !attr) return rc ? rc : -WD_E_PARSE;
    size_t old = path_push(r, ".attr");
    rc = get_str(r, attr, &e->u.attr.attr);
    path_pop(r, old);
    return rc;
  }
  if (strcmp(key, "has") == 0) return read_has(r, body, out);
  if (strcmp(key, "like") == 0) return read_like(r, body, out);
  if (strcmp(key, "is") == 0) return read_is(r, body, out);
  if (strcmp(key, "if-then-else") == 0) {
    if (!(e = new_expr(r, CEDAR__X_IF))) return -WD_E_NOMEM;
    *out = e;
    rc = sub(r, body, "if", &e->u.op.a);
    if (rc == 0) rc = sub(r, body, "then", &e->u.op.b);
    if (rc == 0) rc = sub(r, body, "else", &e->u.op.c);
    return rc;
  }
  return read_fn(r, key, body, out);
}

static int read_expr(rd *r, const json_t *j, const cedar__expr **out) {
  if (!json_is_object(j) || json_object_size(j) != 1)
    return fail(r, "expected an object with exactly one key");
  if (++r->depth > WD_LIMIT_EXPR_HEIGHT)
    return fail(r, "expression nested too deeply (limit %u levels)", WD_LIMIT_EXPR_HEIGHT);
  const char *key = NULL;
  const json_t *body = NULL;
  const char *k;
  const json_t *v;
  json_object_foreach((json_t *)(uintptr_t)j, k, v) {
    key = k;
    body = v;
  }
  size_t old = path_push(r, ".%s", key);
  cedar__expr *e = NULL;
  int rc = read_node(r, key, body, &e);
  if (rc == 0 && e) rc = grown(r, e);
  path_pop(r, old);
  r->depth--;
  *out = e;
  return rc;
}

/* ---- scope and policy ------------------------------------------------------ */

static int is_action_type(cedar__str t) {
  return (t.n == 6 && memcmp(t.p, "Action", 6) == 0) ||
         (t.n > 8 && memcmp(t.p + t.n - 8, "::Action", 8) == 0);
}

/* {"entity": uid} or {"slot": "?principal"}, into s->uid / s->slot. */
static int read_target(rd *r, const json_t *o, cedar__slot want, cedar__scope *s) {
  const json_t *ent = json_object_get(o, "entity"), *slot = json_object_get(o, "slot");
  s->slot = CEDAR__SLOT_NONE;
  if (ent) {
    size_t old = path_push(r, ".entity");
    int rc = get_uid(r, ent, &s->uid);
    path_pop(r, old);
    return rc;
  }
  if (!slot) return fail(r, "expected `entity` or `slot`");
  const char *name = want == CEDAR__SLOT_PRINCIPAL ? "?principal" : "?resource";
  if (want == CEDAR__SLOT_NONE) return fail(r, "the action cannot be a slot");
  if (!json_is_string(slot) || strcmp(json_string_value(slot), name) != 0)
    return fail(r, "the slot here must be `%s`", name);
  s->slot = want;
  return 0;
}

static int read_scope(rd *r, const json_t *o, cedar__slot want, cedar__scope *s) {
  memset(s, 0, sizeof *s);
  s->slot = CEDAR__SLOT_NONE;
  if (!json_is_object(o)) return fail(r, "expected an object");
  const json_t *op = member(r, o, "op");
  if (!op) return -WD_E_PARSE;
  const char *ops = json_is_string(op) ? json_string_value(op) : "";
  int rc = 0;
  if (strcmp(ops, "All") == 0) {
    s->kind = CEDAR__SC_ANY;
  } else if (strcmp(ops, "==") == 0) {
    s->kind = CEDAR__SC_EQ;
    rc = read_target(r, o, want, s);
  } else if (strcmp(ops, "in") == 0) {
    const json_t *ents = json_object_get(o, "entities");
    if (ents && want == CEDAR__SLOT_NONE) {
      size_t old = path_push(r, ".entities");
      size_t n = json_array_size(ents);
      const cedar__uid **v = wd_arena_calloc(r->a, n ? n : 1, sizeof *v);
      if (!v) return -WD_E_NOMEM;
      if (!json_is_array(ents)) rc = fail(r, "expected an array");
      for (size_t i = 0; i < n && rc == 0; i++) {
        size_t o2 = path_push(r, "[%zu]", i);
        rc = get_uid(r, json_array_get(ents, i), &v[i]);
        path_pop(r, o2);
      }
      path_pop(r, old);
      s->kind = CEDAR__SC_IN_SET;
      s->uids = v;
      s->nuids = (uint32_t)n;
    } else {
      s->kind = CEDAR__SC_IN;
      rc = read_target(r, o, want, s);
    }
  } else if (strcmp(ops, "is") == 0 && want != CEDAR__SLOT_NONE) {
    const json_t *t = member(r, o, "entity_type"), *in = json_object_get(o, "in");
    if (!t) return -WD_E_PARSE;
    size_t old = path_push(r, ".entity_type");
    rc = get_type(r, t, &s->type);
    path_pop(r, old);
    s->kind = CEDAR__SC_IS;
    if (rc == 0 && in) {
      s->kind = CEDAR__SC_IS_IN;
      old = path_push(r, ".in");
      rc = json_is_object(in) ? read_target(r, in, want, s) : fail(r, "expected an object");
      path_pop(r, old);
    }
  } else {
    return fail(r, "unknown scope operator `%s`", ops);
  }
  if (rc == 0 && want == CEDAR__SLOT_NONE) {
    for (uint32_t i = 0; i < s->nuids; i++)
      if (!is_action_type(s->uids[i]->type)) return fail(r, "action uids must have type Action");
    if (s->uid && !is_action_type(s->uid->type))
      return fail(r, "action uids must have type Action");
  }
  return rc;
}

static int read_annots(rd *r, const json_t *o, cedar__policy *p) {
  if (!json_is_object(o)) return fail(r, "expected an object");
  size_t n = json_object_size(o), i = 0;
  if (n > WD_LIMIT_ANNOTATIONS) return fail(r, "more than %u annotations", WD_LIMIT_ANNOTATIONS);
  cedar__annot *v = wd_arena_calloc(r->a, n ? n : 1, sizeof *v);
  if (!v) return -WD_E_NOMEM;
  const char *k;
  const json_t *val;
  json_object_foreach((json_t *)(uintptr_t)o, k, val) {
    size_t old = path_push(r, ".%s", k);
    cedar__str key = {k, (uint32_t)strlen(k)};
    int rc = 0;
    if (!cedar__fmt_is_name(key)) rc = fail(r, "annotation keys must be identifiers");
    if (rc == 0 && !(v[i].key.p = wd_arena_strndup(r->a, k, key.n))) rc = -WD_E_NOMEM;
    v[i].key.n = key.n;
    if (rc == 0 && !json_is_null(val)) {
      rc = get_str(r, val, &v[i].val);
      v[i].has_val = 1;
    }
    path_pop(r, old);
    if (rc != 0) return rc;
    i++;
  }
  p->annots = v;
  p->nannots = (uint32_t)n;
  return 0;
}

static int read_conds(rd *r, const json_t *arr, cedar__policy *p) {
  if (!json_is_array(arr)) return fail(r, "expected an array");
  size_t n = json_array_size(arr);
  cedar__cond *v = wd_arena_calloc(r->a, n ? n : 1, sizeof *v);
  if (!v) return -WD_E_NOMEM;
  int rc = 0;
  for (size_t i = 0; i < n && rc == 0; i++) {
    size_t old = path_push(r, "[%zu]", i);
    const json_t *c = json_array_get(arr, i);
    const json_t *kind = json_is_object(c) ? member(r, c, "kind") : NULL;
    const char *ks = json_is_string(kind) ? json_string_value(kind) : "";
    if (!json_is_object(c))
      rc = fail(r, "expected an object");
    else if (!kind)
      rc = -WD_E_PARSE;
    else if (strcmp(ks, "when") != 0 && strcmp(ks, "unless") != 0)
      rc = fail(r, "`kind` must be \"when\" or \"unless\"");
    else {
      v[i].is_when = ks[0] == 'w';
      rc = sub(r, c, "body", &v[i].e);
    }
    path_pop(r, old);
  }
  p->conds = v;
  p->nconds = (uint32_t)n;
  return rc;
}

int cedar__est_to_policy(wd_arena *a, const json_t *j, const char *path, cedar__policy **out,
                         cedar_diags *diags) {
  if (!a || !j || !out) return -WD_E_INVAL;
  rd r = {.a = a, .d = diags};
  path_push(&r, "%s", path ? path : "");
  cedar__policy *p = wd_arena_calloc(a, 1, sizeof *p);
  if (!p) return -WD_E_NOMEM;
  *out = p;
  if (!json_is_object(j)) return fail(&r, "expected a policy object");
  const json_t *eff = member(&r, j, "effect");
  if (!eff) return -WD_E_PARSE;
  const char *es = json_is_string(eff) ? json_string_value(eff) : "";
  if (strcmp(es, "permit") != 0 && strcmp(es, "forbid") != 0)
    return fail(&r, "`effect` must be \"permit\" or \"forbid\"");
  p->effect = es[0] == 'f' ? CEDAR__FORBID : CEDAR__PERMIT;
  static const char *const vars[3] = {"principal", "action", "resource"};
  static const cedar__slot slots[3] = {CEDAR__SLOT_PRINCIPAL, CEDAR__SLOT_NONE,
                                       CEDAR__SLOT_RESOURCE};
  cedar__scope *sc[3] = {&p->principal, &p->action, &p->resource};
  int rc = 0;
  for (int i = 0; i < 3 && rc == 0; i++) {
    const json_t *s = member(&r, j, vars[i]);
    if (!s) return -WD_E_PARSE;
    size_t old = path_push(&r, ".%s", vars[i]);
    rc = read_scope(&r, s, slots[i], sc[i]);
    path_pop(&r, old);
  }
  const json_t *conds = json_object_get(j, "conditions");
  if (rc == 0 && conds) {
    size_t old = path_push(&r, ".conditions");
    rc = read_conds(&r, conds, p);
    path_pop(&r, old);
  }
  const json_t *an = json_object_get(j, "annotations");
  if (rc == 0 && an) {
    size_t old = path_push(&r, ".annotations");
    rc = read_annots(&r, an, p);
    path_pop(&r, old);
  }
  p->is_template = p->principal.slot != CEDAR__SLOT_NONE || p->resource.slot != CEDAR__SLOT_NONE;
  return rc;
}
