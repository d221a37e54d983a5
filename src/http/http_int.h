/* SPDX-License-Identifier: Apache-2.0
 *
 * Private to src/http: the server object and the libmicrohttpd callbacks
 * that dispatch.c provides to server.c. Services use wd_http.h only.
 */
#ifndef WD_HTTP_INT_H
#define WD_HTTP_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#include <microhttpd.h>

#include "http/wd_http.h"

struct wd_http_server {
  struct MHD_Daemon *daemon; /* NULL once stopped */
  wd_http_route *routes;     /* owned: builtins followed by the service's */
  size_t nroutes;
  wd_http_opts opts;        /* copy; opts.routes is borrowed, the PEM texts are */
  char *tls_cert, *tls_key; /* owned copies of them (the key cleansed at free) */
  size_t max_body;
  uint16_t port;
  atomic_uint inflight; /* requests between first callback and completion */
  atomic_uint handling; /* of those, the ones whose handler was called */
  atomic_int closing;   /* set at shutdown: new connections are closed at once */
  /* Suspended requests not yet resumed: MHD refuses to stop with any, so
   * shutdown wakes those still parked past its wait. */
  pthread_mutex_t susp_mu;
  struct reqctx *susp;
  int resumed_all; /* under susp_mu: shutdown woke the parked; a later park wakes at once */
};

/* Resumes every request still suspended and marks it abandoned
 * (wd_http_req.abandoned): called by shutdown before the daemon stops. */
void wd_http__resume_all(wd_http_server *s);

/* 1 when the headers and query are fit to read; else 0 with the name of
 * the header or query parameter (NULL for none) and what is wrong
 * (static strings): a repeated Host, Authorization, DPoP, Content-Type or
 * Content-Length, a Host that is not host[:port], a repeated query
 * parameter, or more than WD_LIMIT_HTTP_QUERY_ARGS of them. */
int wd_http__headers_ok(const wd_http_req *req, const char **name, const char **why);
/* MHD's unescape callback: percent-decoding in place, but %00 is kept as
 * it is, so a decoded NUL never cuts a path or a query value short. */
size_t wd_http__unescape(void *cls, struct MHD_Connection *c, char *s);

/* MHD_AccessHandlerCallback: cls is the wd_http_server. */
enum MHD_Result wd_http__access(void *cls, struct MHD_Connection *c, const char *url,
                                const char *method, const char *version, const char *upload_data,
                                size_t *upload_data_size, void **con_cls);
/* MHD_RequestCompletedCallback: frees the per-request state. */
void wd_http__completed(void *cls, struct MHD_Connection *c, void **con_cls,
                        enum MHD_RequestTerminationCode toe);

#endif
