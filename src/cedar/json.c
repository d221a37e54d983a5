/* SPDX-License-Identifier: Apache-2.0
 *
 * Cedar's JSON formats on top of jansson: loading a document under the
 * size limit, entity uids ({"type","id"} and the __entity escape), and
 * values (the __entity and __extn escapes, sets, records). Every error
 * names the JSON path where it happened. Entities and requests as a whole
 * are entities.c's and request.c's; this file knows only values.
 */
#include <stdio.h>
#include <string.h>

#include "../util/wd_alloc.h"
#include "cedar_int.h"
#include "json_path.h"
#include "value_jsontext.h"

int cedar__json_load(const char *text, size_t len, json_t **out, cedar_diags *diags) {
  *out = NULL;
  if (len > WD_LIMIT_JSON_BYTES)
    return cedar__diag(diags, -WD_E_TOOBIG, "JSON document of %zu bytes exceeds the limit of %u",
                       len, WD_LIMIT_JSON_BYTES);
  const char *msg = NULL;
  size_t off = 0;
  json_t *j = NULL;
  int rc = cedar__json_parse_text(text, len, &j, &msg, &off);
  if (rc == -WD_E_NOMEM) return cedar__diag(diags, rc, "out of memory");
  if (rc)
    return cedar__diag_at(diags, text, len, -WD_E_JSON,
                          off > UINT32_MAX ? UINT32_MAX : (uint32_t)off, 0, "malformed JSON: %s",
                          msg);
  *out = j;
  return 0;
}

/* ---- paths ----------------------------------------------------------- */

void cedar__jpath_init(cedar__jpath *p, const char *base) {
  p->n = 0;
  p->buf[0] = '\0';
  cedar__jpath_raw(p, base ? base : "", base ? strlen(base) : 0);
}

void cedar__jpath_raw(cedar__jpath *p, const char *s, size_t n) {
  size_t room = sizeof p->buf - 1 - p->n;
  if (n > room) {
    /* Clipped: say so, keeping the message after the path readable. */
    memcpy(p->buf + sizeof p->buf - 4, "...", 4);
    p->n = sizeof p->buf - 1;
    return;
  }
  memcpy(p->buf + p->n, s, n);
  p->n += n;
  p->buf[p->n] = '\0';
}

size_t cedar__jpath_key(cedar__jpath *p, const char *k, size_t n) {
  size_t saved = p->n;
  int ident = n > 0;
  for (size_t i = 0; i < n && ident; i++) {
    char c = k[i];
    ident = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
            (i > 0 && c >= '0' && c <= '9');
  }
  if (ident) {
    if (p->n > 0) cedar__jpath_raw(p, ".", 1);
    cedar__jpath_raw(p, k, n > 64 ? 64 : n);
  } else {
    /* Keys that are not identifiers are quoted; long ones are clipped so
     * the message stays readable. */
    cedar__jpath_raw(p, "[\"", 2);
    for (size_t i = 0; i < n && i < 32; i++) {
      char c = k[i];
      if ((unsigned char)c < 0x20 || c == '"' || c == '\\') c = '?';
      cedar__jpath_raw(p, &c, 1);
    }
    if (n > 32) cedar__jpath_raw(p, "...", 3);
    cedar__jpath_raw(p, "\"]", 2);
  }
  return saved;
}

size_t cedar__jpath_index(cedar__jpath *p, size_t i) {
  size_t saved = p->n;
  char tmp[32];
  int n = snprintf(tmp, sizeof tmp, "[%zu]", i);
  if (n > 0) cedar__jpath_raw(p, tmp, (size_t)n);
  return saved;
}

void cedar__jpath_pop(cedar__jpath *p, size_t saved) {
  if (saved <= p->n) {
    p->n = saved;
    p->buf[saved] = '\0';
  }
}

const char *cedar__json_kind(const json_t *j) {
  if (!j) return "nothing";
  switch (json_typeof(j)) {
  case JSON_OBJECT: return "an object";
  case JSON_ARRAY: return "an array";
  case JSON_STRING: return "a string";
  case JSON_INTEGER: return "an integer";
  case JSON_REAL: return "a floating-point number";
  case JSON_TRUE:
  case JSON_FALSE: return "a boolean";
  case JSON_NULL: return "null";
  }
  return "an unknown value";
}

