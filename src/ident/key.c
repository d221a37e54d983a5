/* SPDX-License-Identifier: Apache-2.0
 *
 * Keys: generation of Ed25519 and P-256 keys, PEM import/export (PKCS#8
 * for private keys, SPKI for public ones) and key files. Only these two
 * key types exist in the module; anything else (RSA, other curves) is
 * refused at the door so later code can switch over two cases. JWK and
 * thumbprints live in jwk.c.
 */
#include <pthread.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "ident_int.h"
#include "util/wd_alloc.h"
#include "warden/err.h"

static int classify(EVP_PKEY *pkey, wd_ident_keytype *type, int *has_private) {
  if (EVP_PKEY_is_a(pkey, "ED25519")) {
    size_t n = 0;
    *type = WD_IDENT_KEY_ED25519;
    *has_private = EVP_PKEY_get_raw_private_key(pkey, NULL, &n) == 1 && n == 32;
    return 0;
  }
  if (EVP_PKEY_is_a(pkey, "EC")) {
    char group[64];
    size_t glen = 0;
    if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                       &glen) != 1)
      return -WD_E_VALIDATE;
    if (strcmp(group, "prime256v1") != 0 && strcmp(group, "P-256") != 0) return -WD_E_VALIDATE;
    BIGNUM *d = NULL;
    *type = WD_IDENT_KEY_P256;
    *has_private = EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_PRIV_KEY, &d) == 1;
    BN_clear_free(d);
    return 0;
  }
  return -WD_E_VALIDATE;
}

/* ---- ready verify contexts ------------------------------------------------ */

#define VPOOL_MAX 8 /* about one per thread verifying with the key at once */

struct wd_ident__vpool {
  pthread_mutex_t mu;
  EVP_PKEY_CTX *ctx[VPOOL_MAX];
  unsigned n;
};

static void vpool_free(struct wd_ident__vpool *p) {
  if (!p) return;
  for (unsigned i = 0; i < p->n; i++)
    EVP_PKEY_CTX_free(p->ctx[i]);
  (void)pthread_mutex_destroy(&p->mu);
  wd_free(p);
}

static int vpool_new(struct wd_ident__vpool **out) {
  struct wd_ident__vpool *p = wd_calloc(1, sizeof *p);
  if (!p || pthread_mutex_init(&p->mu, NULL) != 0) {
    wd_free(p);
    return -WD_E_NOMEM;
  }
  *out = p;
  return 0;
}

int wd_ident__key_verify_digest(const wd_ident_key *k, const uint8_t *der, size_t der_len,
                                const uint8_t digest[32]) {
  struct wd_ident__vpool *p = k->vpool;
  EVP_PKEY_CTX *ctx = NULL;
  if (!p) return 0;
  (void)pthread_mutex_lock(&p->mu);
  if (p->n) ctx = p->ctx[--p->n];
  (void)pthread_mutex_unlock(&p->mu);
  if (!ctx) {
    ctx = EVP_PKEY_CTX_new_from_pkey(NULL, k->pkey, NULL);
    if (!ctx || EVP_PKEY_verify_init(ctx) != 1) {
      EVP_PKEY_CTX_free(ctx);
      ERR_clear_error();
      return 0;
    }
  }
  int ok = EVP_PKEY_verify(ctx, der, der_len, digest, 32) == 1;
  ERR_clear_error();
  (void)pthread_mutex_lock(&p->mu);
  if (p->n < VPOOL_MAX) {
    p->ctx[p->n++] = ctx;
    ctx = NULL;
  }
  (void)pthread_mutex_unlock(&p->mu);
  EVP_PKEY_CTX_free(ctx);
  return ok;
}

/* ---- keys ------------------------------------------------------------------ */

int wd_ident__key_wrap(EVP_PKEY *pkey, wd_ident_key **out) {
  *out = NULL;
  if (!pkey) return -WD_E_INVAL;
  wd_ident_key *k = wd_calloc(1, sizeof *k);
  if (!k) {
    EVP_PKEY_free(pkey);
    return -WD_E_NOMEM;
  }
  atomic_init(&k->refs, 1u);
  k->pkey = pkey;
  int rc = classify(pkey, &k->type, &k->has_private);
  if (!rc) rc = wd_ident__key_thumbprint(k);
  if (!rc && k->type == WD_IDENT_KEY_P256) rc = vpool_new(&k->vpool);
  ERR_clear_error();
  if (rc) {
    wd_ident_key_free(k);
    return rc;
  }
  *out = k;
  return 0;
}

int wd_ident_key_generate(wd_ident_keytype type, wd_ident_key **out) {
  *out = NULL;
  EVP_PKEY *pkey = NULL;
  switch (type) {
  case WD_IDENT_KEY_ED25519: pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"); break;
  case WD_IDENT_KEY_P256: pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"); break;
  }
  if (!pkey) {
    ERR_clear_error();
    return type == WD_IDENT_KEY_ED25519 || type == WD_IDENT_KEY_P256 ? -WD_E_INTERNAL : -WD_E_INVAL;
  }
  return wd_ident__key_wrap(pkey, out);
}

