/* SPDX-License-Identifier: Apache-2.0
 *
 * The Cedar policy parser: policy files (annotations, effect, scope,
 * conditions), error reporting with recovery at the end of a broken
 * policy, and the entry points declared in cedar_int.h. Expressions are
 * parsed by parse_expr.c and tokens come from lex.c. Everything it builds
 * lives in the caller's arena; it never prints and never aborts.
 */
#include <stdio.h>
#include <string.h>

#include "cedar_parse.h"

/* ---- parser helpers shared with parse_expr.c ------------------------------ */

void cedar__p_init(cedar__parser *p, wd_arena *a, const char *src, size_t len, cedar_diags *diags) {
  memset(p, 0, sizeof *p);
  cedar__lex_init(&p->lx, src, len, diags);
  p->a = a;
  p->diags = diags;
  p->tok = cedar__lex_next(&p->lx);
}

void cedar__p_advance(cedar__parser *p) {
  p->prev_end = p->tok.off + p->tok.len;
  p->tok = cedar__lex_next(&p->lx);
}

int cedar__p_err(cedar__parser *p, uint32_t off, uint32_t len, const char *fmt, ...) {
  if (p->nomem) return -WD_E_NOMEM;
  char msg[CEDAR_DIAG_MSG];
  va_list ap;
  va_start(ap, fmt);
  (void)vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  /* A limit that was hit is reported as such; the parse still fails as a
   * whole with -WD_E_PARSE. */
  int code = p->toobig ? -WD_E_TOOBIG : -WD_E_PARSE;
  p->toobig = 0;
  if (!p->lx.quiet) (void)cedar__diag_at(p->diags, p->lx.src, p->lx.len, code, off, len, "%s", msg);
  return -WD_E_PARSE;
}

int cedar__p_expected(cedar__parser *p, const char *what, const char *where) {
  char buf[64];
  if (p->nomem) return -WD_E_NOMEM;
  if (p->tok.kind == TK_ERROR) return -WD_E_PARSE; /* the lexer said why */
  return cedar__p_err(p, p->tok.off, p->tok.len, "expected %s%s%s, found %s", what,
                      where[0] ? " " : "", where,
                      cedar__tok_describe(&p->lx, p->tok, buf, sizeof buf));
}

int cedar__p_expect(cedar__parser *p, cedar__tk k, const char *what, const char *where) {
  if (p->tok.kind != k) return cedar__p_expected(p, what, where);
  cedar__p_advance(p);
  return 0;
}

int cedar__p_bad_escape(cedar__parser *p, cedar__tok t, uint32_t bad, const char *what) {
  const char *body = p->lx.src + t.off + 1;
  uint32_t n = t.len - 2, end = bad + 2;
  /* Show the whole escape: \x, \xHH or \u{...}. */
  if (end < n && body[bad + 1] == 'u' && body[end] == '{') {
    while (end < n && body[end] != '}' && end - bad < 16)
      end++;
    if (end < n && body[end] == '}') end++;
  } else if (end <= n && body[bad + 1] == 'x') {
    while (end < n && end - bad < 4)
      end++;
  }
  if (end > n) end = n;
  return cedar__p_err(p, t.off + 1 + bad, end - bad, "invalid escape `%.*s` in %s",
                      (int)(end - bad), body + bad, what);
}

int cedar__p_string(cedar__parser *p, cedar__tok t, cedar__str *out) {
  uint32_t bad = 0;
  int rc = cedar__unescape(p->a, p->lx.src + t.off + 1, t.len - 2, out, &bad);
  if (rc == -WD_E_NOMEM) return p->nomem = 1, rc;
  if (rc) return cedar__p_bad_escape(p, t, bad, "string literal");
  if (out->n > WD_LIMIT_STRING_BYTES) {
    p->toobig = 1;
    return cedar__p_err(p, t.off, 1, "string literal is longer than the limit (%u bytes)",
                        WD_LIMIT_STRING_BYTES);
  }
  return 0;
}

int cedar__p_grow(cedar__parser *p, void **arr, uint32_t *cap, size_t elsize, uint32_t need) {
  if (need <= *cap) return 0;
  uint32_t ncap = *cap ? *cap : 4;
  while (ncap < need)
    ncap *= 2;
  void *n = wd_arena_alloc(p->a, (size_t)ncap * elsize);
  if (!n) {
    p->nomem = 1;
    return -WD_E_NOMEM;
  }
  if (*arr) memcpy(n, *arr, (size_t)*cap * elsize);
  *arr = n;
  *cap = ncap;
  return 0;
}

