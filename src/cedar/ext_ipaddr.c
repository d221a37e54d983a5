/* SPDX-License-Identifier: Apache-2.0
 *
 * The ipaddr extension: ip("10.0.0.0/8") and its methods. The accepted
 * text is the reference's: an IPv4 dotted quad (1-3 digit octets, no
 * leading zeros) or an IPv6 address (1-4 hex digit groups, at most one
 * `::` standing for at least one group, no embedded IPv4, no zone), then
 * an optional /prefix (decimal, no leading zeros, at most 32 or 128).
 * The address keeps its host bits: ip("10.1.2.3/8") != ip("10.0.0.0/8").
 */
#include <stdio.h>
#include <string.h>

#include "ext_int.h"

#define IP_TEXT_MAX 43 /* the reference refuses longer text outright */

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static int count_char(const char *p, uint32_t n, char c) {
  int k = 0;
  for (uint32_t i = 0; i < n; i++)
    k += p[i] == c;
  return k;
}

/* Parses exactly p[0..n) as a dotted quad. */
static int parse_v4(const char *p, uint32_t n, uint8_t out[4]) {
  uint32_t i = 0;
  for (int part = 0; part < 4; part++) {
    if (part > 0) {
      if (i >= n || p[i] != '.') return -1;
      i++;
    }
    uint32_t start = i, v = 0;
    while (i < n && i - start < 3 && p[i] >= '0' && p[i] <= '9')
      v = v * 10 + (uint32_t)(p[i++] - '0');
    if (i == start || v > 255) return -1;
    if (i - start > 1 && p[start] == '0') return -1;
    out[part] = (uint8_t)v;
  }
  return i == n ? 0 : -1;
}

/* Reads up to limit groups `h(:h)*` from *pi; a separator is consumed only
 * together with the group after it. Returns how many groups were read. */
static int read_groups(const char *p, uint32_t n, uint32_t *pi, uint16_t *g, int limit) {
  uint32_t i = *pi;
  int k = 0;
  for (; k < limit; k++) {
    uint32_t j = i;
    if (k > 0) {
      if (j >= n || p[j] != ':') break;
      j++;
    }
    uint32_t start = j, v = 0;
    while (j < n && j - start < 4 && hexval(p[j]) >= 0)
      v = v * 16 + (uint32_t)hexval(p[j++]);
    if (j == start) break;
    g[k] = (uint16_t)v;
    i = j;
  }
  *pi = i;
  return k;
}

/* Parses exactly p[0..n) as an IPv6 address. */
static int parse_v6(const char *p, uint32_t n, uint8_t out[16]) {
  uint16_t head[8] = {0}, tail[8] = {0};
  uint32_t i = 0;
  int nh = read_groups(p, n, &i, head, 8);
  int nt = 0;
  if (nh < 8) {
    if (n - i < 2 || p[i] != ':' || p[i + 1] != ':') return -1;
    i += 2;
    nt = read_groups(p, n, &i, tail, 8 - nh - 1);
  }
  if (i != n) return -1;
  for (int k = 0; k < nt; k++)
    head[8 - nt + k] = tail[k];
  for (int k = 0; k < 8; k++) {
    out[2 * k] = (uint8_t)(head[k] >> 8);
    out[2 * k + 1] = (uint8_t)(head[k] & 0xff);
  }
  return 0;
}

static int parse_prefix(const char *p, uint32_t n, unsigned max, unsigned max_len, uint8_t *out,
                        char *err) {
  if (n > max_len) {
    snprintf(err, CEDAR_DIAG_MSG, "error parsing prefix: string length %u is too large", n);
    return -WD_E_EVAL;
  }
  for (uint32_t i = 0; i < n; i++) {
    if (p[i] < '0' || p[i] > '9') {
      snprintf(err, CEDAR_DIAG_MSG, "error parsing prefix `%.*s`: encountered non-digit", (int)n,
               p);
      return -WD_E_EVAL;
    }
  }
  if (n > 1 && p[0] == '0') {
    snprintf(err, CEDAR_DIAG_MSG, "error parsing prefix `%.*s`: leading zero(s)", (int)n, p);
    return -WD_E_EVAL;
  }
  if (n == 0) {
    snprintf(err, CEDAR_DIAG_MSG,
             "error parsing prefix from the string ``: cannot parse integer from empty string");
    return -WD_E_EVAL;
  }
  unsigned v = 0;
  for (uint32_t i = 0; i < n; i++)
    v = v * 10 + (unsigned)(p[i] - '0');
  if (v > max) {
    snprintf(err, CEDAR_DIAG_MSG, "error parsing prefix: %u is larger than the limit %u", v, max);
    return -WD_E_EVAL;
  }
  *out = (uint8_t)v;
  return 0;
}