wd_ident_key *wd_ident__key_ref(wd_ident_key *k) {
  atomic_fetch_add(&k->refs, 1u);
  return k;
}

void wd_ident_key_free(wd_ident_key *k) {
  if (!k || atomic_fetch_sub(&k->refs, 1u) != 1u) return;
  vpool_free(k->vpool);
  EVP_PKEY_free(k->pkey); /* OpenSSL cleanses private key material on free */
  wd_free(k);
}

wd_ident_keytype wd_ident_key_type(const wd_ident_key *k) { return k->type; }
int wd_ident_key_has_private(const wd_ident_key *k) { return k->has_private; }
const char *wd_ident_key_jkt(const wd_ident_key *k) { return k->jkt; }

wd_ident_alg wd_ident_key_alg(const wd_ident_key *k) {
  switch (k->type) {
  case WD_IDENT_KEY_ED25519: return WD_IDENT_ALG_EDDSA;
  case WD_IDENT_KEY_P256: return WD_IDENT_ALG_ES256;
  }
  return WD_IDENT_ALG_EDDSA;
}

/* Encrypted PEM is not supported: refuse instead of letting OpenSSL prompt
 * on the terminal for a passphrase. */
static int no_password(char *buf, int size, int rwflag, void *u) {
  (void)buf;
  (void)size;
  (void)rwflag;
  (void)u;
  return -1;
}

/* A private key PEM says so in its armour ("-----BEGIN PRIVATE KEY-----",
 * "BEGIN EC PRIVATE KEY"); everything else is read as a public key. */
static int says_private(const char *pem, size_t len) {
  static const char needle[] = "PRIVATE KEY-----";
  const size_t nl = sizeof needle - 1;
  for (size_t i = 0; i + nl <= len; i++)
    if (memcmp(pem + i, needle, nl) == 0) return 1;
  return 0;
}

int wd_ident_key_from_pem(const char *pem, size_t len, wd_ident_key **out) {
  *out = NULL;
  if (!pem) return -WD_E_INVAL;
  if (len > WD_LIMIT_PEM_BYTES) return -WD_E_TOOBIG;
  BIO *bio = BIO_new_mem_buf(pem, (int)len);
  if (!bio) return -WD_E_NOMEM;
  EVP_PKEY *pkey = NULL;
  if (says_private(pem, len))
    pkey = PEM_read_bio_PrivateKey(bio, NULL, no_password, NULL);
  else
    pkey = PEM_read_bio_PUBKEY(bio, NULL, no_password, NULL);
  BIO_free(bio);
  ERR_clear_error();
  if (!pkey) return -WD_E_PARSE;
  return wd_ident__key_wrap(pkey, out);
}

int wd_ident_key_to_pem(const wd_ident_key *k, int with_private, char **out, size_t *outlen) {
  *out = NULL;
  if (outlen) *outlen = 0;
  if (with_private && !k->has_private) return -WD_E_INVAL;
  /* Secure-heap BIO so the private PEM does not linger in freed memory. */
  BIO *bio = BIO_new(with_private ? BIO_s_secmem() : BIO_s_mem());
  if (!bio) return -WD_E_NOMEM;
  int ok = with_private ? PEM_write_bio_PrivateKey(bio, k->pkey, NULL, NULL, 0, NULL, NULL)
                        : PEM_write_bio_PUBKEY(bio, k->pkey);
  int rc = 0;
  char *data = NULL;
  long n = ok == 1 ? BIO_get_mem_data(bio, &data) : -1;
  if (n <= 0 || !data) {
    rc = -WD_E_INTERNAL;
    goto out;
  }
  *out = wd_strndup(data, (size_t)n);
  if (!*out) {
    rc = -WD_E_NOMEM;
    goto out;
  }
  if (outlen) *outlen = (size_t)n;
out:
  BIO_free(bio);
  ERR_clear_error();
  return rc;
}

int wd_ident_key_save(const wd_ident_key *k, const char *path) {
  char *pem = NULL;
  size_t len = 0;
  int rc = wd_ident_key_to_pem(k, k->has_private, &pem, &len);
  if (rc) return rc;
  rc = wd_ident__write_file_0600(path, pem, len);
  wd_ident_secret_free(pem);
  return rc;
}

int wd_ident_key_load(const char *path, wd_ident_key **out) {
  *out = NULL;
  char *pem = NULL;
  size_t len = 0;
  int rc = wd_ident__read_file(path, WD_LIMIT_PEM_BYTES, &pem, &len);
  if (rc) return rc;
  rc = wd_ident_key_from_pem(pem, len, out);
  wd_ident_secret_free(pem);
  return rc;
}
