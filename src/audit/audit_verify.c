/* SPDX-License-Identifier: Apache-2.0
 *
 * The chain verifier: recomputes every record's hash in seq order and
 * reports the first record that does not continue the chain, with the
 * reason. One incremental checker serves three sources: the live store, a
 * SQLite file opened read-only, and an exported JSON-lines log (which is
 * attacker-controlled input and is fuzzed: tests/fuzz/fuzz_audit_verify.c).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "audit/audit_int.h"
#include "util/wd_alloc.h"

int wd_audit__fail(wd_audit_report *rep, int64_t seq, const char *fmt, ...) {
  va_list ap;
  rep->bad_seq = seq > 0 ? seq : 1;
  va_start(ap, fmt);
  vsnprintf(rep->reason, sizeof rep->reason, fmt, ap);
  va_end(ap);
  return -WD_E_VALIDATE;
}

void wd_audit__verifier_init(wd_audit__verifier *v, wd_audit_report *rep) {
  memset(rep, 0, sizeof *rep);
  memset(v, 0, sizeof *v);
  v->rep = rep;
  v->next_seq = 1;
  memcpy(v->prev, WD_AUDIT_GENESIS, 65);
}

/* A segment's first row under an anchor whose seq is known: it must be
 * the record right after it. The hash link alone cannot tell, since the
 * anchor does not say that its record is still the one before. */
static int piece_start(wd_audit__verifier *v, const wd_audit_row *r) {
  long long want = (long long)v->anchor_seq + 1, got = (long long)r->seq;
  v->rep->first_seq = r->seq;
  memcpy(v->rep->anchor, v->prev, 65);
  if (r->seq < want)
    return wd_audit__fail(v->rep, r->seq,
                          "the piece starts at record %lld, but its anchor is record %lld: a "
                          "piece after it starts at %lld (was the log cut back and grown again?)",
                          got, want - 1, want);
  return wd_audit__fail(v->rep, want,
                        "record %lld is missing: the piece starts at record %lld, but its anchor "
                        "is record %lld",
                        want, got, want - 1);
}

int wd_audit__verify_row(wd_audit__verifier *v, const wd_audit_row *r) {
  wd_audit_report *rep = v->rep;
  wd_audit_type type;
  char hash[65];
  char *canon = NULL;
  int rc;
  /* A seq past what JSON carries exactly is no log's: and counting on
   * from INT64_MAX would overflow. One below 1 sorts before record 1,
   * where a walk that starts at 1 would never look. */
  if (!wd_audit_seq_ok(r->seq)) /* reported where the chain stops, like a missing record */
    return wd_audit__fail(rep, v->next_seq, "a row with seq %lld lies outside the chain (%s)",
                          (long long)r->seq,
                          r->seq < 1 ? "records are numbered from 1" : "past 2^53");
  if (v->anchored && v->anchor_seq && rep->records == 0 && r->seq != v->anchor_seq + 1)
    return piece_start(v, r);
  if (v->anchored && rep->records == 0 && r->seq == 1) {
    /* Record 1 follows genesis whatever the anchor says: chaining it to
     * one would pass off a whole log as the piece after another. */
    (void)wd_audit__fail(rep, 1,
                         "record 1 starts the log: an anchor is for a piece that "
                         "starts later");
    return -WD_E_INVAL;
  }
  if (v->segment && rep->records == 0 && r->seq > 1) {
    /* A segment starts where it starts; without an anchor its first link
     * is taken on trust, and the report says from where. */
    v->next_seq = r->seq;
    if (!v->anchored && r->prev_hash && wd_audit__hex64_ok(r->prev_hash))
      memcpy(v->prev, r->prev_hash, 65);
  }
  if (rep->records == 0) {
    rep->first_seq = r->seq;
    rep->anchor_seq = r->seq - 1;
    memcpy(rep->anchor, v->prev, 65);
  }
  if (r->seq > v->next_seq)
    return wd_audit__fail(rep, v->next_seq, "record %lld is missing (next stored is %lld)",
                          (long long)v->next_seq, (long long)r->seq);
  if (r->seq < v->next_seq)
    return wd_audit__fail(rep, v->next_seq, "seq %lld out of order (expected %lld)",
                          (long long)r->seq, (long long)v->next_seq);
  if (r->cut)
    return wd_audit__fail(rep, r->seq, "%s holds a NUL byte that hides the rest of it", r->cut);
  if (!r->time || !r->type || !r->actor || !r->payload || !r->prev_hash || !r->hash)
    return wd_audit__fail(rep, r->seq, "a required field is missing");
  if (!wd_audit__time_ok(r->time))
    return wd_audit__fail(rep, r->seq, "time is not RFC 3339 UTC with milliseconds");
  if (wd_audit_type_parse(r->type, &type))
    return wd_audit__fail(rep, r->seq, "unknown record type");
  if (!wd_audit__hex64_ok(r->prev_hash) || !wd_audit__hex64_ok(r->hash))
    return wd_audit__fail(rep, r->seq, "hash is not 64 lowercase hex digits");
  if (!*r->actor || !wd_audit__utf8_ok(r->actor, strlen(r->actor)) ||
      (r->task && !wd_audit__utf8_ok(r->task, strlen(r->task))))
    return wd_audit__fail(rep, r->seq, "actor or task is not valid text");
  if (strcmp(r->prev_hash, v->prev) != 0)
    return wd_audit__fail(rep, r->seq, "prev_hash does not match the hash of record %lld",
                          (long long)(r->seq - 1));
  rc = wd_audit__canon_payload(r->payload, strlen(r->payload), WD_AUDIT__STORED, &canon);
  if (rc == -WD_E_NOMEM) return rc;
  if (rc || strcmp(canon, r->payload) != 0) {
    wd_free(canon);
    return wd_audit__fail(rep, r->seq, "payload is not canonical JSON");
  }
  wd_free(canon);
  if ((rc = wd_audit__hash(r, hash)))
    return rc == -WD_E_TOOBIG ? wd_audit__fail(rep, r->seq, "record too large") : rc;
  if (strcmp(hash, r->hash) != 0)
    return wd_audit__fail(rep, r->seq, "hash does not match the record's contents");
  memcpy(v->prev, hash, 65);
  memcpy(rep->last_hash, hash, 65);
  rep->last_seq = r->seq;
  v->next_seq++;
  rep->records++;
  return 0;
}

