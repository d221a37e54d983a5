/* SPDX-License-Identifier: Apache-2.0
 *
 * For the HTTPS tests: a fresh self-signed P-256 certificate for
 * 127.0.0.1 and localhost, valid for a day, made with libcrypto, so no
 * key or certificate is kept in the tree. The caller owns both PEM texts
 * (free with free()).
 */
#ifndef WD_TEST_TLS_CERT_H
#define WD_TEST_TLS_CERT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

static inline char *tls_cert__bio_text(BIO *b) {
  char *data = NULL;
  long n = BIO_get_mem_data(b, &data);
  char *out = n > 0 ? malloc((size_t)n + 1) : NULL;
  if (out) {
    memcpy(out, data, (size_t)n);
    out[n] = '\0';
  }
  return out;
}

/* 0 with *cert and *key set, -1 on failure. */
static inline int tls_cert_make(char **cert, char **key) {
  *cert = *key = NULL;
  EVP_PKEY *pk = EVP_EC_gen("P-256");
  X509 *x = X509_new();
  BIO *cb = BIO_new(BIO_s_mem()), *kb = BIO_new(BIO_s_mem());
  X509_EXTENSION *ext = NULL;
  int ok = pk && x && cb && kb;
  if (ok) {
    X509_NAME *n = X509_get_subject_name(x);
    ok = X509_set_version(x, 2) && ASN1_INTEGER_set(X509_get_serialNumber(x), 1) &&
         X509_gmtime_adj(X509_getm_notBefore(x), -60) &&
         X509_gmtime_adj(X509_getm_notAfter(x), 86400) && X509_set_pubkey(x, pk) &&
         X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"localhost", -1,
                                    -1, 0) &&
         X509_set_issuer_name(x, n);
  }
  if (ok) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost");
    ok = ext && X509_add_ext(x, ext, -1) && X509_sign(x, pk, EVP_sha256()) &&
         PEM_write_bio_X509(cb, x) && PEM_write_bio_PrivateKey(kb, pk, NULL, NULL, 0, NULL, NULL);
  }
  if (ok) {
    *cert = tls_cert__bio_text(cb);
    *key = tls_cert__bio_text(kb);
    ok = *cert && *key;
  }
  X509_EXTENSION_free(ext);
  BIO_free(cb);
  BIO_free(kb);
  X509_free(x);
  EVP_PKEY_free(pk);
  if (!ok) {
    free(*cert);
    free(*key);
    *cert = *key = NULL;
    return -1;
  }
  return 0;
}

/* Writes text to path (0600); 0 or -1. */
static inline int tls_cert_write(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  if (!f) return -1;
  int ok = fputs(text, f) >= 0;
  return fclose(f) == 0 && ok ? 0 : -1;
}

#endif
