/* SPDX-License-Identifier: Apache-2.0
 *
 * Reads the .cedarschema text format into the structure of Cedar's JSON
 * schema format (a jansson tree), remembering where each node came from.
 * It checks syntax and the rules only the text can break (duplicates,
 * reserved words, appliesTo completeness); names are resolved later by
 * cedar__schema_build_loc, so both formats share one resolver. The public
 * entry points and the translations are in schema_translate.c.
 */
#include <string.h>

#include "cedar_lex.h"
#include "cedar_schema.h"

/* Tokens the policy lexer reports as errors but the schema grammar uses. */
enum { SK_QMARK = TK_BANG + 1, SK_ASSIGN };

typedef struct stok {
  int kind; /* a cedar__tk, or SK_QMARK / SK_ASSIGN */
  uint32_t off, len;
} stok;

typedef struct sp {
  cedar__lexer lx;
  stok tok;
  uint32_t prev_end;
  const char *src;
  uint32_t len;
  cedar_diags *diags;
  wd_arena *a;
  wd_map *spans;
  wd_map *ns_blocks; /* namespace name -> cedar__span* of its block */
  json_t *root;
  unsigned nerr;
  int nomem;
  unsigned depth;
} sp;

static const char *const reserved[] = {"true", "false", "if",   "then", "else",
                                       "in",   "is",    "like", "has",  "__cedar"};

/* ---- tokens and errors ---------------------------------------------------- */