int cedar__ip_parse(cedar__str s, cedar__ip *out, char *err) {
  const char *p = s.p;
  uint32_t n = s.n;
  /* Past this check every message quotes at most IP_TEXT_MAX bytes. */
  if (n > IP_TEXT_MAX) {
    snprintf(err, CEDAR_DIAG_MSG,
             "error parsing IP address from string `%.*s%s`: string length is too large",
             (int)(n > 160 ? 160 : n), p, n > 160 ? "..." : "");
    return -WD_E_EVAL;
  }
  if (count_char(p, n, ':') >= 2 && count_char(p, n, '.') >= 2) {
    snprintf(err, CEDAR_DIAG_MSG,
             "error parsing IP address from string: We do not accept IPv4 embedded in IPv6 "
             "(e.g., ::ffff:127.0.0.1). Found: `%.*s`",
             (int)n, p);
    return -WD_E_EVAL;
  }
  const char *slash = memchr(p, '/', n);
  uint32_t an = slash ? (uint32_t)(slash - p) : n;
  cedar__ip ip;
  memset(&ip, 0, sizeof ip);
  if (parse_v4(p, an, ip.addr) == 0) {
    ip.v6 = 0;
    ip.prefix = 32;
  } else if (parse_v6(p, an, ip.addr) == 0) {
    ip.v6 = 1;
    ip.prefix = 128;
  } else {
    if (slash)
      snprintf(err, CEDAR_DIAG_MSG,
               "error parsing IP address from the string `%.*s`: invalid IP address syntax",
               (int)an, p);
    else
      snprintf(err, CEDAR_DIAG_MSG, "invalid IP address: %.*s", (int)n, p);
    return -WD_E_EVAL;
  }
  if (slash) {
    int rc =
        parse_prefix(slash + 1, n - an - 1, ip.v6 ? 128u : 32u, ip.v6 ? 3u : 2u, &ip.prefix, err);
    if (rc) return rc;
  }
  *out = ip;
  return 0;
}

int cedar__ip_print(wd_buf *b, const cedar__ip *ip) {
  const uint8_t *a = ip->addr;
  int rc = 0;
  if (!ip->v6) return wd_buf_addf(b, "%u.%u.%u.%u/%u", a[0], a[1], a[2], a[3], ip->prefix);
  static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (memcmp(a, mapped, sizeof mapped) == 0)
    return wd_buf_addf(b, "::ffff:%u.%u.%u.%u/%u", a[12], a[13], a[14], a[15], ip->prefix);
  unsigned g[8];
  for (int k = 0; k < 8; k++)
    g[k] = (unsigned)a[2 * k] << 8 | a[2 * k + 1];
  /* The first longest run of two or more zero groups becomes `::`, as
   * the reference (Rust's std, after RFC 5952) prints it. */
  int best = -1, best_len = 1;
  for (int k = 0; k < 8;) {
    if (g[k] != 0) {
      k++;
      continue;
    }
    int start = k;
    while (k < 8 && g[k] == 0)
      k++;
    if (k - start > best_len) {
      best = start;
      best_len = k - start;
    }
  }
  for (int k = 0; k < 8 && rc == 0; k++) {
    if (k == best) {
      rc = wd_buf_adds(b, "::");
      k += best_len - 1;
      continue;
    }
    if (k > 0 && k != best + best_len) rc = wd_buf_addc(b, ':');
    if (rc == 0) rc = wd_buf_addf(b, "%x", g[k]);
  }
  if (rc == 0) rc = wd_buf_addf(b, "/%u", ip->prefix);
  return rc;
}

