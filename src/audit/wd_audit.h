/* SPDX-License-Identifier: Apache-2.0
 *
 * The evidence log: an append-only, hash-chained record of everything the
 * service decides, kept in the store. Each record's hash is SHA-256 over a
 * canonical encoding of all its other fields, including the previous
 * record's hash (docs/internals/audit.md defines the encoding), so editing,
 * deleting or reordering any stored record breaks the chain at that record.
 *
 * wd_audit_append returns only once its record is durable. Concurrent
 * appenders are batched by group commit: a committer thread per log writes
 * everything queued in one transaction and then wakes the callers (or runs
 * the callbacks of asynchronous appends). This module never
 * includes sqlite3.h; it reaches the rows through src/store.
 */
#ifndef WD_AUDIT_H
#define WD_AUDIT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "store/wd_store.h"
#include "util/wd_buf.h"
#include "util/wd_limits.h"
#include "warden/export.h"

#define WD_AUDIT_TYPE_MAP(XX)                                                                      \
  XX(AGENT_REGISTERED, "agent.registered")                                                         \
  XX(AGENT_ENROLLED, "agent.enrolled")                                                             \
  XX(AGENT_QUARANTINED, "agent.quarantined")                                                       \
  XX(AGENT_RELEASED, "agent.released")                                                             \
  XX(AGENT_RETIRED, "agent.retired")                                                               \
  XX(TASK_OPENED, "task.opened")                                                                   \
  XX(TASK_INTENT_CHANGED, "task.intent_changed")                                                   \
  XX(TASK_ENDED, "task.ended")                                                                     \
  XX(TOKEN_ISSUED, "token.issued")                                                                 \
  XX(TOKEN_RENEWED, "token.renewed")                                                               \
  XX(TOKEN_REVOKED, "token.revoked")                                                               \
  XX(AUTHZ_DECISION, "authz.decision")                                                             \
  XX(POLICY_ACTIVATED, "policy.activated")                                                         \
  XX(ADMIN_ACTION, "admin.action")                                                                 \
  XX(STORE_PRUNED, "store.pruned")

typedef enum {
#define XX(c, s) WD_AUDIT_##c,
  WD_AUDIT_TYPE_MAP(XX)
#undef XX
      WD_AUDIT__TYPE_COUNT
} wd_audit_type;

/* The dotted name of a type ("authz.decision"); "?" when out of range. */
WD_EXTERN const char *wd_audit_type_name(wd_audit_type t);
/* -WD_E_INVAL for a name not in the table. */
WD_EXTERN int wd_audit_type_parse(const char *name, wd_audit_type *out) WD_WUR;

/* The hash a record with seq 1 chains to. */
#define WD_AUDIT_GENESIS "0000000000000000000000000000000000000000000000000000000000000000"
/* The largest seq a record may have: what a JSON number carries exactly. */
#define WD_AUDIT_SEQ_MAX (INT64_C(1) << 53)
/* 1 when seq can number a record. A stored row with any other seq is in
 * no chain (only a direct write to the store makes one), so the readers
 * refuse it rather than show it as evidence. */
static inline int wd_audit_seq_ok(int64_t seq) { return seq >= 1 && seq <= WD_AUDIT_SEQ_MAX; }

typedef struct wd_audit wd_audit;

/* Opens the appender on a store (borrowed: it must outlive the log).
 * Returns owned *out (free with wd_audit_close). */
WD_EXTERN int wd_audit_open(wd_store *store, wd_audit **out) WD_WUR;
/* Commits whatever is still queued (asynchronous appends), stops the
 * committer and frees the appender; NULL is a no-op. No synchronous append
 * may be in flight. */
WD_EXTERN void wd_audit_close(wd_audit *a);

/* Appends one record and returns once it is durable. actor is required;
 * task may be NULL; payload is the text of a JSON object (NULL means {})
 * with no duplicate keys and no non-integer numbers (encode those as
 * strings). *seq (may be NULL) gets the record's sequence number. Errors:
 * -WD_E_INVAL for a bad argument or payload, -WD_E_TOOBIG past
 * WD_LIMIT_AUDIT_PAYLOAD_BYTES, store errors when the write failed (the
 * record was then not written). Thread-safe. */
WD_EXTERN int wd_audit_append(wd_audit *a, wd_audit_type type, const char *actor, const char *task,
                              const char *payload, int64_t *seq) WD_WUR;
/* Like wd_audit_append with a borrowed jansson object as the payload. */
WD_EXTERN int wd_audit_append_json(wd_audit *a, wd_audit_type type, const char *actor,
                                   const char *task, const json_t *payload, int64_t *seq) WD_WUR;
/* Like wd_audit_append_json, and the record carries store effects
 * fx[0..nfx) (at most 2, borrowed) into the same durable transaction: the
 * effects are written exactly when the record is. */
