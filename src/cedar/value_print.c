/* SPDX-License-Identifier: Apache-2.0
 *
 * Output of values: Cedar syntax (as the reference prints a value, e.g. for
 * `warden cedar evaluate`) and Cedar's JSON value format. Extension values
 * print through the extension files' canonical printers. Parsing values
 * back is json.c's and the parser's business, not this file's.
 */
#include <string.h>

#include "cedar_int.h"

/* Decodes one UTF-8 sequence at s[i..n); returns its length, or 0 when the
 * bytes are not well-formed (they are then copied through unchanged). */
static uint32_t utf8_decode(const unsigned char *s, uint32_t i, uint32_t n, uint32_t *cp) {
  unsigned char c = s[i];
  uint32_t len, v;
  if (c < 0x80) {
    *cp = c;
    return 1;
  }
  if ((c & 0xE0) == 0xC0) {
    len = 2;
    v = c & 0x1Fu;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3;
    v = c & 0x0Fu;
  } else if ((c & 0xF8) == 0xF0) {
    len = 4;
    v = c & 0x07u;
  } else {
    return 0;
  }
  if (n - i < len) return 0;
  for (uint32_t k = 1; k < len; k++) {
    if ((s[i + k] & 0xC0) != 0x80) return 0;
    v = (v << 6) | (s[i + k] & 0x3Fu);
  }
  *cp = v;
  return len;
}

/* Approximates Rust's char::is_printable, which the reference uses when it
 * escapes strings: controls, format characters, separators other than the
 * ASCII space, and private-use code points are escaped. Unassigned code
 * points are not tracked here. */
static int nonprintable(uint32_t c) {
  static const uint32_t ranges[][2] = {
      {0x0000, 0x001F},   {0x007F, 0x00A0},   {0x00AD, 0x00AD},    {0x0600, 0x0605},
      {0x061C, 0x061C},   {0x06DD, 0x06DD},   {0x070F, 0x070F},    {0x0890, 0x0891},
      {0x08E2, 0x08E2},   {0x1680, 0x1680},   {0x180E, 0x180E},    {0x2000, 0x200F},
      {0x2028, 0x202F},   {0x205F, 0x2064},   {0x2066, 0x206F},    {0x3000, 0x3000},
      {0xD800, 0xF8FF},   {0xFEFF, 0xFEFF},   {0xFFF9, 0xFFFB},    {0x110BD, 0x110BD},
      {0x110CD, 0x110CD}, {0x13430, 0x1343F}, {0x1BCA0, 0x1BCA3},  {0x1D173, 0x1D17A},
      {0xE0001, 0xE0001}, {0xE0020, 0xE007F}, {0xF0000, 0x10FFFF},
  };
  for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++) {
    if (c >= ranges[i][0] && c <= ranges[i][1]) return 1;
  }
  return 0;
}

/* Printable ASCII that needs no escape: the common case, copied in runs
 * (uids are printed for every entity loaded, and ids can be long). */
static int plain_ascii(unsigned char c) {
  return c >= 0x20 && c < 0x7F && c != '"' && c != '\\' && c != '\'';
}

static int print_escaped_body(wd_buf *b, cedar__str s) {
  const unsigned char *p = (const unsigned char *)s.p;
  int rc = 0;
  for (uint32_t i = 0; i < s.n && rc == 0;) {
    uint32_t run = 0;
    while (i + run < s.n && plain_ascii(p[i + run]))
      run++;
    if (run) {
      /* A combining mark after the opening quote is not ASCII, so a run
       * never changes what the loop below escapes. */
      rc = wd_buf_add(b, p + i, run);
      i += run;
      continue;
    }
    uint32_t cp = 0;
    uint32_t len = utf8_decode(p, i, s.n, &cp);
    if (len == 0) {
      rc = wd_buf_addc(b, (char)p[i]);
      i++;
      continue;
    }
    switch (cp) {
    case 0: rc = wd_buf_adds(b, "\\0"); break;
    case '\t': rc = wd_buf_adds(b, "\\t"); break;
    case '\n': rc = wd_buf_adds(b, "\\n"); break;
    case '\r': rc = wd_buf_adds(b, "\\r"); break;
    case '\\': rc = wd_buf_adds(b, "\\\\"); break;
    case '"': rc = wd_buf_adds(b, "\\\""); break;
    case '\'': rc = wd_buf_adds(b, "\\'"); break;
    default:
      /* A combining mark is escaped only where it would attach to the
       * opening quote, as the reference does. */
      if (nonprintable(cp) || (i == 0 && cp >= 0x300 && cp <= 0x36F))
        rc = wd_buf_addf(b, "\\u{%x}", (unsigned)cp);
      else
        rc = wd_buf_add(b, p + i, len);
      break;
    }
    i += len;
  }
  return rc;
}

