/* SPDX-License-Identifier: Apache-2.0
 *
 * The per-request path through libmicrohttpd: build the request object,
 * route it, check auth, take the body under its cap, parse JSON, call the
 * handler and send its response. Every refusal before the handler (404,
 * 405, 401, 413, 415, 400) is decided here, with the uniform error body.
 * Nothing here may crash on a handler failure or out of memory: the worst
 * outcome is a fixed 500 body, or closing the connection when even that
 * cannot be allocated. Lifecycle (start, shutdown) is server.c.
 */
#define _POSIX_C_SOURCE 200809L
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "http/http_int.h"
#include "util/wd_alloc.h"
#include "util/wd_buf.h"
#include "util/wd_limits.h"
#include "warden/err.h"

/* Sent when even building an error response failed. Not const: MHD's
 * buffer API takes void * even in PERSISTENT mode, where it never writes. */
static char OOM_BODY[] = "{\"error\":{\"code\":\"internal\",\"message\":\"internal error\"}}";

typedef enum { PH_NEW = 0, PH_BODY, PH_SUSPENDED, PH_DONE } phase;

typedef struct reqctx {
  wd_http_req req; /* first: wd_http_resume finds the context from it */
  wd_http_server *srv;
  struct MHD_Connection *conn;
  wd_arena *arena;
  wd_http_resp resp;
  const wd_http_route *route;
  wd_buf body;
  phase ph;
  int too_big;                 /* body passed the cap: further bytes are dropped unread */
  void (*on_close)(void *arg); /* wd_http_on_close */
  void *on_close_arg;
  struct reqctx *susp_prev, *susp_next; /* in srv->susp while suspended */
  int in_susp;
  int handling;            /* counted in srv->handling */
  unsigned sent;           /* status of the response queued; 0: none */
  struct timespec started; /* for the access hook */
} reqctx;

/* With srv->susp_mu held. */
static void susp_unlink(reqctx *x) {
  wd_http_server *s = x->srv;
  if (!x->in_susp) return;
  if (x->susp_prev)
    x->susp_prev->susp_next = x->susp_next;
  else
    s->susp = x->susp_next;
  if (x->susp_next) x->susp_next->susp_prev = x->susp_prev;
  x->susp_prev = x->susp_next = NULL;
  x->in_susp = 0;
}

/* ---- building the request ---- */

typedef struct kvcollect {
  wd_arena *arena;
  wd_http_kv *kv;
  size_t n, cap;
  int failed;
} kvcollect;

static enum MHD_Result collect_kv(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *value) {
  (void)kind;
  kvcollect *c = cls;
  if (c->n == c->cap) {
    if (!c->kv) c->failed = 1; /* counting pass was wrong: refuse rather than truncate */
    return MHD_NO;
  }
  if (!c->kv) return MHD_YES;
  c->kv[c->n].name = wd_arena_strndup(c->arena, key, strlen(key));
  c->kv[c->n].value = wd_arena_strndup(c->arena, value ? value : "", value ? strlen(value) : 0);
  if (!c->kv[c->n].name || !c->kv[c->n].value) {
    c->failed = 1;
    return MHD_NO;
  }
  c->n++;
  return MHD_YES;
}

static int collect(struct MHD_Connection *c, enum MHD_ValueKind kind, wd_arena *a,
                   const wd_http_kv **out, size_t *n) {
  int count = MHD_get_connection_values(c, kind, NULL, NULL);
  *out = NULL;
  *n = 0;
  if (count <= 0) return 0;
  kvcollect kc = {a, NULL, 0, (size_t)count, 0};
  kc.kv = wd_arena_calloc(a, kc.cap, sizeof *kc.kv);
  if (!kc.kv) return -WD_E_NOMEM;
  (void)MHD_get_connection_values(c, kind, collect_kv, &kc);
  if (kc.failed) return -WD_E_NOMEM;
  *out = kc.kv;
  *n = kc.n;
  return 0;
}

static void peer_of(struct MHD_Connection *c, char *out, size_t len) {
  out[0] = '\0';
  const union MHD_ConnectionInfo *ci =
      MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  if (!ci || !ci->client_addr) return;
  const struct sockaddr *sa = ci->client_addr;
  socklen_t sl = sa->sa_family == AF_INET6 ? (socklen_t)sizeof(struct sockaddr_in6)
                                           : (socklen_t)sizeof(struct sockaddr_in);
  char host[INET6_ADDRSTRLEN + 1], serv[8];
  if (getnameinfo(sa, sl, host, sizeof host, serv, sizeof serv, NI_NUMERICHOST | NI_NUMERICSERV) !=
      0)
    return;
  if (sa->sa_family == AF_INET6)
    (void)snprintf(out, len, "[%s]:%s", host, serv);
  else
    (void)snprintf(out, len, "%s:%s", host, serv);
}

