/* SPDX-License-Identifier: Apache-2.0
 *
 * The policy set from its files: the policy directory and the schema file
 * read with the checks that keep other users from changing them, a set
 * built and validated from text, and its problems said where they are
 * (the file, line and column; the policy by its @id, else by where it
 * starts). Activating a set and the snapshot are gov_service.c's.
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

#include "gov/gov_int.h"
#include "util/wd_alloc.h"
#include "util/wd_buf.h"
#include "util/wd_fs.h"
#include "util/wd_limits.h"

/* ---- reading the files ------------------------------------------------------- */

static const char *kind_of(mode_t m) {
  if (S_ISDIR(m)) return "a directory";
  if (S_ISFIFO(m)) return "a FIFO";
  if (S_ISSOCK(m)) return "a socket";
  if (S_ISCHR(m) || S_ISBLK(m)) return "a device";
  return "a special file";
}

/* Anyone who can write a policy file or its directory can plant
 * `permit (principal, action, resource);`: only the user who runs warden
 * and root may. */
static int trusted(const struct stat *sb, const char *what, const char *path, char *err,
                   size_t errlen) {
  int rc = 0;
  if (!wd_fs_owned_here(sb))
    WD_GOV__FAIL(-WD_E_INVAL,
                 "%s %s belongs to uid %ld, who could plant a policy that permits anything: "
                 "chown it to uid %ld that runs warden, or to root",
                 what, path, (long)sb->st_uid, (long)geteuid());
  if (!wd_fs_owner_only_write(sb))
    WD_GOV__FAIL(-WD_E_INVAL,
                 "%s %s may be written by other users (mode %04o), who could plant a policy that "
                 "permits anything: chmod go-w %s",
                 what, path, (unsigned)(sb->st_mode & 07777), path);
cleanup:
  return rc;
}

/* Appends the regular file name (opened at dfd; shown as path) to b,
 * refusing anything else and anything over cap bytes. */
static int read_trusted(int dfd, const char *name, const char *path, const char *what, size_t cap,
                        wd_buf *b, char *err, size_t errlen) {
  int fd = -1;
  struct stat sb;
  int rc = wd_fs_open_regular(dfd, name, &fd, &sb);
  if (rc == -WD_E_NOTFOUND) {
    struct stat lsb;
    if (fstatat(dfd, name, &lsb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(lsb.st_mode))
      WD_GOV__FAIL(rc, "%s %s is a symbolic link to nothing", what, path);
    WD_GOV__FAIL(rc, "%s %s does not exist", what, path);
  }
  if (rc == -WD_E_INVAL)
    WD_GOV__FAIL(rc, "%s %s is %s, not a regular file", what, path, kind_of(sb.st_mode));
  if (rc) WD_GOV__FAIL(rc, "cannot open %s %s: %s", what, path, strerror(errno));
  if ((rc = trusted(&sb, what, path, err, errlen)) != 0) goto cleanup;
  if ((unsigned long long)sb.st_size > cap)
    WD_GOV__FAIL(-WD_E_TOOBIG, "%s %s has %lld bytes, over the limit of %zu", what, path,
                 (long long)sb.st_size, cap);
  size_t got = 0;
  char chunk[8192];
  for (;;) {
    ssize_t n = read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) WD_GOV__FAIL(-WD_E_IO, "cannot read %s %s: %s", what, path, strerror(errno));
    if (n == 0) break;
    /* It may have grown since fstat. */
    if ((got += (size_t)n) > cap)
      WD_GOV__FAIL(-WD_E_TOOBIG, "%s %s has more than %zu bytes, the limit", what, path, cap);
    if ((rc = wd_buf_add(b, chunk, (size_t)n)) == -WD_E_TOOBIG)
      WD_GOV__FAIL(rc,
                   "the policy files hold more than %u bytes together (the limit of a set), "
                   "counting up to %s",
                   WD_LIMIT_STORE_POLICY_BYTES, path);
    if (rc) WD_GOV__FAIL(rc, "out of memory");
  }
cleanup:
  if (fd >= 0) (void)close(fd);
  return rc;
}

int wd_gov__read_schema(const char *path, char **out, size_t *len, char *err, size_t errlen) {
  *out = NULL;
  *len = 0;
  wd_buf b;
  wd_buf_init(&b, WD_LIMIT_SCHEMA_TEXT_BYTES);
  int rc =
      read_trusted(AT_FDCWD, path, path, "schema", WD_LIMIT_SCHEMA_TEXT_BYTES, &b, err, errlen);
  if (!rc && wd_buf_len(&b) == 0 && (rc = wd_buf_adds(&b, "")) != 0)
    (void)snprintf(err, errlen, "out of memory");
  if (rc) {
    wd_buf_free(&b);
    return rc;
  }
  *len = wd_buf_len(&b);
  *out = wd_buf_take(&b);
  if (!*out) (void)snprintf(err, errlen, "out of memory");
  return *out ? 0 : -WD_E_NOMEM;
}

