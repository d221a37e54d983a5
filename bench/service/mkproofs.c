/* SPDX-License-Identifier: Apache-2.0
 *
 * Pre-generates DPoP proofs for the service benchmark. A proof is single
 * use (the server rejects a replayed jti), so the load generator cannot
 * reuse one; signing them here, before the run, keeps the agent-side
 * signature cost out of the measured window and off the two shared cores.
 *
 * usage: mkproofs KEYFILE TOKENFILE HTU COUNT OUTPREFIX NFILES
 *
 * Writes COUNT proofs for "POST HTU" bound to the task token (ath) and
 * signed by the agent key, spread round-robin over OUTPREFIX.0 ..
 * OUTPREFIX.<NFILES-1>, one proof per line: one file per wrk thread, so
 * no two threads ever send the same proof. This is a benchmark tool: it
 * prints.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ident/wd_ident.h"
#include "util/wd_alloc.h"

#define MK_MAX_FILES 16

/* Reads the token file into tok[0..cap), trimming the trailing newline. */
static int read_token(const char *path, char *tok, size_t cap) {
  FILE *f = fopen(path, "r");
  if (f == NULL) return -1;
  size_t n = fread(tok, 1, cap - 1, f);
  fclose(f);
  tok[n] = '\0';
  while (n > 0 && (tok[n - 1] == '\n' || tok[n - 1] == '\r' || tok[n - 1] == ' '))
    tok[--n] = '\0';
  return n > 0 ? 0 : -1;
}

int main(int argc, char **argv) {
  if (argc != 7) {
    fprintf(stderr, "usage: mkproofs KEYFILE TOKENFILE HTU COUNT OUTPREFIX NFILES\n");
    return 64;
  }
  long count = strtol(argv[4], NULL, 10);
  long nfiles = strtol(argv[6], NULL, 10);
  if (count <= 0 || nfiles <= 0 || nfiles > MK_MAX_FILES) {
    fprintf(stderr, "mkproofs: bad COUNT or NFILES\n");
    return 64;
  }
  int rc = 1;
  wd_ident_key *key = NULL;
  FILE *out[MK_MAX_FILES] = {0};
  static char tok[16384];

  if (wd_ident_key_load(argv[1], &key) < 0) {
    fprintf(stderr, "mkproofs: cannot load key %s\n", argv[1]);
    goto cleanup;
  }
  if (read_token(argv[2], tok, sizeof tok) < 0) {
    fprintf(stderr, "mkproofs: cannot read token %s\n", argv[2]);
    goto cleanup;
  }
  for (long i = 0; i < nfiles; i++) {
    char path[4096];
    snprintf(path, sizeof path, "%s.%ld", argv[5], i);
    out[i] = fopen(path, "w");
    if (out[i] == NULL) {
      fprintf(stderr, "mkproofs: cannot write %s\n", path);
      goto cleanup;
    }
  }
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  /* iat is the current time: every proof of the run must stay inside the
   * server's acceptance window (WD_IDENT_DPOP_WINDOW seconds). */
  int64_t now = (int64_t)time(NULL);
  for (long i = 0; i < count; i++) {
    char *p = NULL;
    if (wd_ident_dpop_make(key, "POST", argv[3], tok, now, &p) < 0) {
      fprintf(stderr, "mkproofs: cannot make proof %ld\n", i);
      goto cleanup;
    }
    fputs(p, out[i % nfiles]);
    fputc('\n', out[i % nfiles]);
    wd_free(p);
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
  fprintf(stderr, "mkproofs: %ld proofs in %.2f s (%.1f us each)\n", count, s,
          s * 1e6 / (double)count);
  rc = 0;
cleanup:
  for (long i = 0; i < nfiles; i++)
    if (out[i] != NULL && fclose(out[i]) != 0) rc = 1;
  wd_ident_key_free(key);
  return rc;
}
