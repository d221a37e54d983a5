/* SPDX-License-Identifier: Apache-2.0
 *
 * The expression half of the Cedar parser: recursive descent over Cedar's
 * precedence levels (if-then-else, ||, &&, relations, + -, *, unary,
 * member access, primaries), building arena-owned cedar__expr nodes. The
 * policy-level grammar (scopes, annotations, recovery) is in parse.c.
 */
#include <string.h>

#include "../util/wd_map.h"
#include "cedar_parse.h"

static cedar__expr *node(cedar__parser *p, cedar__xkind k, uint32_t off) {
  cedar__expr *e = wd_arena_calloc(p->a, 1, sizeof *e);
  if (!e) {
    p->nomem = 1;
    return NULL;
  }
  e->kind = k;
  e->off = off;
  e->len = p->prev_end > off ? p->prev_end - off : 0;
  e->height = 1; /* a leaf; grown() sets it once children are attached */
  return e;
}

/* Records e's height now that its children are in place. A chain such as
 * a && b && ... is built in a loop, so the recursion limit of
 * cedar__p_expr never sees it, yet the evaluator recurses once per level:
 * a tree taller than it walks is refused here, with a location, rather
 * than accepted and then erroring on every request. */
static int grown(cedar__parser *p, cedar__expr *e) {
  e->height = cedar__expr_height(e);
  if (e->height <= WD_LIMIT_EXPR_HEIGHT) return 0;
  p->toobig = 1;
  return cedar__p_err(p, e->off, e->len,
                      "expression nested too deeply (limit %u levels; a chain like `a && b && c` "
                      "nests one level per operator)",
                      WD_LIMIT_EXPR_HEIGHT);
}

static int binop(cedar__parser *p, cedar__xkind k, const cedar__expr *a, const cedar__expr *b,
                 uint32_t off, const cedar__expr **out) {
  cedar__expr *e = node(p, k, off);
  if (!e) return -WD_E_NOMEM;
  e->u.op.a = a;
  e->u.op.b = b;
  *out = e;
  return grown(p, e);
}

static const char *const reserved[] = {"true", "false", "if",   "then", "else",
                                       "in",   "is",    "like", "has"};

static int is_reserved(const char *s, uint32_t n) {
  for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
    if (strlen(reserved[i]) == n && memcmp(reserved[i], s, n) == 0) return 1;
  return 0;
}

/* Identifiers used as names (attributes, record keys, path components)
 * may not be reserved words, nor Cedar's own `__cedar` namespace. */
static int check_name(cedar__parser *p, cedar__tok t) {
  const char *s = p->lx.src + t.off;
  if (is_reserved(s, t.len))
    return cedar__p_err(p, t.off, t.len, "`%.*s` is a reserved word and cannot be used as a name",
                        (int)t.len, s);
  if (t.len == 7 && memcmp(s, "__cedar", 7) == 0)
    return cedar__p_err(p, t.off, t.len, "the name `__cedar` is reserved");
  return 0;
}

static int ident_name(cedar__parser *p, cedar__str *out, const char *what, const char *where) {
  if (p->tok.kind != TK_IDENT) return cedar__p_expected(p, what, where);
  int rc = check_name(p, p->tok);
  if (rc) return rc;
  char *s = wd_arena_strndup(p->a, p->lx.src + p->tok.off, p->tok.len);
  if (!s) return p->nomem = 1, -WD_E_NOMEM;
  out->p = s;
  out->n = p->tok.len;
  cedar__p_advance(p);
  return 0;
}

/* A path A::B::C followed (maybe) by ::"id". Collects the text of the path
 * with its separators normalized. *str_tok is set when a string ends it. */