static int want_ip(cedar__evalctx *cx, const cedar__val *v) {
  return cedar__ext_want(cx, v, CEDAR__V_IPADDR, "ipaddr");
}

static int bool_out(cedar__val *out, int b) {
  out->kind = CEDAR__V_BOOL;
  out->u.b = b != 0;
  return 0;
}

int cedar__ext_IP(cedar__evalctx *cx, const cedar__val *args, cedar__val *out) {
  int rc = cedar__ext_want(cx, &args[0], CEDAR__V_STRING, "string");
  if (rc) return rc;
  char err[CEDAR_DIAG_MSG];
  if (cedar__ip_parse(args[0].u.s, &out->u.ip, err))
    return cedar__eval_fail(cx, "error while evaluating `ipaddr` extension function: %s", err);
  out->kind = CEDAR__V_IPADDR;
  return 0;
}

int cedar__ext_IS_IPV4(cedar__evalctx *cx, const cedar__val *args, cedar__val *out) {
  int rc = want_ip(cx, &args[0]);
  return rc ? rc : bool_out(out, !args[0].u.ip.v6);
}

int cedar__ext_IS_IPV6(cedar__evalctx *cx, const cedar__val *args, cedar__val *out) {
  int rc = want_ip(cx, &args[0]);
  return rc ? rc : bool_out(out, args[0].u.ip.v6);
}

/* A range is loopback or multicast only if it lies wholly inside the
 * block: the reference also asks for a long enough prefix. */
int cedar__ext_IS_LOOPBACK(cedar__evalctx *cx, const cedar__val *args, cedar__val *out) {
  int rc = want_ip(cx, &args[0]);
  if (rc) return rc;
  const cedar__ip *ip = &args[0].u.ip;
  static const uint8_t one[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  if (ip->v6) return bool_out(out, memcmp(ip->addr, one, 16) == 0 && ip->prefix >= 128);
  return bool_out(out, ip->addr[0] == 127 && ip->prefix >= 8);
}

int cedar__ext_IS_MULTICAST(cedar__evalctx *cx, const cedar__val *args, cedar__val *out) {
  int rc = want_ip(cx, &args[0]);
  if (rc) return rc;
  const cedar__ip *ip = &args[0].u.ip;
  if (ip->v6) return bool_out(out, ip->addr[0] == 0xff && ip->prefix >= 8);
  return bool_out(out, (ip->addr[0] & 0xf0) == 0xe0 && ip->prefix >= 4);
}

/* First and last address of ip's range, big-endian over len bytes, so
 * memcmp orders them numerically. */
static void range_of(const cedar__ip *ip, uint32_t len, uint8_t lo[16], uint8_t hi[16]) {
  for (uint32_t k = 0; k < len; k++) {
    uint32_t bits = ip->prefix > 8 * k ? ip->prefix - 8 * k : 0;
    uint8_t mask = (uint8_t)(bits >= 8 ? 0xffu : 0xff00u >> bits);
    lo[k] = (uint8_t)(ip->addr[k] & mask);
    hi[k] = (uint8_t)(ip->addr[k] | (uint8_t)~mask);
  }
}

int cedar__ext_IS_IN_RANGE(cedar__evalctx *cx, const cedar__val *args, cedar__val *out) {
  int rc = want_ip(cx, &args[0]);
  if (rc) return rc;
  rc = want_ip(cx, &args[1]);
  if (rc) return rc;
  const cedar__ip *a = &args[0].u.ip, *b = &args[1].u.ip;
  if (a->v6 != b->v6) return bool_out(out, 0);
  uint32_t len = a->v6 ? 16 : 4;
  uint8_t alo[16], ahi[16], blo[16], bhi[16];
  range_of(a, len, alo, ahi);
  range_of(b, len, blo, bhi);
  return bool_out(out, memcmp(blo, alo, len) <= 0 && memcmp(ahi, bhi, len) <= 0);
}