/* ---- sending ---- */

static enum MHD_Result send_static_500(reqctx *x, struct MHD_Connection *c) {
  if (x) x->sent = 500;
  struct MHD_Response *r =
      MHD_create_response_from_buffer(sizeof OOM_BODY - 1, OOM_BODY, MHD_RESPMEM_PERSISTENT);
  if (!r) return MHD_NO;
  (void)MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
  enum MHD_Result ok = MHD_queue_response(c, MHD_HTTP_INTERNAL_SERVER_ERROR, r);
  MHD_destroy_response(r);
  return ok;
}

static int dump_to_buf(const char *p, size_t n, void *b) {
  return wd_buf_add(b, p, n) == 0 ? 0 : -1;
}

static void free_body(void *text) { wd_free(text); }

/* The WWW-Authenticate challenge of a 401, into out; 0, or -1 when it
 * does not fit. Bearer on the admin's routes and wherever an admin's
 * Bearer token was refused (some task routes take one); DPoP elsewhere,
 * enrolment included, whose proof binds the key it enrols. */
static int challenge(const reqctx *x, char *out, size_t cap) {
  const wd_http_req *req = &x->req;
  const char *authz = wd_http_header(req, "Authorization");
  int sent = authz || wd_http_header(req, "DPoP");
  int bearer = (x->route && x->route->auth == WD_HTTP_AUTH_ADMIN) ||
               (authz && strncasecmp(authz, "Bearer ", 7) == 0);
  const char *error = x->resp._challenge ? x->resp._challenge : sent ? "invalid_token" : NULL;
  /* The algorithms a proof may be signed with (wd_ident: Ed25519, P-256). */
  const char *scheme = bearer ? "Bearer realm=\"warden\"" : "DPoP algs=\"EdDSA ES256\"";
  int n = snprintf(out, cap, "%s%s%s%s", scheme, error ? ", error=\"" : "", error ? error : "",
                   error ? "\"" : "");
  return n < 0 || (size_t)n >= cap ? -1 : 0;
}

static enum MHD_Result send_resp(reqctx *x, struct MHD_Connection *c) {
  wd_http_resp *resp = &x->resp;
  if (resp->status < 100 || resp->status > 599) return send_static_500(x, c);
  struct MHD_Response *r = NULL;
  int with_body = resp->_body || resp->_text;
  if (resp->_text) {
    r = MHD_create_response_from_buffer_with_free_callback(resp->_text_len, resp->_text, free_body);
    if (r) resp->_text = NULL; /* MHD's now */
  } else if (resp->_body) {
    /* One pass into our own memory, handed to MHD without a copy. */
    wd_buf b;
    wd_buf_init(&b, WD_LIMIT_BUF_DEFAULT);
    if (json_dump_callback(resp->_body, dump_to_buf, &b, JSON_COMPACT | JSON_ENCODE_ANY) != 0) {
      wd_buf_free(&b);
      return send_static_500(x, c);
    }
    size_t len = wd_buf_len(&b);
    char *text = wd_buf_take(&b);
    if (!text) return send_static_500(x, c);
    r = MHD_create_response_from_buffer_with_free_callback(len, text, free_body);
    if (!r) wd_free(text);
  } else {
    r = MHD_create_response_from_buffer(0, (void *)OOM_BODY, MHD_RESPMEM_PERSISTENT);
  }
  if (!r) return send_static_500(x, c);
  int ok = 1, typed = 0;
  for (size_t i = 0; i < resp->_nheaders; i++)
    typed |= strcasecmp(resp->_headers[i].name, MHD_HTTP_HEADER_CONTENT_TYPE) == 0;
  if (with_body && !typed)
    ok = MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json") == MHD_YES;
  ok = ok && MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store") == MHD_YES;
  char chal[128];
  if (ok && resp->status == 401 && challenge(x, chal, sizeof chal) == 0)
    ok = MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, chal) == MHD_YES;
  for (size_t i = 0; ok && i < resp->_nheaders; i++)
    ok = MHD_add_response_header(r, resp->_headers[i].name, resp->_headers[i].value) == MHD_YES;
  if (!ok) {
    MHD_destroy_response(r);
    return send_static_500(x, c);
  }
  enum MHD_Result q = MHD_queue_response(c, resp->status, r);
  MHD_destroy_response(r);
  if (q == MHD_YES) x->sent = resp->status;
  /* The work is done once its answer is queued: a client that does not
   * read it must not hold the stop's verdict. */
  if (q == MHD_YES && x->handling) {
    x->handling = 0;
    atomic_fetch_sub(&x->srv->handling, 1u);
  }
  return q;
}

