/* SPDX-License-Identifier: Apache-2.0
 *
 * The access log (`--access-log FILE`, `-` for stderr): one JSON line per
 * request as it ends, answered or not: time, peer, method, path, status,
 * duration and who asked (the admin, an agent with its task, or nobody).
 * It is the operators' record of traffic, failed credentials included,
 * which the evidence log does not hold; it never holds a credential, a
 * header or a body. Each line is one write(2) on an O_APPEND descriptor,
 * so threads never interleave, and a reopen (SIGHUP, after a rotation)
 * swaps the file under the same descriptor number with dup3.
 */
#define _GNU_SOURCE /* dup3 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gov/gov_int.h"

#define LINE_MAX_BYTES 8192

typedef struct line {
  char b[LINE_MAX_BYTES];
  size_t n;
  int full;
} line;

static void put(line *l, const char *s, size_t n) {
  if (l->full || n > sizeof l->b - 2 - l->n) {
    l->full = 1;
    return;
  }
  memcpy(l->b + l->n, s, n);
  l->n += n;
}

static void puts_raw(line *l, const char *s) { put(l, s, strlen(s)); }

/* A JSON string of arbitrary bytes: the path is the client's, decoded, and
 * need not be UTF-8; bytes from 0x80 are written as \u00XX. */
static void put_str(line *l, const char *s) {
  static const char hex[] = "0123456789abcdef";
  put(l, "\"", 1);
  for (const unsigned char *p = (const unsigned char *)s; *p && !l->full; p++) {
    if (*p == '"' || *p == '\\') {
      char e[2] = {'\\', (char)*p};
      put(l, e, 2);
    } else if (*p < 0x20 || *p >= 0x7f) {
      char e[6] = {'\\', 'u', '0', '0', hex[*p >> 4], hex[*p & 15]};
      put(l, e, 6);
    } else {
      put(l, (const char *)p, 1);
    }
  }
  put(l, "\"", 1);
}

static void member(line *l, const char *key, const char *v) {
  puts_raw(l, ",\"");
  puts_raw(l, key);
  puts_raw(l, "\":");
  if (v)
    put_str(l, v);
  else
    puts_raw(l, "null");
}

void wd_gov__access(void *svc, const wd_http_req *req, unsigned status, int64_t duration_us) {
  wd_gov *g = svc;
  wd_gov__who *w = req->auth_ctx;
  /* A request refused before its handler ran (a body that did not parse
   * or was too large, a client gone) spent its proof in memory only: a
   * restart would forget it. */
  if (w && w->proof_jti) (void)wd_gov__proof_flush(g, w);
  wd_gov__count_http(g, status);
  if (g->access_fd < 0) return;
  struct timespec ts;
  struct tm tmv;
  char tbuf[40], num[64];
  (void)clock_gettime(CLOCK_REALTIME, &ts);
  (void)gmtime_r(&ts.tv_sec, &tmv);
  size_t tn = strftime(tbuf, sizeof tbuf, "%Y-%m-%dT%H:%M:%S", &tmv);
  (void)snprintf(tbuf + tn, sizeof tbuf - tn, ".%03ldZ", ts.tv_nsec / 1000000);
  line l = {.n = 0, .full = 0};
  puts_raw(&l, "{\"time\":");
  put_str(&l, tbuf);
  member(&l, "peer", req->peer[0] ? req->peer : NULL);
  member(&l, "method", req->method);
  member(&l, "path", req->path);
  (void)snprintf(num, sizeof num, ",\"status\":%u,\"us\":%lld", status, (long long)duration_us);
  puts_raw(&l, num);
  member(&l, "who", !w ? "none" : w->admin ? "admin" : w->has_agent ? "agent" : "none");
  member(&l, "agent", w && w->has_agent ? w->agent.id : NULL);
  member(&l, "task", w && w->has_token ? w->task_id : NULL);
  if (l.full) {
    /* A path too long for a line: say so rather than drop the request. */
    l.n = 0;
    l.full = 0;
    puts_raw(&l, "{\"time\":");
    put_str(&l, tbuf);
    member(&l, "method", req->method);
    (void)snprintf(num, sizeof num, ",\"status\":%u,\"truncated\":true", status);
    puts_raw(&l, num);
  }
  put(&l, "}\n", 2);
  /* A full disk loses lines, never requests. */
  (void)!write(g->access_fd, l.b, l.n);
}

/* The file, or a duplicate of stderr for "-". */
static int open_log(const char *path) {
  if (strcmp(path, "-") == 0) return fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
  return open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
}

int wd_gov__access_open(wd_gov *g, const char *path, char *err, size_t errlen) {
  g->access_fd = -1;
  if (!path || !*path) return 0;
  (void)snprintf(g->access_path, sizeof g->access_path, "%s", path);
  g->access_fd = open_log(path);
  if (g->access_fd < 0) {
    (void)snprintf(err, errlen, "cannot open the access log %s: %s", path, strerror(errno));
    return -WD_E_IO;
  }
  return 0;
}

int wd_gov_reopen_logs(wd_gov *g) {
  if (!g || g->access_fd < 0 || strcmp(g->access_path, "-") == 0) return 0;
  int fd = open_log(g->access_path);
  if (fd < 0) return -WD_E_IO; /* keep writing to the old file */
  int rc = dup3(fd, g->access_fd, O_CLOEXEC) < 0 ? -WD_E_IO : 0;
  (void)close(fd);
  return rc;
}
