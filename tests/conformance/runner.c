/* SPDX-License-Identifier: Apache-2.0
 *
 * Conformance runner: replays test files in the cedar-integration-tests
 * layout (JSON objects with "policies", "entities" and "requests") against
 * the engine, through the public API only, and compares for every request
 * the decision, the set of determining policies and the set of policies
 * that errored. It is a test driver, not a library: it prints freely.
 *
 * usage: cedar_conformance [--skip-list F] [--quiet] DIR
 * Paths inside test files are relative to DIR. Requests listed in the skip
 * list (default: needs-schema.txt next to this source; --skip-list
 * /dev/null runs everything) are counted as skipped. They need
 * schema-directed entity parsing; once the engine loads schemas, the
 * runner should pass each test's "schema" and the list should go.
 * Exits 0 only when no request failed.
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "json_scan.h"
#include "util/wd_alloc.h"
#include "util/wd_buf.h"
#include "util/wd_limits.h"
#include "warden/cedar.h"

#define FULL_REPORTS 50u
#define MAX_FILES    200000u
#define MAX_SKIPS    10000u

typedef struct strvec {
  char **v;
  size_t n, cap;
} strvec;

typedef struct run {
  const char *root;
  strvec skips; /* "rel/test.json#description", sorted */
  size_t passed, failed, skipped, reported;
  int quiet;
  /* One-entry cache: the handwritten tests share entity files. */
  char *es_path;
  cedar_entities *es;
} run;

static int push(strvec *s, char *str) {
  if (s->n == s->cap) {
    size_t nc = s->cap ? s->cap * 2 : 256;
    char **nv = wd_realloc(s->v, nc * sizeof *nv);
    if (!nv) return -1;
    s->v = nv;
    s->cap = nc;
  }
  s->v[s->n++] = str;
  return 0;
}

