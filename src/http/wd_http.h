/* SPDX-License-Identifier: Apache-2.0
 *
 * Warden's HTTP/1.1 JSON service layer on libmicrohttpd. A service hands
 * over a route table (data, not code), an auth callback and readiness/flush
 * hooks; this module parses requests into arena-backed objects, enforces the
 * limits of wd_limits.h, dispatches, and renders JSON responses and the
 * uniform error body {"error": {"code", "message", "field"?}}. It knows
 * nothing about agents, tokens or policies: authentication decisions are the
 * service's callback, and so are constant-time comparisons.
 */
#ifndef WD_HTTP_H
#define WD_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "util/wd_arena.h"
#include "warden/export.h"

/* Who may call a route. The check itself is the service's auth callback. */
typedef enum { WD_HTTP_AUTH_NONE = 0, WD_HTTP_AUTH_ADMIN, WD_HTTP_AUTH_AGENT } wd_http_auth;

/* A name/value pair; both arena-owned. */
typedef struct wd_http_kv {
  const char *name;
  const char *value;
} wd_http_kv;

/* One request. Every pointer is arena-owned (valid until the request ends)
 * except json, which the request owns and releases itself. */
typedef struct wd_http_req {
  const char *method;
  const char *path;         /* percent-decoded, without the query */
  const wd_http_kv *params; /* {name} segments of the matched route pattern */
  size_t nparams;
  const wd_http_kv *query; /* decoded query arguments, in order */
  size_t nquery;
  const wd_http_kv *headers; /* request headers, in order, names as sent */
  size_t nheaders;
  const char *body; /* NUL-terminated; "" when there is none */
  size_t body_len;
  json_t *json;      /* the parsed body, or NULL when the body is empty */
  char peer[64];     /* "addr:port" of the client, "" if unknown */
  wd_http_auth auth; /* auth class of the matched route */
  void *auth_ctx;    /* set by the auth callback for the handler (e.g. the agent) */
  int resumed;       /* non-zero on the handler's second call, after wd_http_resume */
  int abandoned;     /* resumed by a stopping server, not by the work: fail closed */
  wd_arena *arena;   /* request arena; handlers may allocate from it */
  const struct wd_http_server *_srv;
} wd_http_req;

/* The response a handler fills. Built with the wd_http_resp_* helpers. */
typedef struct wd_http_resp {
  unsigned status; /* 0 until set */
  json_t *_body;   /* owned; NULL means no body */
  char *_text;     /* owned JSON text, instead of _body; wd_malloc'd */
  size_t _text_len;
  wd_http_kv *_headers; /* arena-owned extra headers */
  size_t _nheaders;
  wd_arena *_arena;
  const char *_challenge; /* static: wd_http_resp_challenge */
} wd_http_resp;

/* A handler returns 0 after filling resp, or -WD_E_xxx for a failure it
 * could not express; a negative return always becomes a 500 JSON error.
 * A handler that waits for something slow (a durable write) without
 * holding its worker thread calls wd_http_suspend, starts the work, and
 * returns WD_HTTP_SUSPENDED; whoever finishes the work calls
 * wd_http_resume, and the handler is then called once more with
 * req->resumed set, on a worker thread, to fill resp. */
typedef int (*wd_http_handler)(wd_http_req *req, wd_http_resp *resp, void *svc);

/* One route. pattern is "/v1/agents/{id}" style: literal segments and whole
 * {name} segments; the first match in table order wins. */
typedef struct wd_http_route {
  const char *method;
  const char *pattern;
  wd_http_handler handler;
  wd_http_auth auth;
} wd_http_route;

/* Decides whether req may use a route of class req->auth. Return 0 to let
 * the handler run, or fill resp (e.g. 401/403 via wd_http_resp_error) and
 * return non-zero. A negative -WD_E_xxx with resp left unset is a failure
 * of the check itself and becomes a 500; a positive one, a 401. Runs
 * after headers arrive and before the body is read. */
typedef int (*wd_http_auth_cb)(wd_http_req *req, wd_http_resp *resp, void *svc);
/* The recheck has the auth callback's form and returns; it runs once the
 * body is in, just before the handler, on a route that passed auth. The
 * client decides when the body arrives, so whatever may have been revoked
 * meanwhile must be checked again here. */
/* Returns 0 when the service can take traffic, otherwise fills reason
 * (NUL-terminated, at most len bytes) and returns non-zero. */
