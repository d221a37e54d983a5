/* SPDX-License-Identifier: Apache-2.0
 *
 * The client commands' agent-side files (key, token) and
 * display helpers. The HTTP side is client_http.c.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit/wd_audit.h"
#include "cli/client.h"
#include "util/wd_alloc.h"
#include "util/wd_buf.h"
#include "util/wd_fs.h"
#include "util/wd_limits.h"
#include "warden/err.h"

/* ---- agent-side files ---------------------------------------------------------- */

int cl_default_key_path(const char *name, char *out, size_t cap) {
  const char *home = getenv("HOME");
  if (!home || !*home) return CL_ERR;
  int n = snprintf(out, cap, "%s/.config/warden/%s.key", home, name);
  return n < 0 || (size_t)n >= cap ? CL_ERR : 0;
}

int cl_token_path(const char *key_path, char *out, size_t cap) {
  size_t n = strlen(key_path);
  int w;
  if (n > 4 && strcmp(key_path + n - 4, ".key") == 0)
    w = snprintf(out, cap, "%.*s.token", (int)(n - 4), key_path);
  else
    w = snprintf(out, cap, "%s.token", key_path);
  return w < 0 || (size_t)w >= cap ? CL_ERR : 0;
}

/* Reads at most cap bytes of a file that holds one of the agent's
 * secrets; see cl_read_key_file for the checks. Owned *out, NUL-terminated
 * (wd_ident_secret_free). Returns 0 or CL_ERR after printing. */
static int read_private(const cl_ctx *c, const char *what, const char *path, size_t cap, char **out,
                        size_t *len) {
  *out = NULL;
  *len = 0;
  /* A link is followed (secret mounts are links) and the file it reaches
   * is what is checked: its owner and its mode. */
  int fd;
  struct stat st;
  int rc = wd_fs_open_regular(AT_FDCWD, path, &fd, &st);
  if (rc == -WD_E_INVAL) {
    fprintf(stderr, "%s: the %s %s is not a regular file\n", c->cmd, what, path);
    return CL_ERR;
  }
  if (rc) {
    fprintf(stderr, "%s: cannot read the %s %s: %s\n", c->cmd, what, path, strerror(errno));
    return CL_ERR;
  }
  rc = CL_ERR;
  char *buf = NULL;
  size_t n = 0;
  if (!wd_fs_owned_here(&st)) {
    fprintf(stderr, "%s: the %s %s belongs to another user (uid %u), who could replace it\n",
            c->cmd, what, path, (unsigned)st.st_uid);
    goto out;
  }
  if (st.st_mode & (S_IRWXG | S_IRWXO)) {
    fprintf(stderr,
            "%s: the %s %s is open to other users (mode %04o), who could read or replace it; "
            "chmod 600 %s\n",
            c->cmd, what, path, (unsigned)(st.st_mode & 07777), path);
    goto out;
  }
  if (!(buf = wd_malloc(cap + 1))) {
    fprintf(stderr, "%s: out of memory\n", c->cmd);
    goto out;
  }
  for (;;) {
    ssize_t r = read(fd, buf + n, cap + 1 - n);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      fprintf(stderr, "%s: cannot read the %s %s: %s\n", c->cmd, what, path, strerror(errno));
      goto out;
    }
    if (r == 0) break;
    n += (size_t)r;
    if (n > cap) {
      fprintf(stderr, "%s: the %s %s is too large\n", c->cmd, what, path);
      goto out;
    }
  }
  buf[n] = '\0';
  *out = buf;
  *len = n;
  buf = NULL;
  rc = 0;
out:
  if (buf) {
    wd_ident_cleanse(buf, cap + 1);
    wd_free(buf);
  }
  (void)close(fd);
  return rc;
}

int cl_read_key_file(const cl_ctx *c, const char *path, wd_ident_key **out) {
  *out = NULL;
  char *pem = NULL;
  size_t len = 0;
  if (read_private(c, "key file", path, WD_LIMIT_PEM_BYTES, &pem, &len) != 0) return CL_ERR;
  int rc = wd_ident_key_from_pem(pem, len, out);
  wd_ident_secret_free(pem);
  if (rc < 0) {
    fprintf(stderr, "%s: cannot load the key %s: %s\n", c->cmd, path, wd_strerror(rc));
    *out = NULL;
    return CL_ERR;
  }
  return 0;
}

