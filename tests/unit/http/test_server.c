/* SPDX-License-Identifier: Apache-2.0
 *
 * End-to-end tests of the HTTP layer: a real server on 127.0.0.1 with an
 * ephemeral port, libcurl as the client. Covers every refusal status with
 * its exact JSON body, auth, handler failure and out-of-memory, 50
 * concurrent requests, a slow request surviving graceful shutdown, and a
 * shutdown while connections come and go.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <cmocka.h>
#include <curl/curl.h>

#include "../../support/raw_http.h"
#include "http/wd_http.h"
#include "util/wd_alloc.h"
#include "warden/err.h"

/* ---- a tiny service ---- */

typedef struct svc {
  int ready;
  int flushed;
  unsigned inflight_at_flush;
  wd_http_server *srv;
  atomic_int slow_started;
  atomic_int slow_done;
  atomic_int parked, closed;
  atomic_int late_started;
  atomic_int revoked; /* the recheck refuses once set */
} svc;

static int h_echo(wd_http_req *req, wd_http_resp *resp, void *s) {
  (void)s;
  json_t *b = json_pack("{s:O?}", "got", req->json);
  if (!b) return -WD_E_NOMEM;
  return wd_http_resp_json(resp, 200, b);
}

static int h_item(wd_http_req *req, wd_http_resp *resp, void *s) {
  (void)s;
  const char *q = wd_http_query(req, "q");
  json_t *b = json_pack("{s:s?, s:s*}", "id", wd_http_param(req, "id"), "q", q);
  if (!b) return -WD_E_NOMEM;
  return wd_http_resp_json(resp, 200, b);
}

static int h_fail(wd_http_req *req, wd_http_resp *resp, void *s) {
  (void)req;
  (void)s;
  /* A half-built response must not leak into the 500. */
  if (wd_http_resp_json(resp, 200, json_pack("{s:s}", "secret", "x")) < 0) return -WD_E_NOMEM;
  return -WD_E_INTERNAL;
}

static int h_slow(wd_http_req *req, wd_http_resp *resp, void *p) {
  (void)req;
  svc *s = p;
  s->slow_started = 1;
  struct timespec ts = {0, 600 * 1000000L};
  nanosleep(&ts, NULL);
  s->slow_done = 1;
  return wd_http_resp_json(resp, 200, json_pack("{s:b}", "slow", 1));
}

static void closed(void *p) { atomic_fetch_add(&((svc *)p)->closed, 1); }

static void *resume_later(void *req) {
  struct timespec ts = {0, 50 * 1000000L};
  nanosleep(&ts, NULL);
  wd_http_resume(req);
  return NULL;
}

/* Parks the request; with ?resume it is woken 50 ms later and answers,
 * without it stays parked until the server stops. */
static int h_park(wd_http_req *req, wd_http_resp *resp, void *p) {
  svc *s = p;
  if (req->resumed) return wd_http_resp_json(resp, 200, json_pack("{s:b}", "parked", 1));
  wd_http_on_close(req, closed, s);
  if (wd_http_query(req, "late")) { /* parks only after the stop's deadline */
    atomic_store(&s->late_started, 1);
    struct timespec ts = {0, 400 * 1000000L};
    nanosleep(&ts, NULL);
  }
  wd_http_suspend(req);
  atomic_fetch_add(&s->parked, 1);
  if (wd_http_query(req, "resume")) {
    pthread_t t;
    if (pthread_create(&t, NULL, resume_later, req) != 0) return -WD_E_INTERNAL;
    pthread_detach(t);
  }
  return WD_HTTP_SUSPENDED;
}

static int auth(wd_http_req *req, wd_http_resp *resp, void *s) {
  (void)s;
  const char *a = wd_http_header(req, "Authorization");
  if (req->auth == WD_HTTP_AUTH_ADMIN && a && strcmp(a, "Bearer good") == 0) return 0;
  if (wd_http_resp_error(resp, 403, "forbidden", NULL, "admin token required") < 0) return 1;
  return 1;
}

static int recheck(wd_http_req *req, wd_http_resp *resp, void *p) {
  (void)req;
  svc *s = p;
  if (!atomic_load(&s->revoked)) return 0;
  if (wd_http_resp_error(resp, 401, "unauthorized", NULL, "revoked meanwhile") < 0) return -1;
  return 1;
}

static int ready(void *p, char *reason, size_t len) {
  svc *s = p;
  if (s->ready) return 0;
  snprintf(reason, len, "store unreachable");
  return 1;
}

static void flush(void *p) {
  svc *s = p;
  s->flushed++;
  s->inflight_at_flush = wd_http_server_inflight(s->srv);
}