/* ---- entity type names ---------------------------------------------- */

static int is_reserved(const char *s, size_t n) {
  static const char *const words[] = {"true", "false", "if",   "then", "else",
                                      "in",   "is",    "like", "has",  "__cedar"};
  for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
    if (strlen(words[i]) == n && memcmp(words[i], s, n) == 0) return 1;
  }
  return 0;
}

const char *cedar__json_name_problem(const char *s, size_t n) {
  if (n == 0) return "the name is empty";
  if (n > WD_LIMIT_IDENT_BYTES) return "the name is too long";
  size_t start = 0;
  for (size_t i = 0; i <= n; i++) {
    if (i < n && s[i] != ':') {
      char c = s[i];
      int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
               (i > start && c >= '0' && c <= '9');
      if (!ok) return "it is not a well-formed name (Ident or Ns::Ident, no whitespace)";
      continue;
    }
    if (i == start) return "it is not a well-formed name (Ident or Ns::Ident, no whitespace)";
    if (is_reserved(s + start, i - start)) return "it uses a reserved identifier";
    if (i == n) break;
    if (i + 1 >= n || s[i + 1] != ':') return "it is not a well-formed name (Ident or Ns::Ident)";
    i++;
    start = i + 1;
  }
  return NULL;
}

/* ---- uids ------------------------------------------------------------ */

/* 1 when j has the {"type": string, "id": string} shape (other keys are
 * ignored, as the reference does). */
static int uid_shape(const json_t *j) {
  return json_is_object(j) && json_is_string(json_object_get(j, "type")) &&
         json_is_string(json_object_get(j, "id"));
}

/* Builds the uid from an object of uid shape, validating the type name. */
static int uid_from_shape(wd_arena *a, const json_t *j, const char *path, const cedar__uid **out,
                          cedar_diags *diags) {
  const json_t *t = json_object_get(j, "type"), *id = json_object_get(j, "id");
  cedar__str ts = {json_string_value(t), (uint32_t)json_string_length(t)};
  cedar__str is = {json_string_value(id), (uint32_t)json_string_length(id)};
  if (json_string_length(t) > UINT32_MAX || json_string_length(id) > UINT32_MAX)
    return cedar__diag(diags, -WD_E_TOOBIG, "%s: entity uid too long", path);
  const char *why = cedar__json_name_problem(ts.p, ts.n);
  if (why)
    return cedar__diag(diags, -WD_E_JSON, "%s: invalid entity type `%.*s`: %s", path,
                       ts.n > 64 ? 64 : (int)ts.n, ts.p, why);
  *out = cedar__uid_new(a, ts, is);
  return *out ? 0 : -WD_E_NOMEM;
}

int cedar__json_uid(wd_arena *a, const json_t *j, const char *path, const cedar__uid **out,
                    cedar_diags *diags) {
  *out = NULL;
  if (!path) path = "";
  const json_t *inner = j;
  if (json_is_object(j) && json_object_get(j, "__entity")) inner = json_object_get(j, "__entity");
  if (!uid_shape(inner)) {
    if (json_is_object(inner))
      return cedar__diag(diags, -WD_E_JSON,
                         "%s: expected an entity reference {\"type\": .., \"id\": ..}, found an "
                         "object without string \"type\" and \"id\"",
                         path);
    return cedar__diag(diags, -WD_E_JSON, "%s: expected an entity reference, found %s", path,
                       cedar__json_kind(inner));
  }
  return uid_from_shape(a, inner, path, out, diags);
}

/* ---- values ---------------------------------------------------------- */

typedef struct conv {
  wd_arena *a;
  cedar_diags *d;
  cedar__jpath path;
} conv;

static int conv_val(conv *c, const json_t *j, uint32_t depth, cedar__val *out);

