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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/wd_alloc.h"
#include "cedar_int.h"
#include "value_jsontext.h"

typedef struct jp {
  const char *s;
  size_t n, i;
  unsigned depth;
  const char *err; /* static message of the first error */
  size_t err_off;
  char *sb; /* scratch for string bodies */
  size_t sbn, sbcap;
} jp;

static const char OOM[] = "out of memory";

static json_t *fail(jp *p, size_t off, const char *msg) {
  if (!p->err) {
    p->err = msg;
    p->err_off = off;
  }
  return NULL;
}

static void skip_ws(jp *p) {
  while (p->i < p->n) {
    char c = p->s[p->i];
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
    p->i++;
  }
}

static int sb_put(jp *p, const char *b, size_t n) {
  if (p->sbn + n > p->sbcap) {
    size_t nc = p->sbcap ? p->sbcap : 64;
    while (nc < p->sbn + n)
      nc *= 2;
    char *q = wd_realloc(p->sb, nc);
    if (!q) return -1;
    p->sb = q;
    p->sbcap = nc;
  }
  memcpy(p->sb + p->sbn, b, n);
  p->sbn += n;
  return 0;
}

static int put_utf8(jp *p, uint32_t cp) {
  char b[4];
  size_t n;
  if (cp < 0x80) {
    b[0] = (char)cp;
    n = 1;
  } else if (cp < 0x800) {
    b[0] = (char)(0xC0 | (cp >> 6));
    b[1] = (char)(0x80 | (cp & 0x3F));
    n = 2;
  } else if (cp < 0x10000) {
    b[0] = (char)(0xE0 | (cp >> 12));
    b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    b[2] = (char)(0x80 | (cp & 0x3F));
    n = 3;
  } else {
    b[0] = (char)(0xF0 | (cp >> 18));
    b[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    b[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    b[3] = (char)(0x80 | (cp & 0x3F));
    n = 4;
  }
  return sb_put(p, b, n);
}

static int hex4(jp *p, uint32_t *out) {
  uint32_t v = 0;
  if (p->n - p->i < 4) return -1;
  for (int k = 0; k < 4; k++) {
    char c = p->s[p->i++];
    uint32_t d;
    if (c >= '0' && c <= '9')
      d = (uint32_t)(c - '0');
    else if (c >= 'a' && c <= 'f')
      d = (uint32_t)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F')
      d = (uint32_t)(c - 'A' + 10);
    else
      return -1;
    v = v * 16 + d;
  }
  *out = v;
  return 0;
}

/* Length of the well-formed UTF-8 sequence at s[i], or 0. */
static size_t utf8_len(const unsigned char *s, size_t i, size_t n) {
  unsigned char c = s[i];
  size_t len;
  uint32_t min, v;
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
    min = 0x80;
    v = c & 0x1Fu;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3;
    min = 0x800;
    v = c & 0x0Fu;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    min = 0x10000;
    v = c & 0x07u;
  } else {
    return 0;
  }
  if (n - i < len) return 0;
  for (size_t k = 1; k < len; k++) {
    if ((s[i + k] & 0xC0) != 0x80) return 0;
    v = (v << 6) | (s[i + k] & 0x3Fu);
  }
  if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
  return len;
}

/* Parses a string body after the opening quote into p->sb. */
static int parse_str(jp *p) {
  p->sbn = 0;
  for (;;) {
    if (p->i >= p->n) return fail(p, p->i, "unterminated string"), -1;
    unsigned char c = (unsigned char)p->s[p->i];
    if (c == '"') {
      p->i++;
      return 0;
    }
    if (c < 0x20) return fail(p, p->i, "control character in string"), -1;
    if (c != '\\') {
      size_t len = utf8_len((const unsigned char *)p->s, p->i, p->n);
      if (!len) return fail(p, p->i, "invalid UTF-8 in string"), -1;
      if (sb_put(p, p->s + p->i, len)) return fail(p, p->i, OOM), -1;
      p->i += len;
      continue;
    }
    size_t at = p->i++;
    if (p->i >= p->n) return fail(p, at, "unterminated string"), -1;
    char e = p->s[p->i++];
    uint32_t cp;
    switch (e) {
    case '"': cp = '"'; break;
    case '\\': cp = '\\'; break;
    case '/': cp = '/'; break;
    case 'b': cp = '\b'; break;
    case 'f': cp = '\f'; break;
    case 'n': cp = '\n'; break;
    case 'r': cp = '\r'; break;
    case 't': cp = '\t'; break;
    case 'u':
      if (hex4(p, &cp)) return fail(p, at, "invalid \\u escape"), -1;
      if (cp >= 0xDC00 && cp <= 0xDFFF) return fail(p, at, "invalid Unicode surrogate"), -1;
      if (cp >= 0xD800 && cp <= 0xDBFF) {
        uint32_t lo;
        if (p->n - p->i < 6 || p->s[p->i] != '\\' || p->s[p->i + 1] != 'u')
          return fail(p, at, "invalid Unicode surrogate"), -1;
        p->i += 2;
        if (hex4(p, &lo) || lo < 0xDC00 || lo > 0xDFFF)
          return fail(p, at, "invalid Unicode surrogate"), -1;
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
      }
      break;
    default: return fail(p, at, "invalid escape"), -1;
    }
    if (put_utf8(p, cp)) return fail(p, at, OOM), -1;
  }
}

static json_t *parse_number(jp *p) {
  size_t start = p->i;
  int neg = 0, real = 0;
  if (p->s[p->i] == '-') {
    neg = 1;
    p->i++;
  }
  if (p->i >= p->n || p->s[p->i] < '0' || p->s[p->i] > '9') return fail(p, start, "invalid number");
  if (p->s[p->i] == '0') {
    p->i++;
  } else {
    while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9')
      p->i++;
  }
  size_t int_end = p->i;
  if (p->i < p->n && p->s[p->i] == '.') {
    real = 1;
    p->i++;
    size_t d = p->i;
    while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9')
      p->i++;
    if (p->i == d) return fail(p, start, "invalid number");
  }
  if (p->i < p->n && (p->s[p->i] == 'e' || p->s[p->i] == 'E')) {
    real = 1;
    p->i++;
    if (p->i < p->n && (p->s[p->i] == '+' || p->s[p->i] == '-')) p->i++;
    size_t d = p->i;
    while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9')
      p->i++;
    if (p->i == d) return fail(p, start, "invalid number");
  }
  if (!real) {
    /* Accumulate negatively so INT64_MIN is representable. */
    int64_t v = 0;
    for (size_t k = start + (size_t)neg; k < int_end; k++) {
      int64_t d = p->s[k] - '0';
      if (v < (INT64_MIN + d) / 10) return fail(p, start, "integer out of the 64-bit range");
      v = v * 10 - d;
    }
    if (!neg) {
      if (v == INT64_MIN) return fail(p, start, "integer out of the 64-bit range");
      v = -v;
    }
    json_t *j = json_integer((json_int_t)v);
    return j ? j : fail(p, start, OOM);
  }
  char tmp[64];
  size_t len = p->i - start;
  if (len >= sizeof tmp) len = sizeof tmp - 1; /* precision beyond this is moot */
  memcpy(tmp, p->s + start, len);
  tmp[len] = '\0';
  json_t *j = json_real(strtod(tmp, NULL));
  return j ? j : fail(p, start, OOM);
}

static int lit(jp *p, const char *w) {
  size_t n = strlen(w);
  if (p->n - p->i < n || memcmp(p->s + p->i, w, n) != 0) return 0;
  p->i += n;
  return 1;
}

static json_t *parse_value(jp *p);

static json_t *parse_array(jp *p) {
  json_t *a = json_array();
  if (!a) return fail(p, p->i, OOM);
  p->i++;
  skip_ws(p);
  if (p->i < p->n && p->s[p->i] == ']') {
    p->i++;
    return a;
  }
  for (;;) {
    json_t *v = parse_value(p);
    if (!v || json_array_append_new(a, v)) goto bad;
    skip_ws(p);
    if (p->i < p->n && p->s[p->i] == ',') {
      p->i++;
      continue;
    }
    if (p->i < p->n && p->s[p->i] == ']') {
      p->i++;
      return a;
    }
    fail(p, p->i, "expected ',' or ']'");
    goto bad;
  }
bad:
  fail(p, p->i, OOM);
  json_decref(a);
  return NULL;
}

static json_t *parse_object(jp *p) {
  json_t *o = json_object();
  if (!o) return fail(p, p->i, OOM);
  p->i++;
  skip_ws(p);
  if (p->i < p->n && p->s[p->i] == '}') {
    p->i++;
    return o;
  }
  for (;;) {
    skip_ws(p);
    size_t kat = p->i;
    if (p->i >= p->n || p->s[p->i] != '"') {
      fail(p, p->i, "expected a string key");
      goto bad;
    }
    p->i++;
    if (parse_str(p)) goto bad;
    if (json_object_getn(o, p->sb ? p->sb : "", p->sbn)) {
      fail(p, kat, "duplicate object key");
      goto bad;
    }
    /* The key must outlive the scratch buffer, which parse_value reuses. */
    char *key = wd_strndup(p->sb ? p->sb : "", p->sbn);
    size_t klen = p->sbn;
    if (!key) {
      fail(p, kat, OOM);
      goto bad;
    }
    skip_ws(p);
    if (p->i >= p->n || p->s[p->i] != ':') {
      wd_free(key);
      fail(p, p->i, "expected ':'");
      goto bad;
    }
    p->i++;
    json_t *v = parse_value(p);
    int rc = v ? json_object_setn_new_nocheck(o, key, klen, v) : -1;
    wd_free(key);
    if (rc) goto bad;
    skip_ws(p);
    if (p->i < p->n && p->s[p->i] == ',') {
      p->i++;
      continue;
    }
    if (p->i < p->n && p->s[p->i] == '}') {
      p->i++;
      return o;
    }
    fail(p, p->i, "expected ',' or '}'");
    goto bad;
  }
bad:
  fail(p, p->i, OOM);
  json_decref(o);
  return NULL;
}

static json_t *parse_value(jp *p) {
  skip_ws(p);
  if (p->i >= p->n) return fail(p, p->i, "unexpected end of input");
  if (++p->depth > WD_LIMIT_JSON_PARSE_DEPTH) return fail(p, p->i, "nesting too deep");
  json_t *r;
  char c = p->s[p->i];
  if (c == '{') {
    r = parse_object(p);
  } else if (c == '[') {
    r = parse_array(p);
  } else if (c == '"') {
    p->i++;
    r = parse_str(p) ? NULL : json_stringn_nocheck(p->sb ? p->sb : "", p->sbn);
    if (!r) fail(p, p->i, OOM);
  } else if (c == '-' || (c >= '0' && c <= '9')) {
    r = parse_number(p);
  } else if (lit(p, "true")) {
    r = json_true();
  } else if (lit(p, "false")) {
    r = json_false();
  } else if (lit(p, "null")) {
    r = json_null();
  } else {
    r = fail(p, p->i, "invalid token");
  }
  p->depth--;
  return r;
}

int cedar__json_parse_text(const char *text, size_t len, json_t **out, const char **err,
                           size_t *err_off) {
  jp p;
  memset(&p, 0, sizeof p);
  p.s = text ? text : "";
  p.n = text ? len : 0;
  json_t *j = parse_value(&p);
  if (j) {
    skip_ws(&p);
    if (p.i < p.n) {
      fail(&p, p.i, "end of input expected");
      json_decref(j);
      j = NULL;
    }
  }
  wd_free(p.sb);
  *out = j;
  if (j) return 0;
  *err = p.err ? p.err : "malformed JSON";
  *err_off = p.err_off;
  return p.err == OOM ? -WD_E_NOMEM : -WD_E_JSON;
}