static int err(sp *p, uint32_t off, uint32_t len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int err(sp *p, uint32_t off, uint32_t len, const char *fmt, ...) {
  char msg[CEDAR_DIAG_MSG];
  va_list ap;
  va_start(ap, fmt);
  (void)vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (p->nerr++ < WD_LIMIT_PARSE_ERRORS)
    (void)cedar__diag_at(p->diags, p->src, p->len, -WD_E_PARSE, off, len, "%s", msg);
  return -WD_E_PARSE;
}

static void advance(sp *p) {
  p->prev_end = p->tok.off + p->tok.len;
  uint32_t save = p->lx.pos;
  p->lx.quiet = 1;
  cedar__tok t = cedar__lex_next(&p->lx);
  p->lx.quiet = 0;
  stok s = {(int)t.kind, t.off, t.len};
  if (t.kind == TK_SLOT_P || t.kind == TK_SLOT_R ||
      (t.kind == TK_ERROR && t.off < p->len && p->src[t.off] == '?')) {
    s.kind = SK_QMARK;
    s.len = 1;
  } else if (t.kind == TK_ERROR && t.off < p->len && p->src[t.off] == '=') {
    s.kind = SK_ASSIGN;
    s.len = 1;
  } else if (t.kind == TK_ERROR) {
    /* A real lexical error: scan again, loudly, so the lexer says why. */
    p->lx.pos = save;
    (void)cedar__lex_next(&p->lx);
    p->nerr++;
  }
  if (s.kind == SK_QMARK || s.kind == SK_ASSIGN) p->lx.pos = s.off + 1;
  p->tok = s;
}

static int is_kw(const sp *p, const char *w) {
  cedar__tok t = {TK_IDENT, p->tok.off, p->tok.len};
  return p->tok.kind == TK_IDENT && cedar__tok_is(&p->lx, t, w);
}

static int expected(sp *p, const char *what) {
  char buf[64];
  if (p->nomem) return -WD_E_NOMEM;
  if (p->tok.kind == TK_ERROR) return -WD_E_PARSE; /* the lexer said why */
  cedar__tok t = {p->tok.kind == TK_EOF ? TK_EOF : TK_IDENT, p->tok.off, p->tok.len};
  return err(p, p->tok.off, p->tok.len, "expected %s, found %s", what,
             cedar__tok_describe(&p->lx, t, buf, sizeof buf));
}

static int expect(sp *p, int kind, const char *what) {
  if (p->tok.kind != kind) return expected(p, what);
  advance(p);
  return 0;
}

/* ---- JSON building ---------------------------------------------------------- */

static json_t *mark(sp *p, json_t *j, uint32_t off, uint32_t len) {
  if (!j) {
    p->nomem = 1;
    return NULL;
  }
  if (!p->spans) return j;
  cedar__span *s = wd_arena_alloc(p->a, sizeof *s);
  if (!s) {
    p->nomem = 1;
    return j;
  }
  s->off = off;
  s->len = len;
  s->node = j;
  if (wd_map_put(p->spans, &s->node, sizeof s->node, s)) p->nomem = 1;
  return j;
}

/* Takes ownership of v. */
static int put(sp *p, json_t *obj, const char *k, size_t kn, json_t *v) {
  if (!v || json_object_setn_new(obj, k, kn, v)) {
    p->nomem = 1;
    return -WD_E_NOMEM;
  }
  return 0;
}

static int push(sp *p, json_t *arr, json_t *v) {
  if (!v || json_array_append_new(arr, v)) {
    p->nomem = 1;
    return -WD_E_NOMEM;
  }
  return 0;
}

/* A deep copy that keeps the spans, for declarations naming several items. */
static json_t *copy_loc(sp *p, const json_t *j) {
  json_t *c = NULL;
  if (json_is_object(j)) {
    const char *k;
    size_t kn;
    json_t *v;
    if (!(c = json_object())) return NULL;
    json_object_keylen_foreach((json_t *)(uintptr_t)j, k, kn, v) {
      if (put(p, c, k, kn, copy_loc(p, v))) break;
    }
  } else if (json_is_array(j)) {
    if (!(c = json_array())) return NULL;
    for (size_t i = 0; i < json_array_size(j); i++)
      if (push(p, c, copy_loc(p, json_array_get(j, i)))) break;
  } else {
    c = json_copy((json_t *)(uintptr_t)j);
  }
  const cedar__span *s = p->spans ? wd_map_get(p->spans, &j, sizeof j) : NULL;
  return s ? mark(p, c, s->off, s->len) : c;
}

/* ---- small pieces ---------------------------------------------------------------- */

static int is_reserved(const sp *p, stok t) {
  for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
    if (strlen(reserved[i]) == t.len && memcmp(p->src + t.off, reserved[i], t.len) == 0) return 1;
  return 0;
}

/* An identifier that may not be a reserved word. */
static int ident(sp *p, const char *what, stok *out) {
  if (p->tok.kind != TK_IDENT) return expected(p, what);
  if (is_reserved(p, p->tok))
    return err(p, p->tok.off, p->tok.len, "`%.*s` is a reserved identifier", (int)p->tok.len,
               p->src + p->tok.off);
  *out = p->tok;
  advance(p);
  return 0;
}

/* The unescaped body of the string literal at the current token. */
static int string_lit(sp *p, cedar__str *out, stok *where) {
  if (p->tok.kind != TK_STR) return expected(p, "a string literal");
  uint32_t bad = 0;
  /* Like Rust's unescaper, the reference rejects a bare carriage return. */
  const char *cr = memchr(p->src + p->tok.off + 1, '\r', p->tok.len - 2);
  if (cr) return err(p, (uint32_t)(cr - p->src), 1, "bare carriage return in string literal");
  int rc = cedar__unescape(p->a, p->src + p->tok.off + 1, p->tok.len - 2, out, &bad);
  if (rc == -WD_E_NOMEM) return p->nomem = 1, rc;
  if (rc) return err(p, p->tok.off + 1 + bad, 1, "invalid escape sequence in string literal");
  if (out->n > WD_LIMIT_STRING_BYTES)
    return err(p, p->tok.off, p->tok.len, "string literal is longer than the limit");
  if (where) *where = p->tok;
  advance(p);
  return 0;
}

/* IDENT or STR: the name of an attribute or an action. */
static int name(sp *p, const char *what, cedar__str *out, stok *where) {
  if (p->tok.kind == TK_STR) return string_lit(p, out, where);
  stok t;
  int rc = ident(p, what, &t);
  if (rc) return rc;
  out->p = p->src + t.off;
  out->n = t.len;
  if (where) *where = t;
  return 0;
}

static int is_path_char(char c) {
  return c == ':' || c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9');
}

/* IDENT {'::' IDENT}, as one string without any space or comment between
 * the parts. A `::` followed by a string is left for the caller (an action
 * reference). __cedar may start the path only when allow_cedar is set. */
static int path(sp *p, int allow_cedar, const char *what, cedar__str *out, stok *where) {
  uint32_t start = p->tok.off;
  for (int first = 1;; first = 0) {
    if (p->tok.kind != TK_IDENT) return expected(p, what);
    if (is_reserved(p, p->tok) && !(first && allow_cedar && is_kw(p, "__cedar")))
      return err(p, p->tok.off, p->tok.len, "`%.*s` is a reserved identifier", (int)p->tok.len,
                 p->src + p->tok.off);
    advance(p);
    if (p->tok.kind != TK_COLON2) break;
    /* Look past `::` without consuming it when a string follows. */
    cedar__lexer save = p->lx;
    stok st = p->tok;
    uint32_t pe = p->prev_end;
    advance(p);
    if (p->tok.kind == TK_STR) {
      p->lx = save;
      p->tok = st;
      p->prev_end = pe;
      break;
    }
  }
  out->p = p->src + start;
  out->n = p->prev_end - start;
  /* Space or comments between the parts: keep only the parts. */
  size_t plain = 0;
  while (plain < out->n && is_path_char(out->p[plain]))
    plain++;
  if (plain < out->n) {
    char *o = wd_arena_alloc(p->a, out->n);
    cedar__lexer lx;
    uint32_t k = 0;
    if (!o) return p->nomem = 1, -WD_E_NOMEM;
    cedar__lex_init(&lx, out->p, out->n, NULL);
    lx.quiet = 1;
    for (cedar__tok t = cedar__lex_next(&lx); t.kind != TK_EOF; t = cedar__lex_next(&lx)) {
      memcpy(o + k, out->p + t.off, t.len);
      k += t.len;
    }
    out->p = o;
    out->n = k;
  }
  if (where) {
    where->kind = TK_IDENT;
    where->off = start;
    where->len = out->n;
  }
  return 0;
}

static json_t *jstr(sp *p, cedar__str s, stok where) {
  return mark(p, json_stringn(s.p, s.n), where.off, where.len);
}

/* Annotation* : collected into *out (NULL when there are none). */
static int annotations(sp *p, json_t **out) {
  *out = NULL;
  while (p->tok.kind == TK_AT) {
    advance(p);
    if (p->tok.kind != TK_IDENT) return expected(p, "an annotation name");
    stok key = p->tok;
    advance(p);
    cedar__str val = {"", 0};
    if (p->tok.kind == TK_LPAREN) {
      advance(p);
      int rc = string_lit(p, &val, NULL);
      if (!rc) rc = expect(p, TK_RPAREN, "`)`");
      if (rc) return rc;
    }
    if (!*out && !(*out = json_object())) return p->nomem = 1, -WD_E_NOMEM;
    if (json_object_getn(*out, p->src + key.off, key.len))
      return err(p, key.off, key.len, "duplicate annotation `@%.*s`", (int)key.len,
                 p->src + key.off);
    if (put(p, *out, p->src + key.off, key.len, json_stringn(val.p, val.n))) return -WD_E_NOMEM;
  }
  return 0;
}

static int set_annots(sp *p, json_t *obj, json_t *an) {
  return an ? put(p, obj, "annotations", 11, an) : 0;
}

/* ---- types ------------------------------------------------------------------------ */

static int type_expr(sp *p, json_t **out);

/* '{' [AttrDecls] '}' with the `{` current. */
static int record(sp *p, json_t **out) {
  uint32_t start = p->tok.off;
  json_t *rec = NULL, *attrs = NULL, *an = NULL, *t = NULL;
  int rc;
  if (++p->depth > WD_LIMIT_SCHEMA_DEPTH) {
    rc = err(p, p->tok.off, 1, "type is nested more deeply than the limit of %u",
             WD_LIMIT_SCHEMA_DEPTH);
    goto out;
  }
  advance(p);
  rc = -WD_E_NOMEM;
  if (!(rec = json_object()) || !(attrs = json_object())) goto nomem;
  while (p->tok.kind != TK_RBRACE) {
    cedar__str nm;
    stok where;
    if ((rc = annotations(p, &an)) || (rc = name(p, "an attribute name or `}`", &nm, &where)))
      goto out;
    int optional = p->tok.kind == SK_QMARK;
    if (optional) advance(p);
    if ((rc = expect(p, TK_COLON, "`:`")) || (rc = type_expr(p, &t))) goto out;
    if (optional && put(p, t, "required", 8, json_false())) goto nomem;
    rc = set_annots(p, t, an);
    an = NULL;
    if (rc) goto nomem;
    /* The reference keeps the last of repeated attributes; so do we. */
    rc = put(p, attrs, nm.p, nm.n, t);
    t = NULL;
    if (rc) goto out;
    if (p->tok.kind == TK_COMMA) {
      advance(p);
      continue;
    }
    if (p->tok.kind != TK_RBRACE) {
      rc = expected(p, "`,` or `}`");
      goto out;
    }
  }
  advance(p);
  if (put(p, rec, "type", 4, json_string("Record")) || put(p, rec, "attributes", 10, attrs)) {
    attrs = NULL;
    goto nomem;
  }
  attrs = NULL;
  *out = mark(p, rec, start, p->prev_end - start);
  rec = NULL;
  rc = 0;
  goto out;
nomem:
  p->nomem = 1;
  rc = -WD_E_NOMEM;
out:
  p->depth--;
  json_decref(rec);
  json_decref(attrs);
  json_decref(an);
  json_decref(t);
  return rc;
}

static int type_expr(sp *p, json_t **out) {
  *out = NULL;
  if (p->tok.kind == TK_LBRACE) return record(p, out);
  cedar__str nm;
  stok where;
  int rc = path(p, 1, "a type", &nm, &where);
  if (rc) return rc;
  if (nm.n == 3 && memcmp(nm.p, "Set", 3) == 0 && p->tok.kind == TK_LT) {
    json_t *elem = NULL;
    if (++p->depth > WD_LIMIT_SCHEMA_DEPTH) {
      p->depth--;
      return err(p, where.off, where.len, "type is nested more deeply than the limit of %u",
                 WD_LIMIT_SCHEMA_DEPTH);
    }
    advance(p);
    rc = type_expr(p, &elem);
    p->depth--;
    if (!rc) rc = expect(p, TK_GT, "`>`");
    if (rc) {
      json_decref(elem);
      return rc;
    }
    json_t *s = json_object();
    if (!s) {
      json_decref(elem);
      return p->nomem = 1, -WD_E_NOMEM;
    }
    if (put(p, s, "type", 4, json_string("Set")) || put(p, s, "element", 7, elem)) {
      json_decref(s);
      return -WD_E_NOMEM;
    }
    *out = mark(p, s, where.off, p->prev_end - where.off);
    return 0;
  }
  json_t *t = json_object();
  if (!t || put(p, t, "type", 4, json_string("EntityOrCommon")) ||
      put(p, t, "name", 4, json_stringn(nm.p, nm.n))) {
    json_decref(t);
    return p->nomem = 1, -WD_E_NOMEM;
  }
  *out = mark(p, t, where.off, where.len);
  return 0;
}

/* EntOrTyps := Path | '[' [Path {',' Path}] ']' */
static int type_list(sp *p, json_t **out, stok *span) {
  json_t *arr = json_array();
  if (!arr) return p->nomem = 1, -WD_E_NOMEM;
  *out = arr;
  span->off = p->tok.off;
  int bracket = p->tok.kind == TK_LBRACK;
  if (bracket) advance(p);
  /* `[]` is allowed, a trailing comma is not (as in the reference). */
  while (!bracket || p->tok.kind != TK_RBRACK || json_array_size(arr)) {
    cedar__str nm;
    stok where;
    int rc = path(p, 0, "an entity type", &nm, &where);
    if (!rc) rc = push(p, arr, jstr(p, nm, where));
    if (rc) return rc;
    if (!bracket || p->tok.kind == TK_RBRACK) break;
    if (p->tok.kind != TK_COMMA) return expected(p, "`,` or `]`");
    advance(p);
  }
  if (bracket) advance(p);
  span->len = p->prev_end - span->off;
  return 0;
}

/* ---- declarations ---------------------------------------------------------------- */

static json_t *ns_obj(sp *p, cedar__str ns) {
  json_t *o = json_object_getn(p->root, ns.p, ns.n);
  if (o) return o;
  o = json_object();
  if (!o || put(p, o, "entityTypes", 11, json_object()) || put(p, o, "actions", 7, json_object()) ||
      put(p, p->root, ns.p, ns.n, o)) {
    p->nomem = 1;
    return NULL;
  }
  return o;
}

static json_t *section(sp *p, json_t *ns, const char *k) {
  json_t *o = json_object_get(ns, k);
  if (o) return o;
  o = json_object();
  return put(p, ns, k, strlen(k), o) ? NULL : o;
}

/* Adds body under each name of names (a JSON array of marked strings),
 * copying it for all but the first. Takes ownership of body. */
static int declare(sp *p, json_t *sect, json_t *names, json_t *body) {
  int rc = 0;
  for (size_t i = 0; i < json_array_size(names); i++) {
    json_t *nm = json_array_get(names, i);
    const cedar__span *at = p->spans ? wd_map_get(p->spans, &nm, sizeof nm) : NULL;
    uint32_t off = at ? at->off : 0, len = at ? at->len : 0;
    if (json_object_getn(sect, json_string_value(nm), json_string_length(nm))) {
      rc = err(p, off, len, "`%.*s` is declared twice", (int)json_string_length(nm),
               json_string_value(nm));
      continue;
    }
    json_t *v = i == 0 ? json_incref(body) : copy_loc(p, body);
    /* Errors about the declaration point at its name. */
    if (p->spans) mark(p, v, off, len);
    if (put(p, sect, json_string_value(nm), json_string_length(nm), v)) {
      rc = -WD_E_NOMEM;
      break;
    }
  }
  json_decref(body);
  return rc;
}

/* Attaches the annotations to body and declares it under each name of nms
 * in the section kind of ns. Takes ownership of body and an, not of nms. */
static int finish_decl(sp *p, json_t *ns, const char *kind, json_t *nms, json_t *body, json_t *an) {
  json_t *sect = set_annots(p, body, an) ? NULL : section(p, ns, kind);
  if (!sect) {
    json_decref(body);
    p->nomem = 1;
    return -WD_E_NOMEM;
  }
  return declare(p, sect, nms, body);
}

/* Idents or Names := X {',' X} into a JSON array of marked strings. */
static int names(sp *p, int allow_str, json_t **out) {
  json_t *arr = json_array();
  if (!(*out = arr)) return p->nomem = 1, -WD_E_NOMEM;
  for (;;) {
    cedar__str nm = {0};
    stok where = {0};
    int rc = allow_str ? name(p, "an action name", &nm, &where)
                       : ident(p, "an entity type name", &where);
    if (rc) return rc;
    if (!allow_str) {
      nm.p = p->src + where.off;
      nm.n = where.len;
    }
    if (push(p, arr, jstr(p, nm, where))) return -WD_E_NOMEM;
    if (p->tok.kind != TK_COMMA) return 0;
    advance(p);
  }
}

static int entity_decl(sp *p, json_t *ns, json_t *an) {
  json_t *nms = NULL, *body = json_object(), *t = NULL;
  int rc;
  advance(p);
  if (!body) goto nomem;
  if ((rc = names(p, 0, &nms))) goto out;
  if (is_kw(p, "enum")) {
    advance(p);
    json_t *ids = json_array();
    if (put(p, body, "enum", 4, ids)) goto nomem;
    if ((rc = expect(p, TK_LBRACK, "`[`"))) goto out;
    for (;;) {
      cedar__str id;
      stok where;
      if ((rc = string_lit(p, &id, &where))) goto out;
      if (push(p, ids, jstr(p, id, where))) goto nomem;
      if (p->tok.kind != TK_COMMA) break;
      advance(p);
    }
    if ((rc = expect(p, TK_RBRACK, "`,` or `]`"))) goto out;
  } else {
    if (is_kw(p, "in")) {
      stok span;
      advance(p);
      rc = type_list(p, &t, &span);
      if (rc) goto out;
      /* The reference leaves `in []` out. */
      if (json_array_size(t)) {
        rc = put(p, body, "memberOfTypes", 13, t);
        t = NULL;
        if (rc) goto nomem;
      }
      json_decref(t);
      t = NULL;
    }
    int assign = p->tok.kind == SK_ASSIGN;
    if (assign) advance(p);
    if (assign || p->tok.kind == TK_LBRACE) {
      if (p->tok.kind != TK_LBRACE) {
        rc = expected(p, "a record type `{ ... }`");
        goto out;
      }
      if ((rc = record(p, &t))) goto out;
      /* The reference leaves an empty shape out. */
      if (json_object_size(json_object_get(t, "attributes")) == 0)
        json_decref(t);
      else if (put(p, body, "shape", 5, t))
        goto nomem;
      t = NULL;
    }
    if (is_kw(p, "tags")) {
      advance(p);
      if ((rc = type_expr(p, &t))) goto out;
      rc = put(p, body, "tags", 4, t);
      t = NULL;
      if (rc) goto nomem;
    }
  }
  if ((rc = expect(p, TK_SEMI, "`;`"))) goto out;
  rc = finish_decl(p, ns, "entityTypes", nms, body, an);
  body = an = NULL;
  goto out;
nomem:
  p->nomem = 1;
  rc = -WD_E_NOMEM;
out:
  json_decref(nms);
  json_decref(body);
  json_decref(an);
  json_decref(t);
  return rc;
}

/* Ref := Path '::' STR | Name */
static int action_ref(sp *p, json_t *arr) {
  uint32_t start = p->tok.off;
  cedar__str id, ty = {NULL, 0};
  int rc;
  if (p->tok.kind == TK_STR) {
    if ((rc = string_lit(p, &id, NULL))) return rc;
  } else {
    if ((rc = path(p, 0, "an action name", &ty, NULL))) return rc;
    if (p->tok.kind == TK_COLON2) {
      advance(p);
      if ((rc = string_lit(p, &id, NULL))) return rc;
    } else if (memchr(ty.p, ':', ty.n)) {
      return expected(p, "`::` and the action's id");
    } else {
      id = ty;
      ty.p = NULL;
    }
  }
  json_t *o = json_object();
  if (!o || put(p, o, "id", 2, json_stringn(id.p, id.n)) ||
      (ty.p && put(p, o, "type", 4, json_stringn(ty.p, ty.n)))) {
    json_decref(o);
    return p->nomem = 1, -WD_E_NOMEM;
  }
  return push(p, arr, mark(p, o, start, p->prev_end - start));
}

/* RefOrRefs := Ref | '[' [Ref {',' Ref}] ']' */
static int action_parents(sp *p, json_t *arr) {
  if (p->tok.kind != TK_LBRACK) return action_ref(p, arr);
  advance(p);
  for (;;) {
    int rc = action_ref(p, arr);
    if (rc) return rc;
    if (p->tok.kind == TK_RBRACK) break;
    if (p->tok.kind != TK_COMMA) return expected(p, "`,` or `]`");
    advance(p);
  }
  advance(p);
  return 0;
}

/* 'appliesTo' '{' AppDecls '}' with `appliesTo` current; fills ap. */
static int applies_to(sp *p, json_t *ap, stok act) {
  stok seen[3] = {{TK_EOF, 0, 0}, {TK_EOF, 0, 0}, {TK_EOF, 0, 0}};
  static const char *const keys[3] = {"principal", "resource", "context"};
  static const char *const fields[2] = {"principalTypes", "resourceTypes"};
  int rc;
  advance(p);
  if ((rc = expect(p, TK_LBRACE, "`{`"))) return rc;
  while (p->tok.kind != TK_RBRACE) {
    int k = is_kw(p, "principal") ? 0 : is_kw(p, "resource") ? 1 : is_kw(p, "context") ? 2 : -1;
    if (k < 0) return expected(p, "`principal`, `resource`, `context` or `}`");
    stok kt = p->tok;
    advance(p);
    if ((rc = expect(p, TK_COLON, "`:`"))) return rc;
    json_t *v = NULL;
    stok span = {TK_IDENT, p->tok.off, 0};
    if (k < 2) {
      rc = type_list(p, &v, &span);
    } else if (p->tok.kind == TK_LBRACE) {
      rc = record(p, &v);
    } else {
      cedar__str nm;
      rc = path(p, 1, "a record type or a common type name", &nm, &span);
      if (!rc && (!(v = json_object()) || put(p, v, "type", 4, json_stringn(nm.p, nm.n))))
        rc = -WD_E_NOMEM;
      if (!rc) mark(p, v, span.off, span.len);
    }
    span.kind = TK_IDENT;
    if (k == 2) span.len = p->prev_end - span.off;
    if (rc) {
      json_decref(v);
      return rc;
    }
    if (seen[k].kind != TK_EOF) {
      json_decref(v);
      return err(p, kt.off, p->prev_end - kt.off, "duplicate `%s` declaration in action `%.*s`",
                 keys[k], (int)act.len, p->src + act.off);
    }
    seen[k] = span;
    if (k < 2 && json_array_size(v) == 0)
      (void)err(p, span.off, span.len, "for action `%.*s`, `%s` is `[]`, which is invalid",
                (int)act.len, p->src + act.off, keys[k]);
    /* An empty context record is the default; the reference leaves it out. */
    if (k == 2 && json_is_object(json_object_get(v, "attributes")) &&
        json_object_size(json_object_get(v, "attributes")) == 0)
      json_decref(v);
    else if (put(p, ap, k < 2 ? fields[k] : "context", strlen(k < 2 ? fields[k] : "context"), v))
      return -WD_E_NOMEM;
    if (p->tok.kind == TK_COMMA)
      advance(p);
    else if (p->tok.kind != TK_RBRACE)
      return expected(p, "`,` or `}`");
  }
  advance(p);
  for (int k = 0; k < 2; k++)
    if (seen[k].kind == TK_EOF)
      rc = err(p, act.off, act.len, "missing `%s` declaration for `%.*s`", keys[k], (int)act.len,
               p->src + act.off);
  return rc;
}

static int action_decl(sp *p, json_t *ns, json_t *an) {
  json_t *nms = NULL, *body = json_object(), *ap = NULL;
  int rc;
  advance(p);
  if (!body) goto nomem;
  stok first = p->tok;
  if ((rc = names(p, 1, &nms))) goto out;
  if (is_kw(p, "in")) {
    advance(p);
    json_t *mo = json_array();
    if (put(p, body, "memberOf", 8, mo)) goto nomem;
    if ((rc = action_parents(p, mo))) goto out;
  }
  /* Without appliesTo an action applies to nothing: empty lists. */
  if (!(ap = json_object()) || put(p, ap, "principalTypes", 14, json_array()) ||
      put(p, ap, "resourceTypes", 13, json_array()))
    goto nomem;
  if (is_kw(p, "appliesTo") && (rc = applies_to(p, ap, first))) goto out;
  rc = put(p, body, "appliesTo", 9, ap);
  ap = NULL;
  if (rc) goto nomem;
  if ((rc = expect(p, TK_SEMI, "`;`"))) goto out;
  rc = finish_decl(p, ns, "actions", nms, body, an);
  body = an = NULL;
  goto out;
nomem:
  p->nomem = 1;
  rc = -WD_E_NOMEM;
out:
  json_decref(nms);
  json_decref(body);
  json_decref(an);
  json_decref(ap);
  return rc;
}

static int type_decl(sp *p, json_t *ns, json_t *an) {
  json_t *t = NULL, *nms = json_array();
  stok nm;
  int rc;
  advance(p);
  if (!nms) goto nomem;
  if ((rc = ident(p, "a type name", &nm)) || (rc = expect(p, SK_ASSIGN, "`=`")) ||
      (rc = type_expr(p, &t)) || (rc = expect(p, TK_SEMI, "`;`")))
    goto out;
  cedar__str s = {p->src + nm.off, nm.len};
  if (push(p, nms, jstr(p, s, nm))) goto nomem;
  rc = finish_decl(p, ns, "commonTypes", nms, t, an);
  t = an = NULL;
  goto out;
nomem:
  p->nomem = 1;
  rc = -WD_E_NOMEM;
out:
  json_decref(nms);
  json_decref(an);
  json_decref(t);
  return rc;
}

/* One declaration after its annotations (owned by the callee). */
static int decl(sp *p, json_t *ns, json_t *an) {
  if (!ns) {
    json_decref(an);
    return -WD_E_NOMEM;
  }
  if (is_kw(p, "entity")) return entity_decl(p, ns, an);
  if (is_kw(p, "action")) return action_decl(p, ns, an);
  if (is_kw(p, "type")) return type_decl(p, ns, an);
  json_decref(an);
  if (is_kw(p, "namespace")) return err(p, p->tok.off, p->tok.len, "namespaces cannot be nested");
  return expected(p, "`entity`, `action`, `type` or `namespace`");
}

/* Skips the rest of a broken declaration: to its `;`, to what looks like
 * the start of the next one (past start, so the loop always progresses),
 * to the `}` that closes the enclosing namespace, or to the end. */
static void recover(sp *p, uint32_t nest0, uint32_t start) {
  while (p->tok.kind != TK_EOF) {
    if (p->tok.kind == TK_SEMI && p->lx.nest == nest0) {
      advance(p);
      return;
    }
    if (p->tok.kind == TK_RBRACE && p->lx.nest < nest0) return;
    if (p->tok.off > start && p->lx.nest == nest0 &&
        (p->tok.kind == TK_AT || is_kw(p, "entity") || is_kw(p, "action") || is_kw(p, "type") ||
         is_kw(p, "namespace")))
      return;
    advance(p);
  }
}

static int namespace_block(sp *p, json_t *an) {
  cedar__str nm;
  stok where;
  advance(p);
  int rc = path(p, 0, "a namespace name", &nm, &where);
  if (!rc) rc = expect(p, TK_LBRACE, "`{`");
  if (rc) goto out;
  cedar__span *prev = wd_map_get(p->ns_blocks, nm.p, nm.n);
  if (prev) {
    rc = err(p, where.off, where.len, "duplicate namespace id: `%.*s`", (int)nm.n, nm.p);
    goto out;
  }
  cedar__span *s = wd_arena_alloc(p->a, sizeof *s);
  json_t *ns = ns_obj(p, nm);
  if (!s || !ns || wd_map_put(p->ns_blocks, nm.p, nm.n, s)) goto nomem;
  s->off = where.off;
  s->len = where.len;
  rc = set_annots(p, ns, an);
  an = NULL;
  if (rc) goto nomem;
  while (p->tok.kind != TK_RBRACE && p->tok.kind != TK_EOF && !p->nomem) {
    uint32_t nest0 = p->lx.nest, start = p->tok.off;
    json_t *dan = NULL;
    int r2 = annotations(p, &dan);
    if (!r2)
      r2 = decl(p, ns, dan);
    else
      json_decref(dan);
    if (r2 == -WD_E_PARSE) recover(p, nest0, start);
  }
  rc = expect(p, TK_RBRACE, "`}`");
  goto out;
nomem:
  p->nomem = 1;
  rc = -WD_E_NOMEM;
out:
  json_decref(an);
  return rc;
}

int cedar__schema_text_parse(const char *src, size_t len, wd_arena *a, wd_map *spans, json_t **root,
                             cedar_diags *diags) {
  *root = NULL;
  if (len > WD_LIMIT_SCHEMA_TEXT_BYTES)
    return cedar__diag(diags, -WD_E_TOOBIG, "schema of %zu bytes exceeds the limit of %u", len,
                       WD_LIMIT_SCHEMA_TEXT_BYTES);
  size_t bad = cedar__utf8_check(src, len);
  if (bad < len)
    return cedar__diag_at(diags, src, len, -WD_E_PARSE, (uint32_t)bad, 1, "invalid UTF-8");
  sp p;
  memset(&p, 0, sizeof p);
  cedar__lex_init(&p.lx, src, len, diags);
  p.src = src;
  p.len = (uint32_t)len;
  p.diags = diags;
  p.a = a;
  p.spans = spans;
  p.root = json_object();
  p.ns_blocks = wd_map_new();
  if (!p.root || !p.ns_blocks) {
    p.nomem = 1;
    goto out;
  }
  advance(&p);
  while (p.tok.kind != TK_EOF && !p.nomem) {
    uint32_t nest0 = p.lx.nest, start = p.tok.off;
    json_t *an = NULL;
    int rc = annotations(&p, &an);
    if (rc) {
      json_decref(an);
    } else if (is_kw(&p, "namespace")) {
      rc = namespace_block(&p, an);
    } else {
      cedar__str top = {"", 0};
      rc = decl(&p, ns_obj(&p, top), an);
    }
    if (rc == -WD_E_PARSE) recover(&p, nest0, start);
  }
out:
  wd_map_free(p.ns_blocks);
  if (p.nomem || p.nerr) {
    json_decref(p.root);
    return p.nomem ? -WD_E_NOMEM : -WD_E_PARSE;
  }
  *root = p.root;
  return 0;
}
