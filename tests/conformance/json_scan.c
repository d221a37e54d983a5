/* SPDX-License-Identifier: Apache-2.0
 *
 * The conformance runner's in-place JSON scanner (see json_scan.h). It
 * checks structure, escapes and nesting; it does not convert numbers.
 */
#include "json_scan.h"

#include <string.h>

#include "util/wd_alloc.h"
#include "util/wd_buf.h"
#include "util/wd_limits.h"

static const char *ws(const char *p, const char *e) {
  while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
    p++;
  return p;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* p at the opening quote; returns the byte after the closing quote. */
static const char *skip_string(const char *p, const char *e) {
  for (p++; p < e; p++) {
    unsigned char c = (unsigned char)*p;
    if (c == '"') return p + 1;
    if (c < 0x20) return NULL;
    if (c != '\\') continue;
    if (++p >= e) return NULL;
    if (*p == 'u') {
      for (int i = 0; i < 4; i++)
        if (++p >= e || hexval(*p) < 0) return NULL;
    } else if (!strchr("\"\\/bfnrt", *p)) {
      return NULL;
    }
  }
  return NULL;
}

static const char *skip_value(const char *p, const char *e, unsigned depth, const char **bad) {
  p = ws(p, e);
  *bad = p;
  if (p >= e || depth > WD_LIMIT_JSON_DEPTH) return NULL;
  char c = *p;
  if (c == '"') return skip_string(p, e);
  if (c == '{' || c == '[') {
    char close = c == '{' ? '}' : ']';
    p = ws(p + 1, e);
    if (p < e && *p == close) return p + 1;
    for (;;) {
      if (c == '{') {
        p = ws(p, e);
        *bad = p;
        if (p >= e || *p != '"' || !(p = skip_string(p, e))) return NULL;
        p = ws(p, e);
        *bad = p;
        if (p >= e || *p != ':') return NULL;
        p++;
      }
      if (!(p = skip_value(p, e, depth + 1, bad))) return NULL;
      p = ws(p, e);
      *bad = p;
      if (p >= e) return NULL;
      if (*p == close) return p + 1;
      if (*p != ',') return NULL;
      p++;
    }
  }
  if (c == '-' || (c >= '0' && c <= '9')) {
    const char *s = p;
    while (p < e && strchr("+-.eE0123456789", *p))
      p++;
    return p > s ? p : NULL;
  }
  static const char *const lits[] = {"true", "false", "null"};
  for (size_t i = 0; i < 3; i++) {
    size_t n = strlen(lits[i]);
    if ((size_t)(e - p) >= n && memcmp(p, lits[i], n) == 0) return p + n;
  }
  return NULL;
}

int js_parse(const char *text, size_t len, js_span *out, size_t *err_off) {
  const char *e = text + len, *bad = text;
  const char *start = ws(text, e);
  const char *end = skip_value(text, e, 0, &bad);
  if (end && ws(end, e) != e) {
    bad = ws(end, e);
    end = NULL;
  }
  if (!end) {
    *err_off = (size_t)(bad - text);
    return -1;
  }
  out->p = start;
  out->n = (size_t)(end - start);
  return 0;
}

char js_kind(js_span v) {
  if (v.n == 0) return '\0';
  char c = v.p[0];
  return c == '-' || (c >= '0' && c <= '9') ? '0' : c;
}

/* Shared by the two iterators: *pos is an offset into the container. */
static int next(js_span c, size_t *pos, int is_obj, js_span *key, js_span *val) {
  const char *e = c.p + c.n, *bad;
  const char *p = *pos ? c.p + *pos : c.p + 1;
  p = ws(p, e);
  if (p < e && *p == ',') p = ws(p + 1, e);
  if (p >= e || *p == '}' || *p == ']') return 0;
  if (is_obj) {
    const char *k = p;
    p = skip_string(p, e);
    if (!p) return 0;
    key->p = k;
    key->n = (size_t)(p - k);
    p = ws(p, e) + 1; /* the ':' */
  }
  p = ws(p, e);
  const char *end = skip_value(p, e, 0, &bad);
  if (!end) return 0;
  val->p = p;
  val->n = (size_t)(end - p);
  *pos = (size_t)(end - c.p);
  return 1;
}

int js_obj_next(js_span obj, size_t *pos, js_span *key, js_span *val) {
  return js_kind(obj) == '{' && next(obj, pos, 1, key, val);
}

int js_arr_next(js_span arr, size_t *pos, js_span *val) {
  return js_kind(arr) == '[' && next(arr, pos, 0, NULL, val);
}

int js_get(js_span obj, const char *name, js_span *val) {
  size_t pos = 0, nlen = strlen(name);
  js_span k, v;
  while (js_obj_next(obj, &pos, &k, &v)) {
    size_t klen = 0;
    char *key = js_str(k, &klen);
    int hit = key && klen == nlen && memcmp(key, name, nlen) == 0;
    wd_free(key);
    if (hit) {
      *val = v;
      return 1;
    }
  }
  return 0;
}

static int add_utf8(wd_buf *b, unsigned long cp) {
  char u[4];
  size_t n;
  if (cp < 0x80) {
    u[0] = (char)cp;
    n = 1;
  } else if (cp < 0x800) {
    u[0] = (char)(0xC0 | (cp >> 6));
    u[1] = (char)(0x80 | (cp & 0x3F));
    n = 2;
  } else if (cp < 0x10000) {
    u[0] = (char)(0xE0 | (cp >> 12));
    u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    u[2] = (char)(0x80 | (cp & 0x3F));
    n = 3;
  } else {
    u[0] = (char)(0xF0 | (cp >> 18));
    u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    u[3] = (char)(0x80 | (cp & 0x3F));
    n = 4;
  }
  return wd_buf_add(b, u, n);
}

static unsigned long hex4(const char *p) {
  unsigned long v = 0;
  for (int i = 0; i < 4; i++)
    v = v * 16 + (unsigned long)hexval(p[i]);
  return v;
}

char *js_str(js_span v, size_t *len) {
  if (js_kind(v) != '"' || v.n < 2) return NULL;
  wd_buf b;
  wd_buf_init(&b, WD_LIMIT_STRING_BYTES);
  const char *p = v.p + 1, *e = v.p + v.n - 1;
  int rc = 0;
  while (rc == 0 && p < e) {
    if (*p != '\\') {
      rc = wd_buf_addc(&b, *p++);
      continue;
    }
    p++;
    char c = *p++;
    switch (c) {
    case 'b': rc = wd_buf_addc(&b, '\b'); break;
    case 'f': rc = wd_buf_addc(&b, '\f'); break;
    case 'n': rc = wd_buf_addc(&b, '\n'); break;
    case 'r': rc = wd_buf_addc(&b, '\r'); break;
    case 't': rc = wd_buf_addc(&b, '\t'); break;
    case 'u': {
      unsigned long cp = hex4(p);
      p += 4;
      /* A surrogate pair spells one code point beyond the BMP. */
      if (cp >= 0xD800 && cp < 0xDC00 && e - p >= 6 && p[0] == '\\' && p[1] == 'u') {
        unsigned long lo = hex4(p + 2);
        if (lo >= 0xDC00 && lo < 0xE000) {
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          p += 6;
        }
      }
      rc = add_utf8(&b, cp);
      break;
    }
    default: rc = wd_buf_addc(&b, c); break;
    }
  }
  if (rc) return NULL;
  if (len) *len = wd_buf_len(&b);
  return wd_buf_take(&b);
}
