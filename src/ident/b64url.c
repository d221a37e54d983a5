/* SPDX-License-Identifier: Apache-2.0
 *
 * base64url without padding (RFC 4648 §5), as JOSE uses it (RFC 7515 §2).
 * Decoding is strict so that one byte string has exactly one encoding: a
 * token that decodes the same under two spellings would let an attacker
 * change its text (and any cache key or log digest built on it) without
 * changing what it says.
 */
#include "ident_int.h"

#include "warden/err.h"

static const char ALPHABET[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t wd_ident_b64url_enclen(size_t n) { return (n / 3) * 4 + ((n % 3) ? (n % 3) + 1 : 0); }

int wd_ident_b64url_encode(const void *in, size_t n, char *out, size_t outsz) {
  const uint8_t *p = in;
  if (n > ((size_t)-1 / 4) * 3 - 3) return -WD_E_TOOBIG;
  size_t need = wd_ident_b64url_enclen(n);
  if (!out || outsz < need + 1) return -WD_E_TOOBIG;
  size_t o = 0, i = 0;
  for (; i + 3 <= n; i += 3) {
    uint32_t v = ((uint32_t)p[i] << 16) | ((uint32_t)p[i + 1] << 8) | p[i + 2];
    out[o++] = ALPHABET[(v >> 18) & 63];
    out[o++] = ALPHABET[(v >> 12) & 63];
    out[o++] = ALPHABET[(v >> 6) & 63];
    out[o++] = ALPHABET[v & 63];
  }
  if (n - i == 1) {
    uint32_t v = (uint32_t)p[i] << 16;
    out[o++] = ALPHABET[(v >> 18) & 63];
    out[o++] = ALPHABET[(v >> 12) & 63];
  } else if (n - i == 2) {
    uint32_t v = ((uint32_t)p[i] << 16) | ((uint32_t)p[i + 1] << 8);
    out[o++] = ALPHABET[(v >> 18) & 63];
    out[o++] = ALPHABET[(v >> 12) & 63];
    out[o++] = ALPHABET[(v >> 6) & 63];
  }
  out[o] = '\0';
  return 0;
}

static int val(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

int wd_ident_b64url_decode(const char *in, size_t n, uint8_t *out, size_t outsz, size_t *outlen) {
  if (outlen) *outlen = 0;
  if (!in && n) return -WD_E_INVAL;
  if (n % 4 == 1) return -WD_E_PARSE;
  size_t need = (n / 4) * 3 + ((n % 4) ? (n % 4) - 1 : 0);
  if (need > outsz) return -WD_E_TOOBIG;
  size_t o = 0;
  uint32_t acc = 0;
  unsigned bits = 0;
  for (size_t i = 0; i < n; i++) {
    int v = val(in[i]);
    if (v < 0) return -WD_E_PARSE;
    acc = (acc << 6) | (uint32_t)v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (uint8_t)(acc >> bits);
      acc &= (1u << bits) - 1u;
    }
  }
  /* The leftover bits of the last character must be zero (canonical form). */
  if (acc != 0) return -WD_E_PARSE;
  if (outlen) *outlen = o;
  return 0;
}
