/* SPDX-License-Identifier: Apache-2.0
 *
 * The client side of the HTTP API: one blocking libcurl call per request,
 * JSON in and out, the admin token from the environment, a fresh DPoP
 * proof per agent call, and the printing of server refusals. Nothing here
 * retries: a proof is single use, so a retry needs a new one anyway.
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "cli/client.h"
#include "util/wd_alloc.h"
#include "util/wd_buf.h"
#include "util/wd_limits.h"
#include "warden/err.h"

/* An answer larger than this is refused rather than buffered: a trace of
 * a long task is the largest thing the API returns. */
#define CL_RESP_CAP WD_LIMIT_BUF_DEFAULT

int cl_host_is_loopback(const char *host) {
  unsigned char a[16];
  /* Not "localhost.": libcurl resolves that one through DNS. */
  if (strcasecmp(host, "localhost") == 0) return 1;
  if (inet_pton(AF_INET, host, a) == 1) return a[0] == 127;
  if (inet_pton(AF_INET6, host, a) != 1) return 0;
  static const unsigned char lo[16] = {[15] = 1};
  static const unsigned char mapped[12] = {[10] = 0xff, [11] = 0xff};
  return memcmp(a, lo, 16) == 0 || (memcmp(a, mapped, 12) == 0 && a[12] == 127);
}

/* The authority of a URL: where it starts and its length (up to the
 * path, query or fragment); NULL when there is no "://". */
static const char *authority(const char *u, size_t *len) {
  const char *p = strstr(u, "://");
  if (!p) return NULL;
  p += 3;
  *len = strcspn(p, "/?#");
  return p;
}

/* The last '@' of an authority (the end of its user:password), or NULL. */
static const char *userinfo_end(const char *auth, size_t alen) {
  const char *at = NULL;
  for (size_t i = 0; auth && i < alen; i++)
    if (auth[i] == '@') at = auth + i;
  return at;
}

/* u without the user:password@ of its authority, into out (truncated). */
static void url_shown(const char *u, char *out, size_t cap) {
  size_t alen = 0;
  const char *auth = authority(u, &alen);
  const char *at = userinfo_end(auth, alen);
  if (!at)
    (void)snprintf(out, cap, "%s", u);
  else
    (void)snprintf(out, cap, "%.*s%s", (int)(auth - u), u, at + 1);
}

/* The host of an http(s) URL without brackets; -1 when there is none. */
static int url_host(const char *u, char *out, size_t cap) {
  size_t alen = 0;
  const char *p = authority(u, &alen);
  if (!p) return -1;
  const char *at = userinfo_end(p, alen);
  if (at) {
    alen -= (size_t)(at + 1 - p);
    p = at + 1;
  }
  const char *end;
  if (alen > 0 && *p == '[') {
    end = memchr(p, ']', alen);
    p++;
  } else {
    end = memchr(p, ':', alen);
    if (!end) end = p + alen;
  }
  if (!end || end <= p || (size_t)(end - p) >= cap) return -1;
  memcpy(out, p, (size_t)(end - p));
  out[end - p] = '\0';
  return 0;
}