static int path(cedar__parser *p, cedar__str *out, cedar__tok *str_tok) {
  uint32_t off = p->tok.off;
  char *buf = NULL;
  uint32_t n = 0, cap = 0;
  str_tok->kind = TK_EOF;
  for (;;) {
    cedar__tok t = p->tok;
    if (t.kind != TK_IDENT) return cedar__p_expected(p, "an identifier", "after `::`");
    int rc = check_name(p, t);
    if (rc) return rc;
    uint32_t need = n + t.len + 2;
    if (need > WD_LIMIT_IDENT_BYTES * 4u) {
      p->toobig = 1;
      return cedar__p_err(p, off, t.off + t.len - off, "name is longer than the limit");
    }
    if (need > cap && cedar__p_grow(p, (void **)&buf, &cap, 1, need + 16)) return -WD_E_NOMEM;
    if (n) {
      memcpy(buf + n, "::", 2);
      n += 2;
    }
    memcpy(buf + n, p->lx.src + t.off, t.len);
    n += t.len;
    cedar__p_advance(p);
    if (p->tok.kind != TK_COLON2) break;
    cedar__p_advance(p);
    if (p->tok.kind == TK_STR) {
      *str_tok = p->tok;
      cedar__p_advance(p);
      break;
    }
  }
  buf[n] = '\0';
  out->p = buf;
  out->n = n;
  return 0;
}

int cedar__p_typename(cedar__parser *p, cedar__str *out) {
  cedar__tok st, first = p->tok;
  int rc = path(p, out, &st);
  if (rc) return rc;
  if (st.kind == TK_STR)
    return cedar__p_err(p, first.off, p->prev_end - first.off,
                        "expected an entity type name, found the entity uid `%.*s`",
                        (int)(p->prev_end - first.off), p->lx.src + first.off);
  return 0;
}

int cedar__p_uid(cedar__parser *p, const cedar__uid **out) {
  cedar__tok st, first = p->tok;
  cedar__str type, id;
  if (first.kind != TK_IDENT) return cedar__p_expected(p, "an entity uid", "");
  int rc = path(p, &type, &st);
  if (rc) return rc;
  if (st.kind != TK_STR)
    return cedar__p_err(p, first.off, p->prev_end - first.off,
                        "expected an entity uid like `%.*s::\"id\"`, found the name `%.*s`",
                        (int)type.n, type.p, (int)type.n, type.p);
  rc = cedar__p_string(p, st, &id);
  if (rc) return rc;
  cedar__uid *u = wd_arena_calloc(p->a, 1, sizeof *u);
  if (!u) return p->nomem = 1, -WD_E_NOMEM;
  u->type = type;
  u->id = id;
  *out = u;
  return 0;
}

static int int_lit(cedar__parser *p, cedar__tok t, int neg, int64_t *out) {
  uint64_t v = 0, lim = neg ? (uint64_t)INT64_MAX + 1u : (uint64_t)INT64_MAX;
  for (uint32_t i = 0; i < t.len; i++) {
    unsigned d = (unsigned)(p->lx.src[t.off + i] - '0');
    if (v > (lim - d) / 10u)
      return cedar__p_err(p, t.off, t.len, "integer literal `%.*s` is too large (64-bit limit)",
                          (int)(t.len < 40 ? t.len : 40), p->lx.src + t.off);
    v = v * 10u + d;
  }
  /* Negate in unsigned arithmetic so INT64_MIN is representable. */
  *out = neg ? (int64_t)(0u - v) : (int64_t)v;
  return 0;
}

/* Comma-separated expressions up to the closing token (trailing comma ok). */
static int expr_list(cedar__parser *p, cedar__tk close, const char *closing, const char *where,
                     const cedar__expr *const **items, uint32_t *nitems, const cedar__expr *first) {
  const cedar__expr **v = NULL;
  uint32_t n = 0, cap = 0;
  if (first) {
    if (cedar__p_grow(p, (void **)&v, &cap, sizeof *v, 1)) return -WD_E_NOMEM;
    v[n++] = first;
  }
  while (p->tok.kind != close) {
    const cedar__expr *e;
    int rc = cedar__p_expr(p, &e);
    if (rc) return rc;
    if (n == cap && cedar__p_grow(p, (void **)&v, &cap, sizeof *v, n + 1)) return -WD_E_NOMEM;
    v[n++] = e;
    if (p->tok.kind == TK_COMMA) {
      cedar__p_advance(p);
      continue;
    }
    if (p->tok.kind != close) return cedar__p_expected(p, closing, where);
  }
  cedar__p_advance(p);
  *items = v;
  *nitems = n;
  return 0;
}

