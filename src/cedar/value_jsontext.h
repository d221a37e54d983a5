/* SPDX-License-Identifier: Apache-2.0
 *
 * Private to json.c: the JSON text parser of value_jsontext.c.
 */
#ifndef CEDAR_VALUE_JSONTEXT_H
#define CEDAR_VALUE_JSONTEXT_H

#include <jansson.h>
#include <stddef.h>

/* Parses text[0..len) into *out (a new reference). On error returns
 * -WD_E_JSON (or -WD_E_NOMEM when an allocation failed) with a static
 * message in *err and its byte offset. */
int cedar__json_parse_text(const char *text, size_t len, json_t **out, const char **err,
                           size_t *err_off);

#endif
