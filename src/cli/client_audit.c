/* SPDX-License-Identifier: Apache-2.0
 *
 * `warden audit verify` and `warden audit trace`: check the evidence
 * log's hash chain and print one task's chain of evidence. Both work
 * online (admin routes of a running server) or offline on the SQLite file
 * of a data directory, opened read-only, so a log can be checked without
 * trusting the server that wrote it.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/wd_audit.h"
#include "cli/cli.h"
#include "cli/cli_util.h"
#include "cli/client.h"
#include "store/wd_store.h"
#include "util/wd_alloc.h"
#include "util/wd_buf.h"
#include "util/wd_fs.h"
#include "warden/err.h"

static void usage(FILE *out) {
  fputs("usage: warden audit <subcommand> [options]\n"
        "\n"
        "  verify [--json] [--expect SEQ:HASH] [--data DIR | --db FILE | --url URL]\n"
        "        recompute the hash chain and report the first broken link;\n"
        "        offline on the SQLite file of DIR (or FILE), read-only,\n"
        "        else through the server (GET /v1/audit/verify); --expect also\n"
        "        checks that the log still holds record SEQ with the hash kept\n"
        "        from an earlier check, which a rewritten or cut log fails\n"
        "  verify --file LOG [--anchor SEQ:HASH]\n"
        "        the same on an exported log, or on a piece of one, which must\n"
        "        start right after record SEQ and follow its HASH, as the check\n"
        "        of the piece before printed them (keep: --anchor ...); a bare\n"
        "        HASH is still taken, without the check of where the piece\n"
        "        starts. A piece with nothing after the anchor is ok: that the\n"
        "        log still holds record SEQ is for --expect SEQ:HASH to check\n"
        "  export [--from SEQ] [--data DIR | --db FILE | --url URL]\n"
        "        the log as JSON lines on stdout, one record each, from SEQ on;\n"
        "        anyone holding the file can check it with verify --file\n"
        "  trace TASK [--json] [--data DIR | --db FILE | --url URL]\n"
        "        the task's evidence in order: intent, credentials, each call\n"
        "        and its decision, the end or revocation\n"
        "\n"
        "A row outside the chain (seq below 1 or past 2^53, only ever planted)\n"
        "breaks verify, and stops trace (exit 3) and export (exit 1) rather\n"
        "than be shown as evidence.\n"
        "\n"
        "Online use needs WARDEN_ADMIN_TOKEN; the URL defaults to $WARDEN_URL.\n"
        "Exit status: 0 ok (chain intact), 3 chain broken, 2 refused (HTTP 401/403),\n"
        "1 error, 64 usage.\n",
        out);
}

typedef struct audit_args {
  const char *url, *data, *db, *file, *anchor, *from, *expect;
  int json;
} audit_args;

/* Says what is wrong with path as a database before the store does, whose
 * "storage error" does not tell a missing file from a directory or from a
 * file of something else. */
static int check_db(const char *cmd, const char *path) {
  static const char magic[16] = "SQLite format 3";
  char head[16];
  struct stat st;
  if (stat(path, &st) != 0) {
    fprintf(stderr, "%s: cannot open the database %s: %s\n", cmd, path, strerror(errno));
    return CL_ERR;
  }
  if (S_ISDIR(st.st_mode)) {
    fprintf(stderr,
            "%s: %s is a directory; give a data directory with --data, a database with --db\n", cmd,
            path);
    return CL_ERR;
  }
  int fd;
  int rc = wd_fs_open_regular(AT_FDCWD, path, &fd, &st);
  if (rc && rc != -WD_E_INVAL) {
    fprintf(stderr, "%s: cannot open the database %s: %s\n", cmd, path, strerror(errno));
    return CL_ERR;
  }
  ssize_t n = rc ? 0 : read(fd, head, sizeof head);
  if (fd >= 0) (void)close(fd);
  if (rc || n != (ssize_t)sizeof head || memcmp(head, magic, sizeof head) != 0) {
    fprintf(stderr, "%s: %s is not a Warden database (not an SQLite file)\n", cmd, path);
    return CL_ERR;
  }
  return 0;
}

/* The SQLite file of a data directory: the one file named *.db, *.sqlite
 * or *.sqlite3 (the server names it; the client only has to find it). */