static const wd_http_route ROUTES[] = {
    {"POST", "/v1/echo", h_echo, WD_HTTP_AUTH_NONE},
    {"GET", "/v1/items/{id}", h_item, WD_HTTP_AUTH_NONE},
    {"DELETE", "/v1/items/{id}", h_item, WD_HTTP_AUTH_NONE},
    {"GET", "/v1/admin", h_item, WD_HTTP_AUTH_ADMIN},
    {"POST", "/v1/admin", h_echo, WD_HTTP_AUTH_ADMIN},
    {"GET", "/v1/agent", h_item, WD_HTTP_AUTH_AGENT},
    {"GET", "/v1/fail", h_fail, WD_HTTP_AUTH_NONE},
    {"GET", "/v1/slow", h_slow, WD_HTTP_AUTH_NONE},
    {"GET", "/v1/park", h_park, WD_HTTP_AUTH_NONE},
};

static wd_http_server *start(svc *s, size_t max_body) {
  wd_http_opts o;
  memset(&o, 0, sizeof o);
  o.host = "127.0.0.1";
  o.port = 0;
  o.threads = 2;
  o.max_body = max_body;
  o.routes = ROUTES;
  o.nroutes = sizeof ROUTES / sizeof ROUTES[0];
  o.auth = auth;
  o.recheck = recheck;
  o.ready = ready;
  o.flush = flush;
  o.svc = s;
  o.builtin_health = 1;
  wd_http_server *srv = NULL;
  assert_int_equal(wd_http_server_start(&o, &srv), 0);
  assert_true(wd_http_server_port(srv) > 0);
  s->srv = srv;
  return srv;
}

/* ---- a tiny client ---- */

typedef struct reply {
  long status; /* 0 when the transfer failed */
  char body[4096];
  size_t len;
  char allow[128];
  char ctype[128];
} reply;

static size_t on_body(char *p, size_t sz, size_t n, void *u) {
  reply *r = u;
  size_t k = sz * n;
  size_t room = sizeof r->body - 1 - r->len;
  size_t c = k < room ? k : room;
  memcpy(r->body + r->len, p, c);
  r->len += c;
  r->body[r->len] = '\0';
  return k;
}

static void header_copy(char *dst, size_t cap, const char *v, size_t n) {
  while (n > 0 && (v[n - 1] == '\r' || v[n - 1] == '\n'))
    n--;
  if (n >= cap) n = cap - 1;
  memcpy(dst, v, n);
  dst[n] = '\0';
}

static size_t on_header(char *p, size_t sz, size_t n, void *u) {
  reply *r = u;
  size_t k = sz * n;
  if (k > 7 && strncasecmp(p, "Allow: ", 7) == 0)
    header_copy(r->allow, sizeof r->allow, p + 7, k - 7);
  if (k > 14 && strncasecmp(p, "Content-Type: ", 14) == 0)
    header_copy(r->ctype, sizeof r->ctype, p + 14, k - 14);
  return k;
}

typedef struct call {
  const char *method;
  const char *path;
  const char *ctype; /* NULL: no Content-Type */
  const char *body;  /* NULL: no body */
  size_t body_len;   /* 0: strlen(body) */
  int chunked;
  const char *extra; /* one extra header line, or NULL */
} call;

static void do_call(uint16_t port, const call *c, reply *r) {
  memset(r, 0, sizeof *r);
  CURL *h = curl_easy_init();
  assert_non_null(h);
  char url[256];
  snprintf(url, sizeof url, "http://127.0.0.1:%u%s", (unsigned)port, c->path);
  struct curl_slist *hs = NULL;
  char ct[128];
  if (c->ctype) {
    snprintf(ct, sizeof ct, "Content-Type: %s", c->ctype);
    hs = curl_slist_append(hs, ct);
  } else if (c->body) {
    hs = curl_slist_append(hs, "Content-Type:");
  }
  if (c->chunked) hs = curl_slist_append(hs, "Transfer-Encoding: chunked");
  if (c->extra) hs = curl_slist_append(hs, c->extra);
  curl_easy_setopt(h, CURLOPT_URL, url);
  curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, c->method);
  if (strcmp(c->method, "HEAD") == 0) curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  if (c->body) {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, c->body);
    size_t bl = c->body_len ? c->body_len : strlen(c->body);
    if (!c->chunked) curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)bl);
  }
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, hs);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
  curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
  if (curl_easy_perform(h) == CURLE_OK) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
  curl_slist_free_all(hs);
  curl_easy_cleanup(h);
}

/* ---- table of exact outcomes ---- */

static char big_body[4096];

