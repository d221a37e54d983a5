/* SPDX-License-Identifier: Apache-2.0
 *
 * The engine side of the benchmark: times cedar_authorize on (a) every
 * request of a cedar-integration-tests directory, with policies, entities
 * and requests parsed up front, (b) synthetic agent policy sets of
 * 1..10,000 policies, and (c) validation of generated policy sets against
 * the governance schema (cedar_bench_validate.c). It prints one JSON
 * object per line on stdout (what run.sh compares against
 * cedar_wasm_bench.js) and a human table on stderr.
 *
 * It is a program outside the library: it times the public API only and
 * allocates with libc rather than wd_malloc; the one private call it makes
 * is the engine's JSON reader, to read the test files. It is a timer, not
 * a conformance test: it reports how many decisions agree with the
 * expected ones as a sanity check, nothing more. Decisions use no schema
 * (the reference side does not use one either), so a few handwritten
 * tests that need one disagree.
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cedar/cedar_int.h"
#include "cedar_bench.h"
#include "warden/cedar.h"

#define SYNTH_RUNS     7
#define MAX_FILES      100000u  /* test files in one corpus directory */
#define MAX_REQUESTS   1000000u /* requests kept in memory */
#define MAX_FILE_BYTES (64u << 20)

static const size_t synth_sizes[] = {1, 100, 1000, 10000};
#define N_SYNTH (sizeof synth_sizes / sizeof synth_sizes[0])

typedef struct opts {
  const char *dir;
  double min_seconds; /* corpus: repeat passes until this much time */
  double run_seconds; /* synthetic: length of one timed batch */
  int corpus, synth, validate;
  const char *schema; /* the schema the validation workload checks against */
  FILE *keys;         /* when set, "file\tindex" of every loaded request goes here */
} opts;

typedef struct creq {
  cedar_request *rq;
  int expect_allow;
} creq;

typedef struct corpus {
  cedar_policyset **ps; /* one per loaded test file */
  cedar_entities **es;
  size_t nsets, capsets;
  creq *req;
  size_t *req_set; /* index into ps/es */
  size_t nreq, capreq;
  size_t files, skipped, bad_files;
} corpus;

typedef struct strlist {
  char **v;
  size_t n, cap;
} strlist;

double bench_now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *join_path(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  char *p = malloc(la + lb + 2);
  if (!p) return NULL;
  memcpy(p, a, la);
  p[la] = '/';
  memcpy(p + la + 1, b, lb + 1);
  return p;
}

char *bench_slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  char *buf = NULL;
  size_t cap = 0, n = 0;
  if (!f) return NULL;
  for (;;) {
    if (n + 1 >= cap) {
      size_t ncap = cap ? cap * 2 : 65536;
      char *nb;
      if (ncap > MAX_FILE_BYTES) goto fail;
      nb = realloc(buf, ncap);
      if (!nb) goto fail;
      buf = nb;
      cap = ncap;
    }
    size_t got = fread(buf + n, 1, cap - n - 1, f);
    n += got;
    if (got == 0) break;
  }
  if (ferror(f)) goto fail;
  fclose(f);
  buf[n] = '\0';
  *len = n;
  return buf;
fail:
  fclose(f);
  free(buf);
  return NULL;
}

static int strlist_push(strlist *l, char *s) {
  if (!s) return -1;
  if (l->n == l->cap) {
    size_t ncap = l->cap ? l->cap * 2 : 1024;
    char **nv;
    if (ncap > MAX_FILES) goto fail;
    nv = realloc(l->v, ncap * sizeof *nv);
    if (!nv) goto fail;
    l->v = nv;
    l->cap = ncap;
  }
  l->v[l->n++] = s;
  return 0;
fail:
  free(s);
  return -1;
}

