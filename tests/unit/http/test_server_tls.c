/* SPDX-License-Identifier: Apache-2.0
 *
 * The HTTP layer over TLS: a real server on 127.0.0.1 with a certificate
 * made for the test, libcurl as the client. A client that trusts the
 * certificate gets its answers, bodies included, and a parked request
 * still completes; a client that does not trust it, or speaks plain
 * HTTP to the port, gets nothing; half a certificate pair, or one that is
 * not PEM, is refused at start.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <curl/curl.h>

#include "../../support/tls_cert.h"
#include "http/wd_http.h"
#include "warden/err.h"

static char *cert, *key;

static int h_echo(wd_http_req *req, wd_http_resp *resp, void *s) {
  (void)s;
  json_t *b = json_pack("{s:O}", "got", req->json);
  return b ? wd_http_resp_json(resp, 200, b) : -WD_E_NOMEM;
}

static void *resume_later(void *req) {
  wd_http_resume(req);
  return NULL;
}

/* Parks the connection, then answers from another thread's resume. */
static int h_park(wd_http_req *req, wd_http_resp *resp, void *s) {
  (void)s;
  if (req->resumed) return wd_http_resp_json(resp, 200, json_pack("{s:b}", "resumed", 1));
  wd_http_suspend(req);
  pthread_t t;
  if (pthread_create(&t, NULL, resume_later, req) != 0) return -WD_E_INTERNAL;
  (void)pthread_detach(t);
  return WD_HTTP_SUSPENDED;
}

static const wd_http_route ROUTES[] = {
    {"POST", "/v1/echo", h_echo, WD_HTTP_AUTH_NONE},
    {"GET", "/v1/park", h_park, WD_HTTP_AUTH_NONE},
};

static int setup(void **state) {
  (void)state;
  return tls_cert_make(&cert, &key);
}

static int teardown(void **state) {
  (void)state;
  free(cert);
  free(key);
  return 0;
}

static wd_http_opts opts(const char *c, const char *k) {
  wd_http_opts o;
  memset(&o, 0, sizeof o);
  o.host = "127.0.0.1";
  o.routes = ROUTES;
  o.nroutes = sizeof ROUTES / sizeof ROUTES[0];
  o.builtin_health = 1;
  o.tls_cert_pem = c;
  o.tls_key_pem = k;
  return o;
}

typedef struct reply {
  long status;
  CURLcode cc;
  char body[1024];
  size_t len;
} reply;

static size_t on_body(char *p, size_t sz, size_t n, void *u) {
  reply *r = u;
  size_t k = sz * n;
  if (r->len + k >= sizeof r->body) return 0;
  memcpy(r->body + r->len, p, k);
  r->len += k;
  r->body[r->len] = '\0';
  return k;
}

/* One call; trust: give curl the test's certificate as its only CA. */
static void call(uint16_t port, const char *scheme, const char *method, const char *path,
                 const char *body, int trust, reply *r) {
  memset(r, 0, sizeof *r);
  char url[256];
  (void)snprintf(url, sizeof url, "%s://127.0.0.1:%u%s", scheme, (unsigned)port, path);
  CURL *h = curl_easy_init();
  assert_non_null(h);
  struct curl_blob ca = {cert, strlen(cert), CURL_BLOB_COPY};
  struct curl_slist *hs = curl_slist_append(NULL, "Content-Type: application/json");
  curl_easy_setopt(h, CURLOPT_URL, url);
  curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
  if (body) curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, hs);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
  curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
  if (trust) curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &ca);
  r->cc = curl_easy_perform(h);
  if (r->cc == CURLE_OK) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
  curl_slist_free_all(hs);
  curl_easy_cleanup(h);
}

static void serves_https(void **state) {
  (void)state;
  wd_http_opts o = opts(cert, key);
  wd_http_server *srv = NULL;
  assert_int_equal(wd_http_server_start(&o, &srv), 0);
  uint16_t port = wd_http_server_port(srv);
  reply r;
  call(port, "https", "GET", "/healthz", NULL, 1, &r);
  assert_int_equal(r.cc, CURLE_OK);
  assert_int_equal(r.status, 200);
  assert_string_equal(r.body, "{\"status\":\"ok\"}");
  call(port, "https", "POST", "/v1/echo", "{\"a\":[1,2]}", 1, &r);
  assert_int_equal(r.status, 200);
  assert_string_equal(r.body, "{\"got\":{\"a\":[1,2]}}");
  call(port, "https", "GET", "/v1/park", NULL, 1, &r);
  assert_int_equal(r.status, 200);
  assert_string_equal(r.body, "{\"resumed\":true}");

  call(port, "https", "GET", "/healthz", NULL, 0, &r);
  assert_int_equal(r.cc, CURLE_PEER_FAILED_VERIFICATION);
  call(port, "http", "GET", "/healthz", NULL, 0, &r);
  assert_int_not_equal(r.cc, CURLE_OK);
  wd_http_server_free(srv);
}

static void bad_pairs_refused(void **state) {
  (void)state;
  wd_http_server *srv = NULL;
  wd_http_opts o = opts(cert, NULL);
  assert_int_equal(wd_http_server_start(&o, &srv), -WD_E_INVAL);
  o = opts(NULL, key);
  assert_int_equal(wd_http_server_start(&o, &srv), -WD_E_INVAL);
  o = opts("not a certificate", key);
  assert_int_equal(wd_http_server_start(&o, &srv), -WD_E_IO);
  o = opts(cert, "not a key");
  assert_int_equal(wd_http_server_start(&o, &srv), -WD_E_IO);
  assert_null(srv);
}

int main(void) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(serves_https),
      cmocka_unit_test(bad_pairs_refused),
  };
  int rc = cmocka_run_group_tests(tests, setup, teardown);
  curl_global_cleanup();
  return rc;
}