typedef struct row {
  call c;
  long status;
  const char *body; /* exact; NULL = not checked */
  const char *allow;
} row;

static void statuses_and_bodies(void **state) {
  (void)state;
  svc s = {.ready = 1};
  wd_http_server *srv = start(&s, 1024);
  memset(big_body, ' ', sizeof big_body - 1);
  big_body[0] = '[';
  big_body[sizeof big_body - 2] = ']';
  const char *huge = NULL;
  static char hdr[40000];
  memcpy(hdr, "X-Big: ", 7);
  memset(hdr + 7, 'a', sizeof hdr - 8);
  hdr[sizeof hdr - 1] = '\0';
  huge = hdr;
  const row rows[] = {
      {{"GET", "/healthz", 0, 0, 0, 0, 0}, 200, "{\"status\":\"ok\"}", NULL},
      {{"GET", "/readyz", 0, 0, 0, 0, 0}, 200, "{\"status\":\"ready\"}", NULL},
      {{"HEAD", "/healthz", 0, 0, 0, 0, 0}, 200, "", NULL},
      {{"GET", "/nope", 0, 0, 0, 0, 0},
       404,
       "{\"error\":{\"code\":\"not_found\",\"message\":\"no such route\"}}",
       NULL},
      {{"GET", "/v1/items/", 0, 0, 0, 0, 0},
       404,
       "{\"error\":{\"code\":\"not_found\",\"message\":\"no such route\"}}",
       NULL},
      {{"PUT", "/v1/items/7", 0, 0, 0, 0, 0},
       405,
       "{\"error\":{\"code\":\"method_not_allowed\",\"message\":\"method PUT not allowed; "
       "allowed: GET, HEAD, DELETE\"}}",
       "GET, HEAD, DELETE"},
      {{"GET", "/v1/items/abc?q=x%20y", 0, 0, 0, 0, 0},
       200,
       "{\"id\":\"abc\",\"q\":\"x y\"}",
       NULL},
      {{"POST", "/v1/echo", "application/json", "{\"a\": [1, true]}", 0, 0, 0},
       200,
       "{\"got\":{\"a\":[1,true]}}",
       NULL},
      {{"POST", "/v1/echo", "application/json; charset=utf-8", "{}", 0, 0, 0},
       200,
       "{\"got\":{}}",
       NULL},
      {{"POST", "/v1/echo", 0, 0, 0, 0, 0}, 200, "{\"got\":null}", NULL},
      {{"POST", "/v1/echo", "text/plain", "{}", 0, 0, 0},
       415,
       "{\"error\":{\"code\":\"unsupported_media_type\",\"message\":\"request body must be "
       "application/json\",\"field\":\"Content-Type\"}}",
       NULL},
      {{"POST", "/v1/echo", NULL, "{}", 0, 0, 0},
       415,
       "{\"error\":{\"code\":\"unsupported_media_type\",\"message\":\"request body must be "
       "application/json\",\"field\":\"Content-Type\"}}",
       NULL},
      {{"POST", "/v1/echo", "application/json", "{\n  \"a\": ,\n}", 0, 0, 0},
       400,
       "{\"error\":{\"code\":\"malformed_json\",\"message\":\"malformed JSON at line 2, column "
       "8: unexpected token near ','\"}}",
       NULL},
      {{"POST", "/v1/echo", "application/json", "{\"a\":1,\"a\":2}", 0, 0, 0},
       400,
       "{\"error\":{\"code\":\"malformed_json\",\"message\":\"malformed JSON at line 1, column "
       "10: duplicate object key near '\\\"a\\\"'\"}}",
       NULL},
      {{"POST", "/v1/echo", "application/json", big_body, 0, 0, 0},
       413,
       "{\"error\":{\"code\":\"payload_too_large\",\"message\":\"request body exceeds 1024 "
       "bytes\"}}",
       NULL},
      {{"POST", "/v1/echo", "application/json", big_body, 0, 1, 0},
       413,
       "{\"error\":{\"code\":\"payload_too_large\",\"message\":\"request body exceeds 1024 "
       "bytes\"}}",
       NULL},
      {{"POST", "/v1/echo", "application/json", "[1]", 0, 1, 0}, 200, "{\"got\":[1]}", NULL},
      /* A scalar is valid JSON: it reaches the handler, whose object check
       * refuses it, rather than being called malformed. */
      {{"POST", "/v1/echo", "application/json", "5", 0, 0, 0}, 200, "{\"got\":5}", NULL},
      {{"POST", "/v1/echo", "application/json", " \"x\" ", 0, 0, 0}, 200, "{\"got\":\"x\"}", NULL},
      {{"POST", "/v1/echo", "application/json", "5 6", 0, 0, 0},
       400,
       "{\"error\":{\"code\":\"malformed_json\",\"message\":\"malformed JSON at line 1, column "
       "3: end of file expected near '6'\"}}",
       NULL},
      {{"GET", "/v1/admin", 0, 0, 0, 0, 0},
       403,
       "{\"error\":{\"code\":\"forbidden\",\"message\":\"admin token required\"}}",
       NULL},
      {{"GET", "/v1/agent", 0, 0, 0, 0, "Authorization: Bearer good"},
       403,
       "{\"error\":{\"code\":\"forbidden\",\"message\":\"admin token required\"}}",
       NULL},
      {{"GET", "/v1/admin", 0, 0, 0, 0, "Authorization: Bearer good"}, 200, "{\"id\":null}", NULL},
      {{"GET", "/v1/fail", 0, 0, 0, 0, 0},
       500,
       "{\"error\":{\"code\":\"internal\",\"message\":\"internal error\"}}",
       NULL},
      {{"GET", "/healthz", 0, 0, 0, 0, huge}, 431, NULL, NULL},
  };
  int fails = 0;
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    const row *w = &rows[i];
    reply r;
    do_call(wd_http_server_port(srv), &w->c, &r);
    int bad = r.status != w->status || (w->body && strcmp(r.body, w->body) != 0) ||
              (w->allow && strcmp(r.allow, w->allow) != 0) ||
              (w->body && w->body[0] && strcmp(r.ctype, "application/json") != 0);
    if (bad) {
      fprintf(stderr, "row %zu %s %s: got %ld %s (allow '%s', type '%s'), want %ld %s\n", i,
              w->c.method, w->c.path, r.status, r.body, r.allow, r.ctype, w->status,
              w->body ? w->body : "(any)");
      fails++;
    }
  }
  s.ready = 0;
  reply r;
  call c = {"GET", "/readyz", 0, 0, 0, 0, 0};
  do_call(wd_http_server_port(srv), &c, &r);
  if (r.status != 503 ||
      strcmp(r.body, "{\"error\":{\"code\":\"not_ready\",\"message\":\"store unreachable\"}}") !=
          0) {
    fprintf(stderr, "readyz not ready: got %ld %s\n", r.status, r.body);
    fails++;
  }
  wd_http_server_free(srv);
  assert_int_equal(fails, 0);
}