int cl_load_agent_key(const cl_ctx *c, const char *key_opt, const char *agent_opt,
                      wd_ident_key **out, char *path, size_t cap) {
  *out = NULL;
  if (!key_opt && agent_opt) {
    if (cl_default_key_path(agent_opt, path, cap) != 0) {
      fprintf(stderr, "%s: cannot form the default key path (is HOME set?)\n", c->cmd);
      return CL_ERR;
    }
  } else {
    if (!key_opt) key_opt = getenv("WARDEN_AGENT_KEY");
    if (!key_opt || !*key_opt) {
      fprintf(stderr, "%s: which agent? give --agent-key FILE, --agent NAME or WARDEN_AGENT_KEY\n",
              c->cmd);
      return CL_USAGE;
    }
    int n = snprintf(path, cap, "%s", key_opt);
    if (n < 0 || (size_t)n >= cap) {
      fprintf(stderr, "%s: key path too long\n", c->cmd);
      return CL_USAGE;
    }
  }
  if (cl_read_key_file(c, path, out) != 0) return CL_ERR;
  if (!wd_ident_key_has_private(*out)) {
    fprintf(stderr, "%s: cannot load the agent key %s: no private key in the file\n", c->cmd, path);
    wd_ident_key_free(*out);
    *out = NULL;
    return CL_ERR;
  }
  return 0;
}

int cl_write_secret(const cl_ctx *c, const char *path, const char *text) {
  char tmp[4096];
  int n = snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
  if (n < 0 || (size_t)n >= sizeof tmp) {
    fprintf(stderr, "%s: path too long: %s\n", c->cmd, path);
    return CL_ERR;
  }
  int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    fprintf(stderr, "%s: cannot create %s: %s\n", c->cmd, tmp, strerror(errno));
    return CL_ERR;
  }
  size_t len = strlen(text), off = 0;
  int ok = 1;
  while (ok && off <= len) {
    /* The text, then its newline, in at most two writes. */
    const char *p = off < len ? text + off : "\n";
    size_t want = off < len ? len - off : 1;
    ssize_t w = write(fd, p, want);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0)
      ok = 0;
    else
      off += (size_t)w;
  }
  if (ok && fsync(fd) != 0) ok = 0;
  if (close(fd) != 0) ok = 0;
  if (ok && rename(tmp, path) != 0) ok = 0;
  if (!ok) {
    fprintf(stderr, "%s: cannot write %s: %s\n", c->cmd, path, strerror(errno));
    (void)unlink(tmp);
    return CL_ERR;
  }
  return 0;
}

int cl_read_token(const cl_ctx *c, const char *path, char **out) {
  *out = NULL;
  char *buf = NULL;
  size_t n = 0;
  if (read_private(c, "token file", path, WD_LIMIT_JWS_BYTES + 1, &buf, &n) != 0) return CL_ERR;
  while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
    n--;
  buf[n] = '\0';
  if (n == 0 || n > WD_LIMIT_JWS_BYTES) {
    fprintf(stderr, "%s: %s does not hold a task token\n", c->cmd, path);
    wd_ident_secret_free(buf);
    return CL_ERR;
  }
  /* The token goes into an HTTP header, where a line break would start
   * another one. */
  if (cl_has_ctl(buf)) {
    fprintf(stderr,
            "%s: the token file %s holds a control character (a line break?) within the "
            "token\n",
            c->cmd, path);
    wd_ident_secret_free(buf);
    return CL_USAGE;
  }
  *out = buf;
  return 0;
}

int cl_token_task_id(const char *token, char *out, size_t cap) {
  wd_ident_jws j;
  memset(&j, 0, sizeof j);
  if (wd_ident_jws_decode(token, strlen(token), &j, NULL) < 0) return CL_ERR;
  const char *id = json_string_value(json_object_get(j.payload, "task_id"));
  int rc = CL_ERR;
  if (id) {
    int n = snprintf(out, cap, "%s", id);
    rc = n < 0 || (size_t)n >= cap ? CL_ERR : 0;
  }
  wd_ident_jws_clear(&j);
  return rc;
}

/* ---- display -------------------------------------------------------------------- */

static int dump_cb(const char *buf, size_t size, void *data) {
  FILE *f = data;
  return fwrite(buf, 1, size, f) == size ? 0 : -1;
}

static int buf_cb(const char *p, size_t n, void *ud) { return wd_buf_add(ud, p, n) == 0 ? 0 : -1; }

char *cl_json_dumps(const json_t *v, size_t flags) {
  wd_buf b;
  wd_buf_init(&b, WD_LIMIT_BUF_DEFAULT);
  if (json_dump_callback(v, buf_cb, &b, flags) != 0) {
    wd_buf_free(&b);
    return NULL;
  }
  return wd_buf_take(&b);
}

void cl_print_json(const json_t *v) {
  (void)json_dump_callback(v, dump_cb, stdout, JSON_INDENT(2) | JSON_ENCODE_ANY);
  fputc('\n', stdout);
}

