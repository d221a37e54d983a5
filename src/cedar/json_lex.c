/* SPDX-License-Identifier: Apache-2.0
 *
 * Strings, numbers and literals of JSON text, for value_jsontext.c and
 * request_text.c. Strings are copied into a reusable scratch buffer a run
 * of plain bytes at a time; escapes are decoded to UTF-8 and every byte
 * sequence is checked for well-formed UTF-8.
 */
#include "json_lex.h"

#include <stdlib.h>
#include <string.h>

#include "../util/wd_alloc.h"

const char cedar__jlex_oom[] = "out of memory";

int cedar__jlex_fail(cedar__jlex *p, size_t off, const char *msg) {
  if (!p->err) {
    p->err = msg;
    p->err_off = off;
  }
  return -1;
}

void cedar__jlex_skip_ws(cedar__jlex *p) {
  while (p->i < p->n) {
    char c = p->s[p->i];
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
    p->i++;
  }
}

static int sb_put(cedar__jlex *p, const char *b, size_t n) {
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

static int put_utf8(cedar__jlex *p, uint32_t cp) {
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

static int hex4(cedar__jlex *p, uint32_t *out) {
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

static int escape(cedar__jlex *p) {
  size_t at = p->i++;
  if (p->i >= p->n) return cedar__jlex_fail(p, at, "unterminated string");
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
    if (hex4(p, &cp)) return cedar__jlex_fail(p, at, "invalid \\u escape");
    if (cp >= 0xDC00 && cp <= 0xDFFF) return cedar__jlex_fail(p, at, "invalid Unicode surrogate");
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      uint32_t lo;
      if (p->n - p->i < 6 || p->s[p->i] != '\\' || p->s[p->i + 1] != 'u')
        return cedar__jlex_fail(p, at, "invalid Unicode surrogate");
      p->i += 2;
      if (hex4(p, &lo) || lo < 0xDC00 || lo > 0xDFFF)
        return cedar__jlex_fail(p, at, "invalid Unicode surrogate");
      cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
    }
    break;
  default: return cedar__jlex_fail(p, at, "invalid escape");
  }
  return put_utf8(p, cp) ? cedar__jlex_fail(p, at, cedar__jlex_oom) : 0;
}

int cedar__jlex_string(cedar__jlex *p) {
  const unsigned char *s = (const unsigned char *)p->s;
  p->sbn = 0;
  for (;;) {
    size_t run = p->i;
    while (run < p->n && s[run] >= 0x20 && s[run] < 0x80 && s[run] != '"' && s[run] != '\\')
      run++;
    if (run > p->i && sb_put(p, p->s + p->i, run - p->i))
      return cedar__jlex_fail(p, p->i, cedar__jlex_oom);
    p->i = run;
    if (p->i >= p->n) return cedar__jlex_fail(p, p->i, "unterminated string");
    unsigned char c = s[p->i];
    if (c == '"') {
      p->i++;
      return 0;
    }
    if (c < 0x20) return cedar__jlex_fail(p, p->i, "control character in string");
    if (c == '\\') {
      if (escape(p)) return -1;
      continue;
    }
    size_t len = utf8_len(s, p->i, p->n);
    if (!len) return cedar__jlex_fail(p, p->i, "invalid UTF-8 in string");
    if (sb_put(p, p->s + p->i, len)) return cedar__jlex_fail(p, p->i, cedar__jlex_oom);
    p->i += len;
  }
}

static void digits(cedar__jlex *p) {
  while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9')
    p->i++;
}

int cedar__jlex_number(cedar__jlex *p, int64_t *iv, double *dv, int *is_real) {
  size_t start = p->i;
  int neg = 0;
  *is_real = 0;
  if (p->i < p->n && p->s[p->i] == '-') {
    neg = 1;
    p->i++;
  }
  if (p->i >= p->n || p->s[p->i] < '0' || p->s[p->i] > '9')
    return cedar__jlex_fail(p, start, "invalid number");
  if (p->s[p->i] == '0')
    p->i++;
  else
    digits(p);
  size_t int_end = p->i;
  if (p->i < p->n && p->s[p->i] == '.') {
    *is_real = 1;
    size_t d = ++p->i;
    digits(p);
    if (p->i == d) return cedar__jlex_fail(p, start, "invalid number");
  }
  if (p->i < p->n && (p->s[p->i] == 'e' || p->s[p->i] == 'E')) {
    *is_real = 1;
    p->i++;
    if (p->i < p->n && (p->s[p->i] == '+' || p->s[p->i] == '-')) p->i++;
    size_t d = p->i;
    digits(p);
    if (p->i == d) return cedar__jlex_fail(p, start, "invalid number");
  }
  if (!*is_real) {
    /* Accumulate negatively so INT64_MIN is representable. */
    int64_t v = 0;
    for (size_t k = start + (size_t)neg; k < int_end; k++) {
      int64_t d = p->s[k] - '0';
      if (v < (INT64_MIN + d) / 10)
        return cedar__jlex_fail(p, start, "integer out of the 64-bit range");
      v = v * 10 - d;
    }
    if (!neg) {
      if (v == INT64_MIN) return cedar__jlex_fail(p, start, "integer out of the 64-bit range");
      v = -v;
    }
    *iv = v;
    return 0;
  }
  char tmp[64];
  size_t len = p->i - start;
  if (len >= sizeof tmp) len = sizeof tmp - 1; /* precision beyond this is moot */
  memcpy(tmp, p->s + start, len);
  tmp[len] = '\0';
  *dv = strtod(tmp, NULL);
  return 0;
}

int cedar__jlex_lit(cedar__jlex *p, const char *w) {
  size_t n = strlen(w);
  if (p->n - p->i < n || memcmp(p->s + p->i, w, n) != 0) return 0;
  p->i += n;
  return 1;
}