/* ---- out of memory: a 500 or a closed connection, never a crash ---- */

static void oom_never_crashes(void **state) {
  (void)state;
  svc s = {.ready = 1};
  wd_http_server *srv = start(&s, 0);
  int fails = 0;
  for (long n = 0; n < 40; n++) {
    call c = {"POST", "/v1/echo", "application/json", "{\"k\":[1,2,3]}", 0, 0, 0};
    reply r;
    wd_test_fail_alloc_after(n);
    do_call(wd_http_server_port(srv), &c, &r);
    wd_test_fail_alloc_after(-1);
    int ok =
        r.status == 200 || r.status == 0 ||
        (r.status == 500 &&
         strcmp(r.body, "{\"error\":{\"code\":\"internal\",\"message\":\"internal error\"}}") == 0);
    if (!ok) {
      fprintf(stderr, "fail after %ld: %ld %s\n", n, r.status, r.body);
      fails++;
    }
  }
  wd_http_server_free(srv);
  assert_int_equal(fails, 0);
}

/* ---- 50 concurrent requests ---- */

typedef struct worker {
  uint16_t port;
  int i;
  int ok;
  pthread_t t;
} worker;

static void *work(void *p) {
  worker *w = p;
  char path[64], want[64];
  snprintf(path, sizeof path, "/v1/items/n%d", w->i);
  snprintf(want, sizeof want, "{\"id\":\"n%d\"}", w->i);
  call c = {"GET", path, 0, 0, 0, 0, 0};
  reply r;
  do_call(w->port, &c, &r);
  w->ok = r.status == 200 && strcmp(r.body, want) == 0;
  return NULL;
}

static void fifty_concurrent(void **state) {
  (void)state;
  svc s = {.ready = 1};
  wd_http_server *srv = start(&s, 0);
  worker w[50];
  for (int i = 0; i < 50; i++) {
    w[i].port = wd_http_server_port(srv);
    w[i].i = i;
    w[i].ok = 0;
    assert_int_equal(pthread_create(&w[i].t, NULL, work, &w[i]), 0);
  }
  int fails = 0;
  for (int i = 0; i < 50; i++) {
    pthread_join(w[i].t, NULL);
    if (!w[i].ok) {
      fprintf(stderr, "request %d failed\n", i);
      fails++;
    }
  }
  wd_http_server_free(srv);
  assert_int_equal(fails, 0);
}