int cedar__str_print_quoted(wd_buf *b, cedar__str s) {
  int rc = wd_buf_addc(b, '"');
  if (rc == 0) rc = print_escaped_body(b, s);
  if (rc == 0) rc = wd_buf_addc(b, '"');
  return rc;
}

int cedar__uid_print(wd_buf *b, const cedar__uid *uid) {
  int rc = wd_buf_add(b, uid->type.p, uid->type.n);
  if (rc == 0) rc = wd_buf_adds(b, "::");
  if (rc == 0) rc = cedar__str_print_quoted(b, uid->id);
  return rc;
}

/* Keys that are identifiers (and not reserved words) print bare. */
static int bare_key(cedar__str k) {
  static const char *const reserved[] = {"true", "false", "if",   "then", "else",
                                         "in",   "is",    "like", "has",  "__cedar"};
  if (k.n == 0) return 0;
  for (uint32_t i = 0; i < k.n; i++) {
    char c = k.p[i];
    int alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return 0;
  }
  for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++) {
    if (cedar__str_eq(k, cedar__cstr(reserved[i]))) return 0;
  }
  return 1;
}

static int print_ext(wd_buf *b, const char *fn, const cedar__val *v) {
  int rc = wd_buf_adds(b, fn);
  if (rc == 0) rc = wd_buf_adds(b, "(\"");
  if (rc) return rc;
  switch (v->kind) {
  case CEDAR__V_DECIMAL: rc = cedar__decimal_print(b, v->u.i); break;
  case CEDAR__V_IPADDR: rc = cedar__ip_print(b, &v->u.ip); break;
  case CEDAR__V_DATETIME: rc = cedar__datetime_print(b, v->u.i); break;
  case CEDAR__V_DURATION: rc = cedar__duration_print(b, v->u.i); break;
  case CEDAR__V_BOOL:
  case CEDAR__V_LONG:
  case CEDAR__V_STRING:
  case CEDAR__V_ENTITY:
  case CEDAR__V_SET:
  case CEDAR__V_RECORD: rc = -WD_E_INTERNAL; break;
  }
  if (rc == 0) rc = wd_buf_adds(b, "\")");
  return rc;
}

