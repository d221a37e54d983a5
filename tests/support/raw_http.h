/* SPDX-License-Identifier: Apache-2.0
 *
 * HTTP/1.1 by hand over a loopback socket, for tests that need what a
 * client library will not send: repeated headers, an odd Host, or a
 * request whose body arrives later than its headers. Include after
 * cmocka.h.
 */
#ifndef WD_TEST_RAW_HTTP_H
#define WD_TEST_RAW_HTTP_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* A connected socket to 127.0.0.1:port. */
static inline int raw_open(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  assert_true(fd >= 0);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
  return fd;
}

static inline void raw_send(int fd, const char *text) {
  size_t n = strlen(text), off = 0;
  while (off < n) {
    ssize_t k = write(fd, text + off, n - off);
    assert_true(k > 0);
    off += (size_t)k;
  }
}

/* Reads the whole answer (head and body) into buf until the server
 * closes (send "Connection: close"), closes fd, and returns the status. */
static inline long raw_answer_whole(int fd, char *buf, size_t cap) {
  size_t len = 0;
  ssize_t k;
  while (len < cap - 1 && (k = read(fd, buf + len, cap - 1 - len)) > 0)
    len += (size_t)k;
  buf[len] = '\0';
  close(fd);
  long status = 0;
  if (sscanf(buf, "HTTP/1.%*d %ld", &status) != 1) status = 0;
  return status;
}

/* Reads the answer until the server closes (send "Connection: close"),
 * closes fd, and returns the status; body (may be NULL) gets the body. */
static inline long raw_answer(int fd, char *body, size_t cap) {
  char buf[16384];
  long status = raw_answer_whole(fd, buf, sizeof buf);
  if (body && cap) {
    const char *b = strstr(buf, "\r\n\r\n");
    (void)snprintf(body, cap, "%s", b ? b + 4 : "");
  }
  return status;
}

/* One whole request: the head lines (each ending in \r\n, without the
 * blank line) and an optional body. */
static inline long raw_request(uint16_t port, const char *head, const char *body, char *out,
                               size_t cap) {
  int fd = raw_open(port);
  size_t blen = body ? strlen(body) : 0, cap_req = strlen(head) + blen + 80;
  char *req = malloc(cap_req);
  assert_non_null(req);
  (void)snprintf(req, cap_req, "%sContent-Length: %zu\r\nConnection: close\r\n\r\n%s", head, blen,
                 body ? body : "");
  raw_send(fd, req);
  free(req);
  return raw_answer(fd, out, cap);
}

#endif