int cl_ctx_init(cl_ctx *c, const char *cmd, const char *url_opt) {
  memset(c, 0, sizeof *c);
  c->cmd = cmd;
  const char *u = url_opt ? url_opt : getenv("WARDEN_URL");
  if (!u || !*u) {
    fprintf(stderr, "%s: no server: give --url URL or set WARDEN_URL\n", cmd);
    return CL_USAGE;
  }
  url_shown(u, c->shown, sizeof c->shown);
  int plain = strncmp(u, "http://", 7) == 0;
  if (!plain && strncmp(u, "https://", 8) != 0) {
    /* Not shown: without a scheme, a user:password in it cannot be told apart. */
    fprintf(stderr, "%s: server URL must start with http:// or https://\n", cmd);
    return CL_USAGE;
  }
  size_t alen = 0;
  const char *auth = authority(u, &alen);
  if (userinfo_end(auth, alen)) {
    /* It would travel in every DPoP proof's htu, and the server echoes a
     * mismatched htu back. */
    fprintf(stderr,
            "%s: server URL must not hold a user or password (%s): the admin token comes from "
            "WARDEN_ADMIN_TOKEN and an agent signs with its key\n",
            cmd, c->shown);
    return CL_USAGE;
  }
  if (strpbrk(u, "?#")) {
    /* Every path is appended to the URL, so a query or fragment would end
     * up in the middle of it. */
    fprintf(stderr, "%s: server URL must not hold a query or fragment ('?', '#'): %s\n", cmd,
            c->shown);
    return CL_USAGE;
  }
  char host[256];
  if (url_host(u, host, sizeof host) != 0) {
    fprintf(stderr, "%s: no host in the server URL %s\n", cmd, c->shown);
    return CL_USAGE;
  }
  c->loopback = cl_host_is_loopback(host);
  const char *insecure = getenv("WARDEN_INSECURE_HTTP");
  if (plain && !c->loopback && !(insecure && strcmp(insecure, "1") == 0)) {
    fprintf(stderr,
            "%s: refusing to send credentials in the clear to %s: use https:// (with "
            "WARDEN_CA_FILE=ca.pem for a private CA); only loopback may use http://, unless "
            "WARDEN_INSECURE_HTTP=1\n",
            cmd, host);
    return CL_USAGE;
  }
  size_t n = strlen(u);
  while (n > 0 && u[n - 1] == '/')
    n--;
  if (n >= sizeof c->url) {
    fprintf(stderr, "%s: server URL too long\n", cmd);
    return CL_USAGE;
  }
  memcpy(c->url, u, n);
  c->url[n] = '\0';
  n = strlen(c->shown);
  while (n > 0 && c->shown[n - 1] == '/')
    c->shown[--n] = '\0';
  return 0;
}

void cl_resp_clear(cl_resp *r) {
  json_decref(r->body);
  r->body = NULL;
  r->status = 0;
}

int cl_ok(const cl_resp *r) { return r->status >= 200 && r->status < 300; }

/* The answer as it arrives, and why it stopped being taken. */
typedef struct resp_sink {
  wd_buf buf;
  int err; /* -WD_E_TOOBIG past CL_RESP_CAP, -WD_E_NOMEM; 0 while all is well */
} resp_sink;

static size_t on_data(char *p, size_t size, size_t n, void *ud) {
  resp_sink *s = ud;
  /* size is 1 per libcurl's documentation; a short count aborts the call. */
  s->err = wd_buf_add(&s->buf, p, size * n);
  return s->err == 0 ? size * n : 0;
}

static int dump_buf(const char *p, size_t n, void *ud) {
  return wd_buf_add(ud, p, n) == 0 ? 0 : -1;
}

int cl_has_ctl(const char *s) {
  for (const unsigned char *p = (const unsigned char *)s; *p; p++)
    if (*p < 0x20 || *p == 0x7f) return 1;
  return 0;
}

