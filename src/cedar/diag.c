/* SPDX-License-Identifier: Apache-2.0
 *
 * Diagnostic lists: how every parser and loader in the engine reports
 * what is wrong and where. Rendering (with a caret under the span) lives
 * here too, so every front end shows errors the same way.
 */
#include <stdio.h>
#include <string.h>

#include "../util/wd_alloc.h"
#include "cedar_int.h"

struct cedar_diags {
  cedar_diag *items;
  size_t n, cap;
  size_t dropped; /* diagnostics past WD_LIMIT_PARSE_ERRORS */
};

cedar_diags *cedar_diags_new(void) { return wd_calloc(1, sizeof(cedar_diags)); }

void cedar_diags_free(cedar_diags *d) {
  if (!d) return;
  wd_free(d->items);
  wd_free(d);
}

void cedar_diags_clear(cedar_diags *d) {
  if (!d) return;
  d->n = 0;
  d->dropped = 0;
}

size_t cedar_diags_count(const cedar_diags *d) { return d ? d->n : 0; }

const cedar_diag *cedar_diags_get(const cedar_diags *d, size_t i) {
  return (d && i < d->n) ? &d->items[i] : NULL;
}

void cedar_free(void *p) { wd_free(p); }

int cedar__diag_push(cedar_diags *d, const cedar_diag *g) {
  if (!d) return g->code;
  if (d->n >= WD_LIMIT_PARSE_ERRORS) {
    d->dropped++;
    return g->code;
  }
  if (d->n == d->cap) {
    size_t ncap = d->cap ? d->cap * 2 : 8;
    cedar_diag *p = wd_realloc(d->items, ncap * sizeof *p);
    if (!p) return g->code; /* the caller's error code still reports failure */
    d->items = p;
    d->cap = ncap;
  }
  d->items[d->n++] = *g;
  return g->code;
}

int cedar__diags_full(const cedar_diags *d) { return !d || d->n >= WD_LIMIT_PARSE_ERRORS; }

void cedar__locate(const char *src, size_t len, uint32_t off, uint32_t *line, uint32_t *col) {
  uint32_t l = 1, c = 1;
  if (off > len) off = (uint32_t)len;
  for (uint32_t i = 0; i < off; i++) {
    unsigned char ch = (unsigned char)src[i];
    if (ch == '\n') {
      l++;
      c = 1;
    } else if ((ch & 0xC0) != 0x80) {
      c++; /* count characters, not UTF-8 continuation bytes */
    }
  }
  *line = l;
  *col = c;
}

static int vdiag(cedar_diags *d, const char *src, size_t srclen, int code, uint32_t off,
                 uint32_t len, const char *fmt, va_list ap) __attribute__((format(printf, 7, 0)));

static int vdiag(cedar_diags *d, const char *src, size_t srclen, int code, uint32_t off,
                 uint32_t len, const char *fmt, va_list ap) {
  cedar_diag g;
  memset(&g, 0, sizeof g);
  g.code = code;
  g.sev = CEDAR_SEV_ERROR;
  g.off = off;
  g.len = len;
  /* A list that is full only counts: locating scans the text from its
   * start, and doing it for every dropped finding made many findings in
   * a large text quadratic. */
  if (cedar__diags_full(d)) return cedar__diag_push(d, &g);
  if (src) cedar__locate(src, srclen, off, &g.line, &g.col);
  vsnprintf(g.msg, sizeof g.msg, fmt, ap);
  return cedar__diag_push(d, &g);
}

int cedar__diag_at(cedar_diags *d, const char *src, size_t srclen, int code, uint32_t off,
                   uint32_t len, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int rc = vdiag(d, src, srclen, code, off, len, fmt, ap);
  va_end(ap);
  return rc;
}

int cedar__diag(cedar_diags *d, int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int rc = vdiag(d, NULL, 0, code, 0, 0, fmt, ap);
  va_end(ap);
  return rc;
}

/* Appends s[0..n) with each control character but a tab shown as '?':
 * a policy file's escape sequences must not reach the terminal. That
 * includes the C1 controls (U+0080 to U+009F, two bytes in UTF-8: U+009B
 * starts a sequence on many terminals); each is one '?', as it is one
 * column for the caret line. */
static int add_shown(wd_buf *b, const char *s, size_t n) {
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < n; i++) {
    unsigned char ch = (unsigned char)s[i];
    int c1 = ch == 0xC2 && i + 1 < n && (unsigned char)s[i + 1] >= 0x80 &&
             (unsigned char)s[i + 1] <= 0x9F;
    if (c1) i++;
    rc = wd_buf_addc(b, (ch < 0x20 && ch != '\t') || ch == 0x7f || c1 ? '?' : s[i]);
  }
  return rc;
}

/* Appends the source line holding off, then a caret line under the span. */
static int render_snippet(wd_buf *b, const char *src, size_t len, const cedar_diag *g) {
  size_t off = g->off > len ? len : g->off;
  size_t start = off, end = off;
  while (start > 0 && src[start - 1] != '\n')
    start--;
  while (end < len && src[end] != '\n')
    end++;
  int rc = wd_buf_add(b, "  ", 2);
  if (rc == 0) rc = add_shown(b, src + start, end - start);
  if (rc == 0) rc = wd_buf_add(b, "\n  ", 3);
  for (size_t i = start; rc == 0 && i < off; i++) {
    unsigned char ch = (unsigned char)src[i];
    if ((ch & 0xC0) == 0x80) continue;
    rc = wd_buf_addc(b, src[i] == '\t' ? '\t' : ' ');
  }
  size_t span_end = off + (g->len ? g->len : 1);
  if (span_end > end) span_end = end > off ? end : off + 1;
  for (size_t i = off; rc == 0 && i < span_end; i++) {
    if (i < len && ((unsigned char)src[i] & 0xC0) == 0x80) continue;
    rc = wd_buf_addc(b, '^');
  }
  if (rc == 0) rc = wd_buf_addc(b, '\n');
  return rc;
}

char *cedar_diags_render(const cedar_diags *d, const char *filename, const char *src, size_t len) {
  wd_buf b;
  wd_buf_init(&b, WD_LIMIT_BUF_DEFAULT);
  const char *fn = filename ? filename : "<input>";
  int rc = 0;
  for (size_t i = 0; d && rc == 0 && i < d->n; i++) {
    const cedar_diag *g = &d->items[i];
    const char *sev = g->sev == CEDAR_SEV_WARNING ? "warning" : "error";
    const char *pol = g->policy_id[0] ? g->policy_id : NULL;
    if (g->line)
      rc = wd_buf_addf(&b, "%s:%u:%u: %s: %s%s%s", fn, g->line, g->col, sev,
                       pol ? "in policy " : "", pol ? pol : "", pol ? ": " : "");
    else
      rc = wd_buf_addf(&b, "%s: %s: %s%s%s", fn, sev, pol ? "in policy " : "", pol ? pol : "",
                       pol ? ": " : "");
    if (rc == 0) rc = add_shown(&b, g->msg, strlen(g->msg));
    if (rc == 0) rc = wd_buf_addc(&b, '\n');
    if (rc == 0 && g->line && src) rc = render_snippet(&b, src, len, g);
  }
  if (rc == 0 && d && d->dropped)
    rc = wd_buf_addf(&b, "%s: note: %zu more errors not shown\n", fn, d->dropped);
  if (rc) return NULL;
  return wd_buf_take(&b);
}
