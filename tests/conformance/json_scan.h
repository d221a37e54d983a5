/* SPDX-License-Identifier: Apache-2.0
 *
 * A small JSON scanner for the conformance runner. It validates and walks
 * JSON text in place, handing out spans of the original text, so that a
 * request's principal/action/resource/context reach the engine byte for
 * byte. Unlike jansson it accepts NUL characters ("\u0000") anywhere,
 * including object keys, which the Cedar corpus uses. Not a general parser.
 */
#ifndef WD_JSON_SCAN_H
#define WD_JSON_SCAN_H

#include <stddef.h>

typedef struct js_span {
  const char *p; /* first byte of the value (no leading space) */
  size_t n;      /* bytes of the value */
} js_span;

/* Validates text[0..len) as one JSON value. Returns 0 and the value span,
 * or -1 with *err_off set to the offset where it went wrong. */
int js_parse(const char *text, size_t len, js_span *out, size_t *err_off);
/* Iterates an object: start with *pos = 0. Returns 1 with the raw key
 * (quotes included) and value, 0 at the end. The span must come from
 * js_parse (already validated). */
int js_obj_next(js_span obj, size_t *pos, js_span *key, js_span *val);
/* Iterates an array the same way. */
int js_arr_next(js_span arr, size_t *pos, js_span *val);
/* Finds member name in an object; returns 1 and its value, else 0. */
int js_get(js_span obj, const char *name, js_span *val);
/* Decodes a string value into owned text (free with wd_free), with its
 * length in *len (may be NULL). NUL characters are kept. Returns NULL if
 * v is not a string or on out of memory. */
char *js_str(js_span v, size_t *len);
/* The kind of value: one of '{' '[' '"' 'n' 't' 'f' or '0' for a number. */
char js_kind(js_span v);

#endif