/* ---- graceful shutdown ---- */

typedef struct slow_call {
  uint16_t port;
  reply r;
} slow_call;

static void *slow_client(void *p) {
  slow_call *sc = p;
  call c = {"GET", "/v1/slow", 0, 0, 0, 0, 0};
  do_call(sc->port, &c, &sc->r);
  return NULL;
}

typedef struct stopper {
  wd_http_server *srv;
  int rc;
  atomic_int done;
} stopper;

static void *stop_server(void *p) {
  stopper *st = p;
  st->rc = wd_http_server_shutdown(st->srv, 5000);
  atomic_store(&st->done, 1);
  return NULL;
}

/* A request in flight is answered; a connection made while it finishes
 * is closed unanswered, and none is answered after the first such. */
static void slow_request_survives_shutdown(void **state) {
  (void)state;
  svc s = {.ready = 1};
  wd_http_server *srv = start(&s, 0);
  uint16_t port = wd_http_server_port(srv);
  slow_call sc = {port, {0}};
  pthread_t t, ts_;
  assert_int_equal(pthread_create(&t, NULL, slow_client, &sc), 0);
  for (int i = 0; i < 500 && !s.slow_started; i++) {
    struct timespec ts = {0, 2000000L};
    nanosleep(&ts, NULL);
  }
  assert_true(s.slow_started);
  assert_int_equal(wd_http_server_inflight(srv), 1);
  stopper st = {srv, -1, 0};
  assert_int_equal(pthread_create(&ts_, NULL, stop_server, &st), 0);
  int refused = 0, answered_after = 0;
  while (!s.slow_done) {
    int fd = raw_open(port);
    raw_send(fd, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    long status = raw_answer(fd, NULL, 0);
    if (status == 0 && !s.slow_done) refused++;
    if (status != 0 && refused) answered_after++;
    struct timespec ts = {0, 5000000L};
    nanosleep(&ts, NULL);
  }
  pthread_join(ts_, NULL);
  assert_int_equal(st.rc, 0);
  assert_true(refused > 0);
  assert_int_equal(answered_after, 0);
  assert_int_equal(s.flushed, 1);
  assert_int_equal(s.inflight_at_flush, 0);
  pthread_join(t, NULL);
  assert_int_equal(sc.r.status, 200);
  assert_string_equal(sc.r.body, "{\"slow\":true}");
  /* After shutdown the port refuses connections. */
  call c = {"GET", "/healthz", 0, 0, 0, 0, 0};
  reply r;
  do_call(port, &c, &r);
  assert_int_equal(r.status, 0);
  assert_int_equal(wd_http_server_shutdown(srv, 0), 0); /* idempotent */
  wd_http_server_free(srv);
  assert_int_equal(s.flushed, 1);
}

typedef struct churn {
  uint16_t port;
  atomic_int stop;
} churn;

static void *churn_connections(void *p) {
  churn *ch = p;
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons(ch->port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  static const char req[] = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  while (!atomic_load(&ch->stop)) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) break;
    if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        write(fd, req, sizeof req - 1) == (ssize_t)(sizeof req - 1)) {
      char buf[256];
      (void)!read(fd, buf, sizeof buf);
    }
    close(fd);
  }
  return NULL;
}

/* Stopping while connections come and go: libmicrohttpd's own quiesce
 * raced its worker threads here and aborted the process now and then. */
static void shutdown_under_connection_churn(void **state) {
  (void)state;
  for (int round = 0; round < 150; round++) {
    svc s = {.ready = 1};
    wd_http_server *srv = start(&s, 0);
    churn ch = {wd_http_server_port(srv), 0};
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
      assert_int_equal(pthread_create(&t[i], NULL, churn_connections, &ch), 0);
    struct timespec ts = {0, 3000000L};
    nanosleep(&ts, NULL);
    assert_int_equal(wd_http_server_shutdown(srv, 5000), 0);
    atomic_store(&ch.stop, 1);
    for (int i = 0; i < 2; i++)
      pthread_join(t[i], NULL);
    wd_http_server_free(srv);
  }
}

typedef struct park_call {
  uint16_t port;
  const char *path;
  reply r;
} park_call;

static void *park_client(void *p) {
  park_call *pc = p;
  call c = {"GET", pc->path, 0, 0, 0, 0, 0};
  do_call(pc->port, &c, &pc->r);
  return NULL;
}

/* A parked request answers once resumed, and one never resumed is still
 * closed (its close hook runs, nothing leaks) when the server stops past
 * its wait, with a 503 at most; either way the close hook runs once. */
