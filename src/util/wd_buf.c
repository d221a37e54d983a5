/* SPDX-License-Identifier: Apache-2.0
 *
 * Capped growable buffer.
 */
#include "wd_buf.h"

#include <stdio.h>
#include <string.h>

#include "warden/err.h"
#include "wd_alloc.h"

void wd_buf_init(wd_buf *b, size_t cap) {
  b->_data = NULL;
  b->_len = 0;
  b->_alloc = 0;
  b->_cap = cap;
  b->_err = 0;
}

static void drop(wd_buf *b) {
  wd_free(b->_data);
  b->_data = NULL;
  b->_len = 0;
  b->_alloc = 0;
}

void wd_buf_free(wd_buf *b) {
  drop(b);
  b->_err = 0;
}

void wd_buf_reset(wd_buf *b) {
  b->_len = 0;
  b->_err = 0;
  if (b->_data) b->_data[0] = '\0';
}

static int fail(wd_buf *b, int rc) {
  drop(b);
  b->_err = rc;
  return rc;
}

static int grow(wd_buf *b, size_t extra) {
  if (b->_err) return b->_err;
  if (extra > b->_cap || b->_len > b->_cap - extra) return fail(b, -WD_E_TOOBIG);
  size_t need = b->_len + extra + 1;
  if (need <= b->_alloc) return 0;
  size_t n = b->_alloc ? b->_alloc : 256;
  while (n < need)
    n *= 2;
  if (n > b->_cap + 1) n = b->_cap + 1;
  char *p = wd_realloc(b->_data, n);
  if (!p) return fail(b, -WD_E_NOMEM);
  b->_data = p;
  b->_alloc = n;
  return 0;
}

int wd_buf_add(wd_buf *b, const void *p, size_t n) {
  int rc = grow(b, n);
  if (rc) return rc;
  if (n) memcpy(b->_data + b->_len, p, n);
  b->_len += n;
  b->_data[b->_len] = '\0';
  return 0;
}

int wd_buf_adds(wd_buf *b, const char *s) { return wd_buf_add(b, s, strlen(s)); }

int wd_buf_addc(wd_buf *b, char c) { return wd_buf_add(b, &c, 1); }

int wd_buf_vaddf(wd_buf *b, const char *fmt, va_list ap) {
  va_list ap2;
  va_copy(ap2, ap);
  int n = vsnprintf(NULL, 0, fmt, ap2);
  va_end(ap2);
  if (b->_err) return b->_err;
  if (n < 0) return fail(b, -WD_E_INVAL);
  int rc = grow(b, (size_t)n);
  if (rc) return rc;
  vsnprintf(b->_data + b->_len, (size_t)n + 1, fmt, ap);
  b->_len += (size_t)n;
  return 0;
}

int wd_buf_addf(wd_buf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int rc = wd_buf_vaddf(b, fmt, ap);
  va_end(ap);
  return rc;
}

const char *wd_buf_str(const wd_buf *b) { return b->_data ? b->_data : ""; }

size_t wd_buf_len(const wd_buf *b) { return b->_len; }

char *wd_buf_take(wd_buf *b) {
  if (b->_err) return NULL;
  char *p = b->_data ? b->_data : wd_strdup("");
  b->_data = NULL;
  b->_len = 0;
  b->_alloc = 0;
  return p;
}