int cedar__val_print(wd_buf *b, const cedar__val *v) {
  int rc = 0;
  switch (v->kind) {
  case CEDAR__V_BOOL: return wd_buf_adds(b, v->u.b ? "true" : "false");
  case CEDAR__V_LONG: return wd_buf_addf(b, "%lld", (long long)v->u.i);
  case CEDAR__V_STRING: return cedar__str_print_quoted(b, v->u.s);
  case CEDAR__V_ENTITY: return cedar__uid_print(b, v->u.uid);
  case CEDAR__V_SET:
    rc = wd_buf_addc(b, '[');
    for (uint32_t i = 0; rc == 0 && i < v->u.set.n; i++) {
      if (i) rc = wd_buf_adds(b, ", ");
      if (rc == 0) rc = cedar__val_print(b, &v->u.set.v[i]);
    }
    if (rc == 0) rc = wd_buf_addc(b, ']');
    return rc;
  case CEDAR__V_RECORD:
    rc = wd_buf_addc(b, '{');
    for (uint32_t i = 0; rc == 0 && i < v->u.rec.n; i++) {
      cedar__str k = v->u.rec.k[i];
      if (i) rc = wd_buf_adds(b, ", ");
      if (rc) break;
      rc = bare_key(k) ? wd_buf_add(b, k.p, k.n) : cedar__str_print_quoted(b, k);
      if (rc == 0) rc = wd_buf_adds(b, ": ");
      if (rc == 0) rc = cedar__val_print(b, &v->u.rec.v[i]);
    }
    if (rc == 0) rc = wd_buf_addc(b, '}');
    return rc;
  case CEDAR__V_DECIMAL: return print_ext(b, "decimal", v);
  case CEDAR__V_IPADDR: return print_ext(b, "ip", v);
  case CEDAR__V_DATETIME: return print_ext(b, "datetime", v);
  case CEDAR__V_DURATION: return print_ext(b, "duration", v);
  }
  return -WD_E_INTERNAL;
}

static json_t *ext_to_json(const char *fn, const cedar__val *v) {
  wd_buf b;
  wd_buf_init(&b, WD_LIMIT_DIAG_MSG);
  int rc = -WD_E_INTERNAL;
  switch (v->kind) {
  case CEDAR__V_DECIMAL: rc = cedar__decimal_print(&b, v->u.i); break;
  case CEDAR__V_IPADDR: rc = cedar__ip_print(&b, &v->u.ip); break;
  case CEDAR__V_DATETIME: rc = cedar__datetime_print(&b, v->u.i); break;
  case CEDAR__V_DURATION: rc = cedar__duration_print(&b, v->u.i); break;
  case CEDAR__V_BOOL:
  case CEDAR__V_LONG:
  case CEDAR__V_STRING:
  case CEDAR__V_ENTITY:
  case CEDAR__V_SET:
  case CEDAR__V_RECORD: break;
  }
  json_t *r = NULL;
  if (rc == 0)
    r = json_pack("{s:{s:s,s:s%}}", "__extn", "fn", fn, "arg", wd_buf_str(&b), wd_buf_len(&b));
  wd_buf_free(&b);
  return r;
}

json_t *cedar__val_to_json(const cedar__val *v) {
  json_t *r = NULL;
  switch (v->kind) {
  case CEDAR__V_BOOL: return json_boolean(v->u.b);
  case CEDAR__V_LONG: return json_integer((json_int_t)v->u.i);
  case CEDAR__V_STRING: return json_stringn(v->u.s.p ? v->u.s.p : "", v->u.s.n);
  case CEDAR__V_ENTITY:
    return json_pack("{s:{s:s%,s:s%}}", "__entity", "type", v->u.uid->type.p,
                     (size_t)v->u.uid->type.n, "id", v->u.uid->id.p ? v->u.uid->id.p : "",
                     (size_t)v->u.uid->id.n);
  case CEDAR__V_SET:
    r = json_array();
    for (uint32_t i = 0; r && i < v->u.set.n; i++) {
      if (json_array_append_new(r, cedar__val_to_json(&v->u.set.v[i])) != 0) {
        json_decref(r);
        r = NULL;
      }
    }
    return r;
  case CEDAR__V_RECORD:
    r = json_object();
    for (uint32_t i = 0; r && i < v->u.rec.n; i++) {
      cedar__str k = v->u.rec.k[i];
      if (json_object_setn_new(r, k.p ? k.p : "", k.n, cedar__val_to_json(&v->u.rec.v[i])) != 0) {
        json_decref(r);
        r = NULL;
      }
    }
    return r;
  case CEDAR__V_DECIMAL: return ext_to_json("decimal", v);
  case CEDAR__V_IPADDR: return ext_to_json("ip", v);
  case CEDAR__V_DATETIME: return ext_to_json("datetime", v);
  case CEDAR__V_DURATION: return ext_to_json("duration", v);
  }
  return NULL;
}