int cl_flush_stdout(const char *cmd, const char *what) {
  return cli_check_stdout(cmd, what) == CLI_OK ? CL_OK : CL_ERR;
}

typedef struct capbuf {
  char *p;
  size_t cap, len;
  int cut;
} capbuf;

static int cap_cb(const char *buf, size_t size, void *data) {
  capbuf *b = data;
  for (size_t i = 0; i < size; i++) {
    if (b->len + 1 >= b->cap) {
      b->cut = 1;
      return -1;
    }
    b->p[b->len++] = buf[i];
  }
  return 0;
}

void cl_json_text(const json_t *v, char *out, size_t cap) {
  if (cap == 0) return;
  out[0] = '\0';
  if (!v) return;
  if (json_is_string(v)) {
    int n = snprintf(out, cap, "%s", json_string_value(v));
    if (n >= 0 && (size_t)n >= cap && cap > 4) memcpy(out + cap - 4, "...", 4);
    return;
  }
  capbuf b = {out, cap, 0, 0};
  (void)json_dump_callback(v, cap_cb, &b, JSON_COMPACT | JSON_ENCODE_ANY);
  out[b.len] = '\0';
  if (b.cut && cap > 4) memcpy(out + cap - 4, "...", 4);
}

void cl_print_policies(FILE *f, const json_t *obj) {
  size_t i;
  json_t *p;
  json_array_foreach(json_object_get(obj, "policies"), i, p) {
    const char *id =
        json_is_string(p) ? json_string_value(p) : json_string_value(json_object_get(p, "id"));
    const char *reason = json_string_value(json_object_get(p, "reason"));
    fprintf(f, "  policy %s%s%s\n", id ? id : "?", reason ? ": " : "", reason ? reason : "");
  }
  json_array_foreach(json_object_get(obj, "errors"), i, p) {
    char text[512];
    if (json_is_object(p) && json_is_string(json_object_get(p, "policy"))) {
      char msg[400];
      const char *policy = json_string_value(json_object_get(p, "policy"));
      cl_json_text(json_object_get(p, "message"), msg, sizeof msg);
      /* No policy: the request itself did not fit the schema. */
      if (*policy)
        fprintf(f, "  error in policy %s: %s\n", policy, msg);
      else
        fprintf(f, "  error: %s\n", msg);
      continue;
    }
    cl_json_text(p, text, sizeof text);
    fprintf(f, "  error %s\n", text);
  }
}

void cl_time_text(const json_t *v, char *out, size_t cap) {
  if (json_is_integer(v) && cap > 0) {
    time_t t = (time_t)json_integer_value(v);
    struct tm tm;
    if (gmtime_r(&t, &tm) && strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) > 0) return;
  }
  cl_json_text(v, out, cap);
}

int cl_parse_sub(const char *cmd, int argc, char **argv, const cli_opt *opts, const char *takes,
                 const char **pos, size_t max_pos, size_t *npos, void (*usage)(FILE *out),
                 int *rc) {
  int help = 0;
  *rc = cli_parse_opts(cmd, argc, argv, opts, pos, max_pos, npos, &help);
  if (*rc != 0) return 1;
  if (help) {
    usage(stdout);
    return 1; /* *rc is CL_OK */
  }
  *rc = takes ? cli_only_opts(cmd, opts, takes) : CL_OK;
  return *rc != CL_OK;
}

int cl_family_help(int argc, char **argv, void (*usage)(FILE *out), int *rc) {
  if (argc >= 2 && strcmp(argv[1], "--help") != 0 && strcmp(argv[1], "-h") != 0) return 0;
  usage(argc < 2 ? stderr : stdout);
  *rc = argc < 2 ? CL_USAGE : CL_OK;
  return 1;
}

const char *cl_sub_takes(const char *family, const cl_sub *subs, size_t n, const char *sub,
                         void (*usage)(FILE *out)) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(sub, subs[i].name) == 0) return subs[i].takes;
  fprintf(stderr, "warden %s: unknown subcommand '%s'\n", family, sub);
  usage(stderr);
  return NULL;
}

int cl_is_hash(const char *s) {
  return s && strlen(s) == 64 && strspn(s, "0123456789abcdef") == 64;
}

int cl_seq_hash(const char *s, long long *seq, char hash[65]) {
  const char *colon = s ? strchr(s, ':') : NULL;
  char num[24];
  size_t n = colon ? (size_t)(colon - s) : 0;
  if (!colon || n == 0 || n >= sizeof num || !cl_is_hash(colon + 1)) return -1;
  memcpy(num, s, n);
  num[n] = '\0';
  if (cli_parse_count(num, 1, seq) != 0 || *seq > WD_AUDIT_SEQ_MAX) return -1;
  memcpy(hash, colon + 1, 65);
  return 0;
}