/* ---- scope ------------------------------------------------------------- */

static const char *const var_names[] = {"principal", "action", "resource"};

static int is_action_type(cedar__str t) {
  return (t.n == 6 && memcmp(t.p, "Action", 6) == 0) ||
         (t.n > 8 && memcmp(t.p + t.n - 8, "::Action", 8) == 0);
}

static int action_uid(cedar__parser *p, uint32_t off, const cedar__uid **out) {
  int rc = cedar__p_uid(p, out);
  if (rc) return rc;
  if (!is_action_type((*out)->type))
    return cedar__p_err(p, off, p->prev_end - off,
                        "expected an entity uid with type `Action`, found `%.*s`",
                        (int)(p->prev_end - off), p->lx.src + off);
  return 0;
}

/* The right-hand side of ==, in or `is T in` in the scope: a uid, the
 * variable's own slot, or (action in only) a list of uids. Redundant
 * parentheses are accepted, as the reference does. */
static int scope_target(cedar__parser *p, int var, int allow_set, cedar__scope *sc,
                        int *is_template) {
  uint32_t parens = 0;
  int rc;
  while (p->tok.kind == TK_LPAREN) {
    parens++;
    cedar__p_advance(p);
  }
  cedar__tok t = p->tok;
  if (t.kind == TK_SLOT_P || t.kind == TK_SLOT_R) {
    if (var == 1)
      return cedar__p_err(p, t.off, t.len, "template slots cannot appear in the action scope");
    int want = var == 0 ? TK_SLOT_P : TK_SLOT_R;
    if ((int)t.kind != want)
      return cedar__p_err(p, t.off, t.len, "expected an entity uid or `?%s`, found `%.*s`",
                          var_names[var], (int)t.len, p->lx.src + t.off);
    sc->slot = var == 0 ? CEDAR__SLOT_PRINCIPAL : CEDAR__SLOT_RESOURCE;
    *is_template = 1;
    cedar__p_advance(p);
  } else if (t.kind == TK_LBRACK) {
    if (!allow_set)
      return cedar__p_err(p, t.off, t.len,
                          "expected a single entity uid%s, found a set of entity uids",
                          var == 1 ? "" : " or template slot");
    cedar__p_advance(p);
    const cedar__uid **v = NULL;
    uint32_t n = 0, cap = 0;
    while (p->tok.kind != TK_RBRACK) {
      const cedar__uid *u;
      if ((rc = action_uid(p, p->tok.off, &u))) return rc;
      if (n == cap && cedar__p_grow(p, (void **)&v, &cap, sizeof *v, n + 1)) return -WD_E_NOMEM;
      v[n++] = u;
      if (p->tok.kind == TK_COMMA) {
        cedar__p_advance(p);
        continue;
      }
      if (p->tok.kind != TK_RBRACK)
        return cedar__p_expected(p, "`,` or `]`", "in the list of actions");
    }
    cedar__p_advance(p);
    sc->kind = CEDAR__SC_IN_SET;
    sc->uids = v;
    sc->nuids = n;
  } else if (t.kind == TK_IDENT) {
    rc = var == 1 ? action_uid(p, t.off, &sc->uid) : cedar__p_uid(p, &sc->uid);
    if (rc) return rc;
  } else {
    char what[64];
    (void)snprintf(what, sizeof what, "an entity uid%s", var == 1 ? "" : " or template slot");
    return cedar__p_expected(p, what, "in the policy scope");
  }
  while (parens--)
    if ((rc = cedar__p_expect(p, TK_RPAREN, "`)`", "to close `(` in the policy scope"))) return rc;
  return 0;
}