static int find_db_path(const char *cmd, const audit_args *a, char *out, size_t cap) {
  if (a->db) {
    int n = snprintf(out, cap, "%s", a->db);
    if (n < 0 || (size_t)n >= cap) {
      fprintf(stderr, "%s: --db path too long (at most %zu bytes)\n", cmd, cap - 1);
      return CL_USAGE;
    }
    return 0;
  }
  DIR *d = opendir(a->data);
  if (!d) {
    fprintf(stderr, "%s: cannot open the data directory %s: %s\n", cmd, a->data, strerror(errno));
    return CL_ERR;
  }
  static const char *const exts[] = {".db", ".sqlite", ".sqlite3"};
  int found = 0, fits = 1;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    size_t n = strlen(e->d_name);
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++) {
      size_t m = strlen(exts[i]);
      if (n > m && strcmp(e->d_name + n - m, exts[i]) == 0) {
        if (found++ == 0) {
          int w = snprintf(out, cap, "%s/%s", a->data, e->d_name);
          fits = w >= 0 && (size_t)w < cap;
        }
      }
    }
  }
  (void)closedir(d);
  if (found != 1) {
    fprintf(stderr, "%s: %s in %s; name it with --db FILE\n", cmd,
            found ? "more than one database" : "no database (*.db, *.sqlite)", a->data);
    return CL_ERR;
  }
  if (!fits) {
    fprintf(stderr, "%s: the database path in %s is too long (at most %zu bytes)\n", cmd, a->data,
            cap - 1);
    return CL_USAGE;
  }
  return 0;
}

/* What a store error on a file that check_db let through most likely means. */
static const char *store_hint(int err) {
  return err == -WD_E_STORE ? " (an SQLite file, but is it a Warden database?)" : "";
}

/* The database that --db names, or that of the --data directory, checked. */
static int find_db(const char *cmd, const audit_args *a, char *out, size_t cap) {
  int rc = find_db_path(cmd, a, out, cap);
  return rc ? rc : check_db(cmd, out);
}

/* A whole log checks out as verify --file reports it: its last hash can
 * be compared with one kept elsewhere, which a log cut short fails. */
int cl_verify_report(int64_t records, int64_t bad_seq, const char *reason, const char *last_hash) {
  if (bad_seq == 0) {
    if (records == 0) {
      printf("ok: no records\n");
      return CL_OK;
    }
    printf("ok: %lld records, seq 1 to %lld, chain intact\n", (long long)records,
           (long long)records);
    printf("last hash: %s\n", last_hash && *last_hash ? last_hash : "?");
    /* What to keep out of the store writer's reach, to check later. */
    printf("keep: --expect %lld:%s\n", (long long)records,
           last_hash && *last_hash ? last_hash : "?");
    return CL_OK;
  }
  printf("BROKEN at seq %lld: %s (%lld records checked before it)\n", (long long)bad_seq,
         reason && *reason ? reason : "?", (long long)records);
  return CL_BROKEN;
}

/* An offline check in the form of GET /v1/audit/verify, so that --json
 * reads the same with --data as online. */
static int verify_json(const char *cmd, int rc, const wd_audit_report *rep) {
  json_t *body = json_pack("{s:b, s:I, s:I, s:s?}", "ok", rc == 0, "records",
                           (json_int_t)rep->records, "last_seq", (json_int_t)rep->last_seq,
                           "last_hash", rep->last_seq ? rep->last_hash : NULL);
  if (body && rc) {
    json_t *fb = json_pack("{s:I, s:s}", "seq", (json_int_t)rep->bad_seq, "reason", rep->reason);
    if (!fb || json_object_set_new(body, "first_broken", fb) != 0) {
      json_decref(body);
      body = NULL;
    }
  }
  if (!body) {
    fprintf(stderr, "%s: out of memory\n", cmd);
    return CL_ERR;
  }
  cl_print_json(body);
  json_decref(body);
  return rc == 0 ? CL_OK : CL_BROKEN;
}

/* SEQ:HASH of --expect: a record number and its 64 lowercase hex hash. */
static int parse_expect(const char *cmd, const char *s, long long *seq, char hash[65]) {
  if (cl_seq_hash(s, seq, hash) == 0) return 0;
  fprintf(stderr,
          "%s: --expect wants SEQ:HASH, a record number and its 64 lowercase hex "
          "hash as an earlier verify printed them\n",
          cmd);
  return CL_USAGE;
}

typedef struct first_row {
  int64_t seq;
  char hash[65];
} first_row;

static int take_first(void *ctx, const wd_audit_row *row) {
  first_row *f = ctx;
  f->seq = row->seq;
  (void)snprintf(f->hash, sizeof f->hash, "%s", row->hash ? row->hash : "");
  return 1; /* one is enough */
}

