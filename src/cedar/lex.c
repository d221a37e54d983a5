/* SPDX-License-Identifier: Apache-2.0
 *
 * The Cedar lexer and the decoding of string literals: escapes (\n \r \t
 * \\ \0 \' \" \xHH \u{...}) and `like` patterns (where \* is a literal
 * star). It knows nothing of the grammar; see parse.c for that.
 */
#include <stdio.h>
#include <string.h>

#include "cedar_lex.h"

void cedar__lex_init(cedar__lexer *lx, const char *src, size_t len, cedar_diags *diags) {
  memset(lx, 0, sizeof *lx);
  lx->src = src;
  lx->len = (uint32_t)len;
  lx->diags = diags;
}

static int is_ident_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int is_ident_char(char c) { return is_ident_start(c) || (c >= '0' && c <= '9'); }

static int is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* Length of a Unicode White_Space character (beyond ASCII) at s[i], or 0.
 * The reference skips all of them between tokens: U+0085, U+00A0, U+1680,
 * U+2000..U+200A, U+2028, U+2029, U+202F, U+205F, U+3000. */
static uint32_t uni_space(const char *s, uint32_t n, uint32_t i) {
  const unsigned char *u = (const unsigned char *)s + i;
  if (u[0] == 0xC2 && i + 1 < n) return (u[1] == 0x85 || u[1] == 0xA0) ? 2 : 0;
  if (i + 2 >= n) return 0;
  if (u[0] == 0xE1 && u[1] == 0x9A && u[2] == 0x80) return 3;
  if (u[0] == 0xE2 && u[1] == 0x80 &&
      (u[2] <= 0x8A || u[2] == 0xA8 || u[2] == 0xA9 || u[2] == 0xAF))
    return 3;
  if (u[0] == 0xE2 && u[1] == 0x81 && u[2] == 0x9F) return 3;
  if (u[0] == 0xE3 && u[1] == 0x80 && u[2] == 0x80) return 3;
  return 0;
}

static cedar__tok lex_fail(cedar__lexer *lx, uint32_t off, uint32_t len, const char *what) {
  cedar__tok t = {TK_ERROR, off, len};
  lx->nerr++;
  if (!lx->quiet)
    (void)cedar__diag_at(lx->diags, lx->src, lx->len, -WD_E_PARSE, off, len, "%s", what);
  return t;
}

static cedar__tok mk(cedar__lexer *lx, cedar__tk k, uint32_t off, uint32_t len) {
  cedar__tok t = {k, off, len};
  lx->pos = off + len;
  return t;
}