static void strlist_free(strlist *l) {
  for (size_t i = 0; i < l->n; i++)
    free(l->v[i]);
  free(l->v);
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_test_json(const char *name) {
  size_t n = strlen(name);
  if (n < 5 || strcmp(name + n - 5, ".json") != 0) return 0;
  return !(n >= 14 && strcmp(name + n - 14, ".entities.json") == 0);
}

/* Test files relative to the corpus root, sorted per directory so both
 * engines walk the same sequence: corpus-tests/ first, then tests/ with
 * its subdirectories. */
static int list_tests(const char *root, const char *rel, int recurse, strlist *out) {
  char *dirpath = join_path(root, rel);
  strlist names = {0};
  DIR *d;
  struct dirent *e;
  int rc = 0;
  if (!dirpath) return -1;
  d = opendir(dirpath);
  if (!d) goto done; /* a missing directory is simply empty */
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    if (strlist_push(&names, join_path(rel, e->d_name)) != 0) {
      rc = -1;
      break;
    }
  }
  closedir(d);
  if (rc != 0) goto done;
  if (names.n) qsort(names.v, names.n, sizeof *names.v, cmp_str);
  for (size_t i = 0; i < names.n && rc == 0; i++) {
    char *full = join_path(root, names.v[i]);
    struct stat st;
    const char *base = strrchr(names.v[i], '/');
    if (!full) {
      rc = -1;
      break;
    }
    if (stat(full, &st) == 0 && S_ISDIR(st.st_mode)) {
      if (recurse) rc = list_tests(root, names.v[i], recurse, out);
    } else if (is_test_json(base ? base + 1 : names.v[i])) {
      rc = strlist_push(out, names.v[i]);
      names.v[i] = NULL;
    }
    free(full);
  }
done:
  strlist_free(&names);
  free(dirpath);
  return rc;
}

static int corpus_add_set(corpus *c, cedar_policyset *ps, cedar_entities *es) {
  if (c->nsets == c->capsets) {
    size_t ncap = c->capsets ? c->capsets * 2 : 1024;
    cedar_policyset **np = realloc(c->ps, ncap * sizeof *np);
    if (!np) return -1;
    c->ps = np;
    cedar_entities **ne = realloc(c->es, ncap * sizeof *ne);
    if (!ne) return -1;
    c->es = ne;
    c->capsets = ncap;
  }
  c->ps[c->nsets] = ps;
  c->es[c->nsets] = es;
  c->nsets++;
  return 0;
}

static int corpus_add_req(corpus *c, cedar_request *rq, int expect_allow) {
  if (c->nreq == c->capreq) {
    size_t ncap = c->capreq ? c->capreq * 2 : 4096;
    if (ncap > MAX_REQUESTS) return -1;
    creq *nr = realloc(c->req, ncap * sizeof *nr);
    if (!nr) return -1;
    c->req = nr;
    size_t *ns = realloc(c->req_set, ncap * sizeof *ns);
    if (!ns) return -1;
    c->req_set = ns;
    c->capreq = ncap;
  }
  c->req[c->nreq].rq = rq;
  c->req[c->nreq].expect_allow = expect_allow;
  c->req_set[c->nreq] = c->nsets - 1;
  c->nreq++;
  return 0;
}

/* ---- Test files ----------------------------------------------------------
 * A test file is read with the engine's own JSON reader, which keeps keys
 * holding U+0000 (some requests have them; general readers refuse them).
 * Each request goes back to text for cedar_request_from_json, so the
 * engine's request parsing is what is timed at load, as the reference's is. */

/* A relative path held by key, joined to root; NULL when absent. */
static char *path_of(const char *root, const json_t *obj, const char *key) {
  const char *rel = json_string_value(json_object_get(obj, key));
  if (!rel || strlen(rel) != json_string_length(json_object_get(obj, key))) return NULL;
  return join_path(root, rel);
}

/* Parses one test file's policies, entities and requests. Anything the
 * engine rejects is skipped and counted; only allocation failure of the
 * bench itself is an error. */
