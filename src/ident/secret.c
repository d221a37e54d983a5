/* SPDX-License-Identifier: Apache-2.0
 *
 * Secrets: random bearer tokens (join tokens, the admin token), their
 * SHA-256 hashes for storage (the store never holds a usable secret), and
 * comparison in constant time so response timing does not reveal how many
 * leading bytes of a guess were right.
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "ident_int.h"
#include "util/wd_alloc.h"
#include "warden/err.h"

void wd_ident_cleanse(void *p, size_t n) {
  if (p && n) OPENSSL_cleanse(p, n);
}

void wd_ident_secret_free(char *s) {
  if (!s) return;
  wd_ident_cleanse(s, strlen(s));
  wd_free(s);
}

int wd_ident_random_token(size_t nbytes, char **out) {
  *out = NULL;
  if (nbytes < 16 || nbytes > 256) return -WD_E_INVAL;
  uint8_t raw[256];
  if (RAND_bytes(raw, (int)nbytes) != 1) return -WD_E_INTERNAL;
  size_t len = wd_ident_b64url_enclen(nbytes);
  char *s = wd_malloc(len + 1);
  int rc = s ? wd_ident_b64url_encode(raw, nbytes, s, len + 1) : -WD_E_NOMEM;
  wd_ident_cleanse(raw, sizeof raw);
  if (rc) {
    wd_free(s);
    return rc;
  }
  *out = s;
  return 0;
}

int wd_ident_secret_hash(const void *s, size_t n, char out[WD_IDENT_HASH_HEX_LEN + 1]) {
  static const char HEX[] = "0123456789abcdef";
  uint8_t md[32];
  if (!s && n) return -WD_E_INVAL;
  int rc = wd_ident__sha256(s, n, md);
  if (rc) return rc;
  for (size_t i = 0; i < 32; i++) {
    out[2 * i] = HEX[md[i] >> 4];
    out[2 * i + 1] = HEX[md[i] & 15];
  }
  out[64] = '\0';
  return 0;
}

int wd_ident_secret_equal(const void *a, const void *b, size_t n) {
  if (!a || !b) return 0;
  return CRYPTO_memcmp(a, b, n) == 0;
}

int wd_ident_secret_check(const void *presented, size_t n, const char *stored_hex) {
  char h[WD_IDENT_HASH_HEX_LEN + 1];
  if (!stored_hex || strlen(stored_hex) != WD_IDENT_HASH_HEX_LEN) return 0;
  if (wd_ident_secret_hash(presented, n, h) != 0) return 0;
  return wd_ident_secret_equal(h, stored_hex, WD_IDENT_HASH_HEX_LEN);
}