typedef int (*wd_http_ready_cb)(void *svc, char *reason, size_t len);
/* Called once at shutdown after in-flight requests finished (or the wait
 * ran out), before the daemon stops: flush logs here. */
typedef void (*wd_http_flush_cb)(void *svc);
/* Called once per request as it ends, answered or not, on an MHD thread,
 * with the status sent (0: none, e.g. the client left) and the time from
 * its first byte of headers to its end; req (and its auth_ctx) is still
 * valid. It must not block for long: every request waits for it. */
typedef void (*wd_http_access_cb)(void *svc, const wd_http_req *req, unsigned status,
                                  int64_t duration_us);

typedef struct wd_http_opts {
  const char *host; /* numeric IPv4/IPv6 address to bind */
  uint16_t port;    /* 0 = ephemeral; see wd_http_server_port */
  /* NULL: bind host:port at start; else a socket from wd_http_listen
   * (host and port unused), which the server takes, started or not (on
   * a failure of libmicrohttpd's own set-up it may stay open). */
  const int *listen_fd;
  unsigned threads;            /* worker threads; 0 = 2 */
  unsigned max_connections;    /* 0 = WD_LIMIT_HTTP_CONNECTIONS */
  unsigned max_per_ip;         /* connections from one address; 0 = no limit */
  unsigned conn_timeout_s;     /* 0 = WD_LIMIT_HTTP_CONN_TIMEOUT_S */
  size_t max_body;             /* 0 or larger than the limit = WD_LIMIT_HTTP_BODY_BYTES */
  const wd_http_route *routes; /* borrowed; must outlive the server */
  size_t nroutes;
  wd_http_auth_cb auth;     /* NULL: every non-NONE route answers 401 */
  wd_http_auth_cb recheck;  /* may be NULL: what auth decided holds */
  wd_http_ready_cb ready;   /* NULL: always ready */
  wd_http_flush_cb flush;   /* may be NULL */
  wd_http_access_cb access; /* may be NULL: no access log */
  void *svc;                /* passed to every callback */
  int builtin_health;       /* non-zero: serve GET /healthz and /readyz */
  /* HTTPS: the certificate chain and its private key as PEM text, both or
   * neither (NULL = plain HTTP); copied, TLS 1.2 and 1.3 only. */
  const char *tls_cert_pem, *tls_key_pem;
} wd_http_opts;

typedef struct wd_http_server wd_http_server;

/* Binds host:port and listens, without serving yet: a caller claims its
 * address before it changes any state, and connections made meanwhile
 * wait in the backlog. Returns 0 and an owned socket in *fd (hand it to
 * wd_http_opts.listen_fd, or close it), -WD_E_INVAL for a host that is
 * not a numeric address or an address that cannot be bound here (not this
 * host's, or a privileged port), -WD_E_EXISTS when it is in use,
 * -WD_E_TOOBIG when out of descriptors, -WD_E_IO otherwise. */
int wd_http_listen(const char *host, uint16_t port, int *fd) WD_WUR;

/* Starts serving. Returns 0 and an owned server (stop with
 * wd_http_server_free), -WD_E_INVAL for a bad option or route table,
 * -WD_E_TOOBIG past a limit, the codes of wd_http_listen when it binds
 * host:port itself, -WD_E_IO if the certificate and key are refused (or
 * TLS is asked of a libmicrohttpd built without it), -WD_E_NOMEM. Borrows
 * opts->routes. */
int wd_http_server_start(const wd_http_opts *opts, wd_http_server **out) WD_WUR;
/* The bound port (the actual one when opts->port was 0). */
uint16_t wd_http_server_port(const wd_http_server *s);
/* Requests currently being handled. */
unsigned wd_http_server_inflight(const wd_http_server *s);
/* Graceful stop: refuses new connections, waits up to wait_ms for in-flight
 * requests, calls the flush hook, stops the daemon. Returns 0, or
 * -WD_E_INTERNAL if a request whose handler had been called was still
 * unfinished at the deadline (one whose client was still sending it is
 * dropped without failing the stop). Safe to call once; later calls
 * return 0. */
int wd_http_server_shutdown(wd_http_server *s, unsigned wait_ms);
/* Shuts down (if not done, waiting WD_LIMIT_HTTP_SHUTDOWN_WAIT_S) and
 * frees; NULL is a no-op. */
void wd_http_server_free(wd_http_server *s);

#define WD_HTTP_SUSPENDED 1

/* Parks the request's connection; call from the handler, before the work
 * that will call wd_http_resume can start. */