/* After a chain that verified: whether the log still holds record seq
 * with the hash kept. got_seq/got_hash are what it holds from seq on
 * (got_seq 0: nothing). Prints why not and returns CL_BROKEN. */
static int expect_report(FILE *out, long long seq, const char *hash, int64_t got_seq,
                         const char *got_hash) {
  if (got_seq == seq && strcmp(got_hash, hash) == 0) {
    fprintf(out, "record %lld holds the hash expected\n", seq);
    return CL_OK;
  }
  if (got_seq != seq)
    fprintf(out,
            "BROKEN: the log no longer holds record %lld: it was cut back (and may have grown "
            "again)\n",
            seq);
  else
    fprintf(out,
            "BROKEN: record %lld does not hold the hash expected: the chain was rewritten from "
            "there or before\n",
            seq);
  return CL_BROKEN;
}

static int expect_offline(const char *cmd, FILE *out, const char *path, long long seq,
                          const char *hash) {
  char url[4200];
  (void)snprintf(url, sizeof url, "sqlite:%s", path);
  wd_store *s = NULL;
  first_row f = {0, ""};
  int err = wd_store_open(url, WD_STORE_READONLY, &s);
  if (!err) err = wd_store_audit_scan(s, NULL, (int64_t)seq, take_first, &f);
  wd_store_close(s);
  if (err < 0) {
    fprintf(stderr, "%s: cannot read the log in %s: %s\n", cmd, path, wd_strerror(err));
    return CL_ERR;
  }
  return expect_report(out, seq, hash, f.seq, f.hash);
}

static int expect_online(cl_ctx *c, FILE *out, long long seq, const char *hash) {
  char path[96];
  (void)snprintf(path, sizeof path, "/v1/audit/records?from=%lld&limit=1", seq);
  cl_resp r;
  int rc = cl_admin(c, "GET", path, NULL, &r);
  if (rc != 0) return rc;
  if (!cl_ok(&r)) {
    rc = cl_fail(c, &r);
  } else {
    const json_t *rec = json_array_get(json_object_get(r.body, "records"), 0);
    const char *h = json_string_value(json_object_get(rec, "hash"));
    rc = expect_report(out, seq, hash,
                       rec ? (int64_t)json_integer_value(json_object_get(rec, "seq")) : 0,
                       h ? h : "");
  }
  cl_resp_clear(&r);
  return rc;
}

static int do_verify(const char *cmd, const audit_args *a) {
  long long eseq = 0;
  char ehash[65] = "";
  if (a->expect) {
    int prc = parse_expect(cmd, a->expect, &eseq, ehash);
    if (prc) return prc;
  }
  if (a->data || a->db) {
    char path[4096];
    int rc = find_db(cmd, a, path, sizeof path);
    if (rc != 0) return rc;
    wd_audit_report rep;
    memset(&rep, 0, sizeof rep);
    rc = wd_audit_verify_file(path, &rep);
    if (rc < 0 && rc != -WD_E_VALIDATE) {
      fprintf(stderr, "%s: cannot read the log in %s: %s%s\n", cmd, path, wd_strerror(rc),
              store_hint(rc));
      return CL_ERR;
    }
    if (rc == -WD_E_VALIDATE && rep.bad_seq == 0) rep.bad_seq = rep.records + 1;
    int vrc = a->json ? verify_json(cmd, rc, &rep)
                      : cl_verify_report(rep.records, rep.bad_seq, rep.reason, rep.last_hash);
    /* With --json the answer on stdout stays one JSON document. */
    FILE *out = a->json ? stderr : stdout;
    return vrc == CL_OK && a->expect ? expect_offline(cmd, out, path, eseq, ehash) : vrc;
  }
  cl_ctx c;
  int rc = cl_ctx_init(&c, cmd, a->url);
  if (rc != 0) return rc;
  cl_resp r;
  if ((rc = cl_admin(&c, "GET", "/v1/audit/verify", NULL, &r)) != 0) return rc;
  if (!cl_ok(&r)) {
    rc = cl_fail(&c, &r);
  } else if (a->json) {
    cl_print_json(r.body);
    rc = json_is_true(json_object_get(r.body, "ok")) ? CL_OK : CL_BROKEN;
  } else {
    const json_t *fb = json_object_get(r.body, "first_broken");
    json_int_t n = json_integer_value(json_object_get(r.body, "records"));
    int ok = json_is_true(json_object_get(r.body, "ok"));
    json_int_t bad = json_integer_value(json_object_get(fb, "seq"));
    rc = cl_verify_report((int64_t)n, ok ? 0 : (bad ? (int64_t)bad : -1),
                          json_string_value(json_object_get(fb, "reason")),
                          json_string_value(json_object_get(r.body, "last_hash")));
  }
  cl_resp_clear(&r);
  return rc == CL_OK && a->expect ? expect_online(&c, a->json ? stderr : stdout, eseq, ehash) : rc;
}

