/* SPDX-License-Identifier: Apache-2.0
 *
 * The files of `--tls-cert` and `--tls-key`, read for the HTTP layer,
 * which takes PEM text. The key is read into one buffer of its exact size
 * (no growth leaves copies behind) and refused when group or other users
 * may read it, as ssh refuses an exposed private key. The pair is checked
 * with libcrypto before libmicrohttpd sees it, whose refusal says only
 * "input/output error": each file must be PEM, the key unencrypted and
 * the certificate's own. A certificate out of its validity period starts
 * with a warning (clients will refuse it; the operator may be renewing).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "gov/gov_int.h"
#include "util/wd_alloc.h"
#include "util/wd_fs.h"
#include "util/wd_limits.h"

/* The whole of a regular file up to WD_LIMIT_TLS_PEM_BYTES, NUL-terminated. */
static int read_pem(const char *what, const char *path, int secret, char **out, char *err,
                    size_t errlen) {
  *out = NULL;
  int fd = -1;
  struct stat st;
  int rc = wd_fs_open_regular(AT_FDCWD, path, &fd, &st);
  if (rc == -WD_E_INVAL) {
    (void)snprintf(err, errlen, "%s %s: not a regular file", what, path);
    return -WD_E_IO;
  }
  if (rc) {
    (void)snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
    return rc;
  }
  if (st.st_size <= 0 || (uintmax_t)st.st_size > WD_LIMIT_TLS_PEM_BYTES) {
    (void)snprintf(err, errlen, "%s %s: %s (at most %u bytes)", what, path,
                   st.st_size <= 0 ? "empty" : "too large", (unsigned)WD_LIMIT_TLS_PEM_BYTES);
    rc = -WD_E_TOOBIG;
  } else if (secret && (st.st_mode & (S_IRWXG | S_IRWXO))) {
    (void)snprintf(err, errlen,
                   "%s %s: group or other users may read it (mode %04o); chmod 600 %s (as its "
                   "owner, the user that runs warden serve)",
                   what, path, (unsigned)(st.st_mode & 07777), path);
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

/* Called by PEM_read_bio_PrivateKey only for an encrypted key: refuses
 * to decrypt and says so through *asked. */
static int no_password(char *buf, int size, int rwflag, void *asked) {
  (void)buf;
  (void)size;
  (void)rwflag;
  *(int *)asked = 1;
  return -1;
}

/* "Mon DD HH:MM:SS YYYY GMT" of t, or "?". */
static void asn1_time_text(const ASN1_TIME *t, char *out, size_t len) {
  BIO *b = BIO_new(BIO_s_mem());
  int n = b && ASN1_TIME_print(b, t) == 1 ? BIO_read(b, out, (int)len - 1) : -1;
  out[n > 0 ? n : 0] = '\0';
  if (n <= 0) (void)snprintf(out, len, "?");
  BIO_free(b);
}

/* The first certificate of cert_pem and the key of key_pem, parsed and
 * matched; a certificate out of its validity period is a warning. */
static int check_pair(wd_gov *g, const char *cert_path, const char *cert_pem, const char *key_path,
                      const char *key_pem, char *err, size_t errlen) {
  int rc = -WD_E_INVAL, asked = 0;
  X509 *x = NULL;
  EVP_PKEY *k = NULL;
  BIO *b = BIO_new_mem_buf(cert_pem, -1);
  if (!b) return -WD_E_NOMEM;
  x = PEM_read_bio_X509(b, NULL, NULL, NULL);
  BIO_free(b);
  if (!x) {
    (void)snprintf(err, errlen,
                   "tls_cert %s: not a PEM certificate (for DER: openssl x509 -inform DER -in "
                   "FILE -out FILE.pem)",
                   cert_path);
    goto out;
  }
  if (!(b = BIO_new_mem_buf(key_pem, -1))) {
    rc = -WD_E_NOMEM;
    goto out;
  }
  k = PEM_read_bio_PrivateKey(b, NULL, no_password, &asked);
  BIO_free(b);
  if (!k && asked) {
    (void)snprintf(err, errlen,
                   "tls_key %s: the key is encrypted, which is not supported (the server could "
                   "not start unattended); decrypt it with openssl pkey -in FILE -out FILE",
                   key_path);
    goto out;
  }
  if (!k) {
    (void)snprintf(err, errlen,
                   "tls_key %s: not a PEM private key (for DER: openssl pkey -inform DER -in "
                   "FILE -out FILE.pem)",
                   key_path);
    goto out;
  }
  if (X509_check_private_key(x, k) != 1) {
    (void)snprintf(err, errlen, "tls_key %s: the key does not match the certificate %s", key_path,
                   cert_path);
    goto out;
  }
  const ASN1_TIME *na = X509_get0_notAfter(x), *nb = X509_get0_notBefore(x);
  char when[64];
  if (X509_cmp_current_time(na) < 0) {
    asn1_time_text(na, when, sizeof when);
    wd_gov__warn(g, "the TLS certificate %s expired (notAfter %s): clients will refuse it",
                 cert_path, when);
  } else if (X509_cmp_current_time(nb) > 0) {
    asn1_time_text(nb, when, sizeof when);
    char after[64];
    asn1_time_text(na, after, sizeof after);
    wd_gov__warn(g,
                 "the TLS certificate %s is not valid yet (notBefore %s, notAfter %s): clients "
                 "will refuse it",
                 cert_path, when, after);
  }
  rc = 0;
out:
  /* libcrypto's queue would otherwise hold these errors for the next
   * caller on this thread. */
  ERR_clear_error();
  EVP_PKEY_free(k);
  X509_free(x);
  return rc;
}

int wd_gov__tls_load(wd_gov *g, const char *cert_path, const char *key_path, char **cert,
                     char **key, char *err, size_t errlen) {
  *cert = *key = NULL;
  int rc = read_pem("tls_cert", cert_path, 0, cert, err, errlen);
  if (!rc) rc = read_pem("tls_key", key_path, 1, key, err, errlen);
  if (!rc) rc = check_pair(g, cert_path, *cert, key_path, *key, err, errlen);
  if (rc) {
    wd_free(*cert);
    *cert = NULL;
    if (*key) wd_ident_cleanse(*key, strlen(*key));
    wd_free(*key);
    *key = NULL;
  }
  return rc;
}