/* Fills the error body and sends it; falls back to the fixed 500. */
static enum MHD_Result send_error(reqctx *x, struct MHD_Connection *c, unsigned status,
                                  const char *code, const char *field, const char *msg) {
  x->ph = PH_DONE;
  if (wd_http_resp_error(&x->resp, status, code, field, "%s", msg) < 0)
    return send_static_500(x, c);
  return send_resp(x, c);
}

/* ---- phases ---- */

/* A body framed in a way that is refused, and the answer to give. */
typedef struct framing_error {
  unsigned status;
  const char *code, *field, *msg;
} framing_error;

/* Two framings: which one ends the body is where request smuggling lives
 * (RFC 9112 section 6.3), and libmicrohttpd reads the chunks. */
static const framing_error TWO_FRAMINGS = {
    400, "bad_request", "Transfer-Encoding",
    "Content-Length and Transfer-Encoding must not be sent together"};
/* libmicrohttpd decodes chunked and nothing else; a body in another coding
 * would be waited for until the connection timed out. */
static const framing_error CODING = {501, "not_implemented", "Transfer-Encoding",
                                     "only the chunked transfer coding is understood"};
static const framing_error BAD_LENGTH = {400, "bad_request", "Content-Length",
                                         "invalid Content-Length"};

/* Whether the request has a body; *clen gets its declared length, and
 * *bad what is wrong with its framing (NULL when nothing is). */
static int has_body(const wd_http_req *req, unsigned long long *clen, const framing_error **bad) {
  const char *cl = wd_http_header(req, MHD_HTTP_HEADER_CONTENT_LENGTH);
  const char *te = wd_http_header(req, MHD_HTTP_HEADER_TRANSFER_ENCODING);
  *clen = 0;
  *bad = cl && te                               ? &TWO_FRAMINGS
         : te && strcasecmp(te, "chunked") != 0 ? &CODING
         : cl && (cl[0] < '0' || cl[0] > '9')   ? &BAD_LENGTH
                                                : NULL;
  if (*bad) return 1;
  if (cl) {
    char *end = NULL;
    *clen = strtoull(cl, &end, 10);
    if (!end || *end != '\0') *bad = &BAD_LENGTH;
    return *clen > 0;
  }
  return te != NULL;
}

/* Answers a request an auth callback refused (arc != 0). */
static enum MHD_Result refuse(reqctx *x, struct MHD_Connection *c, int arc) {
  x->ph = PH_DONE;
  /* A failure inside the check (out of memory, the store) is the
   * server's, not the credential's: a 401 would send the agent to fix a
   * credential that may be fine. */
  if (x->resp.status == 0 &&
      (arc < 0 ? wd_http_resp_error(&x->resp, 500, "internal", NULL, "internal error")
               : wd_http_resp_error(&x->resp, 401, "unauthorized", NULL,
                                    "authentication required")) < 0)
    return send_static_500(x, c);
  return send_resp(x, c);
}