static int do_export(const char *cmd, const audit_args *a) {
  long long from = 1;
  if (a->from) {
    if (cli_parse_count(a->from, 1, &from) != 0) {
      fprintf(stderr, "%s: --from wants a record number from 1\n", cmd);
      return CL_USAGE;
    }
  }
  char path[4096];
  if (a->data || a->db) {
    int rc = find_db(cmd, a, path, sizeof path);
    if (rc != 0) return rc;
  }
  return cl_audit_export(cmd, a->url, a->data || a->db ? path : NULL, (int64_t)from);
}

/* ---- trace ------------------------------------------------------------------- */

/* What each record type means in a task's story. */
static const struct {
  const char *type, *label;
} labels[] = {
    {"task.opened", "INTENT"},      {"task.intent_changed", "INTENT"},
    {"token.issued", "CREDENTIAL"}, {"token.renewed", "CREDENTIAL"},
    {"authz.decision", "CALL"},     {"token.revoked", "REVOKED"},
    {"task.ended", "END"},          {"agent.quarantined", "QUARANTINE"},
    {"admin.action", "ADMIN"},      {"store.pruned", "PRUNED"},
};

static const char *label_of(const char *type) {
  for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++)
    if (type && strcmp(labels[i].type, type) == 0) return labels[i].label;
  return "EVENT";
}

/* Payload members that say the most come first; the rest follow. */
static const char *const first_keys[] = {"decision", "action", "intent",   "purpose", "reason",
                                         "status",   "tools",  "policies", "jti",     "exp"};

/* The ids of a "policies" array, comma-separated: the reasons are in the
 * --json form; a trace line names the deciding policies. */
static void policy_ids(const json_t *arr, char *out, size_t cap) {
  size_t o = 0, i;
  json_t *p;
  out[0] = '\0';
  json_array_foreach(arr, i, p) {
    const char *id =
        json_is_string(p) ? json_string_value(p) : json_string_value(json_object_get(p, "id"));
    int n = snprintf(out + o, cap - o, "%s%s", i ? "," : "", id ? id : "?");
    if (n < 0 || (size_t)n >= cap - o) break;
    o += (size_t)n;
  }
  if (o == 0) (void)snprintf(out, cap, "(none)");
}

static void print_member(const char *k, const json_t *v, int *col) {
  char text[200];
  if (json_is_null(v) || (json_is_array(v) && json_array_size(v) == 0)) return;
  if (strcmp(k, "policies") == 0 && json_is_array(v)) {
    policy_ids(v, text, sizeof text);
  } else if (json_is_object(v) && json_is_string(json_object_get(v, "decision"))) {
    /* A nested decision (task.opened, task.renewed): its outcome and policies. */
    char ids[160];
    policy_ids(json_object_get(v, "policies"), ids, sizeof ids);
    (void)snprintf(text, sizeof text, "%s(%s)", json_string_value(json_object_get(v, "decision")),
                   ids);
  } else {
    cl_json_text(v, text, sizeof text);
  }
  if (*col > 70) {
    printf("\n        ");
    *col = 0;
  }
  int n = printf(" %s=%s", k, text);
  *col += n > 0 ? n : 0;
}

static void print_record(const json_t *rec) {
  const char *type = json_string_value(json_object_get(rec, "type"));
  char seq[32], tm[64], actor[300];
  cl_json_text(json_object_get(rec, "seq"), seq, sizeof seq);
  cl_json_text(json_object_get(rec, "time"), tm, sizeof tm);
  cl_json_text(json_object_get(rec, "actor"), actor, sizeof actor);
  printf("#%-6s %s  %-10s %-20s by %s\n", seq, tm, label_of(type), type ? type : "?", actor);
  json_t *pl = json_object_get(rec, "payload");
  if (!json_is_object(pl) || json_object_size(pl) == 0) return;
  printf("        ");
  int col = 0;
  for (size_t i = 0; i < sizeof first_keys / sizeof first_keys[0]; i++) {
    json_t *v = json_object_get(pl, first_keys[i]);
    if (v) print_member(first_keys[i], v, &col);
  }
  const char *k;
  json_t *v;
  json_object_foreach(pl, k, v) {
    int shown = 0;
    for (size_t i = 0; i < sizeof first_keys / sizeof first_keys[0]; i++)
      shown |= strcmp(k, first_keys[i]) == 0;
    if (!shown) print_member(k, v, &col);
  }
  putchar('\n');
}