/* Past this many keys a record literal's duplicates are found with a
 * hash set: a scan of the earlier keys made a large literal quadratic. */
#define RECORD_SCAN_KEYS 16

/* 1 when k repeats one of keys[0..n); -WD_E_NOMEM. *seen is made once the
 * literal outgrows a scan, and the caller frees it. */
static int repeated_key(wd_map **seen, const cedar__str *keys, uint32_t n, cedar__str k) {
  if (n < RECORD_SCAN_KEYS) {
    for (uint32_t i = 0; i < n; i++)
      if (cedar__str_eq(keys[i], k)) return 1;
    return 0;
  }
  static char present;
  if (!*seen) {
    if (!(*seen = wd_map_new())) return -WD_E_NOMEM;
    for (uint32_t i = 0; i < n; i++)
      if (wd_map_put(*seen, keys[i].n ? keys[i].p : "", keys[i].n, &present) != 0)
        return -WD_E_NOMEM;
  }
  int rc = wd_map_add(*seen, k.n ? k.p : "", k.n, &present);
  return rc == -WD_E_EXISTS ? 1 : rc == 0 ? 0 : -WD_E_NOMEM;
}

static int record(cedar__parser *p, uint32_t off, const cedar__expr **out) {
  cedar__str *keys = NULL;
  const cedar__expr **vals = NULL;
  uint32_t n = 0, kcap = 0, vcap = 0;
  wd_map *seen = NULL;
  int rc = 0;
  while (p->tok.kind != TK_RBRACE) {
    cedar__tok kt = p->tok;
    cedar__str k;
    if (kt.kind == TK_STR) {
      rc = cedar__p_string(p, kt, &k);
      cedar__p_advance(p);
    } else {
      rc = ident_name(p, &k, "a record key", "in a record literal");
    }
    if (rc) goto out;
    if ((rc = repeated_key(&seen, keys, n, k)) < 0) goto out;
    if (rc) {
      rc = cedar__p_err(p, kt.off, kt.len, "duplicate key `%.*s` in record literal",
                        (int)(k.n < 64 ? k.n : 64), k.p);
      goto out;
    }
    if ((rc = cedar__p_expect(p, TK_COLON, "`:`", "after a record key"))) goto out;
    const cedar__expr *v;
    if ((rc = cedar__p_expr(p, &v))) goto out;
    if ((n == kcap && cedar__p_grow(p, (void **)&keys, &kcap, sizeof *keys, n + 1)) ||
        (n == vcap && cedar__p_grow(p, (void **)&vals, &vcap, sizeof *vals, n + 1))) {
      rc = -WD_E_NOMEM;
      goto out;
    }
    keys[n] = k;
    vals[n++] = v;
    if (p->tok.kind == TK_COMMA) {
      cedar__p_advance(p);
      continue;
    }
    if (p->tok.kind != TK_RBRACE) {
      rc = cedar__p_expected(p, "`,` or `}`", "in a record literal");
      goto out;
    }
  }
  cedar__p_advance(p);
  cedar__expr *e = node(p, CEDAR__X_RECORD, off);
  if (!e) {
    rc = -WD_E_NOMEM;
    goto out;
  }
  e->u.rec.keys = keys;
  e->u.rec.vals = vals;
  e->u.rec.n = n;
  *out = e;
  rc = grown(p, e);
out:
  wd_map_free(seen);
  return rc;
}

static int is_builtin_method(cedar__fn f) {
  switch (f) {
  case CEDAR__F_CONTAINS:
  case CEDAR__F_CONTAINS_ALL:
  case CEDAR__F_CONTAINS_ANY:
  case CEDAR__F_IS_EMPTY:
  case CEDAR__F_GET_TAG:
  case CEDAR__F_HAS_TAG: return 1;
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
  case CEDAR__F__COUNT: return 0;
  }
  return 0;
}