static enum MHD_Result first_call(reqctx *x, struct MHD_Connection *c, const char *url,
                                  const char *method) {
  wd_http_server *s = x->srv;
  wd_http_req *req = &x->req;
  req->arena = x->arena;
  req->_srv = s;
  req->body = "";
  req->method = wd_arena_strndup(x->arena, method, strlen(method));
  req->path = wd_arena_strndup(x->arena, url, strlen(url));
  if (!req->method || !req->path) return send_static_500(x, c);
  if (collect(c, MHD_HEADER_KIND, x->arena, &req->headers, &req->nheaders) < 0 ||
      collect(c, MHD_GET_ARGUMENT_KIND, x->arena, &req->query, &req->nquery) < 0)
    return send_static_500(x, c);
  peer_of(c, req->peer, sizeof req->peer);
  const char *bad_name = NULL, *why = NULL;
  if (!wd_http__headers_ok(req, &bad_name, &why))
    return send_error(x, c, 400, "bad_request", bad_name, why);

  wd_http_match m;
  int rc = wd_http_route_find(s->routes, s->nroutes, req->method, req->path, x->arena, &m);
  if (rc == -WD_E_NOTFOUND) return send_error(x, c, 404, "not_found", NULL, "no such route");
  if (rc == -WD_E_INVAL) {
    if (wd_http_resp_header(&x->resp, MHD_HTTP_HEADER_ALLOW, m.allow) < 0)
      return send_static_500(x, c);
    char msg[128];
    (void)snprintf(msg, sizeof msg, "method %s not allowed; allowed: %s", req->method, m.allow);
    return send_error(x, c, 405, "method_not_allowed", NULL, msg);
  }
  if (rc < 0) return send_static_500(x, c);
  x->route = &s->routes[m.index];
  req->params = m.params;
  req->nparams = m.nparams;
  req->auth = x->route->auth;

  if (x->route->auth != WD_HTTP_AUTH_NONE) {
    if (!s->opts.auth)
      return send_error(x, c, 401, "unauthorized", NULL, "authentication required");
    int arc = s->opts.auth(req, &x->resp, s->opts.svc);
    if (arc != 0) return refuse(x, c, arc);
  }

  unsigned long long clen = 0;
  const framing_error *bad = NULL;
  if (has_body(req, &clen, &bad)) {
    if (bad) return send_error(x, c, bad->status, bad->code, bad->field, bad->msg);
    if (clen > s->max_body) {
      char msg[96];
      (void)snprintf(msg, sizeof msg, "request body exceeds %zu bytes", s->max_body);
      return send_error(x, c, 413, "payload_too_large", NULL, msg);
    }
    if (!wd_http_is_json_type(wd_http_header(req, MHD_HTTP_HEADER_CONTENT_TYPE)))
      return send_error(x, c, 415, "unsupported_media_type", "Content-Type",
                        "request body must be application/json");
  }
  x->ph = PH_BODY;
  return MHD_YES;
}

static enum MHD_Result call_handler(reqctx *x, struct MHD_Connection *c);

void wd_http_suspend(wd_http_req *req) {
  reqctx *x = (reqctx *)(void *)req;
  wd_http_server *s = x->srv;
  pthread_mutex_lock(&s->susp_mu);
  if (s->resumed_all) {
    /* A handler that outlived the stop's deadline: the daemon is stopping
     * and aborts the process if it finds a connection still suspended, so
     * this one is woken at once, abandoned, like those shutdown woke. */
    x->req.abandoned = 1;
    MHD_suspend_connection(x->conn);
    MHD_resume_connection(x->conn);
    pthread_mutex_unlock(&s->susp_mu);
    return;
  }
  x->susp_prev = NULL;
  x->susp_next = s->susp;
  if (s->susp) s->susp->susp_prev = x;
  s->susp = x;
  x->in_susp = 1;
  MHD_suspend_connection(x->conn);
  pthread_mutex_unlock(&s->susp_mu);
}

void wd_http_resume(wd_http_req *req) {
  reqctx *x = (reqctx *)(void *)req;
  wd_http_server *s = x->srv;
  pthread_mutex_lock(&s->susp_mu);
  /* Not in the list: shutdown already woke it, and a second resume of
   * one suspension is not allowed. */
  if (x->in_susp) {
    susp_unlink(x);
    MHD_resume_connection(x->conn);
  }
  pthread_mutex_unlock(&s->susp_mu);
}

void wd_http__resume_all(wd_http_server *s) {
  pthread_mutex_lock(&s->susp_mu);
  s->resumed_all = 1;
  while (s->susp) {
    reqctx *x = s->susp;
    x->req.abandoned = 1;
    susp_unlink(x);
    MHD_resume_connection(x->conn);
  }
  pthread_mutex_unlock(&s->susp_mu);
}

void wd_http_on_close(wd_http_req *req, void (*fn)(void *arg), void *arg) {
  reqctx *x = (reqctx *)(void *)req;
  x->on_close = fn;
  x->on_close_arg = arg;
}

static enum MHD_Result final_call(reqctx *x, struct MHD_Connection *c) {
  wd_http_server *s = x->srv;
  wd_http_req *req = &x->req;
  if (x->too_big) {
    char msg[96];
    (void)snprintf(msg, sizeof msg, "request body exceeds %zu bytes", s->max_body);
    return send_error(x, c, 413, "payload_too_large", NULL, msg);
  }
  req->body_len = wd_buf_len(&x->body);
  if (req->body_len > 0) {
    req->body = wd_buf_str(&x->body);
    wd_http_json_err je;
    int rc = wd_http_parse_json_body(req->body, req->body_len, &req->json, &je);
    if (rc < 0) {
      char msg[256];
      (void)snprintf(msg, sizeof msg, "malformed JSON at line %d, column %d: %s", je.line,
                     je.column, je.message);
      return send_error(x, c, 400, "malformed_json", NULL, msg);
    }
  }
  x->ph = PH_DONE;
  if (x->route->auth != WD_HTTP_AUTH_NONE && s->opts.recheck) {
    int arc = s->opts.recheck(req, &x->resp, s->opts.svc);
    if (arc != 0) return refuse(x, c, arc);
  }
  return call_handler(x, c);
}