int cl_call(const cl_ctx *c, const char *method, const char *path, const json_t *body,
            const char *authz, const char *dpop, cl_resp *out) {
  static int curl_ready;
  memset(out, 0, sizeof *out);
  if (!curl_ready) {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
      fprintf(stderr, "%s: cannot initialise libcurl\n", c->cmd);
      return CL_ERR;
    }
    curl_ready = 1;
  }
  int rc = CL_ERR;
  wd_buf url, req;
  resp_sink resp = {.err = 0};
  char hdr[WD_LIMIT_JWS_BYTES + 64]; /* one header line; may hold a secret */
  wd_buf_init(&url, 8192);
  wd_buf_init(&req, WD_LIMIT_HTTP_BODY_BYTES);
  wd_buf_init(&resp.buf, CL_RESP_CAP);
  struct curl_slist *headers = NULL, *h;
  CURL *e = curl_easy_init();
  if (!e) {
    fprintf(stderr, "%s: out of memory\n", c->cmd);
    goto out;
  }
  if (wd_buf_addf(&url, "%s%s", c->url, path) < 0) {
    fprintf(stderr, "%s: URL too long\n", c->cmd);
    goto out;
  }
  if (body && json_dump_callback(body, dump_buf, &req, JSON_COMPACT) != 0) {
    fprintf(stderr, "%s: request body too large\n", c->cmd);
    goto out;
  }
  if (!(h = curl_slist_append(headers, "Accept: application/json"))) goto nomem;
  headers = h;
  if (body) {
    if (!(h = curl_slist_append(headers, "Content-Type: application/json"))) goto nomem;
    headers = h;
  }
  /* A line break would end the header and start another one of the
   * value's choosing; callers name the source, this is the last guard. */
  if ((authz && cl_has_ctl(authz)) || (dpop && cl_has_ctl(dpop))) {
    fprintf(stderr, "%s: a credential holds a control character; nothing was sent\n", c->cmd);
    goto out;
  }
  if (authz) {
    int n = snprintf(hdr, sizeof hdr, "Authorization: %s", authz);
    if (n < 0 || (size_t)n >= sizeof hdr) goto toolong;
    if (!(h = curl_slist_append(headers, hdr))) goto nomem;
    headers = h;
  }
  if (dpop) {
    int n = snprintf(hdr, sizeof hdr, "DPoP: %s", dpop);
    if (n < 0 || (size_t)n >= sizeof hdr) goto toolong;
    if (!(h = curl_slist_append(headers, hdr))) goto nomem;
    headers = h;
  }

  (void)curl_easy_setopt(e, CURLOPT_URL, wd_buf_str(&url));
  (void)curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
  if (body) {
    (void)curl_easy_setopt(e, CURLOPT_POSTFIELDS, wd_buf_str(&req));
    (void)curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)wd_buf_len(&req));
  } else if (strcmp(method, "POST") == 0) {
    (void)curl_easy_setopt(e, CURLOPT_POSTFIELDS, "");
    (void)curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
  }
  (void)curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
  (void)curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data);
  (void)curl_easy_setopt(e, CURLOPT_WRITEDATA, &resp);
  (void)curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, 5L);
  (void)curl_easy_setopt(e, CURLOPT_TIMEOUT, (long)WD_LIMIT_HTTP_CONN_TIMEOUT_S);
  (void)curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  /* The path as built, never normalised: the proof's htu names it. */
  (void)curl_easy_setopt(e, CURLOPT_PATH_AS_IS, 1L);
  /* Never follow redirects: the proof's htu names this exact URL. */
  (void)curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
  (void)curl_easy_setopt(e, CURLOPT_USERAGENT, "warden-cli");
  /* Only the two schemes cl_ctx_init checked, whatever the URL becomes. */
#if LIBCURL_VERSION_NUM >= 0x075500
  (void)curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
