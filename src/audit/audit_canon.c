/* SPDX-License-Identifier: Apache-2.0
 *
 * The canonical encoding of evidence records and their SHA-256 chain hash,
 * exactly as specified in docs/internals/audit.md: JSON, object keys
 * sorted by their UTF-8 bytes, no whitespace, integers in plain decimal,
 * strings escaping only what JSON requires. Also the record time format
 * and the event-type names. Not the storage and not the verifier.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit/audit_int.h"
#include "ident/wd_ident.h"
#include "util/wd_alloc.h"

static const char *const type_names[] = {
#define XX(c, s) s,
    WD_AUDIT_TYPE_MAP(XX)
#undef XX
};

const char *wd_audit_type_name(wd_audit_type t) {
  return (unsigned)t < WD_AUDIT__TYPE_COUNT ? type_names[t] : "?";
}

int wd_audit_type_parse(const char *name, wd_audit_type *out) {
  if (!name) return -WD_E_INVAL;
  for (unsigned i = 0; i < WD_AUDIT__TYPE_COUNT; i++)
    if (strcmp(type_names[i], name) == 0) {
      *out = (wd_audit_type)i;
      return 0;
    }
  return -WD_E_INVAL;
}

/* ---- canonical JSON --------------------------------------------------------- */

int wd_audit__canon_string(wd_buf *b, const char *s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  int rc = wd_buf_addc(b, '"');
  size_t run = 0; /* start of the pending run of bytes copied as they are */
  for (size_t i = 0; i < n && rc == 0; i++) {
    unsigned char ch = (unsigned char)s[i];
    char esc[7];
    size_t elen = 2;
    if (ch >= 0x20 && ch != '"' && ch != '\\') continue;
    esc[0] = '\\';
    switch (ch) {
    case '"': esc[1] = '"'; break;
    case '\\': esc[1] = '\\'; break;
    case '\b': esc[1] = 'b'; break;
    case '\f': esc[1] = 'f'; break;
    case '\n': esc[1] = 'n'; break;
    case '\r': esc[1] = 'r'; break;
    case '\t': esc[1] = 't'; break;
    default:
      memcpy(esc + 1, "u00", 3);
      esc[4] = hex[ch >> 4];
      esc[5] = hex[ch & 15];
      elen = 6;
      break;
    }
    if (i > run && (rc = wd_buf_add(b, s + run, i - run))) return rc;
    rc = wd_buf_add(b, esc, elen);
    run = i + 1;
  }
  if (rc == 0 && n > run) rc = wd_buf_add(b, s + run, n - run);
  return rc ? rc : wd_buf_addc(b, '"');
}

typedef struct member {
  const char *key;
  size_t klen;
  json_t *val;
} member;

static int member_cmp(const void *pa, const void *pb) {
  const member *a = pa, *b = pb;
  size_t n = a->klen < b->klen ? a->klen : b->klen;
  int c = memcmp(a->key, b->key, n);
  return c ? c : (a->klen > b->klen) - (a->klen < b->klen);
}

static int canon_object(const json_t *v, wd_buf *b, unsigned depth, unsigned flags) {
  size_t n = json_object_size(v), i = 0;
  member *m = n ? wd_calloc(n, sizeof *m) : NULL;
  const char *key;
  json_t *val;
  int rc;
  if (n && !m) return -WD_E_NOMEM;
  json_object_foreach((json_t *)(uintptr_t)v, key, val) {
    m[i].key = key;
    m[i].klen = strlen(key);
    m[i].val = val;
    i++;
  }
  if (n > 1) qsort(m, n, sizeof *m, member_cmp);
  rc = wd_buf_addc(b, '{');
  for (i = 0; i < n && rc == 0; i++) {
    if (i && (rc = wd_buf_addc(b, ','))) break;
    if ((rc = wd_audit__canon_string(b, m[i].key, m[i].klen)) || (rc = wd_buf_addc(b, ':'))) break;
    rc = wd_audit__canon_value(m[i].val, b, depth + 1, flags);
  }
  if (rc == 0) rc = wd_buf_addc(b, '}');
  wd_free(m);
  return rc;
}

/* The shortest decimal text that reads back as d. */
static int canon_real_text(wd_buf *b, double d) {
  char t[40];
  for (int prec = 15; prec <= 17; prec++) {
    (void)snprintf(t, sizeof t, "%.*g", prec, d);
    if (strtod(t, NULL) == d) break;
  }
  return wd_audit__canon_string(b, t, strlen(t));
}

int wd_audit__canon_value(const json_t *v, wd_buf *b, unsigned depth, unsigned flags) {
  if (depth > (flags & WD_AUDIT__STORED ? WD_AUDIT__STORED_DEPTH : WD_LIMIT_JSON_DEPTH))
    return -WD_E_TOOBIG;
  switch (json_typeof(v)) {
  case JSON_OBJECT: return canon_object(v, b, depth, flags);
  case JSON_ARRAY: {
    int rc = wd_buf_addc(b, '[');
    for (size_t i = 0; i < json_array_size(v) && rc == 0; i++) {
      if (i && (rc = wd_buf_addc(b, ','))) break;
      rc = wd_audit__canon_value(json_array_get(v, i), b, depth + 1, flags);
    }
    return rc ? rc : wd_buf_addc(b, ']');
  }
  case JSON_STRING: return wd_audit__canon_string(b, json_string_value(v), json_string_length(v));
  case JSON_INTEGER: return wd_buf_addf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
  case JSON_REAL: /* no exact, portable canonical form */
    return flags & WD_AUDIT__REAL_TEXT ? canon_real_text(b, json_real_value(v)) : -WD_E_INVAL;
  case JSON_TRUE: return wd_buf_adds(b, "true");
  case JSON_FALSE: return wd_buf_adds(b, "false");
  case JSON_NULL: return wd_buf_adds(b, "null");
  }
  return -WD_E_INVAL;
}

