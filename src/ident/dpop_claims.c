/* SPDX-License-Identifier: Apache-2.0
 *
 * A DPoP proof's payload, read on every authorized call. Agents send it
 * in one plain spelling (a flat object of ASCII strings and an integer),
 * which is read here in place; jansson cost more than all the other proof
 * checks together. Any other spelling, valid or not, is left to jansson,
 * so a text is taken only when jansson would read the same claims from
 * it: no escapes, no byte outside printable ASCII in a string, no
 * duplicate member, integers without sign, fraction or exponent that fit
 * 18 digits, and nothing after the object but whitespace.
 */
#include <string.h>

#include "ident_int.h"
#include "warden/err.h"

typedef struct span {
  char *s;
  size_t n;
} span;

static char *ws(char *p, const char *e) {
  while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
    p++;
  return p;
}

/* A string at *p: 1 with its content in *out and *p past the closing quote. */
static int flat_str(char **p, const char *e, span *out) {
  if (*p >= e || **p != '"') return 0;
  char *q = *p + 1;
  while (q < e && *q != '"') {
    if (*q < 0x20 || *q > 0x7e || *q == '\\') return 0;
    q++;
  }
  if (q == e) return 0;
  out->s = *p + 1;
  out->n = (size_t)(q - out->s);
  *p = q + 1;
  return 1;
}

static int flat_int(char **p, const char *e, int64_t *out) {
  char *q = *p;
  int64_t v = 0;
  while (q < e && *q >= '0' && *q <= '9') {
    if (q - *p == 18) return 0;
    v = v * 10 + (*q - '0');
    q++;
  }
  if (q - *p > 1 && **p == '0') return 0;
  if (q < e && (*q == '.' || *q == 'e' || *q == 'E')) return 0;
  *out = v;
  *p = q;
  return 1;
}

static int key_is(const span *k, const char *name) {
  return k->n == strlen(name) && memcmp(k->s, name, k->n) == 0;
}

int wd_ident__dpop_claims_flat(char *s, size_t n, wd_ident__dpop_claims *c) {
  static const char *const names[] = {"jti", "htm", "htu", "ath"};
  memset(c, 0, sizeof *c);
  span seen[WD_LIMIT_PROOF_MEMBERS], str[4] = {{0}};
  size_t nseen = 0;
  const char *e = s + n;
  char *p = ws(s, e);
  if (p == e || *p != '{') return 0;
  p = ws(p + 1, e);
  if (p < e && *p == '}') return ws(p + 1, e) == e;
  for (;;) {
    span k, v;
    if (nseen == WD_LIMIT_PROOF_MEMBERS || !flat_str(&p, e, &k)) return 0;
    for (size_t i = 0; i < nseen; i++)
      if (seen[i].n == k.n && memcmp(seen[i].s, k.s, k.n) == 0) return 0;
    seen[nseen++] = k;
    p = ws(p, e);
    if (p == e || *p != ':') return 0;
    p = ws(p + 1, e);
    if (p < e && *p == '"') {
      if (!flat_str(&p, e, &v)) return 0;
      for (size_t i = 0; i < 4; i++)
        if (key_is(&k, names[i])) str[i] = v;
    } else {
      int64_t num = 0;
      if (p == e || *p < '0' || *p > '9' || !flat_int(&p, e, &num)) return 0;
      if (key_is(&k, "iat")) {
        c->has_iat = 1;
        c->iat = num;
      }
    }
    p = ws(p, e);
    if (p < e && *p == ',') {
      p = ws(p + 1, e);
      continue;
    }
    if (p == e || *p != '}' || ws(p + 1, e) != e) return 0;
    break;
  }
  /* Taken: only now end the strings in place, over their closing quotes. */
  const char **out[4] = {&c->jti, &c->htm, &c->htu, &c->ath};
  for (size_t i = 0; i < 4; i++)
    if (str[i].s) {
      str[i].s[str[i].n] = '\0';
      *out[i] = str[i].s;
    }
  return 1;
}

void wd_ident__dpop_claims_tree(const json_t *payload, wd_ident__dpop_claims *c) {
  memset(c, 0, sizeof *c);
  c->jti = wd_ident__json_str(payload, "jti");
  c->htm = wd_ident__json_str(payload, "htm");
  c->htu = wd_ident__json_str(payload, "htu");
  c->ath = wd_ident__json_str(payload, "ath");
  c->has_iat = wd_ident__json_int(payload, "iat", &c->iat) == 0;
}

int wd_ident__dpop_claims_read(const char *seg, size_t n, char buf[WD_LIMIT_JWS_PART_BYTES + 1],
                               json_t **tree, wd_ident__dpop_claims *c, wd_ident_diag *diag) {
  *tree = NULL;
  memset(c, 0, sizeof *c);
  size_t len = 0;
  if (n != 0 &&
      wd_ident_b64url_decode(seg, n, (uint8_t *)buf, WD_LIMIT_JWS_PART_BYTES, &len) == 0) {
    if (wd_ident__dpop_claims_flat(buf, len, c)) return 0;
    if ((*tree = wd_ident__json_object(buf, len)) != NULL) {
      wd_ident__dpop_claims_tree(*tree, c);
      return 0;
    }
  }
  return wd_ident__fail(diag, WD_IDENT_R_MALFORMED, "payload is not a base64url JSON object");
}