static int conv_set(conv *c, const json_t *j, uint32_t depth, cedar__val *out) {
  size_t n = json_array_size(j);
  if (n > UINT32_MAX) return cedar__diag(c->d, -WD_E_TOOBIG, "%s: set too large", c->path.buf);
  if (n == 0) return cedar__set_make(c->a, NULL, 0, out);
  cedar__val *tmp = wd_malloc(n * sizeof *tmp);
  if (!tmp) return -WD_E_NOMEM;
  int rc = 0;
  for (size_t i = 0; i < n && rc == 0; i++) {
    size_t saved = cedar__jpath_index(&c->path, i);
    rc = conv_val(c, json_array_get(j, i), depth + 1, &tmp[i]);
    cedar__jpath_pop(&c->path, saved);
  }
  if (rc == 0) rc = cedar__set_make(c->a, tmp, (uint32_t)n, out);
  wd_free(tmp);
  return rc;
}

static int conv_rec(conv *c, const json_t *j, uint32_t depth, cedar__val *out) {
  size_t n = json_object_size(j);
  if (n > UINT32_MAX) return cedar__diag(c->d, -WD_E_TOOBIG, "%s: record too large", c->path.buf);
  if (n == 0) return cedar__rec_make(c->a, NULL, NULL, 0, out, NULL);
  cedar__str *keys = wd_malloc(n * sizeof *keys);
  cedar__val *vals = wd_malloc(n * sizeof *vals);
  int rc = (keys && vals) ? 0 : -WD_E_NOMEM;
  uint32_t i = 0;
  const char *k;
  size_t klen;
  json_t *v;
  json_object_keylen_foreach((json_t *)(uintptr_t)j, k, klen, v) {
    if (rc || i >= n) break;
    char *kc = wd_arena_memdup(c->a, k, klen + 1);
    if (!kc) {
      rc = -WD_E_NOMEM;
      break;
    }
    keys[i].p = kc;
    keys[i].n = (uint32_t)klen;
    size_t saved = cedar__jpath_key(&c->path, k, klen);
    rc = conv_val(c, v, depth + 1, &vals[i]);
    cedar__jpath_pop(&c->path, saved);
    i++;
  }
  uint32_t dup = 0;
  if (rc == 0) rc = cedar__rec_make(c->a, keys, vals, i, out, &dup);
  if (rc == -WD_E_EXISTS) /* jansson rejects duplicates first; kept for safety */
    rc = cedar__diag(c->d, -WD_E_JSON, "%s: duplicate key", c->path.buf);
  wd_free(keys);
  wd_free(vals);
  return rc;
}

/* The first extension in CEDAR__FN_MAP; the entries before it are
 * builtins (contains, getTag, ...) that __extn may not call. */
static int is_extension(int f) { return f >= (int)CEDAR__F_DECIMAL; }

static int conv_extn(conv *c, const json_t *e, uint32_t depth, cedar__val *out) {
  const json_t *fnj = json_object_get(e, "fn");
  const json_t *arg = json_object_get(e, "arg");
  const json_t *args = json_object_get(e, "args");
  const char *name = json_string_value(fnj);
  size_t nlen = json_string_length(fnj);
  int f = cedar__fn_lookup(name, nlen, 0);
  if (f < 0) f = cedar__fn_lookup(name, nlen, 1);
  if (f < 0 || !is_extension(f))
    return cedar__diag(c->d, -WD_E_EVAL, "%s: extension function `%.*s` does not exist",
                       c->path.buf, nlen > 64 ? 64 : (int)nlen, name);
  size_t nargs = arg ? 1 : json_array_size(args);
  const cedar__fninfo *fi = &cedar__fn_table[f];
  if (nargs != fi->arity)
    return cedar__diag(c->d, -WD_E_EVAL,
                       "%s: wrong number of arguments provided to extension function `%s`: "
                       "expected %u, got %zu",
                       c->path.buf, fi->name, (unsigned)fi->arity, nargs);
  cedar__val av[2];
  int rc = 0;
  size_t saved = cedar__jpath_key(&c->path, "__extn", 6);
  for (size_t i = 0; i < nargs && rc == 0; i++) {
    size_t s2 = arg ? cedar__jpath_key(&c->path, "arg", 3) : cedar__jpath_key(&c->path, "args", 4);
    size_t s3 = arg ? c->path.n : cedar__jpath_index(&c->path, i);
    rc = conv_val(c, arg ? arg : json_array_get(args, i), depth + 1, &av[i]);
    cedar__jpath_pop(&c->path, s3);
    cedar__jpath_pop(&c->path, s2);
  }
  cedar__jpath_pop(&c->path, saved);
  if (rc) return rc;
  if (!fi->impl)
    return cedar__diag(c->d, -WD_E_INTERNAL, "%s: extension function `%s` is not available",
                       c->path.buf, fi->name);
  cedar__evalctx cx;
  memset(&cx, 0, sizeof cx);
  cx.arena = c->a;
  rc = fi->impl(&cx, av, out);
  if (rc == -WD_E_EVAL)
    return cedar__diag(c->d, -WD_E_EVAL, "%s: %s", c->path.buf,
                       cx.err[0] ? cx.err : "extension function failed");
  return rc;
}