WD_EXTERN int wd_audit_append_json_fx(wd_audit *a, wd_audit_type type, const char *actor,
                                      const char *task, const json_t *payload,
                                      const wd_store_fx *fx, size_t nfx, int64_t *seq) WD_WUR;
/* One record of a group (wd_audit_append_group). */
typedef struct wd_audit_entry {
  wd_audit_type type;
  const json_t *payload; /* borrowed; NULL means {} */
  const wd_store_fx *fx; /* at most 2, borrowed */
  size_t nfx;
  int64_t seq; /* out: the record's sequence number */
} wd_audit_entry;
/* Appends e[0..n) (at most WD_LIMIT_AUDIT_GROUP records of one actor and
 * task) in order and in one durable transaction with all their effects:
 * every record is written, or none is. Returns once durable. An effect
 * the store refuses (see wd_store_audit_append_fx) fails the group alone
 * with its error; other records committed with it are retried without
 * it. Thread-safe. */
WD_EXTERN int wd_audit_append_group(wd_audit *a, const char *actor, const char *task,
                                    wd_audit_entry *e, size_t n) WD_WUR;
/* Called once an asynchronous record is durable (rc 0, seq its number)
 * or has failed (rc < 0, seq 0), on the log's committer thread: it must
 * not block, and must not append to this log. */
typedef void (*wd_audit_done_cb)(void *ctx, int rc, int64_t seq);
/* wd_audit_append_json_fx without waiting: returns 0 once the record is
 * queued, and cb(ctx, ...) runs later. actor, task and the strings of fx
 * stay borrowed until cb runs; payload and the fx array are copied. A
 * record refused up front returns an error and cb never runs. */
WD_EXTERN int wd_audit_append_json_async(wd_audit *a, wd_audit_type type, const char *actor,
                                         const char *task, const json_t *payload,
                                         const wd_store_fx *fx, size_t nfx, wd_audit_done_cb cb,
                                         void *ctx) WD_WUR;
/* wd_audit_append_json_async with the payload already written as its
 * canonical text canon[0..len) (an object; see wd_audit_canon_str and
 * wd_audit_canon_json), which the log takes in every case (wd_malloc'd;
 * freed when the record is refused too). The caller vouches that the
 * text is canonical, which spares a parse; builds with assertions check
 * it and refuse the record with -WD_E_INVAL when it is not. */
WD_EXTERN int wd_audit_append_canon_async(wd_audit *a, wd_audit_type type, const char *actor,
                                          const char *task, char *canon, size_t len,
                                          const wd_store_fx *fx, size_t nfx, wd_audit_done_cb cb,
                                          void *ctx) WD_WUR;
/* Appends s[0..n) as a canonical JSON string. */
WD_EXTERN int wd_audit_canon_str(wd_buf *b, const char *s, size_t n) WD_WUR;
/* Appends the canonical encoding of v (borrowed); a non-integer number,
 * which has no exact canonical form, becomes the string of its shortest
 * round-trip decimal text. */
WD_EXTERN int wd_audit_canon_json(wd_buf *b, const json_t *v) WD_WUR;
/* Appends the canonical encoding of a payload read back from the log (an
 * object, borrowed), such as a record of GET /v1/audit/records: it may
 * nest deeper than wd_audit_canon_json takes, since a writer's value can
 * sit inside the payload, and it is checked as the verifier checks it. */
WD_EXTERN int wd_audit_canon_stored(wd_buf *b, const json_t *payload) WD_WUR;
/* Returns once every record queued before the call is complete (durable,
 * or failed and not written), so a store read that follows sees the
 * effects of all of them. NULL is a no-op. Must not be called from a
 * wd_audit_done_cb. */
WD_EXTERN void wd_audit_barrier(wd_audit *a);
/* Group-commit statistics: records and transactions written so far, and
 * records the store failed to write (an I/O or storage error, out of
 * memory; not an effect the store refused), with the last such error
 * code (0: none yet). Any out pointer may be NULL. */
WD_EXTERN void wd_audit_stats(wd_audit *a, uint64_t *records, uint64_t *commits, uint64_t *failed,
                              int *last_error);
/* 1 when the last batch the store was given failed (see wd_audit_stats)
 * less than hold_ms ago, with *last_error its code; 0 once a later batch
 * is written, or after hold_ms, so that a service taken out of rotation
 * is tried again. NULL: 0. */
WD_EXTERN int wd_audit_failing(wd_audit *a, unsigned hold_ms, int *last_error);

/* ---- verification ----------------------------------------------------------- */