/* Opens policy directory dir (*fd owned, close it), refusing one that
 * does not exist, is not a directory, or that another user could write. */
static int policy_dir_open(const char *dir, int *fd, char *err, size_t errlen) {
  int rc = 0;
  *fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (*fd < 0 && errno == ENOENT)
    WD_GOV__FAIL(-WD_E_NOTFOUND, "policy directory %s does not exist", dir);
  if (*fd < 0 && errno == ENOTDIR)
    WD_GOV__FAIL(-WD_E_INVAL, "policy directory %s is not a directory", dir);
  if (*fd < 0) WD_GOV__FAIL(-WD_E_IO, "cannot open policy directory %s: %s", dir, strerror(errno));
  struct stat sb;
  if (fstat(*fd, &sb) != 0)
    WD_GOV__FAIL(-WD_E_IO, "cannot open policy directory %s: %s", dir, strerror(errno));
  rc = trusted(&sb, "policy directory", dir, err, errlen);
cleanup:
  if (rc && *fd >= 0) {
    (void)close(*fd);
    *fd = -1;
  }
  return rc;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

void wd_gov__poldir_free(wd_gov__poldir *pd) {
  if (!pd) return;
  for (size_t i = 0; i < pd->nfiles; i++)
    wd_free(pd->files[i].path);
  wd_free(pd->files);
  wd_free(pd->text);
  memset(pd, 0, sizeof *pd);
}

/* The names of dir's *.cedar entries (not hidden), sorted; owned. */
static int list_cedar(DIR *d, const char *dir, char ***names, size_t *n, char *err, size_t errlen) {
  size_t cap = 0;
  int rc = 0;
  struct dirent *e;
  for (;;) {
    errno = 0;
    if ((e = readdir(d)) == NULL) break;
    size_t l = strlen(e->d_name);
    if (l < 7 || strcmp(e->d_name + l - 6, ".cedar") != 0 || e->d_name[0] == '.') continue;
    if (*n == cap) {
      size_t nc = cap ? cap * 2 : 32;
      char **nn = wd_realloc(*names, nc * sizeof *nn);
      if (!nn) WD_GOV__FAIL(-WD_E_NOMEM, "out of memory");
      *names = nn;
      cap = nc;
    }
    if (!((*names)[*n] = wd_strdup(e->d_name))) WD_GOV__FAIL(-WD_E_NOMEM, "out of memory");
    (*n)++;
  }
  if (errno) WD_GOV__FAIL(-WD_E_IO, "cannot list policy directory %s: %s", dir, strerror(errno));
  if (*n) qsort(*names, *n, sizeof **names, cmp_str);
cleanup:
  return rc;
}

static uint32_t count_lines(const char *s, size_t n) {
  uint32_t k = 0;
  for (size_t i = 0; i < n; i++)
    k += s[i] == '\n';
  return k;
}

int wd_gov__read_policy_dir(const char *dir, wd_gov__poldir *out, char *err, size_t errlen) {
  memset(out, 0, sizeof *out);
  char **names = NULL;
  size_t n = 0;
  DIR *d = NULL;
  int fd = -1, rc = policy_dir_open(dir, &fd, err, errlen);
  wd_buf b;
  wd_buf_init(&b, WD_LIMIT_STORE_POLICY_BYTES);
  if (rc) goto cleanup;
  if (!(d = fdopendir(fd)))
    WD_GOV__FAIL(-WD_E_IO, "cannot list policy directory %s: %s", dir, strerror(errno));
  fd = -1; /* d owns it */
  if ((rc = list_cedar(d, dir, &names, &n, err, errlen)) != 0) goto cleanup;
  if (n && !(out->files = wd_calloc(n, sizeof *out->files)))
    WD_GOV__FAIL(-WD_E_NOMEM, "out of memory");
  uint32_t line = 1;
  for (size_t i = 0; i < n; i++) {
    wd_gov__polfile *f = &out->files[out->nfiles];
    size_t pl = strlen(dir) + strlen(names[i]) + 2;
    if (!(f->path = wd_malloc(pl))) WD_GOV__FAIL(-WD_E_NOMEM, "out of memory");
    out->nfiles++;
    (void)snprintf(f->path, pl, "%s/%s", dir, names[i]);
    f->off = wd_buf_len(&b);
    f->first_line = line;
    rc = read_trusted(dirfd(d), names[i], f->path, "policy file", WD_LIMIT_POLICY_TEXT_BYTES, &b,
                      err, errlen);
    if (rc) goto cleanup;
    f->len = wd_buf_len(&b) - f->off;
    /* Every file starts a line, so a column in the joined text is the
     * column in its file. */
    if (f->len && wd_buf_str(&b)[wd_buf_len(&b) - 1] != '\n' && (rc = wd_buf_addc(&b, '\n')) != 0)
      WD_GOV__FAIL(rc, "the policy files hold more than %u bytes together (the limit of a set)",
                   WD_LIMIT_STORE_POLICY_BYTES);
    line += count_lines(wd_buf_str(&b) + f->off, wd_buf_len(&b) - f->off);
  }
  if (wd_buf_len(&b) == 0 && (rc = wd_buf_adds(&b, "")) != 0) WD_GOV__FAIL(rc, "out of memory");
  out->len = wd_buf_len(&b);
  if (!(out->text = wd_buf_take(&b))) WD_GOV__FAIL(-WD_E_NOMEM, "out of memory");
cleanup:
  if (d) (void)closedir(d);
  if (fd >= 0) (void)close(fd);
  for (size_t i = 0; i < n; i++)
    wd_free(names[i]);
  wd_free(names);
  wd_buf_free(&b);
  if (rc) wd_gov__poldir_free(out);
  return rc;
}

/* The file holding line of the joined text, and the line there; NULL
 * for line 0 (no position). */
static const wd_gov__polfile *file_at(const wd_gov__poldir *pd, uint32_t line, uint32_t *local) {
  const wd_gov__polfile *f = NULL;
  for (size_t i = 0; line && i < pd->nfiles; i++)
    if (pd->files[i].len && pd->files[i].first_line <= line) f = &pd->files[i];
  if (f) *local = line - f->first_line + 1;
  return f;
}

/* ---- building a set ------------------------------------------------------------- */

/* One diagnostic as the API shows it: message, line, column, policy.
 * From a directory (pd) the position is in its file ("file"), and a
 * policy without an @id is also named by where it starts ("policy_at"). */
static json_t *diag_json(const cedar_diag *x, const cedar_policyset *ps, const wd_gov__poldir *pd,
                         const char *file) {
  uint32_t line = x->line;
  const wd_gov__polfile *f = pd && !file ? file_at(pd, x->line, &line) : NULL;
  json_t *o = json_pack("{s:s, s:I, s:I, s:s}", "message", x->msg, "line", (json_int_t)line,
                        "column", (json_int_t)x->col, "policy", x->policy_id);
  if (!o || !pd) return o;
  if (f) file = f->path;
  if (file && json_object_set_new(o, "file", json_string(file)) != 0) goto fail;
  uint32_t pl = 0, pc = 0;
  if (ps && x->policy_id[0] && !cedar_policyset_annotation(ps, x->policy_id, "id") &&
      cedar_policyset_policy_pos(ps, x->policy_id, &pl, &pc) == 0 && (f = file_at(pd, pl, &pl))) {
    char at[4400];
    (void)snprintf(at, sizeof at, "%s:%u:%u", f->path, pl, pc);
    if (json_object_set_new(o, "policy_at", json_string(at)) != 0) goto fail;
  }
  return o;
fail:
  json_decref(o);
  return NULL;
}

static int add_diags(json_t *a, const cedar_diags *d, const cedar_policyset *ps,
                     const wd_gov__poldir *pd, const char *file) {
  for (size_t i = 0; i < cedar_diags_count(d); i++) {
    const cedar_diag *x = cedar_diags_get(d, i);
    if (x->sev != CEDAR_SEV_ERROR) continue;
    if (json_array_append_new(a, diag_json(x, ps, pd, file)) != 0) return -WD_E_NOMEM;
  }
  return 0;
}

/* Each file must hold whole policies: parsed alone, a policy left open
 * at the end of one file is its error, not the next file's. Ids are not
 * checked across files here; the joined text does that. */
static int parse_each(const wd_gov__poldir *pd, json_t *a) {
  int bad = 0;
  for (size_t i = 0; i < pd->nfiles; i++) {
    const wd_gov__polfile *f = &pd->files[i];
    cedar_diags *d = cedar_diags_new();
    if (!d) return -WD_E_NOMEM;
    cedar_policyset *ps = NULL;
    int rc = cedar_policyset_parse(pd->text + f->off, f->len, &ps, d);
    cedar_policyset_unref(ps);
    if (rc == -WD_E_PARSE || rc == -WD_E_TOOBIG) {
      bad = 1;
      rc = a ? add_diags(a, d, NULL, pd, f->path) : 0;
    }
    cedar_diags_free(d);
    if (rc) return rc;
  }
  return bad ? -WD_E_PARSE : 0;
}

int wd_gov__build_policies(wd_gov *g, const char *text, size_t len, const wd_gov__poldir *pd,
                           cedar_policyset **out, json_t **diags) {
  *out = NULL;
  if (diags) *diags = NULL;
  json_t *a = diags ? json_array() : NULL;
  if (diags && !a) return -WD_E_NOMEM;
  cedar_policyset *ps = NULL;
  cedar_diags *d = NULL;
  int rc = pd ? parse_each(pd, a) : 0;
  if (rc) goto cleanup;
  if (!(d = cedar_diags_new())) {
    rc = -WD_E_NOMEM;
    goto cleanup;
  }
  rc = cedar_policyset_parse(text, len, &ps, d);
  if (!rc && g->schema) rc = cedar_validate(g->schema, ps, d);
  if (rc && a && add_diags(a, d, ps, pd, NULL) != 0) rc = -WD_E_NOMEM;
  /* A set of nothing but comments or templates denies every request, as
   * a mistake would: denying everything on purpose takes a policy. */
  if (!rc && cedar_policyset_count(ps) == 0) {
    rc = -WD_E_VALIDATE;
    if (a && json_array_append_new(
                 a, json_pack("{s:s, s:i, s:i, s:s}", "message",
                              "the set holds no policy, so every request would be denied; to "
                              "deny everything on purpose, write forbid (principal, action, "
                              "resource);",
                              "line", 1, "column", 1, "policy", "")) != 0)
      rc = -WD_E_NOMEM;
  }
cleanup:
  cedar_diags_free(d);
  if (rc) {
    cedar_policyset_unref(ps);
    if (diags) *diags = json_incref(a);
    json_decref(a);
    return rc;
  }
  json_decref(a);
  *out = ps;
  return 0;
}

/* ---- saying what is wrong --------------------------------------------------------- */

/* One problem as FILE:LINE:COL: [in policy "ID": ]message. */
static void line_of(char *out, size_t n, const char *dir, const json_t *x) {
  const char *file = json_string_value(json_object_get(x, "file"));
  const char *msg = json_string_value(json_object_get(x, "message"));
  const char *id = json_string_value(json_object_get(x, "policy"));
  const char *at = json_string_value(json_object_get(x, "policy_at"));
  json_int_t line = json_integer_value(json_object_get(x, "line"));
  json_int_t col = json_integer_value(json_object_get(x, "column"));
  char where[4500], pol[4500] = "";
  if (file && line)
    (void)snprintf(where, sizeof where, "%s:%lld:%lld", file, (long long)line, (long long)col);
  else if (file)
    (void)snprintf(where, sizeof where, "%s", file);
  else /* about the whole set */
    (void)snprintf(where, sizeof where, "policy set in %s is invalid", dir);
  if (at)
    (void)snprintf(pol, sizeof pol, "in the policy at %s: ", at);
  else if (id && *id)
    (void)snprintf(pol, sizeof pol, "in policy \"%s\": ", id);
  (void)snprintf(out, n, "%s: %s%s", where, pol, msg ? msg : "invalid");
}

void wd_gov__policy_problems(const char *dir, const json_t *diags, int rc, char *err,
                             size_t errlen) {
  size_t n = json_array_size(diags), shown = 0, used = 0;
  if (n == 0) {
    (void)snprintf(err, errlen, "policy set in %s is invalid: %s", dir, wd_strerror(rc));
    return;
  }
  if (errlen == 0) return;
  err[0] = '\0';
  char *one = wd_malloc(WD_LIMIT_GOV_PROBLEM_BYTES);
  if (!one) {
    (void)snprintf(err, errlen, "policy set in %s is invalid (%zu problems)", dir, n);
    return;
  }
  for (; shown < n && shown < WD_LIMIT_GOV_START_PROBLEMS; shown++) {
    line_of(one, WD_LIMIT_GOV_PROBLEM_BYTES, dir, json_array_get(diags, shown));
    /* Room for this line and, when some are left, for how many; the
     * first is shown even when it must be cut short. */
    size_t need = (shown ? 1 : 0) + strlen(one) + (shown + 1 < n ? 40 : 0);
    if (shown && used + need >= errlen) break;
    (void)snprintf(err + used, errlen - used, "%s%s", shown ? "\n" : "", one);
    used = strlen(err);
  }
  wd_free(one);
  if (shown < n) (void)snprintf(err + used, errlen - used, "\n(and %zu more problems)", n - shown);
}
