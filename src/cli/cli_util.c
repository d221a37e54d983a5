/* SPDX-License-Identifier: Apache-2.0
 *
 * CLI plumbing: option parsing, reading inputs with a size cap, replacing
 * files atomically, printing engine diagnostics. No Cedar semantics here.
 */
#define _XOPEN_SOURCE 700 /* realpath */

#include "cli_util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/wd_alloc.h"
#include "util/wd_buf.h"
#include "util/wd_limits.h"

int cli_one_stdin_of(const char *cmd, const char *const *files, size_t n) {
  size_t seen = 0;
  for (size_t i = 0; i < n; i++)
    seen += files[i] && strcmp(files[i], "-") == 0;
  if (seen <= 1) return CLI_OK;
  fprintf(stderr, "warden cedar %s: only one input can be standard input ('-')\n", cmd);
  return CLI_USAGE;
}

int cli_parse_count(const char *s, long long min, long long *out) {
  /* strtoll alone takes " 7", "+7" and "-0", and saturates on overflow. */
  if (!s || !*s || strspn(s, "0123456789") != strlen(s)) return -1;
  char *end = NULL;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (errno || *end || v < min) return -1;
  *out = v;
  return 0;
}

int cli_ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

static const cli_opt *find_opt(const cli_opt *opts, const char *name, size_t n) {
  for (const cli_opt *o = opts; o->name; o++) {
    if (strlen(o->name) == n && memcmp(o->name, name, n) == 0) return o;
    if (o->alias && strlen(o->alias) == n && memcmp(o->alias, name, n) == 0) return o;
  }
  return NULL;
}

int cli_parse_opts(const char *cmd, int argc, char **argv, const cli_opt *opts, const char **pos,
                   size_t max_pos, size_t *npos, int *help) {
  int only_pos = 0;
  *npos = 0;
  *help = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    /* A lone "-" names stdin, and negative numbers are not options. */
    if (only_pos || a[0] != '-' || a[1] == '\0' || (a[1] >= '0' && a[1] <= '9')) {
      if (*npos >= max_pos) {
        fprintf(stderr, "%s: unexpected argument '%s'\n", cmd, a);
        return CLI_USAGE;
      }
      pos[(*npos)++] = a;
      continue;
    }
    if (strcmp(a, "--") == 0) {
      only_pos = 1;
      continue;
    }
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      *help = 1;
      continue;
    }
    const char *eq = strchr(a, '=');
    size_t n = eq && a[1] == '-' ? (size_t)(eq - a) : strlen(a);
    const cli_opt *o = find_opt(opts, a, n);
    if (!o) {
      fprintf(stderr, "%s: unknown option '%.*s'\n", cmd, (int)n, a);
      return CLI_USAGE;
    }
    if (!o->has_arg) {
      if (a[n] == '=') {
        fprintf(stderr, "%s: option '%s' takes no value\n", cmd, o->name);
        return CLI_USAGE;
      }
      *o->flag = 1;
      continue;
    }
    const char *v = NULL;
    if (a[n] == '=') {
      v = a + n + 1;
    } else if (i + 1 < argc) {
      v = argv[++i];
    } else {
      fprintf(stderr, "%s: option '%s' needs a value\n", cmd, o->name);
      return CLI_USAGE;
    }
    if (!o->multi) {
      *o->val = v;
    } else if (*o->nmulti < WD_LIMIT_CLI_MULTI) {
      o->multi[(*o->nmulti)++] = v;
    } else {
      fprintf(stderr, "%s: too many '%s' options (at most %u)\n", cmd, o->name, WD_LIMIT_CLI_MULTI);
      return CLI_USAGE;
    }
  }
  return 0;
}

/* Set once a failed write to stdout has been reported, so that the check
 * main makes when a command returns does not say it a second time. */
static int stdout_failure_shown;

int cli_check_stdout(const char *cmd, const char *what) {
  int err = fflush(stdout) != 0 ? errno : 0;
  if (!err && !ferror(stdout)) return CLI_OK;
  if (!stdout_failure_shown)
    fprintf(stderr, "%s: cannot write %s to standard output: %s\n", cmd, what,
            err ? strerror(err) : "write error");
  stdout_failure_shown = 1;
  return CLI_ERR;
}