int wd_audit__canon_payload(const char *text, size_t len, unsigned flags, char **out) {
  json_error_t err;
  json_t *j;
  wd_buf b;
  int rc;
  *out = NULL;
  if (len > WD_LIMIT_AUDIT_PAYLOAD_BYTES) return -WD_E_TOOBIG;
  j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
  if (!j) return -WD_E_INVAL;
  if (!json_is_object(j)) {
    json_decref(j);
    return -WD_E_INVAL;
  }
  wd_buf_init(&b, WD_LIMIT_AUDIT_PAYLOAD_BYTES);
  rc = wd_audit__canon_value(j, &b, 0, flags);
  json_decref(j);
  if (rc) {
    wd_buf_free(&b);
    return rc;
  }
  *out = wd_buf_take(&b);
  return *out ? 0 : -WD_E_NOMEM;
}

int wd_audit_canon_str(wd_buf *b, const char *s, size_t n) {
  return wd_audit__canon_string(b, s, n);
}

int wd_audit_canon_json(wd_buf *b, const json_t *v) {
  return v ? wd_audit__canon_value(v, b, 0, WD_AUDIT__REAL_TEXT) : -WD_E_INVAL;
}

int wd_audit_canon_stored(wd_buf *b, const json_t *payload) {
  return json_is_object(payload) ? wd_audit__canon_value(payload, b, 0, WD_AUDIT__STORED)
                                 : -WD_E_INVAL;
}

int wd_audit__canon_record(const wd_audit_row *r, int with_hash, wd_buf *b) {
  int rc;
  /* Keys in byte order: actor, hash, payload, prev_hash, seq, task, time, type. */
  if ((rc = wd_buf_adds(b, "{\"actor\":")) ||
      (rc = wd_audit__canon_string(b, r->actor, strlen(r->actor))))
    return rc;
  if (with_hash && ((rc = wd_buf_adds(b, ",\"hash\":")) ||
                    (rc = wd_audit__canon_string(b, r->hash, strlen(r->hash)))))
    return rc;
  if ((rc = wd_buf_adds(b, ",\"payload\":")) || (rc = wd_buf_adds(b, r->payload)) ||
      (rc = wd_buf_adds(b, ",\"prev_hash\":")) ||
      (rc = wd_audit__canon_string(b, r->prev_hash, strlen(r->prev_hash))) ||
      (rc = wd_buf_addf(b, ",\"seq\":%lld,\"task\":", (long long)r->seq)))
    return rc;
  rc = r->task ? wd_audit__canon_string(b, r->task, strlen(r->task)) : wd_buf_adds(b, "null");
  if (rc || (rc = wd_buf_adds(b, ",\"time\":")) ||
      (rc = wd_audit__canon_string(b, r->time, strlen(r->time))) ||
      (rc = wd_buf_adds(b, ",\"type\":")) ||
      (rc = wd_audit__canon_string(b, r->type, strlen(r->type))))
    return rc;
  return wd_buf_addc(b, '}');
}

int wd_audit__hash(const wd_audit_row *r, char *hex) {
  wd_buf b;
  int rc;
  wd_buf_init(&b, WD_LIMIT_AUDIT_LINE_BYTES);
  if ((rc = wd_audit__canon_record(r, 0, &b)) == 0)
    rc = wd_ident_secret_hash(wd_buf_str(&b), wd_buf_len(&b), hex);
  wd_buf_free(&b);
  return rc;
}

/* ---- small validators -------------------------------------------------------- */

void wd_audit__now(char *out) {
  struct timespec ts;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  /* The format cannot overflow 25 bytes for years 0..9999. */
  size_t n = strftime(out, 21, "%Y-%m-%dT%H:%M:%S", &tm);
  long ms = ts.tv_nsec / 1000000;
  if (n != 19) {
    memcpy(out, "1970-01-01T00:00:00.000Z", 25);
    return;
  }
  out[19] = '.';
  out[20] = (char)('0' + ms / 100);
  out[21] = (char)('0' + ms / 10 % 10);
  out[22] = (char)('0' + ms % 10);
  out[23] = 'Z';
  out[24] = '\0';
}

int wd_audit__time_ok(const char *s) {
  static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";
  size_t i;
  for (i = 0; shape[i]; i++) {
    if (!s[i]) return 0;
    if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != shape[i]) return 0;
  }
  return s[i] == '\0';
}

int wd_audit__hex64_ok(const char *s) {
  size_t i;
  for (i = 0; i < 64; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return 0;
  return s[i] == '\0';
}

int wd_audit__utf8_ok(const char *s, size_t n) {
  const unsigned char *p = (const unsigned char *)s;
  size_t i = 0;
  while (i < n) {
    unsigned c = p[i];
    size_t len;
    unsigned cp;
    if (c == 0) return 0;
    if (c < 0x80) {
      i++;
      continue;
    }
    if (c >= 0xc2 && c <= 0xdf) {
      len = 2;
      cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
      len = 3;
      cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      len = 4;
      cp = c & 0x07;
    } else {
      return 0;
    }
    if (i + len > n) return 0;
    for (size_t k = 1; k < len; k++) {
      if ((p[i + k] & 0xc0) != 0x80) return 0;
      cp = (cp << 6) | (p[i + k] & 0x3f);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
      return 0;
    i += len;
  }
  return 1;
}