/* An offline trace: {"records":[...]} built from the store's rows, each in
 * the export form (payload as an object, hash included). */
static int trace_offline(const char *cmd, const audit_args *a, const char *task, json_t **out) {
  char path[4096], url[4200];
  int rc = find_db(cmd, a, path, sizeof path);
  if (rc != 0) return rc;
  (void)snprintf(url, sizeof url, "sqlite:%s", path);
  wd_store *s = NULL;
  int err = wd_store_open(url, WD_STORE_READONLY, &s);
  if (err < 0) {
    fprintf(stderr, "%s: cannot open %s: %s%s\n", cmd, path, wd_strerror(err), store_hint(err));
    return CL_ERR;
  }
  wd_audit_records recs = {NULL, 0, 0};
  json_t *arr = json_array();
  rc = CL_ERR;
  if (!arr) goto out;
  if ((err = wd_audit_trace(s, task, &recs)) == -WD_E_VALIDATE) {
    fprintf(stderr,
            "%s: the log in %s holds a row of this task with seq %lld, outside the chain: "
            "nothing is shown as evidence (`warden audit verify` reports the log broken)\n",
            cmd, path, (long long)recs.outside);
    rc = CL_BROKEN;
    goto out;
  }
  if (err < 0) {
    fprintf(stderr, "%s: cannot read the log in %s: %s%s\n", cmd, path, wd_strerror(err),
            store_hint(err));
    goto out;
  }
  wd_buf b;
  wd_buf_init(&b, WD_LIMIT_AUDIT_LINE_BYTES);
  for (size_t i = 0; i < recs.n; i++) {
    wd_buf_reset(&b);
    json_t *j = NULL;
    if (wd_audit_record_json(&recs.v[i], &b) == 0)
      j = json_loadb(wd_buf_str(&b), wd_buf_len(&b), 0, NULL);
    if (!j || json_array_append_new(arr, j) != 0) {
      fprintf(stderr, "%s: record %lld cannot be read\n", cmd, (long long)recs.v[i].seq);
      wd_buf_free(&b);
      goto out;
    }
  }
  wd_buf_free(&b);
  *out = json_pack("{s:s, s:O}", "task", task, "records", arr);
  rc = *out ? CL_OK : CL_ERR;
  if (!*out) fprintf(stderr, "%s: out of memory\n", cmd);
out:
  json_decref(arr);
  wd_audit_records_free(&recs);
  wd_store_close(s);
  return rc;
}

static int do_trace(const char *cmd, const audit_args *a, const char *task) {
  json_t *doc = NULL;
  int rc;
  if (a->data || a->db) {
    rc = trace_offline(cmd, a, task, &doc);
  } else {
    cl_ctx c;
    if ((rc = cl_ctx_init(&c, cmd, a->url)) != 0) return rc;
    char path[1024];
    if ((rc = cl_path(&c, path, sizeof path, "/v1/audit/tasks/", task, NULL)) != 0) return rc;
    cl_resp r;
    if ((rc = cl_admin(&c, "GET", path, NULL, &r)) != 0) return rc;
    if (!cl_ok(&r)) {
      rc = cl_fail(&c, &r);
      /* A row outside the chain: the log is broken, as offline. */
      const char *code =
          json_string_value(json_object_get(json_object_get(r.body, "error"), "code"));
      if (code && strcmp(code, "log_damaged") == 0) rc = CL_BROKEN;
    } else {
      doc = json_incref(r.body);
    }
    cl_resp_clear(&r);
  }
  if (rc != 0) return rc;
  const json_t *recs = json_object_get(doc, "records");
  if (!json_is_array(recs)) {
    fprintf(stderr, "%s: the answer has no records\n", cmd);
    json_decref(doc);
    return CL_ERR;
  }
  /* A trace is read, not verified as a chain, but each record is held
   * to its own hash: an edited record must not be shown as evidence. */
  size_t i, broken = 0;
  json_t *rec;
  if (a->json) {
    json_array_foreach(recs, i, rec) broken += !cl_audit_record_intact(rec);
    cl_print_json(doc);
  } else if (json_array_size(recs) == 0) {
    printf("no evidence for task %s\n", task);
  } else {
    printf("evidence for task %s (%zu records, in order)\n", task, json_array_size(recs));
    json_array_foreach(recs, i, rec) {
      int intact = cl_audit_record_intact(rec);
      broken += !intact;
      print_record(rec);
      if (!intact)
        printf("        ! this record does not match its hash: it was changed after it was "
               "written\n");
    }
  }
  if (broken)
    fprintf(stderr,
            "%s: %zu record(s) of this trace do not match their hash; `warden audit verify` "
            "finds the first broken link of the whole chain\n",
            cmd, broken);
  rc = json_array_size(recs) == 0 ? CL_ERR : broken ? CL_BROKEN : CL_OK;
  json_decref(doc);
  return rc;
}