static int call(cedar__parser *p, uint32_t off, cedar__str name, uint32_t name_off,
                const cedar__expr *recv, const cedar__expr **out) {
  const cedar__expr *const *args;
  uint32_t n;
  int is_method = recv != NULL;
  cedar__p_advance(p); /* ( */
  int rc = expr_list(p, TK_RPAREN, "`,` or `)`", "in the argument list", &args, &n, recv);
  if (rc) return rc;
  int fn = cedar__fn_lookup(name.p, name.n, is_method);
  if (fn < 0) {
    if (cedar__fn_lookup(name.p, name.n, !is_method) >= 0)
      return cedar__p_err(p, name_off, name.n, "`%.*s` is a %s, not a %s", (int)name.n, name.p,
                          is_method ? "function" : "method", is_method ? "method" : "function");
    return cedar__p_err(p, name_off, name.n, "`%.*s` is not a valid %s", (int)name.n, name.p,
                        is_method ? "method" : "function");
  }
  /* The reference checks arity while parsing only for the built-in set
   * and tag methods; extension calls are checked when evaluated. */
  if (is_builtin_method((cedar__fn)fn) && cedar__fn_table[fn].arity != n)
    return cedar__p_err(p, name_off, p->prev_end - name_off,
                        "call to `%.*s` requires exactly %u argument%s, but got %u argument%s",
                        (int)name.n, name.p, cedar__fn_table[fn].arity - 1u,
                        cedar__fn_table[fn].arity == 2 ? "" : "s", n - 1u, n == 2 ? "" : "s");
  cedar__expr *e = node(p, CEDAR__X_CALL, off);
  if (!e) return -WD_E_NOMEM;
  e->u.call.fn = (cedar__fn)fn;
  e->u.call.args = args;
  e->u.call.n = n;
  *out = e;
  return grown(p, e);
}

static int var_of(const char *s, uint32_t n, cedar__var *v) {
  static const struct {
    const char *w;
    cedar__var v;
  } vars[] = {{"principal", CEDAR__VAR_PRINCIPAL},
              {"action", CEDAR__VAR_ACTION},
              {"resource", CEDAR__VAR_RESOURCE},
              {"context", CEDAR__VAR_CONTEXT}};
  for (size_t i = 0; i < 4; i++)
    if (strlen(vars[i].w) == n && memcmp(vars[i].w, s, n) == 0) {
      *v = vars[i].v;
      return 1;
    }
  return 0;
}

static int primary_name(cedar__parser *p, const cedar__expr **out) {
  cedar__tok t = p->tok;
  const char *s = p->lx.src + t.off;
  cedar__expr *e;
  if (cedar__tok_is(&p->lx, t, "true") || cedar__tok_is(&p->lx, t, "false")) {
    cedar__p_advance(p);
    if (!(e = node(p, CEDAR__X_LIT, t.off))) return -WD_E_NOMEM;
    e->u.lit.kind = CEDAR__V_BOOL;
    e->u.lit.u.b = s[0] == 't';
    *out = e;
    return 0;
  }
  if (cedar__tok_is(&p->lx, t, "if"))
    return cedar__p_err(p, t.off, t.len, "an `if` expression must be parenthesized here");
  if (is_reserved(s, t.len)) return cedar__p_expected(p, "an expression", "");
  cedar__str name;
  cedar__tok st;
  int rc = path(p, &name, &st);
  if (rc) return rc;
  if (st.kind == TK_STR) {
    cedar__uid *u = wd_arena_calloc(p->a, 1, sizeof *u);
    if (!u) return p->nomem = 1, -WD_E_NOMEM;
    u->type = name;
    if ((rc = cedar__p_string(p, st, &u->id))) return rc;
    if (!(e = node(p, CEDAR__X_LIT, t.off))) return -WD_E_NOMEM;
    e->u.lit.kind = CEDAR__V_ENTITY;
    e->u.lit.u.uid = u;
    *out = e;
    return 0;
  }
  if (p->tok.kind == TK_LPAREN) return call(p, t.off, name, t.off, NULL, out);
  cedar__var v;
  if (!var_of(name.p, name.n, &v))
    return cedar__p_err(p, t.off, p->prev_end - t.off,
                        "invalid variable `%.*s`: expected principal, action, resource or context",
                        (int)name.n, name.p);
  if (!(e = node(p, CEDAR__X_VAR, t.off))) return -WD_E_NOMEM;
  e->u.var = v;
  *out = e;
  return 0;
}