/* 1 when word is one of the space-separated words of list. */
static int has_word(const char *list, const char *word) {
  size_t n = strlen(word);
  for (const char *p = list; (p = strstr(p, word)) != NULL; p += n)
    if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0')) return 1;
  return 0;
}

int cli_only_opts(const char *cmd, const cli_opt *opts, const char *takes) {
  for (const cli_opt *o = opts; o->name; o++) {
    int given = o->multi ? *o->nmulti > 0 : o->has_arg ? *o->val != NULL : *o->flag != 0;
    if (given && !has_word(takes, o->name)) {
      fprintf(stderr, "%s: option '%s' does not apply to this command\n", cmd, o->name);
      return CLI_USAGE;
    }
  }
  return CLI_OK;
}

int cli_policy_format(const char *cmd, const char *format) {
  if (!format || strcmp(format, "cedar") == 0 || strcmp(format, "json") == 0) return CLI_OK;
  fprintf(stderr, "%s: --policy-format is cedar or json, not '%s'\n", cmd, format);
  return CLI_USAGE;
}

int cli_read_file(const char *path, size_t cap, char **out, size_t *len) {
  int is_stdin = strcmp(path, "-") == 0;
  const char *shown = is_stdin ? "<stdin>" : path;
  FILE *f = is_stdin ? stdin : fopen(path, "rb");
  char *data = NULL;
  size_t n = 0, alloc = 0;
  int rc = 0;
  *out = NULL;
  *len = 0;
  if (!f) {
    fprintf(stderr, "warden: cannot open '%s': %s\n", shown, strerror(errno));
    return -WD_E_IO;
  }
  for (;;) {
    if (alloc - n < 2) {
      size_t want = alloc ? alloc * 2 : 8192;
      /* One byte beyond the cap tells "exactly cap" from "too big". */
      if (want > cap + 2) want = cap + 2;
      if (want <= alloc) {
        fprintf(stderr, "warden: '%s' is larger than the limit of %zu bytes\n", shown, cap);
        rc = -WD_E_TOOBIG;
        goto out;
      }
      char *p = wd_realloc(data, want);
      if (!p) {
        fprintf(stderr, "warden: out of memory reading '%s'\n", shown);
        rc = -WD_E_NOMEM;
        goto out;
      }
      data = p;
      alloc = want;
    }
    size_t got = fread(data + n, 1, alloc - n - 1, f);
    n += got;
    if (n > cap) {
      fprintf(stderr, "warden: '%s' is larger than the limit of %zu bytes\n", shown, cap);
      rc = -WD_E_TOOBIG;
      goto out;
    }
    if (got == 0) break;
  }
  if (ferror(f)) {
    fprintf(stderr, "warden: cannot read '%s': %s\n", shown, strerror(errno));
    rc = -WD_E_IO;
    goto out;
  }
  if (!data) {
    data = wd_malloc(1);
    if (!data) {
      rc = -WD_E_NOMEM;
      goto out;
    }
  }
  data[n] = '\0';
  *out = data;
  *len = n;
  data = NULL;
out:
  wd_free(data);
  if (!is_stdin) fclose(f);
  return rc;
}