cedar__tok cedar__lex_next(cedar__lexer *lx) {
  const char *s = lx->src;
  uint32_t n = lx->len, i = lx->pos;
  for (;;) {
    for (;;) {
      uint32_t w;
      if (i < n && is_space(s[i]))
        i++;
      else if (i < n && (unsigned char)s[i] >= 0xC2 && (w = uni_space(s, n, i)) != 0)
        i += w;
      else
        break;
    }
    if (i + 1 < n && s[i] == '/' && s[i + 1] == '/') {
      while (i < n && s[i] != '\n')
        i++;
      continue;
    }
    break;
  }
  lx->pos = i;
  if (i >= n) return mk(lx, TK_EOF, n, 0);
  char c = s[i];
  char d = i + 1 < n ? s[i + 1] : '\0';
  if (is_ident_start(c)) {
    uint32_t j = i + 1;
    while (j < n && is_ident_char(s[j]))
      j++;
    if (j - i > WD_LIMIT_IDENT_BYTES) {
      lx->pos = j;
      return lex_fail(lx, i, j - i, "identifier is longer than the limit");
    }
    return mk(lx, TK_IDENT, i, j - i);
  }
  if (c >= '0' && c <= '9') {
    uint32_t j = i + 1;
    while (j < n && s[j] >= '0' && s[j] <= '9')
      j++;
    return mk(lx, TK_INT, i, j - i);
  }
  switch (c) {
  case '"': {
    uint32_t j = i + 1;
    while (j < n && s[j] != '"')
      j += (s[j] == '\\' && j + 1 < n) ? 2u : 1u;
    if (j >= n) {
      lx->pos = n;
      return lex_fail(lx, i, 1, "unterminated string literal");
    }
    return mk(lx, TK_STR, i, j + 1 - i);
  }
  case '?': {
    uint32_t j = i + 1;
    while (j < n && is_ident_char(s[j]))
      j++;
    if (j - i == 10 && memcmp(s + i, "?principal", 10) == 0) return mk(lx, TK_SLOT_P, i, 10);
    if (j - i == 9 && memcmp(s + i, "?resource", 9) == 0) return mk(lx, TK_SLOT_R, i, 9);
    lx->pos = j;
    return lex_fail(lx, i, j - i, "invalid template slot: only `?principal` and `?resource` exist");
  }
  case '@': return mk(lx, TK_AT, i, 1);
  case '(': lx->nest++; return mk(lx, TK_LPAREN, i, 1);
  case '[': lx->nest++; return mk(lx, TK_LBRACK, i, 1);
  case '{': lx->nest++; return mk(lx, TK_LBRACE, i, 1);
  case ')':
    if (lx->nest) lx->nest--;
    return mk(lx, TK_RPAREN, i, 1);
  case ']':
    if (lx->nest) lx->nest--;
    return mk(lx, TK_RBRACK, i, 1);
  case '}':
    if (lx->nest) lx->nest--;
    return mk(lx, TK_RBRACE, i, 1);
  case ',': return mk(lx, TK_COMMA, i, 1);
  case ';': return mk(lx, TK_SEMI, i, 1);
  case '.': return mk(lx, TK_DOT, i, 1);
  case ':': return d == ':' ? mk(lx, TK_COLON2, i, 2) : mk(lx, TK_COLON, i, 1);
  case '=':
    if (d == '=') return mk(lx, TK_EQ, i, 2);
    lx->pos = i + 1;
    return lex_fail(lx, i, 1, "unexpected `=`; did you mean `==`?");
  case '!': return d == '=' ? mk(lx, TK_NE, i, 2) : mk(lx, TK_BANG, i, 1);
  case '<': return d == '=' ? mk(lx, TK_LE, i, 2) : mk(lx, TK_LT, i, 1);
  case '>': return d == '=' ? mk(lx, TK_GE, i, 2) : mk(lx, TK_GT, i, 1);
  case '&':
    if (d == '&') return mk(lx, TK_AND, i, 2);
    lx->pos = i + 1;
    return lex_fail(lx, i, 1, "unexpected `&`; did you mean `&&`?");
  case '|':
    if (d == '|') return mk(lx, TK_OR, i, 2);
    lx->pos = i + 1;
    return lex_fail(lx, i, 1, "unexpected `|`; did you mean `||`?");
  case '+': return mk(lx, TK_PLUS, i, 1);
  case '-': return mk(lx, TK_MINUS, i, 1);
  case '*': return mk(lx, TK_STAR, i, 1);
  default: break;
  }
  /* Skip a whole UTF-8 sequence so the caret covers one character. */
  uint32_t j = i + 1;
  while (j < n && ((unsigned char)s[j] & 0xC0) == 0x80)
    j++;
  lx->pos = j;
  char msg[48];
  unsigned char c0 = (unsigned char)s[i];
  /* A control character is named by its code: as itself it would cut the
   * message short (NUL) or act on the terminal that shows it. */
  if (c0 < 0x20 || c0 == 0x7f) {
    (void)snprintf(msg, sizeof msg, "unexpected control character 0x%02x", c0);
    return lex_fail(lx, i, j - i, msg);
  }
  unsigned char c1 = j - i == 2 ? (unsigned char)s[i + 1] : 0;
  if (c0 == 0xC2 && c1 >= 0x80 && c1 <= 0x9F) {
    (void)snprintf(msg, sizeof msg, "unexpected control character U+%04X", (unsigned)c1);
    return lex_fail(lx, i, j - i, msg);
  }
  size_t m = j - i < 8 ? j - i : 8;
  memcpy(msg, "unexpected character `", 22);
  memcpy(msg + 22, s + i, m);
  memcpy(msg + 22 + m, "`", 2);
  return lex_fail(lx, i, j - i, msg);
}

int cedar__tok_is(const cedar__lexer *lx, cedar__tok t, const char *w) {
  size_t wl = strlen(w);
  return t.kind == TK_IDENT && t.len == wl && memcmp(lx->src + t.off, w, wl) == 0;
}

const char *cedar__tok_describe(const cedar__lexer *lx, cedar__tok t, char *buf, size_t n) {
  if (t.kind == TK_EOF) return "end of input";
  size_t m = t.len < 40 ? t.len : 40;
  if (n < 8) return "token";
  if (m + 3 > n) m = n - 6;
  size_t o = 0;
  buf[o++] = '`';
  memcpy(buf + o, lx->src + t.off, m);
  o += m;
  if (m < t.len) {
    memcpy(buf + o, "...", 3);
    o += 3;
  }
  buf[o++] = '`';
  buf[o] = '\0';
  return buf;
}

