/* SPDX-License-Identifier: Apache-2.0
 *
 * Write-side helpers a handler uses to fill its response: a JSON body with a
 * status, the uniform error body, and extra headers. Serialising and sending
 * is server.c's job.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "http/wd_http.h"
#include "util/wd_alloc.h"
#include "util/wd_limits.h"
#include "warden/err.h"

void wd_http_resp_drop_body(wd_http_resp *resp) {
  json_decref(resp->_body);
  resp->_body = NULL;
  wd_free(resp->_text);
  resp->_text = NULL;
  resp->_text_len = 0;
}

int wd_http_resp_json(wd_http_resp *resp, unsigned status, json_t *body) {
  wd_http_resp_drop_body(resp);
  resp->_body = body;
  resp->status = status;
  return 0;
}

int wd_http_resp_text(wd_http_resp *resp, unsigned status, char *text, size_t len) {
  wd_http_resp_drop_body(resp);
  resp->status = status;
  if (!text) return -WD_E_NOMEM;
  resp->_text = text;
  resp->_text_len = len;
  return 0;
}

int wd_http_resp_error(wd_http_resp *resp, unsigned status, const char *code, const char *field,
                       const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (n < 0) msg[0] = '\0';
  json_t *inner = json_object();
  json_t *outer = json_object();
  if (!inner || !outer) goto nomem;
  if (json_object_set_new(inner, "code", json_string(code ? code : "error")) != 0) goto nomem;
  /* json_string refuses invalid UTF-8; a message built from client bytes
   * must still produce an error body, so fall back to the raw-escaped form. */
  json_t *m = json_string(msg);
  if (!m) m = json_stringn_nocheck(msg, strlen(msg));
  if (json_object_set_new(inner, "message", m) != 0) goto nomem;
  if (field) {
    json_t *f = json_string(field);
    if (!f) f = json_stringn_nocheck(field, strlen(field));
    if (json_object_set_new(inner, "field", f) != 0) goto nomem;
  }
  if (json_object_set_new(outer, "error", inner) != 0) {
    inner = NULL; /* json_object_set_new consumed it */
    goto nomem;
  }
  return wd_http_resp_json(resp, status, outer);
nomem:
  json_decref(inner);
  json_decref(outer);
  resp->status = status;
  wd_http_resp_drop_body(resp);
  return -WD_E_NOMEM;
}

void wd_http_resp_challenge(wd_http_resp *resp, const char *error) { resp->_challenge = error; }

int wd_http_resp_header(wd_http_resp *resp, const char *name, const char *value) {
  if (!resp->_arena || !name || !value) return -WD_E_INVAL;
  if (resp->_nheaders >= WD_LIMIT_HTTP_RESP_HEADERS) return -WD_E_TOOBIG;
  if (!resp->_headers) {
    resp->_headers =
        wd_arena_calloc(resp->_arena, WD_LIMIT_HTTP_RESP_HEADERS, sizeof *resp->_headers);
    if (!resp->_headers) return -WD_E_NOMEM;
  }
  wd_http_kv *kv = &resp->_headers[resp->_nheaders];
  kv->name = wd_arena_strndup(resp->_arena, name, strlen(name));
  kv->value = wd_arena_strndup(resp->_arena, value, strlen(value));
  if (!kv->name || !kv->value) return -WD_E_NOMEM;
  resp->_nheaders++;
  return 0;
}