/* Classifies a one-key object: the reference treats {"__entity": uid}
 * and {"__extn": {"fn", "arg"|"args"}} as escapes only when they have
 * exactly that shape; anything else is an ordinary record. */
static int conv_object(conv *c, const json_t *j, uint32_t depth, cedar__val *out) {
  if (json_object_size(j) == 1) {
    const json_t *e;
    if ((e = json_object_get(j, "__expr")) && json_is_string(e))
      return cedar__diag(c->d, -WD_E_JSON, "%s: the `__expr` escape is no longer supported",
                         c->path.buf);
    if ((e = json_object_get(j, "__entity")) && uid_shape(e)) {
      const cedar__uid *u;
      size_t saved = cedar__jpath_key(&c->path, "__entity", 8);
      int rc = uid_from_shape(c->a, e, c->path.buf, &u, c->d);
      cedar__jpath_pop(&c->path, saved);
      if (rc) return rc;
      out->kind = CEDAR__V_ENTITY;
      out->u.uid = u;
      return 0;
    }
    if ((e = json_object_get(j, "__extn")) && json_is_object(e) &&
        json_is_string(json_object_get(e, "fn")) &&
        (json_object_get(e, "arg") || json_is_array(json_object_get(e, "args"))))
      return conv_extn(c, e, depth, out);
  }
  return conv_rec(c, j, depth, out);
}

static int conv_val(conv *c, const json_t *j, uint32_t depth, cedar__val *out) {
  if (depth > WD_LIMIT_JSON_DEPTH)
    return cedar__diag(c->d, -WD_E_TOOBIG, "%s: value nested deeper than %u levels", c->path.buf,
                       WD_LIMIT_JSON_DEPTH);
  memset(out, 0, sizeof *out);
  switch (json_typeof(j)) {
  case JSON_TRUE:
  case JSON_FALSE:
    out->kind = CEDAR__V_BOOL;
    out->u.b = json_is_true(j);
    return 0;
  case JSON_INTEGER:
    out->kind = CEDAR__V_LONG;
    out->u.i = (int64_t)json_integer_value(j);
    return 0;
  case JSON_REAL:
    return cedar__diag(c->d, -WD_E_JSON,
                       "%s: found a floating-point number; Cedar has only integers", c->path.buf);
  case JSON_NULL:
    return cedar__diag(c->d, -WD_E_JSON,
                       "%s: found a `null`; JSON `null`s are not allowed in Cedar", c->path.buf);
  case JSON_STRING: {
    size_t n = json_string_length(j);
    if (n > UINT32_MAX) return cedar__diag(c->d, -WD_E_TOOBIG, "%s: string too long", c->path.buf);
    char *s = wd_arena_memdup(c->a, json_string_value(j), n + 1);
    if (!s) return -WD_E_NOMEM;
    out->kind = CEDAR__V_STRING;
    out->u.s.p = s;
    out->u.s.n = (uint32_t)n;
    return 0;
  }
  case JSON_ARRAY: return conv_set(c, j, depth, out);
  case JSON_OBJECT: return conv_object(c, j, depth, out);
  }
  return -WD_E_INTERNAL;
}

int cedar__json_val(wd_arena *a, const json_t *j, const char *path, cedar__val *out,
                    cedar_diags *diags) {
  conv c;
  c.a = a;
  c.d = diags;
  cedar__jpath_init(&c.path, path);
  return conv_val(&c, j, 0, out);
}