static int load_test(corpus *c, const opts *o, const char *rel) {
  const char *root = o->dir;
  char *path = join_path(root, rel), *file = NULL, *text = NULL, *etext = NULL, *rtext = NULL;
  cedar_policyset *ps = NULL;
  cedar_entities *es = NULL;
  json_t *all = NULL;
  const json_t *reqs, *ent, *r;
  size_t flen = 0, len, elen, nreq = 0, i;
  int rc = 0;

  if (!path) return -1;
  file = bench_slurp(path, &flen);
  if (!file || cedar__json_load(file, flen, &all, NULL) != 0 ||
      !json_is_array(reqs = json_object_get(all, "requests")) ||
      !json_object_get(all, "policies")) {
    c->bad_files++;
    goto out;
  }
  nreq = json_array_size(reqs);
  free(path);
  if (!(path = path_of(root, all, "policies")) || !(text = bench_slurp(path, &len))) goto skip;
  if (cedar_policyset_parse(text, len, &ps, NULL) != 0) goto skip;
  if (json_is_string(ent = json_object_get(all, "entities"))) {
    free(path);
    if (!(path = path_of(root, all, "entities")) || !(etext = bench_slurp(path, &elen))) goto skip;
    if (cedar_entities_from_json(etext, elen, NULL, &es, NULL) != 0) goto skip;
  } else if (!(es = cedar_entities_empty())) {
    goto skip;
  }
  if (corpus_add_set(c, ps, es) != 0) {
    rc = -1;
    goto out;
  }
  ps = NULL;
  es = NULL;
  c->files++;
  json_array_foreach(reqs, i, r) {
    const char *dec = json_string_value(json_object_get(r, "decision"));
    int allow = dec && (dec[0] == 'a' || dec[0] == 'A');
    cedar_request *rq = NULL;
    size_t rlen = json_dumpb(r, NULL, 0, JSON_COMPACT);
    free(rtext);
    if (!(rtext = malloc(rlen ? rlen : 1))) {
      rc = -1;
      goto out;
    }
    if (rlen == 0 || json_dumpb(r, rtext, rlen, JSON_COMPACT) != rlen ||
        cedar_request_from_json(rtext, rlen, NULL, &rq, NULL) != 0) {
      c->skipped++;
      continue;
    }
    if (corpus_add_req(c, rq, allow) != 0) {
      cedar_request_free(rq);
      rc = -1;
      goto out;
    }
    if (o->keys) fprintf(o->keys, "%s\t%zu\n", rel, i);
  }
  goto out;
skip:
  c->skipped += nreq;
out:
  cedar_policyset_unref(ps);
  cedar_entities_free(es);
  json_decref(all);
  free(file);
  free(text);
  free(etext);
  free(rtext);
  free(path);
  return rc;
}

static void corpus_free(corpus *c) {
  for (size_t i = 0; i < c->nreq; i++)
    cedar_request_free(c->req[i].rq);
  for (size_t i = 0; i < c->nsets; i++) {
    cedar_policyset_unref(c->ps[i]);
    cedar_entities_free(c->es[i]);
  }
  free(c->req);
  free(c->req_set);
  free(c->ps);
  free(c->es);
}

static int bench_corpus(const opts *o) {
  corpus c = {0};
  strlist files = {0};
  uint64_t decisions = 0, errors = 0, agree = 0;
  unsigned passes = 0;
  double t0 = bench_now_s(), load_s, start, elapsed;
  int rc = 1;

  if (list_tests(o->dir, "corpus-tests", 0, &files) != 0 ||
      list_tests(o->dir, "tests", 1, &files) != 0) {
    fprintf(stderr, "cedar_bench: cannot list %s\n", o->dir);
    goto out;
  }
  for (size_t i = 0; i < files.n; i++) {
    if (load_test(&c, o, files.v[i]) != 0) {
      fprintf(stderr, "cedar_bench: out of memory loading %s\n", files.v[i]);
      goto out;
    }
  }
  load_s = bench_now_s() - t0;
  start = bench_now_s();
  do {
    for (size_t i = 0; i < c.nreq; i++) {
      size_t s = c.req_set[i];
      cedar_response *r = NULL;
      if (cedar_authorize(c.ps[s], c.es[s], c.req[i].rq, NULL, &r) != 0) {
        errors++;
        continue;
      }
      decisions++;
      if (passes == 0 && (cedar_response_decision(r) == CEDAR_ALLOW) == c.req[i].expect_allow)
        agree++;
      cedar_response_free(r);
    }
    passes++;
    elapsed = bench_now_s() - start;
  } while (elapsed < o->min_seconds && c.nreq > 0);

  double dps = elapsed > 0 ? (double)decisions / elapsed : 0;
  double us = decisions ? elapsed * 1e6 / (double)decisions : 0;
  printf("{\"engine\":\"warden\",\"workload\":\"corpus\",\"files\":%zu,\"requests\":%zu,"
         "\"skipped\":%zu,\"bad_files\":%zu,\"passes\":%u,\"decisions\":%" PRIu64
         ",\"errors\":%" PRIu64 ",\"agree_expected\":%" PRIu64 ",\"load_s\":%.3f,\"seconds\":%.3f,"
         "\"decisions_per_s\":%.0f,\"us_per_decision\":%.3f}\n",
         c.files, c.nreq, c.skipped, c.bad_files, passes, decisions, errors, agree, load_s, elapsed,
         dps, us);
  fprintf(stderr,
          "warden corpus: %zu requests from %zu files (%zu skipped), %u pass(es)\n"
          "               %.0f decisions/s, %.3f us/decision, %" PRIu64
          "/%zu agree with expected, %" PRIu64 " errors\n",
          c.nreq, c.files, c.skipped, passes, dps, us, agree, c.nreq, errors);
  rc = 0;
out:
  corpus_free(&c);
  strlist_free(&files);
  return rc;
}