static int primary(cedar__parser *p, const cedar__expr **out) {
  cedar__tok t = p->tok;
  cedar__expr *e;
  int rc;
  switch (t.kind) {
  case TK_INT:
    cedar__p_advance(p);
    if (!(e = node(p, CEDAR__X_LIT, t.off))) return -WD_E_NOMEM;
    e->u.lit.kind = CEDAR__V_LONG;
    if ((rc = int_lit(p, t, 0, &e->u.lit.u.i))) return rc;
    *out = e;
    return 0;
  case TK_STR:
    cedar__p_advance(p);
    if (!(e = node(p, CEDAR__X_LIT, t.off))) return -WD_E_NOMEM;
    e->u.lit.kind = CEDAR__V_STRING;
    if ((rc = cedar__p_string(p, t, &e->u.lit.u.s))) return rc;
    *out = e;
    return 0;
  case TK_IDENT: return primary_name(p, out);
  case TK_SLOT_P:
  case TK_SLOT_R:
    return cedar__p_err(p, t.off, t.len, "template slot `%.*s` may only appear in the policy scope",
                        (int)t.len, p->lx.src + t.off);
  case TK_LPAREN: {
    cedar__p_advance(p);
    const cedar__expr *in;
    if ((rc = cedar__p_expr(p, &in))) return rc;
    if ((rc = cedar__p_expect(p, TK_RPAREN, "`)`", "to close `(`"))) return rc;
    *out = in;
    return 0;
  }
  case TK_LBRACK:
    cedar__p_advance(p);
    if (!(e = node(p, CEDAR__X_SET, t.off))) return -WD_E_NOMEM;
    rc = expr_list(p, TK_RBRACK, "`,` or `]`", "in a set literal", &e->u.list.items, &e->u.list.n,
                   NULL);
    if (rc) return rc;
    e->len = p->prev_end - t.off;
    *out = e;
    return grown(p, e);
  case TK_LBRACE: cedar__p_advance(p); return record(p, t.off, out);
  case TK_EOF:
  case TK_ERROR:
  case TK_AT:
  case TK_RPAREN:
  case TK_RBRACK:
  case TK_RBRACE:
  case TK_COMMA:
  case TK_SEMI:
  case TK_DOT:
  case TK_COLON:
  case TK_COLON2:
  case TK_EQ:
  case TK_NE:
  case TK_LT:
  case TK_LE:
  case TK_GT:
  case TK_GE:
  case TK_AND:
  case TK_OR:
  case TK_PLUS:
  case TK_MINUS:
  case TK_STAR:
  case TK_BANG: break;
  }
  return cedar__p_expected(p, "an expression", "");
}