static int scope_var(cedar__parser *p, int var, cedar__scope *sc, int *is_template) {
  cedar__tok t = p->tok;
  int rc;
  sc->kind = CEDAR__SC_ANY;
  sc->slot = CEDAR__SLOT_NONE;
  sc->off = t.off;
  if (t.kind == TK_RPAREN)
    return cedar__p_err(p, t.off, t.len, "this policy is missing the `%s` variable in the scope",
                        var_names[var]);
  if (!cedar__tok_is(&p->lx, t, var_names[var])) {
    char what[32];
    (void)snprintf(what, sizeof what, "`%s`", var_names[var]);
    return cedar__p_expected(p, what, "in the policy scope");
  }
  cedar__p_advance(p);
  cedar__tok op = p->tok;
  if (op.kind == TK_EQ) {
    cedar__p_advance(p);
    sc->kind = CEDAR__SC_EQ;
    if ((rc = scope_target(p, var, 0, sc, is_template))) return rc;
  } else if (cedar__tok_is(&p->lx, op, "in")) {
    cedar__p_advance(p);
    sc->kind = CEDAR__SC_IN;
    if ((rc = scope_target(p, var, var == 1, sc, is_template))) return rc;
  } else if (cedar__tok_is(&p->lx, op, "is")) {
    if (var == 1) return cedar__p_err(p, op.off, op.len, "`is` cannot appear in the action scope");
    cedar__p_advance(p);
    sc->kind = CEDAR__SC_IS;
    if ((rc = cedar__p_typename(p, &sc->type))) return rc;
    if (cedar__tok_is(&p->lx, p->tok, "in")) {
      cedar__p_advance(p);
      sc->kind = CEDAR__SC_IS_IN;
      if ((rc = scope_target(p, var, 0, sc, is_template))) return rc;
    } else if (p->tok.kind == TK_EQ) {
      return cedar__p_err(p, p->tok.off, p->tok.len, "`is` cannot be used together with `==`");
    }
  } else if (op.kind == TK_COLON) {
    return cedar__p_err(p, op.off, op.len, "type constraints using `:` are not supported");
  } else if (op.kind == TK_NE || op.kind == TK_LT || op.kind == TK_LE || op.kind == TK_GT ||
             op.kind == TK_GE) {
    return cedar__p_err(p, op.off, op.len,
                        "invalid operator `%.*s` in the policy scope: use `==`, `in` or `is`",
                        (int)op.len, p->lx.src + op.off);
  }
  sc->len = p->prev_end - sc->off;
  return 0;
}

static int scope(cedar__parser *p, cedar__policy *pol) {
  int rc;
  static const char *const after[] = {"after the principal constraint",
                                      "after the action constraint",
                                      "after the resource constraint"};
  cedar__scope *sc[3] = {&pol->principal, &pol->action, &pol->resource};
  if ((rc = cedar__p_expect(p, TK_LPAREN, "`(`", "after the policy effect"))) return rc;
  for (int v = 0; v < 3; v++) {
    if ((rc = scope_var(p, v, sc[v], &pol->is_template))) return rc;
    if (v < 2) {
      if (p->tok.kind == TK_RPAREN)
        return cedar__p_err(p, p->tok.off, p->tok.len,
                            "this policy is missing the `%s` variable in the scope",
                            var_names[v + 1]);
      if ((rc = cedar__p_expect(p, TK_COMMA, "`,`", after[v]))) return rc;
    }
  }
  if (p->tok.kind == TK_COMMA) {
    cedar__p_advance(p); /* a trailing comma is accepted */
    if (p->tok.kind != TK_RPAREN && p->tok.kind != TK_ERROR)
      return cedar__p_err(p, p->tok.off, p->tok.len,
                          "the policy scope has only principal, action and resource");
  }
  return cedar__p_expect(p, TK_RPAREN, "`)`", after[2]);
}

/* ---- policies ------------------------------------------------------------- */

static int annotation(cedar__parser *p, cedar__annot *an, const cedar__annot *prev,
                      uint32_t nprev) {
  an->off = p->tok.off;
  cedar__p_advance(p); /* @ */
  cedar__tok k = p->tok;
  int rc;
  /* Annotation keys may be any identifier, reserved words included. */
  if (k.kind != TK_IDENT) return cedar__p_expected(p, "an annotation name", "after `@`");
  an->key.p = wd_arena_strndup(p->a, p->lx.src + k.off, k.len);
  if (!an->key.p) return p->nomem = 1, -WD_E_NOMEM;
  an->key.n = k.len;
  cedar__p_advance(p);
  for (uint32_t i = 0; i < nprev; i++)
    if (cedar__str_eq(prev[i].key, an->key))
      return cedar__p_err(p, k.off, k.len, "duplicate annotation `@%.*s` on one policy", (int)k.len,
                          an->key.p);
  if (p->tok.kind == TK_LPAREN) {
    cedar__p_advance(p);
    cedar__tok s = p->tok;
    if (s.kind != TK_STR)
      return cedar__p_expected(p, "a string literal", "as the annotation value");
    if ((rc = cedar__p_string(p, s, &an->val))) return rc;
    an->has_val = 1;
    cedar__p_advance(p);
    if ((rc = cedar__p_expect(p, TK_RPAREN, "`)`", "after the annotation value"))) return rc;
  } else {
    an->val.p = "";
  }
  an->len = p->prev_end - an->off;
  return 0;
}

