/* SPDX-License-Identifier: Apache-2.0
 *
 * The files of `--tls-cert` and `--tls-key`, read for the HTTP layer,
 * which takes PEM text. The key is read into one buffer of its exact size
 * (no growth leaves copies behind) and refused when other users may read
 * it, as ssh refuses an exposed private key.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gov/gov_int.h"
#include "util/wd_alloc.h"
#include "util/wd_limits.h"

/* The whole of a regular file up to WD_LIMIT_TLS_PEM_BYTES, NUL-terminated. */
static int read_pem(const char *what, const char *path, int secret, char **out, char *err,
                    size_t errlen) {
  *out = NULL;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    (void)snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
    return errno == ENOENT ? -WD_E_NOTFOUND : -WD_E_IO;
  }
  struct stat st;
  int rc = 0;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    (void)snprintf(err, errlen, "%s %s: not a regular file", what, path);
    rc = -WD_E_IO;
  } else if (st.st_size <= 0 || (uintmax_t)st.st_size > WD_LIMIT_TLS_PEM_BYTES) {
    (void)snprintf(err, errlen, "%s %s: %s (at most %u bytes)", what, path,
                   st.st_size <= 0 ? "empty" : "too large", (unsigned)WD_LIMIT_TLS_PEM_BYTES);
    rc = -WD_E_TOOBIG;
  } else if (secret && (st.st_mode & S_IRWXO)) {
    (void)snprintf(err, errlen, "%s %s: other users may read it (mode %04o); chmod o-rwx it", what,
                   path, (unsigned)(st.st_mode & 07777));
    rc = -WD_E_INVAL;
  }
  size_t n = rc ? 0 : (size_t)st.st_size, got = 0;
  char *buf = rc ? NULL : wd_malloc(n + 1);
  if (!rc && !buf) rc = -WD_E_NOMEM;
  while (!rc && got < n) {
    ssize_t k = read(fd, buf + got, n - got);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) {
      (void)snprintf(err, errlen, "%s %s: read failed", what, path);
      rc = -WD_E_IO;
    } else {
      got += (size_t)k;
    }
  }
  (void)close(fd);
  if (rc) {
    if (buf) wd_ident_cleanse(buf, got);
    wd_free(buf);
    return rc;
  }
  buf[n] = '\0';
  *out = buf;
  return 0;
}

int wd_gov__tls_load(const char *cert_path, const char *key_path, char **cert, char **key,
                     char *err, size_t errlen) {
  *cert = *key = NULL;
  int rc = read_pem("tls_cert", cert_path, 0, cert, err, errlen);
  if (!rc) rc = read_pem("tls_key", key_path, 1, key, err, errlen);
  if (rc) {
    wd_free(*cert);
    *cert = NULL;
  }
  return rc;
}