static int scan_cb(void *ctx, const wd_audit_row *row) { return wd_audit__verify_row(ctx, row); }

int wd_audit_verify(wd_store *s, wd_audit_report *rep) {
  wd_audit__verifier v;
  if (!s || !rep) return -WD_E_INVAL;
  wd_audit__verifier_init(&v, rep);
  /* Every row, not from 1 on: one below 1 is tampering to report. */
  return wd_store_audit_scan(s, NULL, INT64_MIN, scan_cb, &v);
}

int wd_audit_verify_tail(wd_store *s, uint32_t n, wd_audit_report *rep) {
  wd_audit__verifier v;
  int64_t last = 0;
  char hash[65];
  int rc;
  if (!s || !rep || n == 0) return -WD_E_INVAL;
  wd_audit__verifier_init(&v, rep);
  if ((rc = wd_store_audit_tail(s, &last, hash))) return rc;
  if (last == 0) return 0;
  if (!wd_audit_seq_ok(last))
    return wd_audit__fail(rep, last, "the last row has seq %lld, outside the chain (%s)",
                          (long long)last, last < 1 ? "records are numbered from 1" : "past 2^53");
  v.segment = 1;
  return wd_store_audit_scan(s, NULL, last > (int64_t)n ? last - (int64_t)n + 1 : 1, scan_cb, &v);
}

int wd_audit_verify_file(const char *path, wd_audit_report *rep) {
  wd_store *s = NULL;
  int rc;
  if (!path || !rep) return -WD_E_INVAL;
  memset(rep, 0, sizeof *rep);
  if ((rc = wd_store_open(path, WD_STORE_READONLY, &s))) return rc;
  rc = wd_audit_verify(s, rep);
  wd_store_close(s);
  return rc;
}

/* ---- JSON lines ------------------------------------------------------------- */

static const char *str_member(json_t *o, const char *key) {
  return json_string_value(json_object_get(o, key));
}

/* Turns one parsed line into a row (strings borrowed from the object,
 * payload canonicalized into owned *canon). */
