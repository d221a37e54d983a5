/* SPDX-License-Identifier: Apache-2.0
 *
 * Server lifecycle: validate options, merge the built-in health routes with
 * the service's table, start libmicrohttpd (epoll, internal thread pool,
 * connection/memory/time limits from wd_limits.h), report the bound port,
 * and shut down gracefully: refuse new connections, wait for in-flight
 * requests, flush, stop. Per-request work is dispatch.c. Signals are the
 * caller's business (see src/cli/serve.c): library code never installs
 * handlers.
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "http/http_int.h"
#include "util/wd_alloc.h"
#include "util/wd_limits.h"
#include "warden/err.h"

static int healthz(wd_http_req *req, wd_http_resp *resp, void *svc) {
  (void)req;
  (void)svc;
  json_t *b = json_pack("{s:s}", "status", "ok");
  if (!b) return -WD_E_NOMEM;
  return wd_http_resp_json(resp, 200, b);
}

static int readyz(wd_http_req *req, wd_http_resp *resp, void *svc) {
  const wd_http_server *s = req->_srv;
  char reason[128] = "";
  if (s->opts.ready && s->opts.ready(svc, reason, sizeof reason) != 0) {
    reason[sizeof reason - 1] = '\0';
    return wd_http_resp_error(resp, 503, "not_ready", NULL, "%s",
                              reason[0] ? reason : "service not ready");
  }
  json_t *b = json_pack("{s:s}", "status", "ready");
  if (!b) return -WD_E_NOMEM;
  return wd_http_resp_json(resp, 200, b);
}

static const wd_http_route BUILTIN[] = {
    {"GET", "/healthz", healthz, WD_HTTP_AUTH_NONE},
    {"GET", "/readyz", readyz, WD_HTTP_AUTH_NONE},
};

static int make_addr(const char *host, uint16_t port, struct sockaddr_storage *ss, int *v6) {
  memset(ss, 0, sizeof *ss);
  struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
  struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
  if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
    a4->sin_family = AF_INET;
    a4->sin_port = htons(port);
    *v6 = 0;
    return 0;
  }
  if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons(port);
    *v6 = 1;
    return 0;
  }
  return -WD_E_INVAL;
}

/* GnuTLS priorities (MHD's TLS is GnuTLS): its defaults without the
 * protocol versions older than TLS 1.2. */
#define TLS_PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

static void drop_tls(wd_http_server *s) {
  wd_free(s->tls_cert);
  if (s->tls_key) {
    volatile char *p = s->tls_key;
    while (*p)
      *p++ = 0;
    wd_free(s->tls_key);
  }
  s->tls_cert = s->tls_key = NULL;
}

/* MHD keeps pointers to the PEM texts: the server owns copies. */
static int tls_options(wd_http_server *s, const wd_http_opts *o, struct MHD_OptionItem *it) {
  if (!o->tls_cert_pem && !o->tls_key_pem) return 0;
  if (!o->tls_cert_pem || !o->tls_key_pem) return -WD_E_INVAL;
  if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) return -WD_E_IO;
  if (!(s->tls_cert = wd_strdup(o->tls_cert_pem)) || !(s->tls_key = wd_strdup(o->tls_key_pem))) {
    drop_tls(s);
    return -WD_E_NOMEM;
  }
  it[0] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, s->tls_cert};
  it[1] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, s->tls_key};
  it[2] =
      (struct MHD_OptionItem){MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)(uintptr_t)TLS_PRIORITIES};
  it[3] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
  return 0;
}

/* MHD_quiesce_daemon is not used: with an epoll thread pool it races the
 * workers' own removal of the listening socket, and whichever thread
 * loses the race makes libmicrohttpd abort (0.9.75 to 1.0.1). A stopping
 * server instead closes each new connection as soon as it is accepted. */
static enum MHD_Result accept_cb(void *cls, const struct sockaddr *addr, socklen_t addrlen) {
  (void)addr;
  (void)addrlen;
  const wd_http_server *s = cls;
  return atomic_load(&s->closing) ? MHD_NO : MHD_YES;
}

