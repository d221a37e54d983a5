/* SPDX-License-Identifier: Apache-2.0
 *
 * `warden audit export` and `warden audit verify --file`: the evidence
 * log as JSON lines (one record per line, its canonical form plus its
 * hash), written from the SQLite file of a data directory or paged from
 * a server (GET /v1/audit/records), and checked offline by anyone who
 * holds the file, without the server or its database. Exports may start
 * at a record (--from) so a collector can ship the log in pieces; a
 * piece is checked against the last hash of the one before (--anchor).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/wd_audit.h"
#include "cli/client.h"
#include "store/wd_store.h"
#include "util/wd_buf.h"
#include "util/wd_fs.h"
#include "util/wd_limits.h"
#include "warden/err.h"

static int write_line(void *ctx, const char *line, size_t len) {
  return fwrite(line, 1, len, ctx) == len ? 0 : -WD_E_IO;
}

/* stdout for an offline export, counting the lines it took: a record
 * that cannot be exported is then named. */
typedef struct counted_out {
  int64_t lines;
} counted_out;

static int write_counted(void *ctx, const char *line, size_t len) {
  int rc = write_line(stdout, line, len);
  if (!rc) ((counted_out *)ctx)->lines++;
  return rc;
}

/* Writes out what stdio still holds: a full disk or a closed pipe must
 * fail the export, not leave a short file behind a zero exit status. */
static int flush_out(const char *cmd) { return cl_flush_stdout(cmd, "the export"); }

static int export_offline(const char *cmd, const char *db, int64_t from) {
  char url[4200];
  (void)snprintf(url, sizeof url, "sqlite:%s", db);
  wd_store *s = NULL;
  counted_out co = {0};
  int rc = wd_store_open(url, WD_STORE_READONLY, &s);
  int opened = rc == 0;
  if (opened) rc = wd_audit_export_from(s, NULL, from, write_counted, &co);
  wd_store_close(s);
  /* A write that failed is stdout's fault, not the database's. */
  if (rc && ferror(stdout)) return flush_out(cmd);
  if (rc == -WD_E_VALIDATE) {
    fprintf(stderr,
            "%s: %s holds a row outside the chain (seq below 1 or past 2^53), which is not "
            "exported as evidence (`warden audit verify --db` names it)\n",
            cmd, db);
    (void)flush_out(cmd);
    return CL_ERR;
  }
  if (rc == -WD_E_INVAL && opened) {
    /* The records are contiguous: the one after the lines written. */
    fprintf(stderr,
            "%s: record %lld of %s cannot be exported: the log is damaged there (`warden audit "
            "verify --db` names the fault)\n",
            cmd, (long long)((from > 1 ? from : 1) + co.lines), db);
    (void)flush_out(cmd);
    return CL_ERR;
  }
  if (rc) {
    fprintf(stderr, "%s: cannot export %s: %s\n", cmd, db, wd_strerror(rc));
    return CL_ERR;
  }
  return flush_out(cmd);
}

/* One record object as the line the offline export writes for it (no
 * newline). */
static int record_line(const json_t *o, wd_buf *canon, wd_buf *line) {
  wd_buf_reset(canon);
  wd_buf_reset(line);
  const json_t *seq = json_object_get(o, "seq");
  wd_audit_row r = {
      .seq = json_integer_value(seq),
      .time = (char *)(uintptr_t)json_string_value(json_object_get(o, "time")),
      .type = (char *)(uintptr_t)json_string_value(json_object_get(o, "type")),
      .actor = (char *)(uintptr_t)json_string_value(json_object_get(o, "actor")),
      .task = (char *)(uintptr_t)json_string_value(json_object_get(o, "task")),
      .prev_hash = (char *)(uintptr_t)json_string_value(json_object_get(o, "prev_hash")),
      .hash = (char *)(uintptr_t)json_string_value(json_object_get(o, "hash")),
  };
  const json_t *pl = json_object_get(o, "payload");
  if (!json_is_integer(seq) || !json_is_object(pl)) return -WD_E_INVAL;
  int rc = wd_audit_canon_stored(canon, pl);
  r.payload = (char *)(uintptr_t)wd_buf_str(canon);
  return rc ? rc : wd_audit_record_json(&r, line);
}