/* Member accesses and method calls after a primary e starting at off. */
static int member_tail(cedar__parser *p, uint32_t off, const cedar__expr *e,
                       const cedar__expr **out) {
  int rc;
  for (;;) {
    if (p->tok.kind == TK_DOT) {
      cedar__p_advance(p);
      uint32_t name_off = p->tok.off;
      cedar__str name;
      if ((rc = ident_name(p, &name, "an attribute or method name", "after `.`"))) return rc;
      if (p->tok.kind == TK_LPAREN) {
        if ((rc = call(p, off, name, name_off, e, &e))) return rc;
        continue;
      }
      cedar__expr *g = node(p, CEDAR__X_GETATTR, off);
      if (!g) return -WD_E_NOMEM;
      g->u.attr.e = e;
      g->u.attr.attr = name;
      if ((rc = grown(p, g))) return rc;
      e = g;
    } else if (p->tok.kind == TK_LBRACK) {
      cedar__p_advance(p);
      cedar__tok st = p->tok;
      if (st.kind != TK_STR) return cedar__p_expected(p, "a string literal", "inside `[ ]`");
      cedar__expr *g = node(p, CEDAR__X_GETATTR, off);
      if (!g) return -WD_E_NOMEM;
      if ((rc = cedar__p_string(p, st, &g->u.attr.attr))) return rc;
      cedar__p_advance(p);
      if ((rc = cedar__p_expect(p, TK_RBRACK, "`]`", "after the attribute name"))) return rc;
      g->u.attr.e = e;
      g->len = p->prev_end - off;
      if ((rc = grown(p, g))) return rc;
      e = g;
    } else if (p->tok.kind == TK_LPAREN) {
      return cedar__p_err(p, p->tok.off, p->tok.len,
                          "only named functions and methods can be called, as `name(args)` or "
                          "`e.name(args)`");
    } else {
      break;
    }
  }
  *out = e;
  return 0;
}

static int member(cedar__parser *p, const cedar__expr **out) {
  uint32_t off = p->tok.off;
  const cedar__expr *e;
  int rc = primary(p, &e);
  if (rc) return rc;
  return member_tail(p, off, e, out);
}

static int unary(cedar__parser *p, const cedar__expr **out) {
  cedar__tok first = p->tok;
  if (first.kind != TK_BANG && first.kind != TK_MINUS) return member(p, out);
  uint32_t offs[5];
  uint32_t n = 0;
  while (p->tok.kind == first.kind) {
    if (n == 4)
      return cedar__p_err(p, p->tok.off, p->tok.len,
                          "too many occurrences of `%s` in a row (at most 4)",
                          first.kind == TK_BANG ? "!" : "-");
    offs[n++] = p->tok.off;
    cedar__p_advance(p);
  }
  const cedar__expr *e;
  int rc;
  cedar__tok t = p->tok;
  if (first.kind == TK_MINUS && t.kind == TK_INT) {
    cedar__p_advance(p);
    /* -N is one literal (so INT64_MIN is writable), unless a member access
     * follows: -1.foo() negates the call. */
    int fold = p->tok.kind != TK_DOT && p->tok.kind != TK_LBRACK;
    cedar__expr *l = node(p, CEDAR__X_LIT, fold ? offs[n - 1] : t.off);
    if (!l) return -WD_E_NOMEM;
    l->u.lit.kind = CEDAR__V_LONG;
    if ((rc = int_lit(p, t, fold, &l->u.lit.u.i))) return rc;
    if (fold) {
      e = l;
      n--;
    } else if ((rc = member_tail(p, t.off, l, &e))) {
      return rc;
    }
  } else if ((rc = member(p, &e))) {
    return rc;
  }
  while (n > 0) {
    n--;
    cedar__expr *u = node(p, first.kind == TK_BANG ? CEDAR__X_NOT : CEDAR__X_NEG, offs[n]);
    if (!u) return -WD_E_NOMEM;
    u->u.op.a = e;
    if ((rc = grown(p, u))) return rc;
    e = u;
  }
  *out = e;
  return 0;
}

/* One left-associative level of the grammar: operands come from sub and
 * are joined while the current token is t1 (giving k1) or t2 (giving k2);
 * a level with a single operator passes it twice. */
static int left_assoc(cedar__parser *p, int (*sub)(cedar__parser *, const cedar__expr **),
                      cedar__tk t1, cedar__xkind k1, cedar__tk t2, cedar__xkind k2,
                      const cedar__expr **out) {
  uint32_t off = p->tok.off;
  const cedar__expr *a, *b;
  int rc = sub(p, &a);
  while (rc == 0 && (p->tok.kind == t1 || p->tok.kind == t2)) {
    cedar__xkind k = p->tok.kind == t1 ? k1 : k2;
    cedar__p_advance(p);
    if ((rc = sub(p, &b))) break;
    rc = binop(p, k, a, b, off, &a);
  }
  *out = a;
  return rc;
}