int wd_http_listen(const char *host, uint16_t port, int *out) {
  *out = -1;
  struct sockaddr_storage ss;
  int v6 = 0;
  if (!host || make_addr(host, port, &ss, &v6) < 0) return -WD_E_INVAL;
  int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno == EMFILE || errno == ENFILE ? -WD_E_TOOBIG : -WD_E_IO;
  int on = 1;
  /* What libmicrohttpd would set on a socket of its own: a restart may
   * bind while the last run's connections linger in TIME_WAIT, and an
   * IPv6 address means IPv6 only. */
  (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  if (v6) (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
  socklen_t len = v6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
  if (bind(fd, (const struct sockaddr *)&ss, len) != 0 || listen(fd, SOMAXCONN) != 0) {
    int rc = errno == EADDRINUSE                         ? -WD_E_EXISTS
             : errno == EADDRNOTAVAIL || errno == EACCES ? -WD_E_INVAL
                                                         : -WD_E_IO;
    close(fd);
    return rc;
  }
  *out = fd;
  return 0;
}

static int check_opts(const wd_http_opts *opts, size_t nb) {
  if (!opts->host && !opts->listen_fd) return -WD_E_INVAL;
  if (opts->nroutes > WD_LIMIT_HTTP_ROUTES - nb) return -WD_E_TOOBIG;
  int rc = wd_http_routes_check(opts->routes, opts->nroutes);
  if (rc < 0) return rc;
  if (opts->threads > WD_LIMIT_HTTP_THREADS || opts->max_connections > WD_LIMIT_HTTP_CONNECTIONS ||
      opts->conn_timeout_s > WD_LIMIT_HTTP_CONN_TIMEOUT_S)
    return -WD_E_TOOBIG;
  return 0;
}

int wd_http_server_start(const wd_http_opts *opts, wd_http_server **out) {
  *out = NULL;
  int fd = opts && opts->listen_fd ? *opts->listen_fd : -1;
  if (!opts) return -WD_E_INVAL;
  size_t nb = opts->builtin_health ? sizeof BUILTIN / sizeof BUILTIN[0] : 0;
  int rc = check_opts(opts, nb);
  if (rc == 0 && fd < 0) rc = wd_http_listen(opts->host, opts->port, &fd);
  if (rc < 0) {
    if (fd >= 0) close(fd);
    return rc;
  }
  unsigned threads = opts->threads ? opts->threads : 2;
  unsigned conns = opts->max_connections ? opts->max_connections : WD_LIMIT_HTTP_CONNECTIONS;
  unsigned tmo = opts->conn_timeout_s ? opts->conn_timeout_s : WD_LIMIT_HTTP_CONN_TIMEOUT_S;
  struct sockaddr_storage ss;
  socklen_t sslen = sizeof ss;
  int v6 = getsockname(fd, (struct sockaddr *)&ss, &sslen) == 0 && ss.ss_family == AF_INET6;

  wd_http_server *s = wd_calloc(1, sizeof *s);
  if (!s) {
    close(fd);
    return -WD_E_NOMEM;
  }
  s->opts = *opts;
  s->max_body = opts->max_body && opts->max_body < WD_LIMIT_HTTP_BODY_BYTES
                    ? opts->max_body
                    : WD_LIMIT_HTTP_BODY_BYTES;
  atomic_init(&s->inflight, 0u);
  atomic_init(&s->handling, 0u);
  atomic_init(&s->closing, 0);
  if (pthread_mutex_init(&s->susp_mu, NULL) != 0) {
    wd_free(s);
    close(fd);
    return -WD_E_NOMEM;
  }
  s->nroutes = nb + opts->nroutes;
  s->routes = wd_calloc(s->nroutes ? s->nroutes : 1, sizeof *s->routes);
  if (!s->routes) {
    pthread_mutex_destroy(&s->susp_mu);
    wd_free(s);
    close(fd);
    return -WD_E_NOMEM;
  }
  if (nb) memcpy(s->routes, BUILTIN, nb * sizeof *s->routes);
  if (opts->nroutes) memcpy(s->routes + nb, opts->routes, opts->nroutes * sizeof *s->routes);

  unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_ALLOW_SUSPEND_RESUME;
  if (v6) flags |= MHD_USE_IPv6;
  /* TLS takes up to three items, the per-address limit one; MHD_OPTION_END
   * closes the list. */
  struct MHD_OptionItem more[5] = {{MHD_OPTION_END, 0, NULL}};
  rc = tls_options(s, opts, more);
  if (rc == 0 && opts->max_per_ip) {
    size_t i = 0;
    while (more[i].option != MHD_OPTION_END)
      i++;
    more[i] = (struct MHD_OptionItem){
        MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        (intptr_t)(opts->max_per_ip < conns ? opts->max_per_ip : conns), NULL};
    more[i + 1] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
  }
  if (rc == 0 && s->tls_cert) flags |= MHD_USE_TLS;
  /* MHD splits the connection limit across the pool's threads. It closes
   * the listening socket when it stops, and when it refuses the TLS pair;
   * on its rarer failures (no pipe or epoll left) libmicrohttpd 0.9.75
   * keeps it, and the socket stays open until the process ends. */
  if (rc == 0)
    s->daemon =
        MHD_start_daemon(flags, 0, accept_cb, s, wd_http__access, s, MHD_OPTION_LISTEN_SOCKET, fd,
                         MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_CONNECTION_LIMIT, conns,
                         MHD_OPTION_CONNECTION_TIMEOUT, tmo, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
                         (size_t)WD_LIMIT_HTTP_CONN_MEMORY, MHD_OPTION_NOTIFY_COMPLETED,
                         wd_http__completed, s, MHD_OPTION_UNESCAPE_CALLBACK, wd_http__unescape,
                         NULL, MHD_OPTION_ARRAY, more, MHD_OPTION_END);
  if (!s->daemon) {
    if (rc) close(fd);
    pthread_mutex_destroy(&s->susp_mu);
    drop_tls(s);
    wd_free(s->routes);
    wd_free(s);
    return rc ? rc : -WD_E_IO;
  }
  s->port =
      ntohs(v6 ? ((struct sockaddr_in6 *)&ss)->sin6_port : ((struct sockaddr_in *)&ss)->sin_port);
  *out = s;
  return 0;
}

uint16_t wd_http_server_port(const wd_http_server *s) { return s ? s->port : 0; }

unsigned wd_http_server_inflight(const wd_http_server *s) {
  return s ? atomic_load(&((wd_http_server *)(uintptr_t)s)->inflight) : 0;
}

static void sleep_ms(unsigned ms) {
  struct timespec ts = {(time_t)(ms / 1000u), (long)(ms % 1000u) * 1000000L};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

int wd_http_server_shutdown(wd_http_server *s, unsigned wait_ms) {
  if (!s || !s->daemon) return 0;
  int rc = 0;
  atomic_store(&s->closing, 1);
  /* A request may still start after the count first reaches zero (on a
   * connection accepted just before): only the deadline fails the stop,
   * and only for work a handler began. A client still sending its request
   * at the deadline loses nothing but that request, and must not be able
   * to make a clean stop look like a failed one. */
  unsigned waited = 0;
  while (atomic_load(&s->inflight) > 0) {
    if (waited >= wait_ms) {
      rc = atomic_load(&s->handling) > 0 ? -WD_E_INTERNAL : 0;
      break;
    }
    sleep_ms(10);
    waited += 10;
  }
  if (s->opts.flush) s->opts.flush(s->opts.svc);
  wd_http__resume_all(s);
  MHD_stop_daemon(s->daemon);
  s->daemon = NULL;
  return rc;
}

void wd_http_server_free(wd_http_server *s) {
  if (!s) return;
  (void)wd_http_server_shutdown(s, WD_LIMIT_HTTP_SHUTDOWN_WAIT_S * 1000u);
  pthread_mutex_destroy(&s->susp_mu);
  drop_tls(s);
  wd_free(s->routes);
  wd_free(s);
}