#else
  (void)curl_easy_setopt(e, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
  /* A loopback server is reached directly: an http_proxy from the
   * environment would otherwise receive the credentials in the clear. */
  if (c->loopback) (void)curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
  /* A server with a certificate of a private CA (or self-signed). */
  const char *ca = getenv("WARDEN_CA_FILE");
  if (ca && *ca) (void)curl_easy_setopt(e, CURLOPT_CAINFO, ca);
  CURLcode cc = curl_easy_perform(e);
  out->unsent = cc == CURLE_UNSUPPORTED_PROTOCOL || cc == CURLE_URL_MALFORMAT ||
                cc == CURLE_COULDNT_RESOLVE_PROXY || cc == CURLE_COULDNT_RESOLVE_HOST ||
                cc == CURLE_COULDNT_CONNECT || cc == CURLE_SSL_CONNECT_ERROR ||
                cc == CURLE_PEER_FAILED_VERIFICATION || cc == CURLE_SSL_CACERT_BADFILE;
  if (cc == CURLE_WRITE_ERROR && resp.err) {
    /* libcurl would blame "writing received data to disk". */
    if (resp.err == -WD_E_TOOBIG)
      fprintf(stderr, "%s: %s %s%s: the server's answer is larger than %u MiB\n", c->cmd, method,
              c->shown, path, CL_RESP_CAP / (1024u * 1024u));
    else
      fprintf(stderr, "%s: %s %s%s: out of memory for the server's answer\n", c->cmd, method,
              c->shown, path);
    goto out;
  }
  if (cc != CURLE_OK) {
    fprintf(stderr, "%s: %s %s%s: %s\n", c->cmd, method, c->shown, path, curl_easy_strerror(cc));
    goto out;
  }
  (void)curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &out->status);
  if (wd_buf_len(&resp.buf) > 0)
    out->body =
        json_loadb(wd_buf_str(&resp.buf), wd_buf_len(&resp.buf), JSON_REJECT_DUPLICATES, NULL);
  /* Every success of the API is a JSON object. Anything else (a proxy's
   * page, a cut-off body) must not pass for one: callers read members of
   * the body and would take their absence for an empty list or a DENY. */
  if (cl_ok(out) && !json_is_object(out->body)) {
    fprintf(stderr,
            "%s: unexpected answer from the server to %s %s%s (HTTP %ld): not a JSON object\n",
            c->cmd, method, c->shown, path, out->status);
    goto out;
  }
  rc = 0;
  goto out;
toolong:
  fprintf(stderr, "%s: credential too long\n", c->cmd);
  goto out;
nomem:
  fprintf(stderr, "%s: out of memory\n", c->cmd);
out:
  curl_slist_free_all(headers);
  if (e) curl_easy_cleanup(e);
  /* The Authorization header holds a secret; do not leave it on the stack. */
  wd_ident_cleanse(hdr, sizeof hdr);
  wd_buf_free(&url);
  wd_buf_free(&req);
  wd_buf_free(&resp.buf);
  return rc;
}

int cl_admin(const cl_ctx *c, const char *method, const char *path, const json_t *body,
             cl_resp *out) {
  memset(out, 0, sizeof *out);
  const char *tok = getenv("WARDEN_ADMIN_TOKEN");
  if (!tok || !*tok) {
    fprintf(stderr, "%s: set WARDEN_ADMIN_TOKEN to the admin token (it is never a flag)\n", c->cmd);
    return CL_USAGE;
  }
  if (cl_has_ctl(tok)) {
    fprintf(stderr,
            "%s: WARDEN_ADMIN_TOKEN holds a control character (a line break?); it goes into an "
            "HTTP header, where it would start another one\n",
            c->cmd);
    return CL_USAGE;
  }
  char a[1024];
  int n = snprintf(a, sizeof a, "Bearer %s", tok);
  if (n < 0 || (size_t)n >= sizeof a) {
    fprintf(stderr, "%s: WARDEN_ADMIN_TOKEN too long\n", c->cmd);
    return CL_USAGE;
  }
  int rc = cl_call(c, method, path, body, a, NULL, out);
  wd_ident_cleanse(a, sizeof a);
  return rc;
}