int wd_cli_audit(int argc, char **argv) {
  int hrc = 0;
  if (cl_family_help(argc, argv, usage, &hrc)) return hrc;
  const char *sub = argv[1];
  char cmd[64];
  (void)snprintf(cmd, sizeof cmd, "warden audit %s", sub);
  audit_args a;
  memset(&a, 0, sizeof a);
  const cli_opt opts[] = {
      CLI_ARG("--url", NULL, &a.url),
      CLI_ARG("--data", NULL, &a.data),
      CLI_ARG("--db", NULL, &a.db),
      CLI_ARG("--file", NULL, &a.file),
      CLI_ARG("--anchor", NULL, &a.anchor),
      CLI_ARG("--from", NULL, &a.from),
      CLI_ARG("--expect", NULL, &a.expect),
      CLI_FLAG("--json", NULL, &a.json),
      CLI_END,
  };
  /* Each subcommand and the options it uses; any other is refused. */
  static const cl_sub subs[] = {
      {"verify", "--url --data --db --file --anchor --expect --json"},
      {"export", "--url --data --db --from"},
      {"trace", "--url --data --db --json"},
  };
  const char *takes = cl_sub_takes("audit", subs, sizeof subs / sizeof subs[0], sub, usage);
  if (!takes) return CL_USAGE;
  const char *pos[1] = {NULL};
  size_t npos = 0;
  int rc = 0;
  if (cl_parse_sub(cmd, argc - 1, argv + 1, opts, takes, pos, 1, &npos, usage, &rc)) return rc;
  if ((a.data || a.db) && a.url) {
    fprintf(stderr, "%s: choose --data/--db (offline) or --url (online), not both\n", cmd);
    return CL_USAGE;
  }
  if ((a.file || a.anchor) && (a.data || a.db || a.url || strcmp(sub, "verify") != 0)) {
    fprintf(stderr, "%s: --file and --anchor go with verify alone\n", cmd);
    return CL_USAGE;
  }
  if (npos && strcmp(sub, "trace") != 0) {
    fprintf(stderr, "%s: takes no argument\n", cmd);
    return CL_USAGE;
  }
  if (strcmp(sub, "verify") == 0) {
    if (a.anchor && !a.file) {
      fprintf(stderr, "%s: --anchor checks an exported --file\n", cmd);
      return CL_USAGE;
    }
    if (a.file && a.expect) {
      fprintf(stderr,
              "%s: --expect checks a whole log (--data, --db or a server); a --file "
              "piece takes --anchor\n",
              cmd);
      return CL_USAGE;
    }
    if (a.file && a.json) {
      fprintf(stderr, "%s: --json checks the log of a server or a data directory, not a --file\n",
              cmd);
      return CL_USAGE;
    }
    return a.file ? cl_audit_verify_file(cmd, a.file, a.anchor) : do_verify(cmd, &a);
  }
  if (strcmp(sub, "export") == 0) return do_export(cmd, &a);
  /* trace: the only subcommand left. */
  if (npos != 1) {
    fprintf(stderr, "%s: give the TASK id\n", cmd);
    return CL_USAGE;
  }
  if (!*pos[0]) {
    fprintf(stderr, "%s: the TASK id is empty\n", cmd);
    return CL_USAGE;
  }
  /* Task ids are text: the offline trace puts it in JSON, the online one
   * in a URL the server decodes as UTF-8. */
  json_t *utf8 = json_string(pos[0]);
  json_decref(utf8);
  if (!utf8) {
    fprintf(stderr, "%s: the TASK id is not valid UTF-8\n", cmd);
    return CL_USAGE;
  }
  return do_trace(cmd, &a, pos[0]);
}