static int mul(cedar__parser *p, const cedar__expr **out) {
  return left_assoc(p, unary, TK_STAR, CEDAR__X_MUL, TK_STAR, CEDAR__X_MUL, out);
}

static int add(cedar__parser *p, const cedar__expr **out) {
  return left_assoc(p, mul, TK_PLUS, CEDAR__X_ADD, TK_MINUS, CEDAR__X_SUB, out);
}

static int relop(const cedar__parser *p, cedar__xkind *k) {
  switch (p->tok.kind) {
  case TK_EQ: *k = CEDAR__X_EQ; return 1;
  case TK_NE: *k = CEDAR__X_NE; return 1;
  case TK_LT: *k = CEDAR__X_LT; return 1;
  case TK_LE: *k = CEDAR__X_LE; return 1;
  case TK_GT: *k = CEDAR__X_GT; return 1;
  case TK_GE: *k = CEDAR__X_GE; return 1;
  case TK_IDENT:
    if (cedar__tok_is(&p->lx, p->tok, "in")) {
      *k = CEDAR__X_IN;
      return 1;
    }
    return 0;
  case TK_EOF:
  case TK_ERROR:
  case TK_INT:
  case TK_STR:
  case TK_SLOT_P:
  case TK_SLOT_R:
  case TK_AT:
  case TK_LPAREN:
  case TK_RPAREN:
  case TK_LBRACK:
  case TK_RBRACK:
  case TK_LBRACE:
  case TK_RBRACE:
  case TK_COMMA:
  case TK_SEMI:
  case TK_DOT:
  case TK_COLON:
  case TK_COLON2:
  case TK_AND:
  case TK_OR:
  case TK_PLUS:
  case TK_MINUS:
  case TK_STAR:
  case TK_BANG: return 0;
  }
  return 0;
}

/* `e has a.b.c` means `e has a && e.a has b && e.a.b has c`. */
static int has(cedar__parser *p, uint32_t off, const cedar__expr *e, const cedar__expr **out) {
  cedar__str attr;
  int rc;
  cedar__tok t = p->tok;
  if (t.kind == TK_STR) {
    if ((rc = cedar__p_string(p, t, &attr))) return rc;
    cedar__p_advance(p);
    if (p->tok.kind == TK_DOT)
      return cedar__p_err(p, t.off, p->tok.off + 1 - t.off,
                          "after `has`, an attribute path must use identifiers, not strings");
  } else if ((rc = ident_name(p, &attr, "an attribute name", "after `has`"))) {
    return rc;
  }
  cedar__expr *h = node(p, CEDAR__X_HAS, off);
  if (!h) return -WD_E_NOMEM;
  h->u.attr.e = e;
  h->u.attr.attr = attr;
  if ((rc = grown(p, h))) return rc;
  const cedar__expr *acc = h, *cur = e;
  while (p->tok.kind == TK_DOT) {
    cedar__p_advance(p);
    cedar__str next;
    if ((rc = ident_name(p, &next, "an attribute name", "after `.` in a `has` path"))) return rc;
    cedar__expr *g = node(p, CEDAR__X_GETATTR, off);
    cedar__expr *h2 = node(p, CEDAR__X_HAS, off);
    if (!g || !h2) return -WD_E_NOMEM;
    g->u.attr.e = cur;
    g->u.attr.attr = attr;
    h2->u.attr.e = g;
    h2->u.attr.attr = next;
    if ((rc = grown(p, g)) || (rc = grown(p, h2)) ||
        (rc = binop(p, CEDAR__X_AND, acc, h2, off, &acc)))
      return rc;
    cur = g;
    attr = next;
  }
  *out = acc;
  return 0;
}