static int condition(cedar__parser *p, cedar__cond *c) {
  cedar__tok k = p->tok;
  int rc;
  c->off = k.off;
  if (cedar__tok_is(&p->lx, k, "when"))
    c->is_when = 1;
  else if (!cedar__tok_is(&p->lx, k, "unless"))
    return k.kind == TK_IDENT
               ? cedar__p_err(p, k.off, k.len,
                              "invalid policy condition `%.*s`: expected `when` or `unless`",
                              (int)k.len, p->lx.src + k.off)
               : cedar__p_expected(p, "`when`, `unless` or `;`", "after the policy scope");
  cedar__p_advance(p);
  const char *kw = c->is_when ? "`when`" : "`unless`";
  if ((rc = cedar__p_expect(p, TK_LBRACE, "`{`", c->is_when ? "after `when`" : "after `unless`")))
    return rc;
  if (p->tok.kind == TK_RBRACE)
    return cedar__p_err(p, k.off, p->tok.off + 1 - k.off, "the %s condition cannot be empty", kw);
  if ((rc = cedar__p_expr(p, &c->e))) return rc;
  if ((rc = cedar__p_expect(p, TK_RBRACE, "`}`",
                            c->is_when ? "after the `when` condition"
                                       : "after the `unless` condition")))
    return rc;
  c->len = p->prev_end - c->off;
  return 0;
}

static int policy(cedar__parser *p, uint32_t index, cedar__policy **out) {
  cedar__policy *pol = wd_arena_calloc(p->a, 1, sizeof *pol);
  if (!pol) return p->nomem = 1, -WD_E_NOMEM;
  cedar__annot *an = NULL;
  cedar__cond *cd = NULL;
  uint32_t acap = 0, ccap = 0;
  int rc;
  pol->off = p->tok.off;
  while (p->tok.kind == TK_AT) {
    if (pol->nannots >= WD_LIMIT_ANNOTATIONS) {
      p->toobig = 1;
      return cedar__p_err(p, p->tok.off, 1, "too many annotations on one policy (limit %u)",
                          WD_LIMIT_ANNOTATIONS);
    }
    if (cedar__p_grow(p, (void **)&an, &acap, sizeof *an, pol->nannots + 1)) return -WD_E_NOMEM;
    memset(&an[pol->nannots], 0, sizeof *an);
    if ((rc = annotation(p, &an[pol->nannots], an, pol->nannots))) return rc;
    pol->nannots++;
  }
  cedar__tok e = p->tok;
  if (cedar__tok_is(&p->lx, e, "permit"))
    pol->effect = CEDAR__PERMIT;
  else if (cedar__tok_is(&p->lx, e, "forbid"))
    pol->effect = CEDAR__FORBID;
  else
    return cedar__p_expected(p, "`permit` or `forbid`",
                             pol->nannots ? "after the annotations" : "at the start of a policy");
  cedar__p_advance(p);
  if ((rc = scope(p, pol))) return rc;
  while (p->tok.kind != TK_SEMI) {
    if (cedar__p_grow(p, (void **)&cd, &ccap, sizeof *cd, pol->nconds + 1)) return -WD_E_NOMEM;
    memset(&cd[pol->nconds], 0, sizeof *cd);
    if ((rc = condition(p, &cd[pol->nconds]))) return rc;
    pol->nconds++;
  }
  cedar__p_advance(p); /* ; */
  pol->len = p->prev_end - pol->off;
  pol->annots = an;
  pol->conds = cd;
  pol->pos = index;
  pol->template_id.p = "";
  char idbuf[32];
  int m = snprintf(idbuf, sizeof idbuf, "policy%u", index);
  pol->id.p = wd_arena_strndup(p->a, idbuf, (size_t)m);
  pol->id.n = (uint32_t)m;
  for (uint32_t i = 0; i < pol->nannots; i++)
    if (an[i].has_val && an[i].val.n > 0 && an[i].key.n == 2 && memcmp(an[i].key.p, "id", 2) == 0)
      pol->id = an[i].val;
  if (!pol->id.p) return p->nomem = 1, -WD_E_NOMEM;
  *out = pol;
  return 0;
}

/* After an error, skips to the end of the broken policy: past the next `;`
 * outside brackets, or up to the next `@`, or the next permit/forbid that
 * is outside brackets or starts a line (so one unclosed bracket does not
 * swallow the rest of the file). Always makes progress past start. */