typedef struct wd_audit_report {
  int64_t records;                /* records checked before stopping */
  int64_t bad_seq;                /* 0 when intact; else the first broken seq */
  char reason[WD_LIMIT_DIAG_MSG]; /* why bad_seq is broken; "" when intact */
  int64_t first_seq;              /* the first record's seq (0: none) */
  char anchor[65];                /* the hash the first record follows (all zeros at seq 1) */
  int64_t anchor_seq;             /* the seq of the record it follows: the anchor's as given,
                                   * else first_seq - 1 (0: genesis, or no record) */
  int64_t last_seq;               /* the last intact record's seq (0: none) */
  char last_hash[65];             /* the last intact record's hash: the next segment's anchor */
} wd_audit_report;

/* Recomputes the whole chain in the store. Returns 0 when intact,
 * -WD_E_VALIDATE when broken (rep says where and why), other errors when
 * the log could not be read. Every stored row is checked: one whose seq
 * is not wd_audit_seq_ok breaks the chain too (a seq below 1 is reported
 * at seq 1, the reason naming the row's). */
WD_EXTERN int wd_audit_verify(wd_store *s, wd_audit_report *rep) WD_WUR;
/* Checks the last n records only (at most), as a piece whose first link
 * is taken as given: each one's own hash and its link to the one before.
 * Cheap enough for every start, it finds a damaged or edited tail before
 * new records chain onto it; the rest of the log is wd_audit_verify's.
 * 0 for an empty log too. */
WD_EXTERN int wd_audit_verify_tail(wd_store *s, uint32_t n, wd_audit_report *rep) WD_WUR;
/* The same, offline, on a SQLite file opened read-only. */
WD_EXTERN int wd_audit_verify_file(const char *path, wd_audit_report *rep) WD_WUR;
/* The same on an exported log (JSON lines, as wd_audit_export writes). */
WD_EXTERN int wd_audit_verify_jsonl(const char *text, size_t len, wd_audit_report *rep) WD_WUR;
/* The same on a segment (wd_audit_export_from) that may start past seq 1:
 * its first record must follow anchor (the previous segment's
 * rep.last_hash), or, with anchor NULL, its first link is taken as given
 * (rep.anchor says which). anchor_seq is the seq of anchor's record (the
 * previous segment's rep.last_seq), 0 when unknown: when known, the
 * first record must be anchor_seq + 1, else -WD_E_VALIDATE naming both
 * (a segment that starts earlier is a log cut back and grown again, one
 * that starts later lost records). A segment from seq 1 always starts at
 * genesis, and is refused with an anchor of unknown seq: -WD_E_INVAL,
 * rep.reason says why. -WD_E_INVAL too for anchor_seq outside 0 to
 * WD_AUDIT_SEQ_MAX, or given without anchor. */
WD_EXTERN int wd_audit_verify_jsonl_from(const char *text, size_t len, const char *anchor,
                                         int64_t anchor_seq, wd_audit_report *rep) WD_WUR;

/* ---- reading ---------------------------------------------------------------- */

typedef struct wd_audit_records {
  wd_audit_row *v; /* owned rows, in seq order */
  size_t n;
  int64_t outside; /* after -WD_E_VALIDATE: the seq of the row outside the chain */
} wd_audit_records;

/* A task's records in order (intent, credentials, decisions, end), at
 * most WD_LIMIT_AUDIT_TRACE_ROWS. Owned *out (free with
 * wd_audit_records_free); an unknown task gives an empty list. A row of
 * the task whose seq is not wd_audit_seq_ok fails the trace with
 * -WD_E_VALIDATE and out->outside its seq: a trace shows evidence, and
 * that row is none. */
WD_EXTERN int wd_audit_trace(wd_store *s, const char *task, wd_audit_records *out) WD_WUR;
WD_EXTERN void wd_audit_records_free(wd_audit_records *r);

/* Appends one record as a JSON line (canonical form plus "hash", no
 * newline) to out. -WD_E_INVAL when the row's payload is not JSON, its
 * actor or task is not UTF-8, or a stored column holds a NUL byte
 * (r->cut). */
WD_EXTERN int wd_audit_record_json(const wd_audit_row *r, wd_buf *out) WD_WUR;

/* Receives one exported line (with its newline); non-zero stops the export. */
typedef int (*wd_audit_write_fn)(void *ctx, const char *line, size_t len);
/* Exports the log (or one task's records when task != NULL) as JSON lines.
 * A row whose seq is not wd_audit_seq_ok stops it with -WD_E_VALIDATE,
 * unwritten: an export is shipped as evidence, and a collector must not
 * archive a log with that row left out and verifying. */
WD_EXTERN int wd_audit_export(wd_store *s, const char *task, wd_audit_write_fn w, void *ctx) WD_WUR;
/* The same from record from_seq on (0 or 1: from the start, rows below
 * seq 1 included, so they stop it). */
WD_EXTERN int wd_audit_export_from(wd_store *s, const char *task, int64_t from_seq,
                                   wd_audit_write_fn w, void *ctx) WD_WUR;

#endif