int cli_write_atomic(const char *path, const char *data, size_t len) {
  /* A link is rewritten where it leads: renamed over, the link itself
   * would become a regular file and its target would stay as it was. */
  char real[PATH_MAX];
  if (!realpath(path, real)) {
    fprintf(stderr, "warden: cannot replace '%s': %s\n", path, strerror(errno));
    return -WD_E_IO;
  }
  /* The rename needs only the directory: a file the user may not write
   * (mode 0444) would be replaced all the same. */
  if (access(real, W_OK) != 0) {
    fprintf(stderr, "warden: cannot write '%s': %s\n", path, strerror(errno));
    return -WD_E_IO;
  }
  path = real;
  wd_buf tmp;
  wd_buf_init(&tmp, 4096 + strlen(path));
  int fd = -1, rc = -WD_E_IO;
  struct stat st;
  if (wd_buf_addf(&tmp, "%s.XXXXXX", path) != 0) {
    fprintf(stderr, "warden: path too long: '%s'\n", path);
    return -WD_E_NOMEM;
  }
  char *name = wd_buf_take(&tmp);
  if (!name) return -WD_E_NOMEM;
  fd = mkstemp(name);
  if (fd < 0) {
    fprintf(stderr, "warden: cannot create a temporary file next to '%s': %s\n", path,
            strerror(errno));
    goto out;
  }
  /* Keep the permissions of the file being replaced. */
  if (stat(path, &st) == 0) (void)fchmod(fd, st.st_mode & 07777);
  for (size_t done = 0; done < len;) {
    ssize_t w = write(fd, data + done, len - done);
    if (w < 0) {
      if (errno == EINTR) continue;
      fprintf(stderr, "warden: cannot write '%s': %s\n", name, strerror(errno));
      goto out;
    }
    done += (size_t)w;
  }
  if (fsync(fd) != 0 || close(fd) != 0) {
    fd = -1;
    fprintf(stderr, "warden: cannot write '%s': %s\n", name, strerror(errno));
    goto out;
  }
  fd = -1;
  if (rename(name, path) != 0) {
    fprintf(stderr, "warden: cannot replace '%s': %s\n", path, strerror(errno));
    goto out;
  }
  rc = 0;
out:
  if (fd >= 0) close(fd);
  if (rc != 0) unlink(name);
  wd_free(name);
  return rc;
}

void cli_print_diags(const cedar_diags *d, const char *file, const char *src, size_t len, int rc) {
  if (!d || cedar_diags_count(d) == 0) {
    fprintf(stderr, "%s: error: %s\n", file, wd_strerror(rc));
    return;
  }
  char *txt = cedar_diags_render(d, file, src, len);
  if (!txt) {
    fprintf(stderr, "%s: error: %s (out of memory rendering details)\n", file, wd_strerror(rc));
    return;
  }
  fputs(txt, stderr);
  cedar_free(txt);
}

int cli_translate(const cli_translate_spec *s, int argc, char **argv) {
  const char *file = NULL, *dir = NULL;
  const char *pos[1];
  size_t npos = 0;
  int help = 0;
  const cli_opt opts[] = {CLI_ARG(s->file_opt, s->file_alias, &file),
                          CLI_ARG("--direction", NULL, &dir), CLI_END};
  char prefix[64];
  (void)snprintf(prefix, sizeof prefix, "warden cedar %s", s->cmd);
  int rc = cli_parse_opts(prefix, argc, argv, opts, pos, 1, &npos, &help);
  if (rc) return rc;
  if (help) {
    puts(s->usage);
    return CLI_OK;
  }
  int to_json = dir && strcmp(dir, "cedar-to-json") == 0;
  if (!dir || (!to_json && strcmp(dir, "json-to-cedar") != 0)) {
    fprintf(stderr, "warden cedar %s: --direction must be cedar-to-json or json-to-cedar\n",
            s->cmd);
    return CLI_USAGE;
  }
  if (file && npos) {
    fprintf(stderr, "warden cedar %s: give one input file\n", s->cmd);
    return CLI_USAGE;
  }
  const char *path = file ? file : npos ? pos[0] : "-";
  const char *shown = strcmp(path, "-") == 0 ? "<stdin>" : path;
  char *src = NULL, *out = NULL;
  size_t len = 0;
  cedar_diags *d = NULL;
  int status = CLI_ERR;
  if (cli_read_file(path, to_json ? s->text_cap : WD_LIMIT_JSON_BYTES, &src, &len)) goto out;
  if (!(d = cedar_diags_new())) {
    fprintf(stderr, "%s: error: %s\n", shown, wd_strerror(-WD_E_NOMEM));
    goto out;
  }
  rc = s->run(src, len, to_json, &out, d);
  if (rc) {
    cli_print_diags(d, shown, src, len, rc);
    goto out;
  }
  fputs(out, stdout);
  if (out[0] && out[strlen(out) - 1] != '\n') putchar('\n');
  status = CLI_OK;
out:
  cedar_free(out);
  cedar_diags_free(d);
  wd_free(src);
  return status;
}