static void parked_requests_close(void **state) {
  (void)state;
  svc s = {.ready = 1};
  wd_http_server *srv = start(&s, 0);
  uint16_t port = wd_http_server_port(srv);
  park_call woken = {port, "/v1/park?resume=1", {0}};
  pthread_t t1, t2;
  assert_int_equal(pthread_create(&t1, NULL, park_client, &woken), 0);
  pthread_join(t1, NULL);
  assert_int_equal(woken.r.status, 200);
  assert_string_equal(woken.r.body, "{\"parked\":true}");
  for (int i = 0; i < 500 && atomic_load(&s.closed) < 1; i++) {
    struct timespec ts = {0, 2000000L};
    nanosleep(&ts, NULL);
  }
  assert_int_equal(atomic_load(&s.closed), 1);
  park_call stuck = {port, "/v1/park", {0}};
  assert_int_equal(pthread_create(&t2, NULL, park_client, &stuck), 0);
  for (int i = 0; i < 500 && atomic_load(&s.parked) < 2; i++) {
    struct timespec ts = {0, 2000000L};
    nanosleep(&ts, NULL);
  }
  assert_int_equal(atomic_load(&s.parked), 2);
  assert_int_equal(wd_http_server_shutdown(srv, 100), -WD_E_INTERNAL); /* it was in flight */
  pthread_join(t2, NULL);
  /* closed without an answer, or told the server is stopping: never the
   * handler's own answer, since its work never finished */
  assert_true(stuck.r.status == 0 || stuck.r.status == 503);
  if (stuck.r.status == 503) assert_non_null(strstr(stuck.r.body, "server is stopping"));
  assert_int_equal(atomic_load(&s.closed), 2);
  assert_int_equal(wd_http_server_inflight(srv), 0);
  wd_http_server_free(srv);
}

/* A client that sent its headers and part of its body, then stalls, is
 * dropped at the stop's deadline without failing the stop: it could
 * otherwise make any clean stop look like a failed one. */
static void stalled_sender_does_not_fail_stop(void **state) {
  (void)state;
  svc s = {.ready = 1};
  wd_http_server *srv = start(&s, 0);
  int fd = raw_open(wd_http_server_port(srv));
  raw_send(fd, "POST /v1/echo HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\n"
               "Content-Length: 100\r\n\r\n{\"a\":");
  for (int i = 0; i < 500 && wd_http_server_inflight(srv) < 1; i++) {
    struct timespec ts = {0, 2000000L};
    nanosleep(&ts, NULL);
  }
  assert_int_equal(wd_http_server_inflight(srv), 1);
  assert_int_equal(wd_http_server_shutdown(srv, 100), 0);
  (void)close(fd);
  wd_http_server_free(srv);
}

/* A client that pipelines requests and never reads their answers holds
 * answered requests in flight; they are done, and must not fail the stop
 * either. */
static void unread_answers_do_not_fail_stop(void **state) {
  (void)state;
  svc s = {.ready = 1};
  wd_http_server *srv = start(&s, 0);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  assert_true(fd >= 0);
  int tiny = 1;
  assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &tiny, sizeof tiny), 0);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons(wd_http_server_port(srv));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
  static const char one[] = "GET /healthz HTTP/1.1\r\nHost: h\r\n\r\n";
  /* Until the server's answers fill its send buffer and one stays in
   * flight: it stops reading once it cannot write (a slow build, such as
   * under ThreadSanitizer, takes longer to get there). */
  struct timespec ts = {0, 5000000L};
  int settled = 0;
  for (int round = 0, sent = 0; round < 4000 && !settled; round++) {
    while (sent < 200000 &&
           send(fd, one, sizeof one - 1, MSG_DONTWAIT) == (ssize_t)(sizeof one - 1))
      sent++;
    nanosleep(&ts, NULL);
    if (wd_http_server_inflight(srv) >= 1) {
      struct timespec pause = {0, 200000000L};
      nanosleep(&pause, NULL);
      settled = wd_http_server_inflight(srv) >= 1;
    }
  }
  assert_true(settled);
  assert_int_equal(wd_http_server_shutdown(srv, 100), 0);
  (void)close(fd);
  wd_http_server_free(srv);
}

/* A handler still running at the stop's deadline that parks its request
 * afterwards: libmicrohttpd aborts the process when it stops with a
 * connection suspended, so the late park is woken at once and answered
 * 503 (or closed), and its close hook still runs once. */