void wd_http_suspend(wd_http_req *req);
/* Wakes a suspended request; callable from any thread, once. */
void wd_http_resume(wd_http_req *req);
/* fn(arg) runs once when the request ends, answered or not (a closed
 * connection, a daemon stopping with the request still suspended), on an
 * MHD thread and before the request's memory is freed; after it returns
 * the request must not be resumed. One per request: a later call
 * replaces it. */
void wd_http_on_close(wd_http_req *req, void (*fn)(void *arg), void *arg);

/* ---- request helpers (request.c) ---- */

/* Returns the value of the named route parameter, or NULL. */
const char *wd_http_param(const wd_http_req *req, const char *name);
/* Returns the first query argument with that name, or NULL. */
const char *wd_http_query(const wd_http_req *req, const char *name);
/* Returns the first header with that name (case-insensitive), or NULL. */
const char *wd_http_header(const wd_http_req *req, const char *name);

/* Why a body was refused: filled by wd_http_parse_json_body. */
typedef struct wd_http_json_err {
  int line, column; /* 1-based; 0 when unknown */
  char message[160];
} wd_http_json_err;

/* Parses body[0..len) as one JSON value of any kind (object, array or
 * scalar), rejecting duplicate keys and NUL bytes. Returns 0 and an owned value (json_decref)
 * or -WD_E_JSON with err filled, -WD_E_TOOBIG past the body limit. */
int wd_http_parse_json_body(const char *body, size_t len, json_t **out,
                            wd_http_json_err *err) WD_WUR;
/* Non-zero if a Content-Type value names JSON (application/json, with or
 * without parameters; case-insensitive). NULL is not JSON. */
int wd_http_is_json_type(const char *content_type);

/* ---- response helpers (response.c) ---- */

/* Sets status and body; takes ownership of body (NULL = no body) even on
 * failure. Returns 0 or -WD_E_NOMEM. */
int wd_http_resp_json(wd_http_resp *resp, unsigned status, json_t *body) WD_WUR;
/* Sets status and a body already written as JSON text[0..len); takes
 * ownership of text (wd_malloc'd; NULL means out of memory) even on
 * failure. Returns 0 or -WD_E_NOMEM. */
int wd_http_resp_text(wd_http_resp *resp, unsigned status, char *text, size_t len) WD_WUR;
/* Drops whatever body resp holds. */
void wd_http_resp_drop_body(wd_http_resp *resp);
/* Sets status and the uniform error body. field may be NULL (omitted).
 * Returns 0 or -WD_E_NOMEM. */
int wd_http_resp_error(wd_http_resp *resp, unsigned status, const char *code, const char *field,
                       const char *fmt, ...) WD_WUR __attribute__((format(printf, 5, 6)));
/* Adds a response header; copies both strings. A Content-Type given here
 * replaces the default application/json. Returns 0 or -WD_E_NOMEM. */
int wd_http_resp_header(wd_http_resp *resp, const char *name, const char *value) WD_WUR;
/* The error code (RFC 6750 section 3.1, RFC 9449 section 7.1: a static
 * string such as "invalid_dpop_proof") that the WWW-Authenticate
 * challenge of a 401 names. Every 401 carries a challenge: Bearer on the
 * admin's routes and for a refused Bearer token, DPoP elsewhere; without a
 * code given here it names "invalid_token" when the request carried
 * credentials, and none when it carried none. */
void wd_http_resp_challenge(wd_http_resp *resp, const char *error);

/* ---- routing (router.c); pure, no sockets ---- */

/* Outcome of wd_http_route_find. */
typedef struct wd_http_match {
  long index;         /* route index, or -1 */
  wd_http_kv *params; /* arena-owned */
  size_t nparams;
  char allow[64]; /* for 405: "GET, POST" (methods whose pattern matched) */
} wd_http_match;

/* Checks a route table: patterns start with '/', params are whole segments
 * with valid names, counts within limits. Returns 0 or -WD_E_INVAL/-WD_E_TOOBIG. */
int wd_http_routes_check(const wd_http_route *routes, size_t n) WD_WUR;
/* Matches method+path. Returns 0 with m->index set, -WD_E_NOTFOUND when no
 * pattern matches, -WD_E_INVAL when patterns match but not the method
 * (m->allow filled), -WD_E_NOMEM. HEAD matches GET routes. */
int wd_http_route_find(const wd_http_route *routes, size_t n, const char *method, const char *path,
                       wd_arena *arena, wd_http_match *m) WD_WUR;

#endif
