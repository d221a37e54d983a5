/* SPDX-License-Identifier: Apache-2.0
 *
 * Private to json.c, entities.c, request.c and request_text.c: a bounded JSON path
 * ("entities[3].attrs.owner") grown and shrunk while walking a document,
 * so every error can say where it happened without allocating.
 */
#ifndef CEDAR_JSON_PATH_H
#define CEDAR_JSON_PATH_H

#include <stddef.h>

#include "cedar_int.h"

typedef struct cedar__jpath {
  char buf[128]; /* NUL-terminated; a longer path is clipped and ends in "..." */
  size_t n;
} cedar__jpath;

void cedar__jpath_init(cedar__jpath *p, const char *base);
void cedar__jpath_raw(cedar__jpath *p, const char *s, size_t n);
/* Append ".key" (or ["key"]) / "[i]"; return the length to pop back to. */
size_t cedar__jpath_key(cedar__jpath *p, const char *k, size_t n);
size_t cedar__jpath_index(cedar__jpath *p, size_t i);
void cedar__jpath_pop(cedar__jpath *p, size_t saved);
/* Checks that s is a normalized Cedar name (Ident ("::" Ident)*, no
 * reserved words, no whitespace), as an entity type in JSON must be.
 * Returns NULL or a static reason. */
const char *cedar__json_name_problem(const char *s, size_t n);
/* "a string", "an object", ... for "found X" messages. */
const char *cedar__json_kind(const json_t *j);

#endif
