/* SPDX-License-Identifier: Apache-2.0
 *
 * Reading the evidence log: a task's trace as owned records, and the
 * JSON-lines export (the canonical record plus its hash, one per line,
 * which wd_audit_verify_jsonl checks offline).
 */
#include <string.h>

#include "audit/audit_int.h"
#include "util/wd_alloc.h"

static void row_free(wd_audit_row *r) {
  wd_free(r->time);
  wd_free(r->type);
  wd_free(r->actor);
  wd_free(r->task);
  wd_free(r->payload);
  wd_free(r->prev_hash);
  wd_free(r->hash);
  memset(r, 0, sizeof *r);
}

void wd_audit_records_free(wd_audit_records *r) {
  if (!r) return;
  for (size_t i = 0; i < r->n; i++)
    row_free(&r->v[i]);
  wd_free(r->v);
  r->v = NULL;
  r->n = 0;
}

static int dup_opt(const char *s, char **out) {
  *out = NULL;
  if (!s) return 0;
  *out = wd_strdup(s);
  return *out ? 0 : -WD_E_NOMEM;
}

typedef struct trace_ctx {
  wd_audit_records *out;
  size_t cap;
} trace_ctx;

static int trace_cb(void *ctx, const wd_audit_row *row) {
  trace_ctx *t = ctx;
  wd_audit_records *out = t->out;
  wd_audit_row *r;
  int rc;
  if (!wd_audit_seq_ok(row->seq)) {
    out->outside = row->seq;
    return -WD_E_VALIDATE;
  }
  if (out->n >= WD_LIMIT_AUDIT_TRACE_ROWS) return -WD_E_TOOBIG;
  if (out->n == t->cap) {
    size_t ncap = t->cap ? t->cap * 2 : 32;
    wd_audit_row *nv = wd_realloc(out->v, ncap * sizeof *nv);
    if (!nv) return -WD_E_NOMEM;
    out->v = nv;
    t->cap = ncap;
  }
  r = &out->v[out->n];
  memset(r, 0, sizeof *r);
  r->seq = row->seq;
  r->cut = row->cut;
  if ((rc = dup_opt(row->time, &r->time)) || (rc = dup_opt(row->type, &r->type)) ||
      (rc = dup_opt(row->actor, &r->actor)) || (rc = dup_opt(row->task, &r->task)) ||
      (rc = dup_opt(row->payload, &r->payload)) || (rc = dup_opt(row->prev_hash, &r->prev_hash)) ||
      (rc = dup_opt(row->hash, &r->hash))) {
    row_free(r);
    return rc;
  }
  out->n++;
  return 0;
}

int wd_audit_trace(wd_store *s, const char *task, wd_audit_records *out) {
  trace_ctx t = {.out = out};
  int rc;
  if (!s || !task || !out) return -WD_E_INVAL;
  memset(out, 0, sizeof *out);
  rc = wd_store_audit_scan(s, task, INT64_MIN, trace_cb, &t);
  if (rc) wd_audit_records_free(out);
  return rc;
}

int wd_audit_record_json(const wd_audit_row *r, wd_buf *out) {
  if (!r || !out || r->cut || !r->time || !r->type || !r->actor || !r->payload || !r->prev_hash ||
      !r->hash)
    return -WD_E_INVAL; /* cut: the line would show a shortened, verifying record */
  /* The payload is stored canonical; if it is not JSON the line would not
   * be either, so refuse rather than emit a broken export. */
  if (!wd_audit__utf8_ok(r->payload, strlen(r->payload)) || r->payload[0] != '{' ||
      !wd_audit__utf8_ok(r->actor, strlen(r->actor)) ||
      (r->task && !wd_audit__utf8_ok(r->task, strlen(r->task))))
    return -WD_E_INVAL;
  return wd_audit__canon_record(r, 1, out);
}

typedef struct export_ctx {
  wd_audit_write_fn w;
  void *ctx;
  wd_buf line;
} export_ctx;

static int export_cb(void *ctx, const wd_audit_row *row) {
  export_ctx *e = ctx;
  int rc;
  if (!wd_audit_seq_ok(row->seq)) return -WD_E_VALIDATE;
  wd_buf_reset(&e->line);
  if ((rc = wd_audit_record_json(row, &e->line)) || (rc = wd_buf_addc(&e->line, '\n'))) return rc;
  return e->w(e->ctx, wd_buf_str(&e->line), wd_buf_len(&e->line));
}

int wd_audit_export_from(wd_store *s, const char *task, int64_t from_seq, wd_audit_write_fn w,
                         void *ctx) {
  export_ctx e = {.w = w, .ctx = ctx};
  int rc;
  if (!s || !w || from_seq < 0) return -WD_E_INVAL;
  wd_buf_init(&e.line, WD_LIMIT_AUDIT_LINE_BYTES);
  /* From the start means every row, so that one below 1 stops it. */
  rc = wd_store_audit_scan(s, task, from_seq > 1 ? from_seq : INT64_MIN, export_cb, &e);
  wd_buf_free(&e.line);
  return rc;
}

int wd_audit_export(wd_store *s, const char *task, wd_audit_write_fn w, void *ctx) {
  return wd_audit_export_from(s, task, 0, w, ctx);
}
