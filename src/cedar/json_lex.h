/* SPDX-License-Identifier: Apache-2.0
 *
 * Private to value_jsontext.c and request_text.c: the token level of
 * Cedar's strict JSON reading (RFC 8259 with exact int64 integers, NUL
 * allowed in strings). Both readers walk the same text with it, so a
 * string or number means the same thing to each.
 */
#ifndef CEDAR_JSON_LEX_H
#define CEDAR_JSON_LEX_H

#include <stddef.h>
#include <stdint.h>

typedef struct cedar__jlex {
  const char *s; /* borrowed text */
  size_t n, i;
  const char *err; /* static message of the first error, or NULL */
  size_t err_off;
  char *sb; /* owned scratch holding the last string body (wd_free) */
  size_t sbn, sbcap;
} cedar__jlex;

extern const char cedar__jlex_oom[]; /* err when an allocation failed */

/* Records the first error; returns -1. */
int cedar__jlex_fail(cedar__jlex *p, size_t off, const char *msg);
void cedar__jlex_skip_ws(cedar__jlex *p);
/* Reads a string body, the opening quote already consumed, into p->sb
 * (p->sbn bytes, unescaped, well-formed UTF-8). 0 or -1. */
int cedar__jlex_string(cedar__jlex *p);
/* Reads a number at p->i: an integer into *iv (*is_real 0), or a number
 * with a fraction or exponent into *dv (*is_real 1). 0 or -1. */
int cedar__jlex_number(cedar__jlex *p, int64_t *iv, double *dv, int *is_real);
/* Consumes the literal w when the text continues with it; 1 or 0. */
int cedar__jlex_lit(cedar__jlex *p, const char *w);

#endif
