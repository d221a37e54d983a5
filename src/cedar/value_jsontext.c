/* SPDX-License-Identifier: Apache-2.0
 *
 * A strict JSON text parser that builds jansson values. It exists because
 * jansson's own decoder refuses object keys containing NUL ("\u0000"),
 * which Cedar inputs use (the conformance corpus has such attribute
 * names). Semantics otherwise follow RFC 8259 with CEDAR__JSON_FLAGS:
 * integers are exact int64 (larger ones are an error), duplicate keys are
 * rejected, NUL is allowed in strings and keys. Converting the result into
 * Cedar values is json.c's job.
 */
#include <string.h>

#include "../util/wd_alloc.h"
#include "cedar_int.h"
#include "json_lex.h"
#include "value_jsontext.h"

typedef struct jp {
  cedar__jlex x;
  unsigned depth;
} jp;

static json_t *fail(jp *p, size_t off, const char *msg) {
  (void)cedar__jlex_fail(&p->x, off, msg);
  return NULL;
}

static json_t *parse_number(jp *p) {
  size_t start = p->x.i;
  int64_t iv = 0;
  double dv = 0;
  int real;
  if (cedar__jlex_number(&p->x, &iv, &dv, &real)) return NULL;
  json_t *j = real ? json_real(dv) : json_integer((json_int_t)iv);
  return j ? j : fail(p, start, cedar__jlex_oom);
}

static json_t *parse_value(jp *p);

static json_t *parse_array(jp *p) {
  json_t *a = json_array();
  if (!a) return fail(p, p->x.i, cedar__jlex_oom);
  p->x.i++;
  cedar__jlex_skip_ws(&p->x);
  if (p->x.i < p->x.n && p->x.s[p->x.i] == ']') {
    p->x.i++;
    return a;
  }
  for (;;) {
    json_t *v = parse_value(p);
    if (!v || json_array_append_new(a, v)) goto bad;
    cedar__jlex_skip_ws(&p->x);
    if (p->x.i < p->x.n && p->x.s[p->x.i] == ',') {
      p->x.i++;
      continue;
    }
    if (p->x.i < p->x.n && p->x.s[p->x.i] == ']') {
      p->x.i++;
      return a;
    }
    fail(p, p->x.i, "expected ',' or ']'");
    goto bad;
  }
bad:
  fail(p, p->x.i, cedar__jlex_oom);
  json_decref(a);
  return NULL;
}

static json_t *parse_object(jp *p) {
  json_t *o = json_object();
  if (!o) return fail(p, p->x.i, cedar__jlex_oom);
  p->x.i++;
  cedar__jlex_skip_ws(&p->x);
  if (p->x.i < p->x.n && p->x.s[p->x.i] == '}') {
    p->x.i++;
    return o;
  }
  for (;;) {
    cedar__jlex_skip_ws(&p->x);
    size_t kat = p->x.i;
    if (p->x.i >= p->x.n || p->x.s[p->x.i] != '"') {
      fail(p, p->x.i, "expected a string key");
      goto bad;
    }
    p->x.i++;
    if (cedar__jlex_string(&p->x)) goto bad;
    if (json_object_getn(o, p->x.sb ? p->x.sb : "", p->x.sbn)) {
      fail(p, kat, "duplicate object key");
      goto bad;
    }
    /* The key must outlive the scratch buffer, which parse_value reuses. */
    char *key = wd_strndup(p->x.sb ? p->x.sb : "", p->x.sbn);
    size_t klen = p->x.sbn;
    if (!key) {
      fail(p, kat, cedar__jlex_oom);
      goto bad;
    }
    cedar__jlex_skip_ws(&p->x);
    if (p->x.i >= p->x.n || p->x.s[p->x.i] != ':') {
      wd_free(key);
      fail(p, p->x.i, "expected ':'");
      goto bad;
    }
    p->x.i++;
    json_t *v = parse_value(p);
    int rc = v ? json_object_setn_new_nocheck(o, key, klen, v) : -1;
    wd_free(key);
    if (rc) goto bad;
    cedar__jlex_skip_ws(&p->x);
    if (p->x.i < p->x.n && p->x.s[p->x.i] == ',') {
      p->x.i++;
      continue;
    }
    if (p->x.i < p->x.n && p->x.s[p->x.i] == '}') {
      p->x.i++;
      return o;
    }
    fail(p, p->x.i, "expected ',' or '}'");
    goto bad;
  }
bad:
  fail(p, p->x.i, cedar__jlex_oom);
  json_decref(o);
  return NULL;
}

static json_t *parse_value(jp *p) {
  cedar__jlex_skip_ws(&p->x);
  if (p->x.i >= p->x.n) return fail(p, p->x.i, "unexpected end of input");
  if (++p->depth > WD_LIMIT_JSON_PARSE_DEPTH) return fail(p, p->x.i, "nesting too deep");
  json_t *r;
  char c = p->x.s[p->x.i];
  if (c == '{') {
    r = parse_object(p);
  } else if (c == '[') {
    r = parse_array(p);
  } else if (c == '"') {
    p->x.i++;
    r = cedar__jlex_string(&p->x) ? NULL : json_stringn_nocheck(p->x.sb ? p->x.sb : "", p->x.sbn);
    if (!r) fail(p, p->x.i, cedar__jlex_oom);
  } else if (c == '-' || (c >= '0' && c <= '9')) {
    r = parse_number(p);
  } else if (cedar__jlex_lit(&p->x, "true")) {
    r = json_true();
  } else if (cedar__jlex_lit(&p->x, "false")) {
    r = json_false();
  } else if (cedar__jlex_lit(&p->x, "null")) {
    r = json_null();
  } else {
    r = fail(p, p->x.i, "invalid token");
  }
  p->depth--;
  return r;
}

int cedar__json_parse_text(const char *text, size_t len, json_t **out, const char **err,
                           size_t *err_off) {
  jp p;
  memset(&p, 0, sizeof p);
  p.x.s = text ? text : "";
  p.x.n = text ? len : 0;
  json_t *j = parse_value(&p);
  if (j) {
    cedar__jlex_skip_ws(&p.x);
    if (p.x.i < p.x.n) {
      fail(&p, p.x.i, "end of input expected");
      json_decref(j);
      j = NULL;
    }
  }
  wd_free(p.x.sb);
  *out = j;
  if (j) return 0;
  *err = p.x.err ? p.x.err : "malformed JSON";
  *err_off = p.x.err_off;
  return p.x.err == cedar__jlex_oom ? -WD_E_NOMEM : -WD_E_JSON;
}