static int relation(cedar__parser *p, const cedar__expr **out) {
  uint32_t off = p->tok.off;
  const cedar__expr *a, *b;
  int rc = add(p, &a);
  if (rc) return rc;
  cedar__xkind k;
  if (relop(p, &k)) {
    cedar__p_advance(p);
    if ((rc = add(p, &b))) return rc;
    if (relop(p, &k))
      return cedar__p_err(p, p->tok.off, p->tok.len,
                          "relational operators (==, <, in, ...) do not chain; add parentheses "
                          "to make the order explicit");
    if ((rc = binop(p, k, a, b, off, &a))) return rc;
  } else if (cedar__tok_is(&p->lx, p->tok, "has")) {
    cedar__p_advance(p);
    if ((rc = has(p, off, a, &a))) return rc;
  } else if (cedar__tok_is(&p->lx, p->tok, "like")) {
    cedar__p_advance(p);
    cedar__tok t = p->tok;
    if (t.kind != TK_STR) return cedar__p_expected(p, "a pattern string", "after `like`");
    cedar__p_advance(p);
    cedar__expr *l = node(p, CEDAR__X_LIKE, off);
    if (!l) return -WD_E_NOMEM;
    uint32_t bad = 0;
    rc = cedar__parse_pattern(p->a, p->lx.src + t.off + 1, t.len - 2, &l->u.like.pat, &l->u.like.n,
                              &bad);
    if (rc == -WD_E_NOMEM) return p->nomem = 1, rc;
    if (rc) {
      return cedar__p_bad_escape(p, t, bad, "`like` pattern");
    }
    l->u.like.e = a;
    if ((rc = grown(p, l))) return rc;
    a = l;
  } else if (cedar__tok_is(&p->lx, p->tok, "is")) {
    cedar__p_advance(p);
    cedar__expr *i = node(p, CEDAR__X_IS, off);
    if (!i) return -WD_E_NOMEM;
    if ((rc = cedar__p_typename(p, &i->u.is.type))) return rc;
    i->u.is.e = a;
    if (cedar__tok_is(&p->lx, p->tok, "in")) {
      cedar__p_advance(p);
      if ((rc = add(p, &i->u.is.in))) return rc;
    }
    i->len = p->prev_end - off;
    if ((rc = grown(p, i))) return rc;
    a = i;
  }
  *out = a;
  return 0;
}

static int and_expr(cedar__parser *p, const cedar__expr **out) {
  return left_assoc(p, relation, TK_AND, CEDAR__X_AND, TK_AND, CEDAR__X_AND, out);
}

static int or_expr(cedar__parser *p, const cedar__expr **out) {
  return left_assoc(p, and_expr, TK_OR, CEDAR__X_OR, TK_OR, CEDAR__X_OR, out);
}

int cedar__p_expr(cedar__parser *p, const cedar__expr **out) {
  int rc;
  if (p->depth >= WD_LIMIT_EXPR_DEPTH) {
    p->toobig = 1;
    return cedar__p_err(p, p->tok.off, p->tok.len, "expression nested too deeply (limit %u)",
                        WD_LIMIT_EXPR_DEPTH);
  }
  p->depth++;
  if (cedar__tok_is(&p->lx, p->tok, "if")) {
    uint32_t off = p->tok.off;
    const cedar__expr *c, *t, *f;
    cedar__p_advance(p);
    if ((rc = cedar__p_expr(p, &c))) goto out;
    if (!cedar__tok_is(&p->lx, p->tok, "then")) {
      rc = cedar__p_expected(p, "`then`", "after the `if` condition");
      goto out;
    }
    cedar__p_advance(p);
    if ((rc = cedar__p_expr(p, &t))) goto out;
    if (!cedar__tok_is(&p->lx, p->tok, "else")) {
      rc = cedar__p_expected(p, "`else`", "after the `then` branch");
      goto out;
    }
    cedar__p_advance(p);
    if ((rc = cedar__p_expr(p, &f))) goto out;
    cedar__expr *e = node(p, CEDAR__X_IF, off);
    if (!e) {
      rc = -WD_E_NOMEM;
      goto out;
    }
    e->u.op.a = c;
    e->u.op.b = t;
    e->u.op.c = f;
    *out = e;
    rc = grown(p, e);
  } else {
    rc = or_expr(p, out);
  }
out:
  p->depth--;
  if (rc && p->nomem) rc = -WD_E_NOMEM;
  return rc;
}
