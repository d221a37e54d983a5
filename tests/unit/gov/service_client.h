/* SPDX-License-Identifier: Apache-2.0
 *
 * For unit tests that talk to an in-process service over libcurl: the
 * admin token the tests start it with, the base URL they set, one
 * request with its answer kept as text and parsed JSON, and its shorter
 * forms. Include after cmocka.h.
 */
#ifndef WD_TEST_SERVICE_CLIENT_H
#define WD_TEST_SERVICE_CLIENT_H

#include <stdio.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "../../support/auth_headers.h"

#define ADMIN "unit-admin-token-0123456789abcdef0123"

static char url[64]; /* "http://127.0.0.1:PORT", set once the service listens */

typedef struct resp {
  long status;
  json_t *body;
  char raw[65536];
  size_t len;
} resp;

static inline size_t on_data(char *p, size_t sz, size_t n, void *ud) {
  resp *r = ud;
  size_t k = sz * n;
  if (r->len + k >= sizeof r->raw) k = sizeof r->raw - 1 - r->len;
  memcpy(r->raw + r->len, p, k);
  r->len += k;
  r->raw[r->len] = '\0';
  return sz * n;
}

/* One request; a connection the server drops gives a curl error, not a
 * failed assertion. */
static inline CURLcode try_http(const char *method, const char *path, const char *auth,
                                const char *dpop, const char *body, resp *r) {
  memset(r, 0, sizeof *r);
  CURL *c = curl_easy_init();
  assert_non_null(c);
  char u[512];
  (void)snprintf(u, sizeof u, "%s%s", url, path);
  struct curl_slist *hs =
      auth_headers(curl_slist_append(NULL, "Content-Type: application/json"), auth, dpop);
  curl_easy_setopt(c, CURLOPT_URL, u);
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, hs);
  if (body) curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
  CURLcode cc = curl_easy_perform(c);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
  curl_slist_free_all(hs);
  curl_easy_cleanup(c);
  r->body = json_loads(r->raw, 0, NULL);
  return cc;
}

static inline void http(const char *method, const char *path, const char *auth, const char *dpop,
                        const char *body, resp *r) {
  assert_int_equal(try_http(method, path, auth, dpop, body, r), CURLE_OK);
}

static inline void clear(resp *r) { json_decref(r->body); }

/* The field a refusal names, or NULL. */
static inline const char *err_field(const resp *r) {
  return json_string_value(json_object_get(json_object_get(r->body, "error"), "field"));
}

static inline void admin(const char *method, const char *path, const char *body, resp *r) {
  http(method, path, "Bearer " ADMIN, NULL, body, r);
}

#endif