static void late_park_after_deadline(void **state) {
  (void)state;
  svc s = {.ready = 1};
  wd_http_server *srv = start(&s, 0);
  park_call late = {wd_http_server_port(srv), "/v1/park?late=1", {0}};
  pthread_t t;
  assert_int_equal(pthread_create(&t, NULL, park_client, &late), 0);
  for (int i = 0; i < 500 && !atomic_load(&s.late_started); i++) {
    struct timespec ts = {0, 2000000L};
    nanosleep(&ts, NULL);
  }
  assert_true(atomic_load(&s.late_started));
  assert_int_equal(wd_http_server_shutdown(srv, 100), -WD_E_INTERNAL);
  pthread_join(t, NULL);
  assert_true(late.r.status == 0 || late.r.status == 503);
  assert_int_equal(atomic_load(&s.closed), 1);
  assert_int_equal(wd_http_server_inflight(srv), 0);
  wd_http_server_free(srv);
}

/* Headers a credential hangs on come once, Host names a host and
 * nothing more, and an escaped NUL never cuts a path short. */
static void headers_checked(void **state) {
  (void)state;
  svc s = {.ready = 1};
  wd_http_server *srv = start(&s, 0);
  uint16_t port = wd_http_server_port(srv);
  static const struct {
    const char *head;
    long status;
    const char *body; /* substring */
  } rows[] = {
      {"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n", 200, "ok"},
      {"GET /healthz HTTP/1.1\r\nHost: [::1]:8080\r\n", 200, "ok"},
      {"GET /healthz HTTP/1.1\r\nHost: warden.example.com:443\r\n", 200, "ok"},
      {"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:1/v1/authorize?\r\n", 400, "\"field\":\"Host\""},
      {"GET /healthz HTTP/1.1\r\nHost: h/x#\r\n", 400, "invalid Host header"},
      {"GET /healthz HTTP/1.1\r\nHost: user@h\r\n", 400, "invalid Host header"},
      {"GET /healthz HTTP/1.1\r\nHost: h:\r\n", 400, "invalid Host header"},
      {"GET /healthz HTTP/1.1\r\nHost: h:123456\r\n", 400, "invalid Host header"},
      {"GET /healthz HTTP/1.1\r\nHost: [::1\r\n", 400, "invalid Host header"},
      {"GET /healthz HTTP/1.1\r\nHost: h\r\nDPoP: a\r\nDPoP: b\r\n", 400, "\"field\":\"DPoP\""},
      {"GET /healthz HTTP/1.1\r\nHost: h\r\nAuthorization: a\r\nauthorization: b\r\n", 400,
       "header given more than once"},
      {"GET /v1/items/ab%00cd?q=x%00y HTTP/1.1\r\nHost: h\r\n", 200,
       "{\"id\":\"ab%00cd\",\"q\":\"x%00y\"}"},
      {"GET /v1/items/a%41b HTTP/1.1\r\nHost: h\r\n", 200, "{\"id\":\"aAb\""},
      {"GET /v1/items/abc?q=1&q=2 HTTP/1.1\r\nHost: h\r\n", 400,
       "query parameter given more than once\",\"field\":\"q\""},
      {"GET /v1/items/abc?a=1&b=2&c=3&d=4&e=5&f=6&g=7&h=8&i=9&j=10&k=11&l=12&m=13&n=14&o=15&"
       "p=16&q=17&r=18&s=19&t=20&u=21&v=22&w=23&x=24&y=25&z=26&A=27&B=28&C=29&D=30&E=31&F=32&"
       "G=33 HTTP/1.1\r\nHost: h\r\n",
       400, "too many query parameters"},
      /* Two framings (the helper adds Content-Length: 0): refused, not
       * read as an empty body past the media-type check. */
      {"POST /v1/echo HTTP/1.1\r\nHost: h\r\nContent-Type: text/plain\r\n"
       "Transfer-Encoding: chunked\r\n",
       400, "\"field\":\"Transfer-Encoding\""},
  };
  /* A transfer coding libmicrohttpd does not decode: answered at once, not
   * left waiting for a body until the connection times out. */
  char coded[4096];
  int fd = raw_open(port);
  raw_send(fd, "POST /v1/echo HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\n"
               "Transfer-Encoding: gzip\r\nConnection: close\r\n\r\n");
  assert_int_equal(raw_answer(fd, coded, sizeof coded), 501);
  assert_non_null(strstr(coded, "\"field\":\"Transfer-Encoding\""));
  int fails = 0;
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    char body[4096];
    long st = raw_request(port, rows[i].head, NULL, body, sizeof body);
    if (st != rows[i].status || !strstr(body, rows[i].body)) {
      fprintf(stderr, "row %zu: got %ld %s, want %ld with %s\n", i, st, body, rows[i].status,
              rows[i].body);
      fails++;
    }
  }
  wd_http_server_free(srv);
  assert_int_equal(fails, 0);
}