/* One record of a page, written as the offline export writes it. */
static int put_record(const json_t *o, wd_buf *canon, wd_buf *line) {
  int rc = record_line(o, canon, line);
  if (!rc) rc = wd_buf_addc(line, '\n');
  if (!rc) rc = write_line(stdout, wd_buf_str(line), wd_buf_len(line));
  return rc;
}

int cl_audit_record_intact(const json_t *o) {
  wd_buf canon, line;
  wd_buf_init(&canon, WD_LIMIT_AUDIT_LINE_BYTES);
  wd_buf_init(&line, WD_LIMIT_AUDIT_LINE_BYTES);
  int rc = record_line(o, &canon, &line);
  /* Checked as a piece of one record that follows its own prev_hash:
   * the fields, the canonical form and the hash (record 1 follows
   * genesis, which takes no anchor). */
  const char *prev = json_string_value(json_object_get(o, "prev_hash"));
  int first = json_integer_value(json_object_get(o, "seq")) == 1;
  wd_audit_report rep;
  if (!rc)
    rc = wd_audit_verify_jsonl_from(wd_buf_str(&line), wd_buf_len(&line), first ? NULL : prev, 0,
                                    &rep);
  wd_buf_free(&canon);
  wd_buf_free(&line);
  return rc == 0;
}

static int export_online(const char *cmd, const char *url_opt, int64_t from) {
  cl_ctx c;
  int rc = cl_ctx_init(&c, cmd, url_opt);
  if (rc != 0) return rc;
  wd_buf canon, line;
  wd_buf_init(&canon, WD_LIMIT_AUDIT_PAYLOAD_BYTES);
  wd_buf_init(&line, WD_LIMIT_AUDIT_LINE_BYTES);
  int64_t next = from > 0 ? from : 1;
  while (rc == CL_OK && next > 0) {
    char path[128];
    (void)snprintf(path, sizeof path, "/v1/audit/records?from=%lld", (long long)next);
    cl_resp r;
    if ((rc = cl_admin(&c, "GET", path, NULL, &r)) != 0) break;
    const json_t *recs = json_object_get(r.body, "records");
    if (!cl_ok(&r)) {
      rc = cl_fail(&c, &r);
    } else if (!json_is_array(recs)) {
      fprintf(stderr, "%s: the answer has no records\n", cmd);
      rc = CL_ERR;
    } else {
      size_t i;
      const json_t *o;
      json_array_foreach(recs, i, o) {
        const char *damaged = json_string_value(json_object_get(o, "damaged"));
        if (damaged) {
          fprintf(stderr,
                  "%s: record %lld: its stored %s holds a NUL byte; the log is damaged (see "
                  "warden audit verify)\n",
                  cmd, (long long)json_integer_value(json_object_get(o, "seq")), damaged);
          rc = CL_ERR;
          break;
        }
        int err = put_record(o, &canon, &line);
        if (err && ferror(stdout)) {
          rc = flush_out(cmd);
          break;
        }
        if (err) {
          fprintf(stderr, "%s: record %lld: %s\n", cmd,
                  (long long)json_integer_value(json_object_get(o, "seq")), wd_strerror(err));
          rc = CL_ERR;
          break;
        }
      }
      const json_t *n = json_object_get(r.body, "next");
      int64_t after = json_is_integer(n) ? (int64_t)json_integer_value(n) : 0;
      /* A next that does not move past this page would loop for ever. */
      int64_t last = json_integer_value(json_object_get(json_array_get(recs, i - 1), "seq"));
      if (rc == CL_OK && after > 0 && (after <= next || (i > 0 && after <= last))) {
        fprintf(stderr,
                "%s: the server's next record (%lld) does not follow this page (from %lld)\n", cmd,
                (long long)after, (long long)next);
        rc = CL_ERR;
      }
      next = after;
    }
    cl_resp_clear(&r);
  }
  wd_buf_free(&canon);
  wd_buf_free(&line);
  return rc == CL_OK ? flush_out(cmd) : rc;
}