static enum MHD_Result call_handler(reqctx *x, struct MHD_Connection *c) {
  wd_http_server *s = x->srv;
  if (!x->handling) {
    x->handling = 1;
    atomic_fetch_add(&s->handling, 1u);
  }
  int rc = x->route->handler(&x->req, &x->resp, s->opts.svc);
  if (rc == WD_HTTP_SUSPENDED && !x->req.resumed) {
    x->ph = PH_SUSPENDED; /* wd_http_suspend already parked the connection */
    return MHD_YES;
  }
  if (rc < 0 || rc == WD_HTTP_SUSPENDED || x->resp.status == 0) {
    wd_http_resp_drop_body(&x->resp);
    x->resp._nheaders = 0;
    if (wd_http_resp_error(&x->resp, 500, "internal", NULL, "internal error") < 0)
      return send_static_500(x, c);
  }
  return send_resp(x, c);
}

enum MHD_Result wd_http__access(void *cls, struct MHD_Connection *c, const char *url,
                                const char *method, const char *version, const char *upload_data,
                                size_t *upload_data_size, void **con_cls) {
  (void)version;
  wd_http_server *s = cls;
  reqctx *x = *con_cls;
  if (!x) {
    x = wd_calloc(1, sizeof *x);
    if (!x) return send_static_500(NULL, c);
    x->arena = wd_arena_new(WD_LIMIT_HTTP_REQ_ARENA);
    if (!x->arena) {
      wd_free(x);
      return send_static_500(NULL, c);
    }
    x->srv = s;
    if (s->opts.access) (void)clock_gettime(CLOCK_MONOTONIC, &x->started);
    x->conn = c;
    x->resp._arena = x->arena;
    wd_buf_init(&x->body, s->max_body);
    *con_cls = x;
    atomic_fetch_add(&s->inflight, 1u);
    return first_call(x, c, url, method);
  }
  if (x->ph == PH_SUSPENDED) {
    x->ph = PH_DONE;
    x->req.resumed = 1;
    /* Woken by a stopping server, the work unfinished: never let the
     * handler answer as if it had finished. */
    if (x->req.abandoned) return send_error(x, c, 503, "unavailable", NULL, "server is stopping");
    return call_handler(x, c);
  }
  if (x->ph == PH_DONE) {
    /* A response is already queued; drop whatever body is still arriving. */
    *upload_data_size = 0;
    return MHD_YES;
  }
  if (*upload_data_size > 0) {
    if (!x->too_big) {
      int rc = wd_buf_add(&x->body, upload_data, *upload_data_size);
      if (rc == -WD_E_TOOBIG) {
        x->too_big = 1; /* wd_buf freed what it held: nothing more is stored */
      } else if (rc < 0) {
        *upload_data_size = 0;
        x->ph = PH_DONE;
        return send_static_500(x, c);
      }
    }
    *upload_data_size = 0;
    return MHD_YES;
  }
  return final_call(x, c);
}

void wd_http__completed(void *cls, struct MHD_Connection *c, void **con_cls,
                        enum MHD_RequestTerminationCode toe) {
  (void)c;
  (void)toe;
  wd_http_server *s = cls;
  reqctx *x = *con_cls;
  if (!x) return;
  *con_cls = NULL;
  if (x->on_close) x->on_close(x->on_close_arg);
  if (s->opts.access && x->req.method) {
    struct timespec now;
    (void)clock_gettime(CLOCK_MONOTONIC, &now);
    int64_t us = (int64_t)(now.tv_sec - x->started.tv_sec) * 1000000 +
                 (now.tv_nsec - x->started.tv_nsec) / 1000;
    s->opts.access(s->opts.svc, &x->req, x->sent, us);
  }
  pthread_mutex_lock(&s->susp_mu);
  susp_unlink(x);
  pthread_mutex_unlock(&s->susp_mu);
  json_decref(x->req.json);
  wd_http_resp_drop_body(&x->resp);
  wd_buf_free(&x->body);
  wd_arena_free(x->arena);
  if (x->handling) atomic_fetch_sub(&s->handling, 1u);
  wd_free(x);
  atomic_fetch_sub(&s->inflight, 1u);
}
