/* SPDX-License-Identifier: Apache-2.0
 *
 * Conformance runner: replays test files in the cedar-integration-tests
 * layout (JSON objects with "policies", "entities", "schema" and
 * "requests") against the engine, and compares for every request the
 * decision, the set of determining policies and the set of policies that
 * errored. As the reference harness does, entities and contexts are read
 * against the test's schema, and requests are validated against it unless
 * "validateRequest" is false. It also checks every test file's
 * "shouldValidate" with cedar_validate (--no-validation skips that). It reads
 * JSON with the engine's own reader (cedar__json_load, which keeps NUL
 * characters in keys). It is a test driver, not a library: it prints freely.
 *
 * usage: cedar_conformance [--quiet] [--no-validation] DIR
 * Paths inside test files are relative to DIR. Exits 0 only when no
 * request failed and no validation verdict disagreed.
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cedar/cedar_int.h"
#include "cedar/cedar_schema_ent.h"
#include "util/wd_alloc.h"
#include "util/wd_buf.h"
#include "util/wd_limits.h"
#include "warden/cedar.h"

#define FULL_REPORTS 50u
#define MAX_FILES    200000u

typedef struct strvec {
  char **v;
  size_t n, cap;
} strvec;

typedef struct run {
  const char *root;
  size_t passed, failed, reported;
  size_t onepass,
      onepass_differ; /* requests the one-pass reader took; of those, read differently */
  size_t val_agree, val_disagree;
  int quiet, check_validation;
  /* One-entry caches: tests share schema and entity files. */
  char *sc_path;
  cedar_schema *sc;
  char *es_key; /* entities path + "\n" + schema path */
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
static void json_ids(const json_t *arr, strvec *out) {
  size_t i;
  const json_t *v;
  json_array_foreach(arr, i, v) {
    if (json_is_object(v)) v = json_object_get(v, "policyId");
    if (!json_is_string(v)) continue;
    char *c = wd_strndup(json_string_value(v), json_string_length(v));
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

/* Borrowed description of a request. */
static const char *desc_of(const json_t *rq) {
  const char *d = json_string_value(json_object_get(rq, "description"));
  return d ? d : "(no description)";
}

/* The request's principal, action, resource and context as JSON text for
 * the engine's request reader. Owned, or NULL. */
static char *request_text(const json_t *req) {
  static const char *const keys[] = {"principal", "action", "resource", "context"};
  json_t *o = json_object();
  char *txt = NULL;
  if (!o) return NULL;
  for (size_t i = 0; i < 4; i++) {
    json_t *v = json_object_get(req, keys[i]);
    if (v && json_object_set(o, keys[i], v) != 0) goto out;
  }
  char *t = json_dumps(o, JSON_COMPACT);
  txt = t ? wd_strdup(t) : NULL;
  free(t); /* jansson's allocation */
out:
  json_decref(o);
  return txt;
}

/* Holds the one-pass request reader to the general one: a request it
 * takes must be the one the general reader builds. */
static void onepass_check(run *R, const char *rel, const char *desc, const char *txt,
                          const cedar_schema *sc) {
  cedar_request *fast = NULL, *tree = NULL;
  if (cedar__request_from_text(txt, strlen(txt), sc, &fast) != 0) return;
  R->onepass++;
  if (cedar__request_from_tree(txt, strlen(txt), sc, 1, &tree, NULL) != 0 ||
      !cedar__request_same(fast, tree)) {
    R->onepass_differ++;
    printf("FAIL %s#%s\n    the one-pass request reader disagrees with the general one\n", rel,
           desc);
  }
  cedar_request_free(fast);
  cedar_request_free(tree);
}

/* Runs one request; adds to passed or failed. */
static void run_request(run *R, const char *rel, const json_t *req, const cedar_policyset *ps,
                        const cedar_entities *es, const cedar_schema *sc) {
  const char *desc = desc_of(req);
  char *txt = request_text(req);
  cedar_diags *d = cedar_diags_new();
  cedar_request *rq = NULL;
  cedar_response *resp = NULL;
  strvec exp_r = {0}, exp_e = {0}, got_r = {0}, got_e = {0};
  const json_t *vr = json_object_get(req, "validateRequest");
  int validate = !json_is_false(vr); /* absent means true, as the harness says */
  int rc =
      txt && d ? cedar__request_from_json_ex(txt, strlen(txt), sc, validate, &rq, d) : -WD_E_NOMEM;
  if (txt && sc && validate) onepass_check(R, rel, desc, txt, sc);
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
  const char *want = json_string_value(json_object_get(req, "decision"));
  int got_allow = cedar_response_decision(resp) == CEDAR_ALLOW;
  const char *got = got_allow ? "allow" : "deny";
  /* Older corpora spell the decision "Allow"/"Deny". */
  int want_allow = want && (want[0] == 'a' || want[0] == 'A');
  json_ids(json_object_get(req, "reason"), &exp_r);
  json_ids(json_object_get(req, "errors"), &exp_e);
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
out:
  strvec_free(&exp_r);
  strvec_free(&exp_e);
  strvec_free(&got_r);
  strvec_free(&got_e);
  cedar_response_free(resp);
  cedar_request_free(rq);
  cedar_diags_free(d);
  wd_free(txt);
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

/* Fails every request of a test that could not be set up. */
static void fail_all(run *R, const char *rel, const json_t *reqs, const char *why) {
  size_t total = json_array_size(reqs);
  R->failed += total;
  if (!R->quiet) printf("FAIL %s (all %zu requests): %s\n", rel, total, why);
}

/* Loads the schema named by a test (.cedarschema text or JSON), cached. */
static int load_schema(run *R, const char *name, char **err) {
  if (R->sc_path && strcmp(R->sc_path, name) == 0) return 0;
  cedar_schema_free(R->sc);
  wd_free(R->sc_path);
  R->sc = NULL;
  R->sc_path = NULL;
  size_t len = 0;
  char *txt = load_rel(R, name, &len, err);
  if (!txt) return -1;
  cedar_diags *d = cedar_diags_new();
  int rc = !d                         ? -WD_E_NOMEM
           : ends_with(name, ".json") ? cedar_schema_from_json(txt, len, &R->sc, d)
                                      : cedar_schema_parse(txt, len, &R->sc, d);
  if (rc)
    *err = diag_text(d, name, txt, len, rc);
  else if (!(R->sc_path = wd_strdup(name)))
    rc = -WD_E_NOMEM;
  cedar_diags_free(d);
  wd_free(txt);
  if (rc) {
    cedar_schema_free(R->sc);
    R->sc = NULL;
  }
  return rc ? -1 : 0;
}

/* Loads the entities of a test, read against the schema sc (may be
 * NULL); cached by file and schema. */
static int load_entities(run *R, const char *name, const char *scname, const cedar_schema *sc,
                         char **err) {
  char *key = join(name, "\n", scname ? scname : "");
  if (!key) return -1;
  if (R->es_key && strcmp(R->es_key, key) == 0) {
    wd_free(key);
    return 0;
  }
  cedar_entities_free(R->es);
  wd_free(R->es_key);
  R->es = NULL;
  R->es_key = NULL;
  size_t len = 0;
  char *txt = load_rel(R, name, &len, err);
  if (!txt) {
    wd_free(key);
    return -1;
  }
  cedar_diags *d = cedar_diags_new();
  int rc = d ? cedar_entities_from_json(txt, len, sc, &R->es, d) : -WD_E_NOMEM;
  if (rc) {
    *err = diag_text(d, name, txt, len, rc);
    wd_free(key);
  } else {
    R->es_key = key;
  }
  cedar_diags_free(d);
  wd_free(txt);
  return rc ? -1 : 0;
}

/* Does cedar_validate agree with the test's "shouldValidate"? */
static void check_validation(run *R, const char *rel, const json_t *t, const cedar_schema *sc,
                             const cedar_policyset *ps) {
  const json_t *sv = json_object_get(t, "shouldValidate");
  if (!R->check_validation || !sc || !json_is_boolean(sv)) return;
  cedar_diags *d = cedar_diags_new();
  int rc = d ? cedar_validate(sc, ps, d) : -WD_E_NOMEM;
  int want = json_is_true(sv);
  if ((rc == 0) == want) {
    R->val_agree++;
  } else {
    R->val_disagree++;
    if (!R->quiet) {
      printf("VALIDATION %s: expected %s, got %s\n", rel, want ? "valid" : "invalid",
             rc == 0                ? "valid"
             : rc == -WD_E_VALIDATE ? "invalid"
                                    : wd_strerror(rc));
      for (size_t i = 0; i < cedar_diags_count(d) && i < 3; i++)
        printf("    %s: %s\n", cedar_diags_get(d, i)->policy_id, cedar_diags_get(d, i)->msg);
    }
  }
  cedar_diags_free(d);
}

static const char *str_of(const json_t *t, const char *key) {
  return json_string_value(json_object_get(t, key));
}

static void run_test(run *R, const char *rel) {
  char *path = join(R->root, "/", rel);
  char *text = NULL, *err = NULL, *src = NULL;
  size_t tlen = 0;
  json_t *t = NULL;
  const json_t *reqs = NULL;
  cedar_policyset *ps = NULL;
  cedar_diags *d = NULL;
  if (!path || !(text = read_all(path, &tlen))) {
    printf("FAIL %s: cannot read the test file\n", rel);
    R->failed++;
    goto out;
  }
  d = cedar_diags_new();
  if (!d || cedar__json_load(text, tlen, &t, d) != 0) {
    char *m = diag_text(d, rel, text, tlen, -WD_E_JSON);
    printf("FAIL %s\n", m ? m : rel);
    wd_free(m);
    R->failed++;
    goto out;
  }
  cedar_diags_clear(d);
  reqs = json_object_get(t, "requests");
  const char *pol = str_of(t, "policies");
  if (!json_is_object(t) || !pol || !json_is_array(reqs)) goto out; /* not a test file */
  size_t len = 0;
  src = load_rel(R, pol, &len, &err);
  if (!src) goto fail;
  int rc = cedar_policyset_parse(src, len, &ps, d);
  if (rc) {
    err = diag_text(d, pol, src, len, rc);
    goto fail;
  }
  const cedar_schema *sc = NULL;
  const char *scname = str_of(t, "schema");
  if (scname) {
    if (load_schema(R, scname, &err) != 0) goto fail;
    sc = R->sc;
  }
  const cedar_entities *es = NULL;
  const char *ents = str_of(t, "entities");
  if (ents) {
    if (load_entities(R, ents, scname, sc, &err) != 0) goto fail;
    es = R->es;
  }
  check_validation(R, rel, t, sc, ps);
  size_t i;
  const json_t *rq;
  json_array_foreach(reqs, i, rq) run_request(R, rel, rq, ps, es, sc);
  goto out;
fail:
  fail_all(R, rel, reqs, err ? err : "out of memory");
out:
  cedar_policyset_unref(ps);
  cedar_diags_free(d);
  json_decref(t);
  wd_free(src);
  wd_free(err);
  wd_free(text);
  wd_free(path);
}

int main(int argc, char **argv) {
  run R = {0};
  R.check_validation = 1;
  strvec files = {0};
  int status = 2;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--quiet") == 0 || strcmp(argv[i], "-q") == 0)
      R.quiet = 1;
    else if (strcmp(argv[i], "--no-validation") == 0)
      R.check_validation = 0;
    else if (argv[i][0] == '-' || R.root)
      goto usage;
    else
      R.root = argv[i];
  }
  if (!R.root) goto usage;
  if (walk(R.root, "", &files) != 0) goto out;
  qsort(files.v, files.n, sizeof *files.v, cmp_str);
  for (size_t i = 0; i < files.n; i++)
    run_test(&R, files.v[i]);
  if (R.reported > FULL_REPORTS)
    printf("(details shown for the first %u failures only)\n", FULL_REPORTS);
  if (R.check_validation)
    printf("validation: %zu agree, %zu disagree\n", R.val_agree, R.val_disagree);
  printf("%zu passed, %zu failed\n", R.passed, R.failed);
  printf("one-pass request reader: took %zu requests, %zu read differently\n", R.onepass,
         R.onepass_differ);
  status = R.failed || R.val_disagree || R.onepass_differ || R.passed == 0 ? 1 : 0;
  goto out;
usage:
  fputs("usage: cedar_conformance [--quiet] [--no-validation] DIR\n", stderr);
out:
  strvec_free(&files);
  cedar_entities_free(R.es);
  wd_free(R.es_key);
  cedar_schema_free(R.sc);
  wd_free(R.sc_path);
  return status;
}