static void recover(cedar__parser *p, uint32_t start) {
  p->lx.quiet = 1;
  for (;;) {
    cedar__tok t = p->tok;
    if (t.kind == TK_EOF) break;
    if (t.off > start) {
      if (t.kind == TK_AT) break;
      if (cedar__tok_is(&p->lx, t, "permit") || cedar__tok_is(&p->lx, t, "forbid")) {
        uint32_t i = t.off;
        while (i > 0 && (p->lx.src[i - 1] == ' ' || p->lx.src[i - 1] == '\t'))
          i--;
        if (p->lx.nest == 0 || i == 0 || p->lx.src[i - 1] == '\n') break;
      }
    }
    if (t.kind == TK_SEMI && p->lx.nest == 0) {
      cedar__p_advance(p);
      break;
    }
    cedar__p_advance(p);
  }
  p->lx.nest = 0;
  p->lx.quiet = 0;
}

static int check_text(const char *src, size_t len, cedar_diags *diags) {
  if (len > WD_LIMIT_POLICY_TEXT_BYTES)
    return cedar__diag_at(diags, NULL, 0, -WD_E_TOOBIG, 0, 0,
                          "policy text is larger than the limit (%u bytes)",
                          WD_LIMIT_POLICY_TEXT_BYTES);
  size_t bad = cedar__utf8_check(src, len);
  if (bad < len)
    return cedar__diag_at(diags, src, len, -WD_E_PARSE, (uint32_t)bad, 1,
                          "invalid UTF-8 byte 0x%02x", (unsigned char)src[bad]);
  return 0;
}

int cedar__parse_policies(wd_arena *a, const char *src, size_t len, uint32_t first_index,
                          cedar__policy ***out, uint32_t *n, cedar_diags *diags) {
  cedar__parser p;
  cedar__policy **v = NULL;
  uint32_t nv = 0, cap = 0, count = 0;
  int failed = 0, rc;
  if (!src) len = 0;
  if ((rc = check_text(src ? src : "", len, diags))) return rc;
  cedar__p_init(&p, a, src ? src : "", len, diags);
  while (p.tok.kind != TK_EOF) {
    uint32_t start = p.tok.off;
    cedar__policy *pol = NULL;
    p.depth = 0;
    if (count >= WD_LIMIT_POLICY_COUNT) {
      return cedar__diag_at(diags, src, len, -WD_E_TOOBIG, start, 0, "too many policies (limit %u)",
                            WD_LIMIT_POLICY_COUNT);
    }
    rc = policy(&p, first_index + count, &pol);
    count++;
    if (rc == -WD_E_NOMEM || p.nomem) return -WD_E_NOMEM;
    if (rc) {
      failed = 1;
      recover(&p, start);
      continue;
    }
    if (nv == cap && cedar__p_grow(&p, (void **)&v, &cap, sizeof *v, nv + 1)) return -WD_E_NOMEM;
    v[nv++] = pol;
  }
  if (failed || p.lx.nerr) return -WD_E_PARSE;
  *out = v;
  *n = nv;
  return 0;
}

/* Parses the whole of src as one expression (expr set) or one entity uid
 * (uid set); anything after it is an error. */
static int parse_whole(wd_arena *a, const char *src, size_t len, const cedar__expr **expr,
                       const cedar__uid **uid, cedar_diags *diags) {
  cedar__parser p;
  int rc;
  if (!src) len = 0;
  if ((rc = check_text(src ? src : "", len, diags))) return rc;
  cedar__p_init(&p, a, src ? src : "", len, diags);
  rc = expr ? cedar__p_expr(&p, expr) : cedar__p_uid(&p, uid);
  if (rc == 0 && p.tok.kind != TK_EOF)
    rc = cedar__p_expected(&p, "end of input",
                           expr ? "after the expression" : "after the entity uid");
  if (rc == 0 && p.lx.nerr) rc = -WD_E_PARSE;
  return p.nomem ? -WD_E_NOMEM : rc;
}

int cedar__parse_expr(wd_arena *a, const char *src, size_t len, const cedar__expr **out,
                      cedar_diags *diags) {
  return parse_whole(a, src, len, out, NULL, diags);
}

int cedar__parse_uid(wd_arena *a, const char *src, size_t len, const cedar__uid **out,
                     cedar_diags *diags) {
  return parse_whole(a, src, len, NULL, out, diags);
}