/* Policy k grants Agent a<k/10> calling Tool t<k%10>, so the uids are
 * distinct and the request for policy n/2 matches exactly one policy. */
static char *synth_policies(size_t n, size_t *len) {
  static const char fmt[] = "permit(principal == Agent::\"a%zu\", action == Action::\"call\", "
                            "resource == Tool::\"t%zu\") when { context.risk < 50 && "
                            "context.classification != \"secret\" };\n";
  size_t cap = n * 192 + 1, used = 0;
  char *buf = malloc(cap);
  if (!buf) return NULL;
  for (size_t k = 0; k < n; k++) {
    int w = snprintf(buf + used, cap - used, fmt, k / 10, k % 10);
    if (w < 0 || (size_t)w >= cap - used) {
      free(buf);
      return NULL;
    }
    used += (size_t)w;
  }
  *len = used;
  return buf;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* One timed batch; returns microseconds per decision, or -1 on failure. */
static double synth_batch(const cedar_policyset *ps, const cedar_entities *es,
                          const cedar_request *rq, uint64_t batch) {
  double t = bench_now_s();
  for (uint64_t i = 0; i < batch; i++) {
    cedar_response *r = NULL;
    if (cedar_authorize(ps, es, rq, NULL, &r) != 0) return -1;
    cedar_response_free(r);
  }
  return (bench_now_s() - t) * 1e6 / (double)batch;
}

typedef struct synth_case {
  char *text;
  cedar_policyset *ps;
  cedar_request *rq;
  uint64_t batch;
  double runs[SYNTH_RUNS];
} synth_case;

/* Parses set n, checks that its request matches exactly one policy, and
 * sizes a batch to about run_seconds from a short calibration. */
static int synth_prepare(synth_case *sc, size_t n, const cedar_entities *es, double run_seconds) {
  static const char ctx[] = "{\"risk\":10,\"classification\":\"internal\"}";
  size_t len = 0, k = n / 2;
  cedar_response *r = NULL;
  char pr[64], rr[64];
  int ok;

  snprintf(pr, sizeof pr, "Agent::\"a%zu\"", k / 10);
  snprintf(rr, sizeof rr, "Tool::\"t%zu\"", k % 10);
  sc->text = synth_policies(n, &len);
  if (!sc->text || cedar_policyset_parse(sc->text, len, &sc->ps, NULL) != 0 ||
      cedar_request_new(pr, "Action::\"call\"", rr, ctx, sizeof ctx - 1, NULL, &sc->rq, NULL) !=
          0 ||
      cedar_authorize(sc->ps, es, sc->rq, NULL, &r) != 0) {
    fprintf(stderr, "cedar_bench: synthetic set of %zu policies: engine failed\n", n);
    return -1;
  }
  ok = cedar_response_decision(r) == CEDAR_ALLOW && cedar_response_reason_count(r) == 1;
  cedar_response_free(r);
  if (!ok) {
    fprintf(stderr, "cedar_bench: synthetic set of %zu policies: not exactly one match\n", n);
    return -1;
  }
  for (sc->batch = 1;; sc->batch *= 4) {
    double us = synth_batch(sc->ps, es, sc->rq, sc->batch);
    if (us < 0) return -1;
    if (us * (double)sc->batch >= run_seconds * 1e6 / 4 || sc->batch >= (1u << 26)) {
      double want = run_seconds * 1e6 / (us > 1e-3 ? us : 1e-3);
      sc->batch = want < 1 ? 1 : (uint64_t)want;
      return 0;
    }
  }
}

static int bench_synth(const opts *o) {
  synth_case cases[N_SYNTH];
  cedar_entities *es = cedar_entities_empty();
  double med[N_SYNTH];
  int rc = 1;

  memset(cases, 0, sizeof cases);
  if (!es) return 1;
  for (size_t si = 0; si < N_SYNTH; si++)
    if (synth_prepare(&cases[si], synth_sizes[si], es, o->run_seconds) != 0) goto out;
  /* Runs go round-robin over the sizes so that a change in machine load
   * hits every size alike and the growth ratio survives it. */
  for (int i = 0; i < SYNTH_RUNS; i++) {
    for (size_t si = 0; si < N_SYNTH; si++) {
      synth_case *sc = &cases[si];
      sc->runs[i] = synth_batch(sc->ps, es, sc->rq, sc->batch);
      if (sc->runs[i] < 0) goto out;
    }
  }
  for (size_t si = 0; si < N_SYNTH; si++) {
    qsort(cases[si].runs, SYNTH_RUNS, sizeof cases[si].runs[0], cmp_double);
    med[si] = cases[si].runs[SYNTH_RUNS / 2];
  }
  for (size_t si = 0; si < N_SYNTH; si++) {
    double ratio = med[0] > 0 ? med[si] / med[0] : 0;
    printf("{\"engine\":\"warden\",\"workload\":\"synthetic\",\"policies\":%zu,\"batch\":%" PRIu64
           ",\"runs\":%d,\"us_per_decision\":%.4f,\"us_min\":%.4f,\"ratio_vs_1\":%.2f}\n",
           synth_sizes[si], cases[si].batch, SYNTH_RUNS, med[si], cases[si].runs[0], ratio);
    fprintf(stderr, "warden synthetic %5zu policies: %10.4f us/decision  (x%.2f vs 1 policy)\n",
            synth_sizes[si], med[si], ratio);
  }
  rc = 0;
out:
  for (size_t si = 0; si < N_SYNTH; si++) {
    cedar_request_free(cases[si].rq);
    cedar_policyset_unref(cases[si].ps);
    free(cases[si].text);
  }
  cedar_entities_free(es);
  return rc;
}

static int usage(void) {
  fputs("usage: cedar_bench [--quick] [--min-seconds S] [--only corpus|synthetic|validate]\n"
        "                   [--keys-out FILE] [--schema FILE] CIT_DIR\n"
        "  CIT_DIR is a cedar-integration-tests tree (corpus-tests/, tests/).\n"
        "  --schema is the governance schema the validation workload uses.\n"
        "  --min-seconds 0 runs the corpus exactly once (for callgrind).\n"
        "  --keys-out lists the requests timed, for cedar_wasm_bench.js --keys.\n",
        stderr);
  return 2;
}

int main(int argc, char **argv) {
  opts o = {NULL, 1.0, 0.15, 1, 1, 1, WD_BENCH_SCHEMA, NULL};
  const char *keys = NULL;
  int rc = 0, quick = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--quick") == 0) {
      o.min_seconds = 0.2;
      o.run_seconds = 0.03;
      quick = 1;
    } else if (strcmp(a, "--min-seconds") == 0 && i + 1 < argc) {
      char *end;
      errno = 0;
      o.min_seconds = strtod(argv[++i], &end);
      if (errno || *end || o.min_seconds < 0) return usage();
    } else if (strcmp(a, "--schema") == 0 && i + 1 < argc) {
      o.schema = argv[++i];
    } else if (strcmp(a, "--keys-out") == 0 && i + 1 < argc) {
      keys = argv[++i];
    } else if (strcmp(a, "--only") == 0 && i + 1 < argc) {
      const char *w = argv[++i];
      o.corpus = strcmp(w, "corpus") == 0;
      o.synth = strcmp(w, "synthetic") == 0;
      o.validate = strcmp(w, "validate") == 0;
      if (!o.corpus && !o.synth && !o.validate) return usage();
    } else if (a[0] == '-' || o.dir) {
      return usage();
    } else {
      o.dir = a;
    }
  }
  if (o.corpus && !o.dir) return usage();
  if (keys && !(o.keys = fopen(keys, "w"))) {
    fprintf(stderr, "cedar_bench: cannot write %s\n", keys);
    return 1;
  }
  printf("{\"engine\":\"warden\",\"workload\":\"info\",\"compiler\":\"%s\"}\n",
#if defined(__clang__)
         "clang " __clang_version__
#elif defined(__GNUC__)
         "gcc " __VERSION__
#else
         "unknown"
#endif
  );
  fflush(stdout);
  if (o.corpus) rc |= bench_corpus(&o);
  fflush(stdout);
  if (o.keys && fclose(o.keys) != 0) rc = 1;
  if (o.synth) rc |= bench_synth(&o);
  fflush(stdout);
  if (o.validate) rc |= bench_validate(o.schema, quick);
  return rc;
}
