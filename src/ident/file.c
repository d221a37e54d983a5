/* SPDX-License-Identifier: Apache-2.0
 *
 * File helpers for key material. Writes are atomic (temporary file in the
 * same directory, fsync, rename, fsync of the directory) so a crash never
 * leaves a half-written key that would lock the service out, and files
 * are created 0600 from the start rather than chmod'ed after the secret
 * is already on disk.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ident_int.h"
#include "util/wd_alloc.h"
#include "util/wd_buf.h"
#include "warden/err.h"

static int write_all(int fd, const void *data, size_t len) {
  const char *p = data;
  while (len > 0) {
    ssize_t w = write(fd, p, len);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -WD_E_IO;
    }
    p += w;
    len -= (size_t)w;
  }
  return 0;
}

static void fsync_parent(const char *path) {
  const char *slash = strrchr(path, '/');
  char *dir = slash ? wd_strndup(path, slash == path ? 1 : (size_t)(slash - path)) : wd_strdup(".");
  if (!dir) return;
  int fd = open(dir, O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    (void)fsync(fd); /* best effort: the rename is already visible */
    (void)close(fd);
  }
  wd_free(dir);
}

int wd_ident__write_file_0600(const char *path, const void *data, size_t len) {
  if (!path || (!data && len)) return -WD_E_INVAL;
  wd_buf tmpl;
  wd_buf_init(&tmpl, 4096);
  int rc = wd_buf_addf(&tmpl, "%s.tmpXXXXXX", path);
  if (rc) return rc;
  char *tmp = wd_buf_take(&tmpl);
  if (!tmp) return -WD_E_NOMEM;
  /* mkstemp creates the file 0600 with O_EXCL. */
  int fd = mkstemp(tmp);
  if (fd < 0) {
    rc = -WD_E_IO;
    goto out;
  }
  if (fchmod(fd, S_IRUSR | S_IWUSR) != 0 || write_all(fd, data, len) != 0 || fsync(fd) != 0) {
    rc = -WD_E_IO;
    (void)close(fd);
    (void)unlink(tmp);
    goto out;
  }
  if (close(fd) != 0 || rename(tmp, path) != 0) {
    rc = -WD_E_IO;
    (void)unlink(tmp);
    goto out;
  }
  fsync_parent(path);
out:
  wd_free(tmp);
  return rc;
}

int wd_ident__read_file(const char *path, size_t cap, char **out, size_t *outlen) {
  *out = NULL;
  if (outlen) *outlen = 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno == ENOENT ? -WD_E_NOTFOUND : -WD_E_IO;
  int rc = 0;
  char *buf = wd_malloc(cap + 1);
  if (!buf) {
    rc = -WD_E_NOMEM;
    goto out;
  }
  size_t n = 0;
  for (;;) {
    if (n == cap) {
      char probe;
      ssize_t extra = read(fd, &probe, 1);
      if (extra > 0)
        rc = -WD_E_TOOBIG;
      else if (extra < 0)
        rc = -WD_E_IO;
      break;
    }
    ssize_t r = read(fd, buf + n, cap - n);
    if (r < 0) {
      if (errno == EINTR) continue;
      rc = -WD_E_IO;
      break;
    }
    if (r == 0) break;
    n += (size_t)r;
  }
  if (rc) {
    wd_ident_cleanse(buf, n);
    wd_free(buf);
    goto out;
  }
  buf[n] = '\0';
  *out = buf;
  if (outlen) *outlen = n;
out:
  (void)close(fd);
  return rc;
}