size_t cedar__utf8_check(const char *s, size_t len) {
  const unsigned char *u = (const unsigned char *)s;
  size_t i = 0;
  while (i < len) {
    unsigned c = u[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    size_t need;
    unsigned min;
    if (c >= 0xC2 && c <= 0xDF) {
      need = 1;
      min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
      need = 2;
      min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
      need = 3;
      min = 0x10000;
    } else {
      return i;
    }
    if (i + need >= len) return i;
    unsigned cp = c & (0x3Fu >> need);
    for (size_t k = 1; k <= need; k++) {
      if ((u[i + k] & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (u[i + k] & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
    i += need + 1;
  }
  return len;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static size_t put_utf8(char *o, uint32_t cp) {
  if (cp < 0x80) {
    o[0] = (char)cp;
    return 1;
  }
  if (cp < 0x800) {
    o[0] = (char)(0xC0 | (cp >> 6));
    o[1] = (char)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    o[0] = (char)(0xE0 | (cp >> 12));
    o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
  }
  o[0] = (char)(0xF0 | (cp >> 18));
  o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
  o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
  o[3] = (char)(0x80 | (cp & 0x3F));
  return 4;
}

/* Decodes one escape starting at s[i] == '\\'. Writes its bytes to o and
 * returns how many, or -1 when invalid. *adv is the number of source bytes
 * consumed. Follows Rust's string escapes, which Cedar adopts: \x is ASCII
 * only, \u{} takes 1-6 hex digits (underscores allowed after the first)
 * and rejects surrogates. */
static int one_escape(const char *s, size_t n, size_t i, int in_pattern, char *o, size_t *adv) {
  if (i + 1 >= n) return -1;
  char c = s[i + 1];
  *adv = 2;
  switch (c) {
  case 'n': o[0] = '\n'; return 1;
  case 'r': o[0] = '\r'; return 1;
  case 't': o[0] = '\t'; return 1;
  case '\\': o[0] = '\\'; return 1;
  case '0': o[0] = '\0'; return 1;
  case '\'': o[0] = '\''; return 1;
  case '"': o[0] = '"'; return 1;
  case '*':
    if (!in_pattern) return -1;
    o[0] = '*';
    return 1;
  case 'x': {
    if (i + 3 >= n) return -1;
    int h = hexval(s[i + 2]), l = hexval(s[i + 3]);
    if (h < 0 || l < 0 || h > 7) return -1;
    o[0] = (char)(h * 16 + l);
    *adv = 4;
    return 1;
  }
  case 'u': {
    size_t j = i + 2;
    if (j >= n || s[j] != '{') return -1;
    j++;
    uint32_t cp = 0;
    int digits = 0;
    if (j < n && s[j] == '_') return -1;
    while (j < n && s[j] != '}') {
      if (s[j] != '_') {
        int v = hexval(s[j]);
        if (v < 0 || ++digits > 6) return -1;
        cp = cp * 16 + (uint32_t)v;
      }
      j++;
    }
    if (j >= n || digits == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return -1;
    *adv = j + 1 - i;
    return (int)put_utf8(o, cp);
  }
  default: return -1;
  }
}

/* The shared decoder. With pats == NULL it unescapes a plain string into
 * out; otherwise it splits a pattern into elements. */
static int decode(wd_arena *a, const char *s, size_t n, cedar__str *out, cedar__patelem **pats,
                  uint32_t *npat, uint32_t *bad_off) {
  char *buf = wd_arena_alloc(a, n + 1);
  if (!buf) return -WD_E_NOMEM;
  cedar__patelem *el = NULL;
  uint32_t nel = 0;
  if (pats) {
    el = wd_arena_calloc(a, n + 1, sizeof *el);
    if (!el) return -WD_E_NOMEM;
  }
  size_t o = 0, lit_start = 0;
  for (size_t i = 0; i < n;) {
    if (s[i] == '\\') {
      size_t adv = 0;
      int w = one_escape(s, n, i, pats != NULL, buf + o, &adv);
      if (w < 0) {
        if (bad_off) *bad_off = (uint32_t)i;
        return -WD_E_PARSE;
      }
      o += (size_t)w;
      i += adv;
    } else if (pats && s[i] == '*') {
      if (o > lit_start) {
        el[nel].lit.p = buf + lit_start;
        el[nel++].lit.n = (uint32_t)(o - lit_start);
      }
      el[nel++].wild = 1;
      lit_start = o;
      i++;
    } else {
      buf[o++] = s[i++];
    }
  }
  buf[o] = '\0';
  if (pats) {
    if (o > lit_start) {
      el[nel].lit.p = buf + lit_start;
      el[nel++].lit.n = (uint32_t)(o - lit_start);
    }
    *pats = el;
    *npat = nel;
  } else {
    out->p = buf;
    out->n = (uint32_t)o;
  }
  return 0;
}

int cedar__unescape(wd_arena *a, const char *s, size_t n, cedar__str *out, uint32_t *bad_off) {
  return decode(a, s, n, out, NULL, NULL, bad_off);
}

int cedar__parse_pattern(wd_arena *a, const char *s, size_t n, const cedar__patelem **out,
                         uint32_t *nout, uint32_t *bad_off) {
  cedar__patelem *el = NULL;
  int rc = decode(a, s, n, NULL, &el, nout, bad_off);
  if (rc == 0) *out = el;
  return rc;
}