static int line_to_row(json_t *o, wd_audit_row *r, char **canon) {
  json_t *seq = json_object_get(o, "seq"), *task = json_object_get(o, "task");
  json_t *payload = json_object_get(o, "payload");
  wd_buf b;
  int rc;
  if (!json_is_object(o) || json_object_size(o) != 8 || !json_is_integer(seq) ||
      !(json_is_string(task) || json_is_null(task)) || !json_is_object(payload))
    return -WD_E_INVAL;
  memset(r, 0, sizeof *r);
  r->seq = json_integer_value(seq);
  r->time = (char *)(uintptr_t)str_member(o, "time");
  r->type = (char *)(uintptr_t)str_member(o, "type");
  r->actor = (char *)(uintptr_t)str_member(o, "actor");
  r->task = (char *)(uintptr_t)json_string_value(task);
  r->prev_hash = (char *)(uintptr_t)str_member(o, "prev_hash");
  r->hash = (char *)(uintptr_t)str_member(o, "hash");
  if (!r->time || !r->type || !r->actor || !r->prev_hash || !r->hash) return -WD_E_INVAL;
  /* An embedded NUL would make the C strings disagree with the JSON. */
  if (strlen(r->actor) != json_string_length(json_object_get(o, "actor")) ||
      (r->task && strlen(r->task) != json_string_length(task)))
    return -WD_E_INVAL;
  wd_buf_init(&b, WD_LIMIT_AUDIT_PAYLOAD_BYTES);
  if ((rc = wd_audit__canon_value(payload, &b, 0, WD_AUDIT__STORED))) {
    wd_buf_free(&b);
    return rc == -WD_E_NOMEM ? rc : -WD_E_INVAL;
  }
  if (!(*canon = wd_buf_take(&b))) return -WD_E_NOMEM;
  r->payload = *canon;
  return 0;
}

/* Whether line[0..n) is byte for byte the line export writes for r: the
 * hash covers the record, not the line, so a line re-encoded (keys
 * reordered, spaces, \u escapes, a CR before the newline) would verify
 * while differing from what the log wrote. 1 or 0; -WD_E_NOMEM. */
static int line_canonical(const wd_audit_row *r, const char *line, size_t n) {
  wd_buf b;
  wd_buf_init(&b, WD_LIMIT_AUDIT_LINE_BYTES);
  int rc = wd_audit__canon_record(r, 1, &b);
  int same = rc == 0 && wd_buf_len(&b) == n && memcmp(wd_buf_str(&b), line, n) == 0;
  wd_buf_free(&b);
  return rc == -WD_E_NOMEM ? rc : same;
}

static int verify_lines(wd_audit__verifier *v, const char *text, size_t len) {
  wd_audit_report *rep = v->rep;
  size_t pos = 0, line = 0;
  int rc = 0;
  while (pos < len && rc == 0) {
    const char *nl = memchr(text + pos, '\n', len - pos);
    size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
    const char *s = text + pos;
    json_error_t err;
    json_t *o;
    wd_audit_row r;
    char *canon = NULL;
    pos += n + (nl ? 1 : 0);
    line++;
    if (n == 0) continue;
    if (n > WD_LIMIT_AUDIT_LINE_BYTES)
      return wd_audit__fail(rep, v->next_seq, "line %zu is too long", line);
    o = json_loadb(s, n, JSON_REJECT_DUPLICATES, &err);
    if (!o) return wd_audit__fail(rep, v->next_seq, "line %zu is not JSON", line);
    rc = line_to_row(o, &r, &canon);
    if (rc == -WD_E_NOMEM) {
      json_decref(o);
      return rc;
    }
    if (rc)
      rc = wd_audit__fail(rep, v->next_seq, "line %zu is not an evidence record", line);
    else if ((rc = line_canonical(&r, s, n)) == 1)
      rc = wd_audit__verify_row(v, &r);
    else if (rc == 0) /* the seq it stands for: a segment's first line gives its own */
      rc = wd_audit__fail(rep, v->segment && rep->records == 0 ? r.seq : v->next_seq,
                          "line %zu is not in canonical form", line);
    wd_free(canon);
    json_decref(o);
  }
  return rc;
}

int wd_audit_verify_jsonl(const char *text, size_t len, wd_audit_report *rep) {
  if (!rep || (!text && len)) return -WD_E_INVAL;
  wd_audit__verifier v;
  wd_audit__verifier_init(&v, rep);
  return verify_lines(&v, text, len);
}

int wd_audit_verify_jsonl_from(const char *text, size_t len, const char *anchor, int64_t anchor_seq,
                               wd_audit_report *rep) {
  if (!rep || (!text && len) || (anchor && !wd_audit__hex64_ok(anchor)) || anchor_seq < 0 ||
      anchor_seq > WD_AUDIT_SEQ_MAX || (anchor_seq && !anchor))
    return -WD_E_INVAL;
  wd_audit__verifier v;
  wd_audit__verifier_init(&v, rep);
  v.segment = 1;
  if (anchor) {
    v.anchored = 1;
    v.anchor_seq = anchor_seq;
    memcpy(v.prev, anchor, 65);
  }
  /* An empty piece still says what it came after. */
  rep->anchor_seq = anchor_seq;
  return verify_lines(&v, text, len);
}