int cl_agent(const cl_ctx *c, const wd_ident_key *key, const char *token, const char *method,
             const char *path, const json_t *body, cl_resp *out) {
  memset(out, 0, sizeof *out);
  char htu[2048];
  int n = snprintf(htu, sizeof htu, "%s%s", c->url, path);
  if (n < 0 || (size_t)n >= sizeof htu) {
    fprintf(stderr, "%s: URL too long\n", c->cmd);
    return CL_ERR;
  }
  char *proof = NULL;
  int rc = wd_ident_dpop_make(key, method, htu, token, (int64_t)time(NULL), &proof);
  if (rc < 0) {
    fprintf(stderr, "%s: cannot make the DPoP proof: %s\n", c->cmd, wd_strerror(rc));
    return CL_ERR;
  }
  char a[WD_LIMIT_JWS_BYTES + 16];
  n = token ? snprintf(a, sizeof a, "DPoP %s", token) : 0;
  if (n < 0 || (size_t)n >= sizeof a) {
    fprintf(stderr, "%s: task token too long\n", c->cmd);
    wd_free(proof);
    return CL_ERR;
  }
  rc = cl_call(c, method, path, body, token ? a : NULL, proof, out);
  wd_ident_cleanse(a, sizeof a);
  wd_free(proof);
  return rc;
}

int cl_fail(const cl_ctx *c, const cl_resp *r) {
  const json_t *err = json_object_get(r->body, "error");
  const char *code = json_string_value(json_object_get(err, "code"));
  const char *msg = json_string_value(json_object_get(err, "message"));
  const char *field = json_string_value(json_object_get(err, "field"));
  const char *what = r->status == 401 ? "refused" : r->status == 403 ? "denied" : "error";
  if (code || msg)
    fprintf(stderr, "%s: %s (HTTP %ld %s): %s%s%s%s\n", c->cmd, what, r->status, code ? code : "?",
            msg ? msg : "", field ? " [field: " : "", field ? field : "", field ? "]" : "");
  else
    fprintf(stderr, "%s: %s: HTTP %ld with no error body\n", c->cmd, what, r->status);
  /* A task-level denial names the policies that decided it, like authorize. */
  if (r->body) {
    cl_print_policies(stderr, r->body);
    if (err) cl_print_policies(stderr, err);
    const char *did = json_string_value(json_object_get(r->body, "decision_id"));
    if (!did) did = json_string_value(json_object_get(err, "decision_id"));
    if (did) fprintf(stderr, "  decision %s\n", did);
  }
  return r->status == 401 || r->status == 403 ? CL_DENY : CL_ERR;
}

int cl_path(const cl_ctx *c, char *out, size_t cap, const char *prefix, const char *segment,
            const char *suffix) {
  static const char hex[] = "0123456789ABCDEF";
  size_t o = 0;
  int fits = 1;
  for (const char *p = prefix; *p && fits; p++) {
    if (o + 1 >= cap)
      fits = 0;
    else
      out[o++] = *p;
  }
  /* A segment of dots alone would be a dot segment, which URL resolution
   * removes: "agent show .." would ask about /v1/agents instead. */
  int dots = strcmp(segment, ".") == 0 || strcmp(segment, "..") == 0;
  for (const unsigned char *p = (const unsigned char *)segment; *p && fits; p++) {
    int plain =
        !dots && ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                  (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' || *p == '~');
    if (plain) {
      if (o + 1 >= cap)
        fits = 0;
      else
        out[o++] = (char)*p;
    } else {
      if (o + 3 >= cap) {
        fits = 0;
      } else {
        out[o++] = '%';
        out[o++] = hex[*p >> 4];
        out[o++] = hex[*p & 15];
      }
    }
  }
  for (const char *p = suffix ? suffix : ""; *p && fits; p++) {
    if (o + 1 >= cap)
      fits = 0;
    else
      out[o++] = *p;
  }
  if (!*segment) {
    /* "/v1/agents/" is another route than any agent's. */
    fprintf(stderr, "%s: the name or id is empty\n", c->cmd);
    if (cap) out[0] = '\0';
    return CL_USAGE;
  }
  if (!fits || cap == 0) {
    fprintf(stderr, "%s: name too long: %s\n", c->cmd, segment);
    if (cap) out[0] = '\0';
    return CL_USAGE;
  }
  out[o] = '\0';
  return 0;
}