static void strvec_free(strvec *s) {
  for (size_t i = 0; i < s->n; i++)
    wd_free(s->v[i]);
  wd_free(s->v);
  s->v = NULL;
  s->n = s->cap = 0;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *join(const char *a, const char *sep, const char *b) {
  wd_buf buf;
  wd_buf_init(&buf, 1u << 16);
  if (wd_buf_addf(&buf, "%s%s%s", a, sep, b) != 0) return NULL;
  return wd_buf_take(&buf);
}

static int ends_with(const char *s, const char *suf) {
  size_t n = strlen(s), m = strlen(suf);
  return n >= m && strcmp(s + n - m, suf) == 0;
}

/* Collects candidate test files under dir (relative names, root-based). */
static int walk(const char *root, const char *rel, strvec *out) {
  char *path = rel[0] ? join(root, "/", rel) : wd_strdup(root);
  DIR *d = path ? opendir(path) : NULL;
  int rc = 0;
  if (!d) {
    fprintf(stderr, "cannot open directory '%s'\n", path ? path : root);
    wd_free(path);
    return -1;
  }
  struct dirent *e;
  while (rc == 0 && (e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    char *r = rel[0] ? join(rel, "/", e->d_name) : wd_strdup(e->d_name);
    char *full = r ? join(root, "/", r) : NULL;
    struct stat st;
    if (!r || !full || stat(full, &st) != 0) {
      rc = -1;
    } else if (S_ISDIR(st.st_mode)) {
      if (strcmp(e->d_name, "node_modules") != 0) rc = walk(root, r, out);
    } else if (ends_with(r, ".json") && !ends_with(r, ".entities.json") &&
               !ends_with(r, "schema.json") && strcmp(e->d_name, "entities.json") != 0) {
      if (out->n >= MAX_FILES || push(out, r) != 0) rc = -1;
      r = NULL;
    }
    wd_free(r);
    wd_free(full);
  }
  closedir(d);
  wd_free(path);
  return rc;
}

static char *read_all(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  wd_buf b;
  char chunk[65536];
  size_t got;
  wd_buf_init(&b, WD_LIMIT_JSON_BYTES);
  if (!f) return NULL;
  while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
    if (wd_buf_add(&b, chunk, got) != 0) break;
  int bad = ferror(f) || !feof(f);
  fclose(f);
  if (bad) {
    wd_buf_free(&b);
    return NULL;
  }
  *len = wd_buf_len(&b);
  return wd_buf_take(&b);
}

static int load_skips(run *R, const char *path) {
  size_t len = 0;
  char *txt = read_all(path, &len);
  if (!txt) {
    fprintf(stderr, "cannot read skip list '%s'\n", path);
    return -1;
  }
  for (char *line = txt; *line;) {
    char *nl = strchr(line, '\n');
    size_t n = nl ? (size_t)(nl - line) : strlen(line);
    if (n && line[n - 1] == '\r') n--;
    if (n && line[0] != '#' && R->skips.n < MAX_SKIPS) {
      char *s = wd_strndup(line, n);
      if (!s || push(&R->skips, s) != 0) {
        wd_free(s);
        wd_free(txt);
        return -1;
      }
    }
    line = nl ? nl + 1 : line + n;
  }
  wd_free(txt);
  if (R->skips.n) qsort(R->skips.v, R->skips.n, sizeof *R->skips.v, cmp_str);
  return 0;
}

static int is_skipped(const run *R, const char *rel, const char *desc) {
  char *key = join(rel, "#", desc);
  int hit = key && R->skips.n &&
            bsearch(&key, R->skips.v, R->skips.n, sizeof *R->skips.v, cmp_str) != NULL;
  wd_free(key);
  return hit;
}

/* Renders diagnostics (or the bare code) into owned text. */
static char *diag_text(const cedar_diags *d, const char *file, const char *src, size_t len,
                       int rc) {
  if (d && cedar_diags_count(d)) {
    char *t = cedar_diags_render(d, file, src, len);
    if (t) {
      char *own = wd_strdup(t);
      cedar_free(t);
      return own;
    }
  }
  return join(file, ": ", wd_strerror(rc));
}

static void sort_unique(strvec *out) {
  if (out->n) qsort(out->v, out->n, sizeof *out->v, cmp_str);
  size_t w = 0;
  for (size_t r = 0; r < out->n; r++) {
    if (w && strcmp(out->v[w - 1], out->v[r]) == 0) {
      wd_free(out->v[r]);
      continue;
    }
    out->v[w++] = out->v[r];
  }
  out->n = w;
}

/* Sorted, deduplicated ids from a JSON array of strings or of objects
 * with "policyId" (both spellings of "errors" exist). */
static void json_ids(const js_span *arr, strvec *out) {
  size_t pos = 0;
  js_span v, id;
  while (arr && js_arr_next(*arr, &pos, &v)) {
    if (js_kind(v) == '{' && js_get(v, "policyId", &id)) v = id;
    char *c = js_str(v, NULL);
    if (c && push(out, c) != 0) wd_free(c);
  }
  sort_unique(out);
}

static int same_set(const strvec *a, const strvec *b) {
  if (a->n != b->n) return 0;
  for (size_t i = 0; i < a->n; i++)
    if (strcmp(a->v[i], b->v[i]) != 0) return 0;
  return 1;
}

static void print_set(const char *label, const strvec *s) {
  printf("    %s [", label);
  for (size_t i = 0; i < s->n; i++)
    printf("%s%s", i ? ", " : "", s->v[i]);
  printf("]\n");
}

static void report(run *R, const char *rel, const char *desc, const char *detail) {
  R->failed++;
  if (R->quiet) return;
  if (R->reported++ < FULL_REPORTS)
    printf("FAIL %s#%s\n    %s\n", rel, desc, detail);
  else
    printf("FAIL %s#%s\n", rel, desc);
}

/* Owned description of a request ("" when absent), or NULL. */
static char *desc_of(js_span rq) {
  js_span d;
  if (js_get(rq, "description", &d) && js_kind(d) == '"') return js_str(d, NULL);
  return wd_strdup("(no description)");
}

/* Owned value of a string member, or NULL. */
static char *str_member(js_span obj, const char *name) {
  js_span v;
  return js_get(obj, name, &v) ? js_str(v, NULL) : NULL;
}

/* Runs one request; adds to passed, failed or skipped. */
static void run_request(run *R, const char *rel, js_span req, const cedar_policyset *ps,
                        const cedar_entities *es) {
  char *desc = desc_of(req), *want = NULL, *txt = NULL;
  if (!desc) {
    R->failed++;
    return;
  }
  if (is_skipped(R, rel, desc)) {
    R->skipped++;
    wd_free(desc);
    return;
  }
  /* The request keys are passed through as written, so the engine's own
   * JSON reader sees exactly the corpus bytes. */
  wd_buf rb;
  wd_buf_init(&rb, WD_LIMIT_JSON_BYTES);
  static const char *const keys[] = {"principal", "action", "resource", "context"};
  int brc = wd_buf_addc(&rb, '{');
  for (size_t i = 0, n = 0; brc == 0 && i < 4; i++) {
    js_span v;
    if (!js_get(req, keys[i], &v)) continue;
    brc = wd_buf_addf(&rb, "%s\"%s\":%.*s", n++ ? "," : "", keys[i], (int)v.n, v.p);
  }
  if (brc == 0) brc = wd_buf_addc(&rb, '}');
  if (brc == 0) txt = wd_buf_take(&rb);
  cedar_diags *d = cedar_diags_new();
  cedar_request *rq = NULL;
  cedar_response *resp = NULL;
  strvec exp_r = {0}, exp_e = {0}, got_r = {0}, got_e = {0};
  int rc = txt && d ? cedar_request_from_json(txt, strlen(txt), NULL, &rq, d) : -WD_E_NOMEM;
  if (rc) {
    char *t = diag_text(d, "request did not load: request", NULL, 0, rc);
    report(R, rel, desc, t ? t : wd_strerror(rc));
    wd_free(t);
    goto out;
  }
  rc = cedar_authorize(ps, es, rq, NULL, &resp);
  if (rc) {
    report(R, rel, desc, wd_strerror(rc));
    goto out;
  }
  want = str_member(req, "decision");
  int got_allow = cedar_response_decision(resp) == CEDAR_ALLOW;
  const char *got = got_allow ? "allow" : "deny";
  /* Older corpora spell the decision "Allow"/"Deny". */
  int want_allow = want && (want[0] == 'a' || want[0] == 'A');
  js_span jr, je;
  json_ids(js_get(req, "reason", &jr) ? &jr : NULL, &exp_r);
  json_ids(js_get(req, "errors", &je) ? &je : NULL, &exp_e);
  for (size_t i = 0; i < cedar_response_reason_count(resp); i++) {
    char *c = wd_strdup(cedar_response_reason(resp, i));
    if (c && push(&got_r, c) != 0) wd_free(c);
  }
  for (size_t i = 0; i < cedar_response_error_count(resp); i++) {
    char *c = wd_strdup(cedar_response_error_policy(resp, i));
    if (c && push(&got_e, c) != 0) wd_free(c);
  }
  sort_unique(&got_r);
  sort_unique(&got_e);
  int ok = want && want_allow == got_allow && same_set(&exp_r, &got_r) && same_set(&exp_e, &got_e);
  if (ok) {
    R->passed++;
  } else {
    R->failed++;
    if (!R->quiet && R->reported++ < FULL_REPORTS) {
      printf("FAIL %s#%s\n    decision: expected %s, got %s\n", rel, desc, want ? want : "?", got);
      print_set("reasons  expected", &exp_r);
      print_set("reasons  got     ", &got_r);
      print_set("errors   expected", &exp_e);
      print_set("errors   got     ", &got_e);
      for (size_t i = 0; i < cedar_response_error_count(resp); i++)
        printf("    error %s: %s\n", cedar_response_error_policy(resp, i),
               cedar_response_error_message(resp, i));
    } else if (!R->quiet) {
      printf("FAIL %s#%s\n", rel, desc);
    }
  }
  strvec_free(&got_r);
  strvec_free(&got_e);
out:
  strvec_free(&exp_r);
  strvec_free(&exp_e);
  strvec_free(&got_r);
  strvec_free(&got_e);
  cedar_response_free(resp);
  cedar_request_free(rq);
  cedar_diags_free(d);
  wd_free(txt);
  wd_free(want);
  wd_free(desc);
}

/* Loads a file named inside a test, relative to the root. Returns owned
 * text or NULL with *err set to an owned message. */
static char *load_rel(const run *R, const char *name, size_t *len, char **err) {
  char *path = join(R->root, "/", name);
  char *txt = path ? read_all(path, len) : NULL;
  if (!txt) *err = join("cannot read ", "", path ? path : name);
  wd_free(path);
  return txt;
}

/* Fails every non-skipped request of a test that could not be set up. */
static void fail_all(run *R, const char *rel, js_span reqs, const char *why) {
  size_t pos = 0, total = 0, shown = 0;
  js_span rq;
  while (js_arr_next(reqs, &pos, &rq))
    total++;
  pos = 0;
  while (js_arr_next(reqs, &pos, &rq)) {
    char *desc = desc_of(rq);
    int skip = desc && is_skipped(R, rel, desc);
    wd_free(desc);
    if (skip) {
      R->skipped++;
      continue;
    }
    R->failed++;
    if (!R->quiet && !shown++) printf("FAIL %s (all %zu requests): %s\n", rel, total, why);
  }
}

static int load_entities(run *R, const char *name, char **err) {
  if (R->es_path && strcmp(R->es_path, name) == 0) return 0;
  cedar_entities_free(R->es);
  wd_free(R->es_path);
  R->es = NULL;
  R->es_path = NULL;
  size_t len = 0;
  char *txt = load_rel(R, name, &len, err);
  if (!txt) return -1;
  cedar_diags *d = cedar_diags_new();
  int rc = d ? cedar_entities_from_json(txt, len, NULL, &R->es, d) : -WD_E_NOMEM;
  if (rc)
    *err = diag_text(d, name, txt, len, rc);
  else
    R->es_path = wd_strdup(name);
  cedar_diags_free(d);
  wd_free(txt);
  if (rc == 0 && !R->es_path) {
    cedar_entities_free(R->es);
    R->es = NULL;
    return -1;
  }
  return rc ? -1 : 0;
}

/* 1-based line and column of byte off in text, for messages. */
static void locate(const char *text, size_t off, unsigned *line, unsigned *col) {
  *line = 1;
  *col = 1;
  for (size_t i = 0; i < off; i++) {
    if (text[i] == '\n') {
      (*line)++;
      *col = 1;
    } else {
      (*col)++;
    }
  }
}

static void run_test(run *R, const char *rel) {
  char *path = join(R->root, "/", rel);
  char *text = NULL, *err = NULL, *src = NULL, *pol = NULL, *ents = NULL;
  size_t tlen = 0, bad = 0;
  js_span t, reqs, v;
  cedar_policyset *ps = NULL;
  cedar_diags *d = NULL;
  if (!path || !(text = read_all(path, &tlen))) {
    printf("FAIL %s: cannot read the test file\n", rel);
    R->failed++;
    goto out;
  }
  if (js_parse(text, tlen, &t, &bad) != 0) {
    unsigned line, col;
    locate(text, bad, &line, &col);
    printf("FAIL %s:%u:%u: malformed JSON in the test file\n", rel, line, col);
    R->failed++;
    goto out;
  }
  if (js_kind(t) != '{' || !js_get(t, "policies", &v) || !(pol = js_str(v, NULL)) ||
      !js_get(t, "requests", &reqs) || js_kind(reqs) != '[')
    goto out; /* not a test file */
  size_t len = 0;
  src = load_rel(R, pol, &len, &err);
  if (!src) goto fail;
  d = cedar_diags_new();
  int rc = d ? cedar_policyset_parse(src, len, &ps, d) : -WD_E_NOMEM;
  if (rc) {
    err = diag_text(d, pol, src, len, rc);
    goto fail;
  }
  const cedar_entities *es = NULL;
  if (js_get(t, "entities", &v) && js_kind(v) == '"') {
    ents = js_str(v, NULL);
    if (!ents || load_entities(R, ents, &err) != 0) goto fail;
    es = R->es;
  }
  size_t pos = 0;
  js_span rq;
  while (js_arr_next(reqs, &pos, &rq))
    run_request(R, rel, rq, ps, es);
  goto out;
fail:
  fail_all(R, rel, reqs, err ? err : "out of memory");
out:
  cedar_policyset_unref(ps);
  cedar_diags_free(d);
  wd_free(src);
  wd_free(err);
  wd_free(pol);
  wd_free(ents);
  wd_free(text);
  wd_free(path);
}

/* The default skip list sits next to this source file. */
static char *default_skip_list(void) {
#ifdef WD_NEEDS_SCHEMA_LIST
  return wd_strdup(WD_NEEDS_SCHEMA_LIST);
#else
  const char *me = __FILE__;
  const char *slash = strrchr(me, '/');
  if (!slash) return wd_strdup("needs-schema.txt");
  char *dir = wd_strndup(me, (size_t)(slash - me));
  char *p = dir ? join(dir, "/", "needs-schema.txt") : NULL;
  wd_free(dir);
  return p;
#endif
}

int main(int argc, char **argv) {
  run R = {0};
  const char *skip_list = NULL;
  strvec files = {0};
  int status = 2;
  char *def = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--skip-list") == 0 && i + 1 < argc)
      skip_list = argv[++i];
    else if (strcmp(argv[i], "--quiet") == 0 || strcmp(argv[i], "-q") == 0)
      R.quiet = 1;
    else if (argv[i][0] == '-' || R.root)
      goto usage;
    else
      R.root = argv[i];
  }
  if (!R.root) goto usage;
  if (!skip_list) skip_list = def = default_skip_list();
  if (!skip_list || load_skips(&R, skip_list) != 0) goto out;
  if (walk(R.root, "", &files) != 0) goto out;
  qsort(files.v, files.n, sizeof *files.v, cmp_str);
  for (size_t i = 0; i < files.n; i++)
    run_test(&R, files.v[i]);
  if (R.reported > FULL_REPORTS)
    printf("(details shown for the first %u failures only)\n", FULL_REPORTS);
  printf("%zu passed, %zu failed", R.passed, R.failed);
  if (R.skipped) printf(", %zu skipped", R.skipped);
  printf("\n");
  status = R.failed || R.passed + R.skipped == 0 ? 1 : 0;
  goto out;
usage:
  fputs("usage: cedar_conformance [--skip-list F] [--quiet] DIR\n", stderr);
out:
  wd_free(def);
  strvec_free(&files);
  strvec_free(&R.skips);
  cedar_entities_free(R.es);
  wd_free(R.es_path);
  return status;
}
