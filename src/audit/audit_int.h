/* SPDX-License-Identifier: Apache-2.0
 *
 * Private header of the evidence log: the canonical encoding, the record
 * hash, the time format, and the incremental chain verifier shared by the
 * store scan, the offline file check and the JSON-lines check.
 */
#ifndef WD_AUDIT_INT_H
#define WD_AUDIT_INT_H

#include "audit/wd_audit.h"

#define WD_AUDIT_TIME_LEN 24 /* "2026-01-02T03:04:05.678Z" */

/* wd_audit__canon_value flag: a non-integer number becomes a string. */
#define WD_AUDIT__REAL_TEXT 1u
/* wd_audit__canon_value flag: v is a payload already written (read back
 * from the log, or canonical text a writer vouches for), nested up to
 * WD_AUDIT__STORED_DEPTH. A writer caps each value it encodes at
 * WD_LIMIT_JSON_DEPTH counted from that value, and may place it inside
 * the payload (a decision's args sit one level down), so whatever reads
 * a payload back must allow more, or a record a writer stored would not
 * verify. */
#define WD_AUDIT__STORED       2u
#define WD_AUDIT__STORED_DEPTH (2u * WD_LIMIT_JSON_DEPTH)
/* Appends the canonical encoding of v (sorted keys, no whitespace, exact
 * integers; reals are refused with -WD_E_INVAL unless flags say
 * WD_AUDIT__REAL_TEXT; nested at most WD_LIMIT_JSON_DEPTH, or
 * WD_AUDIT__STORED_DEPTH with WD_AUDIT__STORED, else -WD_E_TOOBIG). */
int wd_audit__canon_value(const json_t *v, wd_buf *b, unsigned depth, unsigned flags) WD_WUR;
/* Appends s[0..n) as a canonical JSON string. */
int wd_audit__canon_string(wd_buf *b, const char *s, size_t n) WD_WUR;
/* Parses payload text (an object) and returns its canonical text, owned
 * (free with wd_free); flags as for wd_audit__canon_value. -WD_E_INVAL,
 * -WD_E_TOOBIG or -WD_E_NOMEM. */
int wd_audit__canon_payload(const char *text, size_t len, unsigned flags, char **out) WD_WUR;
/* Appends the canonical record: every field but hash, sorted keys; with
 * with_hash the "hash" member is included too (the export line). The
 * payload must already be canonical text; it is inserted verbatim. */
int wd_audit__canon_record(const wd_audit_row *r, int with_hash, wd_buf *b) WD_WUR;
/* hex (65 bytes) = lowercase SHA-256 of the canonical record. */
int wd_audit__hash(const wd_audit_row *r, char *hex) WD_WUR;
/* Writes the current UTC time as RFC 3339 with milliseconds (25 bytes). */
void wd_audit__now(char *out);
/* 1 when s is exactly the shape wd_audit__now writes. */
int wd_audit__time_ok(const char *s);
/* 1 when s is 64 lowercase hex digits. */
int wd_audit__hex64_ok(const char *s);
/* 1 when s[0..n) is valid UTF-8 without NUL. */
int wd_audit__utf8_ok(const char *s, size_t n);

/* The chain verifier, fed rows in the order they are stored. */
typedef struct wd_audit__verifier {
  wd_audit_report *rep;
  int64_t next_seq;   /* seq the next row must have */
  char prev[65];      /* hash the next row must chain to */
  int segment;        /* the first row may start past seq 1 (an export --from) */
  int anchored;       /* with segment: prev holds the hash the first row must follow */
  int64_t anchor_seq; /* with anchored: the seq of that hash's record (0: unknown) */
} wd_audit__verifier;

void wd_audit__verifier_init(wd_audit__verifier *v, wd_audit_report *rep);
/* Checks one row; 0 when it continues the chain, -WD_E_VALIDATE (with the
 * report filled) when it does not, -WD_E_INVAL (reason filled) for record
 * 1 under an anchor of unknown seq, -WD_E_NOMEM. */
int wd_audit__verify_row(wd_audit__verifier *v, const wd_audit_row *r) WD_WUR;
/* Records a break at seq with a printf-style reason; returns -WD_E_VALIDATE. */
int wd_audit__fail(wd_audit_report *rep, int64_t seq, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
