/* SPDX-License-Identifier: Apache-2.0
 *
 * Private to src/gov: writes the JSON text of a decision's entities,
 * request and context straight into a capped buffer. A decision used to
 * build jansson trees and dump them (sorted) only for the engine to parse
 * the text again; writing the text directly is most of that cost saved.
 * Errors are sticky: after the first failure every call is a no-op and
 * the writer's rc says what went wrong.
 */
#ifndef WD_GOV_TEXT_H
#define WD_GOV_TEXT_H

#include <stdint.h>

#include <jansson.h>

#include "util/wd_arena.h"
#include "util/wd_buf.h"
#include "util/wd_map.h"

typedef struct wd_gov__jw {
  wd_buf b;
  int rc;
} wd_gov__jw;

void wd_gov__jw_init(wd_gov__jw *w);
void wd_gov__jw_free(wd_gov__jw *w);
/* Appends text as is. */
void wd_gov__jw_raw(wd_gov__jw *w, const char *s);
/* Appends s as a JSON string. */
void wd_gov__jw_str(wd_gov__jw *w, const char *s);
void wd_gov__jw_int(wd_gov__jw *w, int64_t v);
/* "key": with a leading comma unless first. */
void wd_gov__jw_key(wd_gov__jw *w, const char *key, int first);
/* {"__entity":{"id":..,"type":..}} and {"__extn":{"arg":..,"fn":..}},
 * keys sorted (the context is hashed). */
void wd_gov__jw_eref(wd_gov__jw *w, const char *type, const char *id);
void wd_gov__jw_extn(wd_gov__jw *w, const char *fn, const char *arg);
/* {"type":..,"id":..}: an entity uid as the entities and request formats
 * spell it. */
void wd_gov__jw_uid(wd_gov__jw *w, const char *type, const char *id);
/* Any jansson value, compact with sorted keys. */
void wd_gov__jw_json(wd_gov__jw *w, const json_t *v);

/* An entities array under construction, each uid written once. */
typedef struct wd_gov__ents {
  wd_gov__jw w;
  wd_map *seen; /* "type\0id" -> marker */
  wd_arena *keys;
  size_t n;
} wd_gov__ents;

int wd_gov__ents_init(wd_gov__ents *e);
void wd_gov__ents_free(wd_gov__ents *e);
/* Starts entity type::id: returns 1 and leaves the writer inside the
 * entity after `"attrs":`, or 0 when it was already written (write
 * nothing then). The caller writes the attrs object and ends with
 * wd_gov__ents_end. */
int wd_gov__ents_begin(wd_gov__ents *e, const char *type, const char *id);
/* Closes the entity with parents (type, id) pairs, n of them. */
void wd_gov__ents_end(wd_gov__ents *e, const char *const *parents, size_t n);
/* The finished array text (owned by e). */
const char *wd_gov__ents_text(wd_gov__ents *e);

#endif
