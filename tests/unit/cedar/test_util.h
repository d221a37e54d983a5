/* SPDX-License-Identifier: Apache-2.0
 *
 * Helpers shared by the engine's unit tests: reading a corpus file and
 * walking the locally unpacked conformance corpus, and the table loops
 * of the extension tests. Each test is its own
 * executable, so everything here is static; include it after cmocka.h.
 * This is test scaffolding only, never linked into the engine.
 */
#ifndef WD_TEST_CEDAR_UTIL_H
#define WD_TEST_CEDAR_UTIL_H

#include <dirent.h>
#include <stdio.h>
#include <string.h>

#include "cedar/cedar_int.h"
#include "util/wd_alloc.h"
#include "util/wd_buf.h"
#include "util/wd_limits.h"

/* Reads a whole file, up to cap bytes, into an owned NUL-terminated
 * buffer (wd_free); NULL when it cannot be opened or is over cap. */
static inline char *tu_slurp(const char *path, size_t cap, size_t *n) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  wd_buf b;
  wd_buf_init(&b, cap);
  char chunk[4096];
  size_t k;
  int rc = 0;
  while (rc == 0 && (k = fread(chunk, 1, sizeof chunk, f)) > 0)
    rc = wd_buf_add(&b, chunk, k);
  fclose(f);
  *n = wd_buf_len(&b);
  /* A failed add has already released the buffer. */
  return rc == 0 ? wd_buf_take(&b) : NULL;
}

/* One walk over corpus files: every readable file whose name ends in
 * suffix is given to check, which returns nonzero when the file fails
 * (it may print why; fails is the count so far, to cap the noise). */
typedef struct tu_corpus {
  const char *suffix;
  int recurse; /* also descend into subfolders (names without a dot) */
  size_t cap;
  int (*check)(const char *path, const char *src, size_t n, int fails);
  int seen, fails;
} tu_corpus;

/* Returns -1 when dir cannot be opened, else 0. */
static inline int tu_corpus_walk(tu_corpus *c, const char *dir) {
  DIR *dh = opendir(dir);
  if (!dh) return -1;
  size_t sl = strlen(c->suffix);
  struct dirent *de;
  while ((de = readdir(dh)) != NULL) {
    if (de->d_name[0] == '.') continue;
    char path[1024];
    (void)snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
    size_t l = strlen(de->d_name);
    if (l > sl && strcmp(de->d_name + l - sl, c->suffix) == 0) {
      size_t n;
      char *src = tu_slurp(path, c->cap, &n);
      if (!src) continue;
      c->seen++;
      if (c->check(path, src, n, c->fails)) c->fails++;
      wd_free(src);
    } else if (c->recurse && !strchr(de->d_name, '.')) {
      (void)tu_corpus_walk(c, path);
    }
  }
  closedir(dh);
  return 0;
}

/* Walks the parts of the unpacked integration tests that hold inputs;
 * returns how many files were seen (0: not unpacked here). */
static inline int tu_corpus_walk_cit(tu_corpus *c) {
  (void)tu_corpus_walk(c, "/tmp/cit/corpus-tests");
  (void)tu_corpus_walk(c, "/tmp/cit/tests");
  (void)tu_corpus_walk(c, "/tmp/cit/sample-data");
  return c->seen;
}

/* A parse row of an extension whose values print: the canonical print of
 * in, or NULL and a substring of the error. */
typedef struct tu_print_row {
  const char *in;
  const char *out; /* canonical print, or NULL for an error */
  const char *err; /* substring of the error */
} tu_print_row;

/* Parses in and, when that works, prints the value into b; returns the
 * first nonzero code. err receives the parse error. */
typedef int (*tu_parse_print_fn)(cedar__str in, wd_buf *b, char *err);

/* Runs every row, reports each failing one, returns how many failed. */
static inline int tu_print_table(const tu_print_row *rows, size_t n, tu_parse_print_fn pp) {
  int fails = 0;
  for (size_t i = 0; i < n; i++) {
    char err[CEDAR_DIAG_MSG] = "";
    wd_buf b;
    wd_buf_init(&b, 100);
    cedar__str in = {rows[i].in, (uint32_t)strlen(rows[i].in)};
    int rc = pp(in, &b, err);
    if (rows[i].out) {
      if (rc || strcmp(wd_buf_str(&b), rows[i].out)) {
        print_error("row %zu (%s): rc %d err '%s' got '%s'\n", i, rows[i].in, rc, err,
                    wd_buf_str(&b));
        fails++;
      }
    } else if (rc != -WD_E_EVAL || !strstr(err, rows[i].err)) {
      print_error("row %zu (%s): rc %d err '%s'\n", i, rows[i].in, rc, err);
      fails++;
    }
    wd_buf_free(&b);
  }
  return fails;
}

/* A parse row of a millisecond-valued extension (datetime, duration). */
typedef struct tu_ms_row {
  const char *in;
  int64_t ms;
  const char *err; /* NULL when it parses to ms, else the exact error */
} tu_ms_row;

/* Runs every row, reports each failing one, returns how many failed. */
static inline int tu_ms_table(const tu_ms_row *rows, size_t n,
                              int (*parse)(cedar__str, int64_t *, char *)) {
  int fails = 0;
  for (size_t i = 0; i < n; i++) {
    int64_t v = 0;
    char err[CEDAR_DIAG_MSG] = "";
    cedar__str in = {rows[i].in, (uint32_t)strlen(rows[i].in)};
    int rc = parse(in, &v, err);
    if (rows[i].err ? rc != -WD_E_EVAL || strcmp(err, rows[i].err) : rc || v != rows[i].ms) {
      print_error("row %zu (%s): rc %d err '%s' ms %lld\n", i, rows[i].in, rc, err, (long long)v);
      fails++;
    }
  }
  return fails;
}

#endif