/* The recheck runs once the body is in: a request whose headers passed
 * auth is refused if what it showed was revoked while its body arrived. */
static void recheck_after_body(void **state) {
  (void)state;
  svc s = {.ready = 1};
  wd_http_server *srv = start(&s, 0);
  uint16_t port = wd_http_server_port(srv);
  const char *head = "POST /v1/admin HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\n"
                     "Authorization: Bearer good\r\nContent-Length: 2\r\n"
                     "Connection: close\r\n\r\n";
  int fd = raw_open(port);
  raw_send(fd, head);
  raw_send(fd, "{}");
  char body[4096];
  assert_int_equal(raw_answer(fd, body, sizeof body), 200);
  fd = raw_open(port);
  raw_send(fd, head);
  struct timespec ts = {0, 50 * 1000000L}; /* let the headers be read first */
  nanosleep(&ts, NULL);
  atomic_store(&s.revoked, 1);
  raw_send(fd, "{}");
  assert_int_equal(raw_answer(fd, body, sizeof body), 401);
  assert_non_null(strstr(body, "revoked meanwhile"));
  wd_http_server_free(srv);
}

static void bad_options_refused(void **state) {
  (void)state;
  static const wd_http_route bad[] = {{"GET", "/v1/{id", h_item, WD_HTTP_AUTH_NONE}};
  wd_http_opts o;
  memset(&o, 0, sizeof o);
  o.host = "127.0.0.1";
  o.routes = bad;
  o.nroutes = 1;
  wd_http_server *srv = NULL;
  assert_int_equal(wd_http_server_start(&o, &srv), -WD_E_INVAL);
  assert_null(srv);
  o.nroutes = 0;
  o.host = "not-an-ip";
  assert_int_equal(wd_http_server_start(&o, &srv), -WD_E_INVAL);
  o.host = "127.0.0.1";
  o.threads = 10000;
  assert_int_equal(wd_http_server_start(&o, &srv), -WD_E_TOOBIG);
  /* Why a socket cannot be bound: an address in use, one not this host's. */
  o.threads = 1;
  wd_http_server *first = NULL;
  assert_int_equal(wd_http_server_start(&o, &first), 0);
  o.port = wd_http_server_port(first);
  assert_int_equal(wd_http_server_start(&o, &srv), -WD_E_EXISTS);
  assert_null(srv);
  wd_http_server_free(first);
  o.host = "192.0.2.1"; /* TEST-NET-1: never an address of this host */
  assert_int_equal(wd_http_server_start(&o, &srv), -WD_E_INVAL);
}

/* One address holds at most max_per_ip connections: another is closed
 * unanswered, and a slot freed serves again. */
static void per_ip_limit(void **state) {
  (void)state;
  wd_http_opts o;
  memset(&o, 0, sizeof o);
  o.host = "127.0.0.1";
  o.threads = 1;
  o.max_per_ip = 2;
  o.builtin_health = 1;
  wd_http_server *srv = NULL;
  assert_int_equal(wd_http_server_start(&o, &srv), 0);
  uint16_t port = wd_http_server_port(srv);
  int held[2] = {raw_open(port), raw_open(port)};
  struct timespec ts = {0, 200 * 1000000L};
  nanosleep(&ts, NULL); /* both accepted */
  int extra = raw_open(port);
  raw_send(extra, "GET /healthz HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
  char body[256];
  assert_int_equal(raw_answer(extra, body, sizeof body), 0);
  close(held[0]);
  nanosleep(&ts, NULL);
  int again = raw_open(port);
  raw_send(again, "GET /healthz HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
  assert_int_equal(raw_answer(again, body, sizeof body), 200);
  close(held[1]);
  wd_http_server_free(srv);
}

int main(void) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(statuses_and_bodies),
      cmocka_unit_test(oom_never_crashes),
      cmocka_unit_test(fifty_concurrent),
      cmocka_unit_test(slow_request_survives_shutdown),
      cmocka_unit_test(shutdown_under_connection_churn),
      cmocka_unit_test(stalled_sender_does_not_fail_stop),
      cmocka_unit_test(unread_answers_do_not_fail_stop),
      cmocka_unit_test(late_park_after_deadline),
      cmocka_unit_test(parked_requests_close),
      cmocka_unit_test(bad_options_refused),
      cmocka_unit_test(per_ip_limit),
      cmocka_unit_test(headers_checked),
      cmocka_unit_test(recheck_after_body),
  };
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  curl_global_cleanup();
  return rc;
}