int cl_audit_export(const char *cmd, const char *url, const char *db, int64_t from) {
  return db ? export_offline(cmd, db, from) : export_online(cmd, url, from);
}

/* The report of a piece checked under an anchor, or of a whole file. */
static int file_report(const wd_audit_report *rep, const char *anchor, long long aseq) {
  if (rep->records == 0) {
    /* With an anchor, say so: nothing was checked against it. */
    if (aseq)
      printf("ok: no records after the anchor (%lld)\nkeep: --anchor %lld:%s\n", aseq, aseq,
             anchor);
    else
      printf(anchor ? "ok: no records after the anchor\n" : "ok: no records\n");
    return CL_OK;
  }
  printf("ok: %lld records, seq %lld to %lld, chain intact", (long long)rep->records,
         (long long)rep->first_seq, (long long)rep->last_seq);
  if (aseq) printf(", after record %lld (the anchor)", aseq);
  printf("\nlast hash: %s\n", rep->last_hash);
  /* What the check of the next piece takes. */
  printf("keep: --anchor %lld:%s\n", (long long)rep->last_seq, rep->last_hash);
  if (rep->first_seq > 1 && !anchor)
    printf("note: record %lld's link to the record before it was taken as given (%s); "
           "check it with --anchor\n",
           (long long)rep->first_seq, rep->anchor);
  else if (anchor && !aseq)
    printf("note: the anchor names no record, so where the piece starts was not checked; "
           "give it as SEQ:HASH\n");
  return CL_OK;
}

int cl_audit_verify_file(const char *cmd, const char *path, const char *anchor_arg) {
  long long aseq = 0;
  char anchor[65];
  if (anchor_arg && cl_is_hash(anchor_arg)) {
    memcpy(anchor, anchor_arg, 65);
  } else if (anchor_arg && cl_seq_hash(anchor_arg, &aseq, anchor) != 0) {
    fprintf(stderr,
            "%s: --anchor wants SEQ:HASH, the last record of the piece before as its check "
            "printed it (keep: --anchor ...), or that record's bare HASH\n",
            cmd);
    return CL_USAGE;
  }
  const char *a = anchor_arg ? anchor : NULL;
  int fd;
  struct stat st;
  int orc = wd_fs_open_regular(AT_FDCWD, path, &fd, &st);
  if (orc && orc != -WD_E_INVAL) {
    fprintf(stderr, "%s: cannot read %s: %s\n", cmd, path, strerror(errno));
    return CL_ERR;
  }
  if (orc) {
    /* The file is mapped whole, which a pipe or a directory cannot be. */
    fprintf(stderr, "%s: cannot read %s: %s\n", cmd, path,
            S_ISDIR(st.st_mode) ? "it is a directory" : "not a regular file");
    return CL_ERR;
  }
  size_t len = (size_t)st.st_size;
  const char *text = len ? mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0) : "";
  (void)close(fd);
  if (text == MAP_FAILED) {
    fprintf(stderr, "%s: cannot map %s: %s\n", cmd, path, strerror(errno));
    return CL_ERR;
  }
  wd_audit_report rep;
  int rc = wd_audit_verify_jsonl_from(text, len, a, (int64_t)aseq, &rep);
  if (len) (void)munmap((void *)(uintptr_t)text, len);
  if (rc < 0 && rc != -WD_E_VALIDATE) {
    fprintf(stderr, "%s: cannot check %s: %s\n", cmd, path,
            rc == -WD_E_INVAL && rep.reason[0] ? rep.reason : wd_strerror(rc));
    return CL_ERR;
  }
  if (rc == -WD_E_VALIDATE) {
    printf("BROKEN at seq %lld: %s (%lld records checked before it)\n", (long long)rep.bad_seq,
           rep.reason, (long long)rep.records);
    return CL_BROKEN;
  }
  return file_report(&rep, a, aseq);
}
