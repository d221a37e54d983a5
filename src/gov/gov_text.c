/* SPDX-License-Identifier: Apache-2.0
 *
 * The JSON text writer of gov_text.h. Strings are escaped as JSON
 * requires (quote, backslash, control characters); everything else,
 * UTF-8 included, is copied, since it came from parsed JSON or the store.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "gov/gov_text.h"
#include "util/wd_alloc.h"
#include "util/wd_limits.h"
#include "warden/err.h"

void wd_gov__jw_init(wd_gov__jw *w) {
  wd_buf_init(&w->b, WD_LIMIT_GOV_DECISION_TEXT);
  w->rc = 0;
}

void wd_gov__jw_free(wd_gov__jw *w) { wd_buf_free(&w->b); }

static void add(wd_gov__jw *w, const char *p, size_t n) {
  if (!w->rc && n) w->rc = wd_buf_add(&w->b, p, n);
}

void wd_gov__jw_raw(wd_gov__jw *w, const char *s) { add(w, s, strlen(s)); }

void wd_gov__jw_str(wd_gov__jw *w, const char *s) {
  static const char hex[] = "0123456789abcdef";
  add(w, "\"", 1);
  const char *run = s;
  for (const char *p = s; *p; p++) {
    unsigned char c = (unsigned char)*p;
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    add(w, run, (size_t)(p - run));
    run = p + 1;
    char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
    switch (c) {
    case '"': add(w, "\\\"", 2); break;
    case '\\': add(w, "\\\\", 2); break;
    case '\n': add(w, "\\n", 2); break;
    case '\r': add(w, "\\r", 2); break;
    case '\t': add(w, "\\t", 2); break;
    default: add(w, esc, 6); break;
    }
  }
  add(w, run, strlen(run));
  add(w, "\"", 1);
}

void wd_gov__jw_int(wd_gov__jw *w, int64_t v) {
  char t[24];
  int n = snprintf(t, sizeof t, "%" PRId64, v);
  add(w, t, (size_t)n);
}

void wd_gov__jw_key(wd_gov__jw *w, const char *key, int first) {
  if (!first) add(w, ",", 1);
  wd_gov__jw_str(w, key);
  add(w, ":", 1);
}

void wd_gov__jw_eref(wd_gov__jw *w, const char *type, const char *id) {
  wd_gov__jw_raw(w, "{\"__entity\":{\"id\":");
  wd_gov__jw_str(w, id);
  wd_gov__jw_raw(w, ",\"type\":");
  wd_gov__jw_str(w, type);
  wd_gov__jw_raw(w, "}}");
}

void wd_gov__jw_extn(wd_gov__jw *w, const char *fn, const char *arg) {
  wd_gov__jw_raw(w, "{\"__extn\":{\"arg\":");
  wd_gov__jw_str(w, arg);
  wd_gov__jw_raw(w, ",\"fn\":");
  wd_gov__jw_str(w, fn);
  wd_gov__jw_raw(w, "}}");
}

void wd_gov__jw_uid(wd_gov__jw *w, const char *type, const char *id) {
  wd_gov__jw_raw(w, "{\"type\":");
  wd_gov__jw_str(w, type);
  wd_gov__jw_raw(w, ",\"id\":");
  wd_gov__jw_str(w, id);
  wd_gov__jw_raw(w, "}");
}

static int dump_cb(const char *buf, size_t size, void *data) {
  wd_gov__jw *w = data;
  add(w, buf, size);
  return w->rc ? -1 : 0;
}

void wd_gov__jw_json(wd_gov__jw *w, const json_t *v) {
  if (w->rc) return;
  if (json_dump_callback(v, dump_cb, w, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) != 0 &&
      !w->rc)
    w->rc = -WD_E_NOMEM;
}

int wd_gov__ents_init(wd_gov__ents *e) {
  memset(e, 0, sizeof *e);
  wd_gov__jw_init(&e->w);
  e->seen = wd_map_new();
  e->keys = wd_arena_new(WD_LIMIT_GOV_DECISION_TEXT); /* a cap, not a size */
  if (!e->seen || !e->keys) return -WD_E_NOMEM;
  wd_gov__jw_raw(&e->w, "[");
  return e->w.rc;
}

void wd_gov__ents_free(wd_gov__ents *e) {
  wd_gov__jw_free(&e->w);
  wd_map_free(e->seen);
  wd_arena_free(e->keys);
}

int wd_gov__ents_begin(wd_gov__ents *e, const char *type, const char *id) {
  if (e->w.rc) return 0;
  size_t tn = strlen(type), in = strlen(id);
  char *k = wd_arena_alloc(e->keys, tn + 1 + in);
  if (!k) {
    e->w.rc = -WD_E_NOMEM;
    return 0;
  }
  memcpy(k, type, tn + 1);
  memcpy(k + tn + 1, id, in);
  int rc = wd_map_add(e->seen, k, tn + 1 + in, k);
  if (rc == -WD_E_EXISTS) return 0;
  if (rc) {
    e->w.rc = rc;
    return 0;
  }
  wd_gov__jw_raw(&e->w, e->n++ ? ",{\"uid\":" : "{\"uid\":");
  wd_gov__jw_uid(&e->w, type, id);
  wd_gov__jw_raw(&e->w, ",\"attrs\":");
  return 1;
}

void wd_gov__ents_end(wd_gov__ents *e, const char *const *parents, size_t n) {
  wd_gov__jw_raw(&e->w, ",\"parents\":[");
  for (size_t i = 0; i < n; i++) {
    if (i) wd_gov__jw_raw(&e->w, ",");
    wd_gov__jw_uid(&e->w, parents[2 * i], parents[2 * i + 1]);
  }
  wd_gov__jw_raw(&e->w, "]}");
}

const char *wd_gov__ents_text(wd_gov__ents *e) {
  wd_gov__jw_raw(&e->w, "]");
  return e->w.rc ? NULL : wd_buf_str(&e->w.b);
}
