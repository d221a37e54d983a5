/* SPDX-License-Identifier: Apache-2.0
 *
 * Small helpers shared by the identity module: rejection reasons and
 * diagnostics, JSON parsing with duplicate members refused (RFC 7515 §5.2
 * lets a verifier reject them, and two readers that pick different
 * duplicates are a classic confusion bug), JSON output copied into
 * wd_malloc'd memory, and random identifiers.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "ident_int.h"
#include "util/wd_alloc.h"
#include "warden/err.h"

/* Fetched once: EVP_sha256() makes OpenSSL 3.0 fetch the implementation
 * on every digest, which cost more than hashing a token. */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;
static void sha256_fetch(void) { sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL); }

int wd_ident__sha256(const void *p, size_t n, uint8_t out[32]) {
  unsigned int len = 0;
  (void)pthread_once(&sha256_once, sha256_fetch);
  if (sha256_md && EVP_Digest(n ? p : "", n, out, &len, sha256_md, NULL) == 1 && len == 32)
    return 0;
  ERR_clear_error();
  return -WD_E_INTERNAL;
}

const char *wd_ident_reason_name(wd_ident_reason r) {
  switch (r) {
#define XX(name, msg)                                                                              \
  case WD_IDENT_R_##name: return #name;
    WD_IDENT_REASON_MAP(XX)
#undef XX
  case WD_IDENT_R__COUNT: break;
  }
  return "UNKNOWN";
}

const char *wd_ident_reason_msg(wd_ident_reason r) {
  switch (r) {
#define XX(name, msg)                                                                              \
  case WD_IDENT_R_##name: return msg;
    WD_IDENT_REASON_MAP(XX)
#undef XX
  case WD_IDENT_R__COUNT: break;
  }
  return "unknown reason";
}

void wd_ident__diag_ok(wd_ident_diag *diag) {
  if (!diag) return;
  diag->reason = WD_IDENT_R_NONE;
  diag->msg[0] = '\0';
}

int wd_ident__fail(wd_ident_diag *diag, wd_ident_reason r, const char *fmt, ...) {
  if (!diag) return -WD_E_VALIDATE;
  diag->reason = r;
  int n = snprintf(diag->msg, sizeof diag->msg, "%s", wd_ident_reason_msg(r));
  if (fmt && n > 0 && (size_t)n + 2 < sizeof diag->msg) {
    size_t off = (size_t)n;
    diag->msg[off++] = ':';
    diag->msg[off++] = ' ';
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(diag->msg + off, sizeof diag->msg - off, fmt, ap);
    va_end(ap);
  }
  return -WD_E_VALIDATE;
}

int wd_ident__json_dump(const json_t *j, char **out, size_t *outlen) {
  *out = NULL;
  const size_t flags = JSON_COMPACT | JSON_SORT_KEYS;
  size_t n = json_dumpb(j, NULL, 0, flags);
  if (n == 0) return -WD_E_NOMEM;
  if (n > WD_LIMIT_JWS_BYTES * 8u) return -WD_E_TOOBIG;
  char *buf = wd_malloc(n + 1);
  if (!buf) return -WD_E_NOMEM;
  if (json_dumpb(j, buf, n, flags) != n) {
    wd_free(buf);
    return -WD_E_INTERNAL;
  }
  buf[n] = '\0';
  *out = buf;
  if (outlen) *outlen = n;
  return 0;
}

json_t *wd_ident__json_object(const void *s, size_t n) {
  json_error_t err;
  json_t *j = json_loadb(s, n, JSON_REJECT_DUPLICATES, &err);
  if (!j) return NULL;
  if (!json_is_object(j)) {
    json_decref(j);
    return NULL;
  }
  return j;
}

const char *wd_ident__json_str(const json_t *obj, const char *name) {
  const json_t *v = json_object_get(obj, name);
  return json_is_string(v) ? json_string_value(v) : NULL;
}

int wd_ident__json_int(const json_t *obj, const char *name, int64_t *out) {
  const json_t *v = json_object_get(obj, name);
  if (!json_is_integer(v)) return -WD_E_TYPE;
  *out = (int64_t)json_integer_value(v);
  return 0;
}

int wd_ident__random_id(char *out, size_t outsz) {
  uint8_t raw[16];
  if (RAND_bytes(raw, (int)sizeof raw) != 1) return -WD_E_INTERNAL;
  return wd_ident_b64url_encode(raw, sizeof raw, out, outsz);
}
