/* SPDX-License-Identifier: Apache-2.0
 *
 * A growable byte buffer with a hard cap, after curl's dynbuf. The buffer
 * is always NUL-terminated when non-empty. If an append fails, the buffer
 * is freed and every later append fails with the same error until
 * wd_buf_free or wd_buf_reset, so a caller that ignores one failure (as
 * jansson's dumper does for object keys) never ends up with the tail of
 * a result that looks whole.
 */
#ifndef WD_BUF_H
#define WD_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "warden/export.h"

typedef struct wd_buf {
  char *_data;   /* owned; NULL until the first append */
  size_t _len;   /* bytes used, excluding the NUL */
  size_t _alloc; /* bytes allocated */
  size_t _cap;   /* hard limit on _len */
  int _err;      /* the failure every append returns since one failed; 0 */
} wd_buf;

/* Initializes an empty buffer that refuses to grow past cap bytes. */
void wd_buf_init(wd_buf *b, size_t cap);
/* Frees the contents and leaves an empty, usable buffer with the same cap. */
void wd_buf_free(wd_buf *b);
/* Empties the buffer (usable again after a failure) but keeps its memory. */
void wd_buf_reset(wd_buf *b);
/* Appends n bytes; on failure frees the buffer and returns -WD_E_NOMEM or -WD_E_TOOBIG. */
int wd_buf_add(wd_buf *b, const void *p, size_t n) WD_WUR;
/* Appends a NUL-terminated string. */
int wd_buf_adds(wd_buf *b, const char *s) WD_WUR;
/* Appends one byte. */
int wd_buf_addc(wd_buf *b, char c) WD_WUR;
/* Appends printf-formatted text. */
int wd_buf_addf(wd_buf *b, const char *fmt, ...) WD_WUR __attribute__((format(printf, 2, 3)));
int wd_buf_vaddf(wd_buf *b, const char *fmt, va_list ap) WD_WUR
    __attribute__((format(printf, 2, 0)));
/* Borrowed view of the contents; "" when empty; valid until the next change. */
const char *wd_buf_str(const wd_buf *b);
size_t wd_buf_len(const wd_buf *b);
/* Returns the owned contents (free with wd_free) and leaves the buffer empty;
 * returns an owned "" when empty, or NULL when out of memory or after a
 * failed append. */
char *wd_buf_take(wd_buf *b);

#endif
