/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for loading the policy directory (gov_policies.c): a start
 * refused for a bad policy names the file, line and column, and the
 * policy by its @id or by where it starts; a file that is not a regular
 * file (a directory, a FIFO, a link to nothing), one over the limit, a
 * missing directory, and a directory or file other users could change
 * are each refused by name, without blocking; each file holds whole
 * policies; ids run on across files; and PUT /v1/policies keeps its
 * diagnostics about one text; a set put through the API outlives a
 * restart until the directory changes.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <grp.h>
#include <unistd.h>

#include "gov/gov_int.h"
#include "util/wd_alloc.h"
#include "util/wd_limits.h"

#define PACK  WD_TEST_DATA "/../../docs/policies"
#define TOKEN "policy-dir-unit-test-admin-token-0123456789"

static char top[64], pp[128], data[128];

static void put(const char *dir, const char *name, const char *text, mode_t mode) {
  char path[512];
  (void)snprintf(path, sizeof path, "%s/%s", dir, name);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  assert_true(fd >= 0);
  size_t n = strlen(text);
  assert_int_equal(write(fd, text, n), (ssize_t)n);
  assert_int_equal(fchmod(fd, mode), 0); /* whatever the umask */
  assert_int_equal(close(fd), 0);
}

static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  static char buf[1 << 16];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  (void)fclose(f);
  buf[n] = '\0';
  return buf;
}

/* A fresh copy of the starter pack in pp, 0755 and 0644. */
static int setup(void **state) {
  (void)state;
  (void)snprintf(top, sizeof top, "/tmp/wd-pol-unit-XXXXXX");
  if (!mkdtemp(top)) return -1;
  (void)snprintf(pp, sizeof pp, "%s/pp", top);
  (void)snprintf(data, sizeof data, "%s/var", top);
  if (mkdir(pp, 0700) != 0 || chmod(pp, 0755) != 0) return -1;
  static const char *const files[] = {"governance.cedarschema", "owner-team.cedar",
                                      "read-only-tier.cedar", "permit-task-open.cedar"};
  char path[512];
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    (void)snprintf(path, sizeof path, "%s/%s", PACK, files[i]);
    put(pp, files[i], slurp(path), 0644);
  }
  return 0;
}

static int teardown(void **state) {
  (void)state;
  char cmd[128];
  (void)snprintf(cmd, sizeof cmd, "chmod -R u+rwx %s; rm -rf %s", top, top);
  return system(cmd) == 0 ? 0 : -1;
}

/* The options every start here shares: the data directory, the token. */
static void opts_on(wd_gov_opts *o, const char *dir) {
  memset(o, 0, sizeof *o);
  o->data_dir = data;
  o->policy_dir = dir;
  o->admin_token = TOKEN;
}

/* Starts on pp (schema: --schema, or NULL); returns the code, err the text. */
static int start(const char *dir, const char *schema, char *err, size_t errlen) {
  wd_gov_opts o;
  opts_on(&o, dir);
  o.schema_path = schema;
  wd_gov *g = NULL;
  char *gen = NULL;
  err[0] = '\0';
  /* A FIFO opened without O_NONBLOCK would wait here for a writer. */
  (void)alarm(30);
  int rc = wd_gov_start(&o, &g, &gen, err, errlen);
  (void)alarm(0);
  wd_ident_secret_free(gen);
  if (g) {
    (void)wd_gov_shutdown(g, 5000);
    wd_gov_free(g);
  }
  return rc;
}

static void has(const char *err, const char *want) {
  if (!strstr(err, want)) fail_msg("want \"%s\" in \"%s\"", want, err);
}

static void keep_warning(void *ctx, const char *msg) { (void)snprintf(ctx, 512, "%s", msg); }

/* Starts on pp, warnings into warned; the running service. */
static wd_gov *start_warned(char *warned) {
  wd_gov_opts o;
  opts_on(&o, pp);
  o.warn = keep_warning;
  o.warn_ctx = warned;
  warned[0] = '\0';
  wd_gov *g = NULL;
  char *gen = NULL, err[1024];
  assert_int_equal(wd_gov_start(&o, &g, &gen, err, sizeof err), 0);
  wd_ident_secret_free(gen);
  return g;
}

static int64_t active_version(wd_gov *g, char **text) {
  wd_policy_version v = {0};
  assert_int_equal(wd_store_policy_get_active(g->store, &v), 0);
  int64_t n = v.version;
  *text = v.text;
  v.text = NULL;
  wd_store_policy_free(&v);
  return n;
}

static void stop(wd_gov *g) {
  assert_int_equal(wd_gov_shutdown(g, 5000), 0);
  wd_gov_free(g);
}

/* An emergency forbid put through the API is not undone by a restart
 * with the same files; a change to the files replaces it, and both say
 * so. */
static void api_set_outlives_restart(void **state) {
  (void)state;
  char warned[512], *text = NULL;
  wd_gov *g = start_warned(warned);
  int64_t v1 = active_version(g, &text);
  assert_string_equal(warned, "");
  size_t n = strlen(text);
  static const char extra[] = "\n@id(\"emergency\") forbid (principal, action, resource);\n";
  char *api = wd_malloc(n + sizeof extra);
  assert_non_null(api);
  memcpy(api, text, n);
  memcpy(api + n, extra, sizeof extra);
  wd_free(text);
  cedar_policyset *ps = NULL;
  json_t *diags = NULL;
  assert_int_equal(wd_gov__build_policies(g, api, strlen(api), NULL, &ps, &diags), 0);
  int64_t v2 = 0;
  assert_int_equal(wd_gov__activate(g, api, strlen(api), ps, 0, "admin", &v2), 0);
  cedar_policyset_unref(ps);
  assert_true(v2 > v1);
  stop(g);

  g = start_warned(warned);
  assert_int_equal(active_version(g, &text), v2);
  assert_string_equal(text, api);
  wd_free(text);
  assert_int_equal(g->pol.version, v2);
  has(warned, "put through the API, stays active");
  stop(g);

  char path[512];
  (void)snprintf(path, sizeof path, "%s/owner-team.cedar", PACK);
  char *edited = slurp(path);
  (void)strcat(edited, "\n// edited\n");
  put(pp, "owner-team.cedar", edited, 0644);
  g = start_warned(warned);
  int64_t v3 = active_version(g, &text);
  assert_true(v3 > v2);
  assert_non_null(strstr(text, "// edited"));
  assert_null(strstr(text, "emergency"));
  wd_free(text);
  has(warned, "the policy directory changed");
  stop(g);
  /* And the directory's set stays, without a word. */
  g = start_warned(warned);
  assert_int_equal(active_version(g, &text), v3);
  wd_free(text);
  assert_string_equal(warned, "");
  stop(g);
  wd_free(api);
}

/* Each bad file is reported as FILE:LINE:COL in that file, the policy
 * named by its @id, else by where it starts. */
static void problems_say_where(void **state) {
  (void)state;
  static const struct {
    const char *name, *text, *want, *not ;
  } rows[] = {
      {"zz-bad.cedar", "permit (principal, action, resource)\nwhen { 1 + };\n",
       "/pp/zz-bad.cedar:2:12: ", "policy set in"},
      /* A policy left open at the end of its file is that file's error,
       * not the next file's. */
      {"aa-open.cedar", "// first\npermit (principal, action, resource)",
       "/pp/aa-open.cedar:2:37: ", "owner-team.cedar"},
      {"zz-bad.cedar",
       "@id(\"named\")\npermit (principal, action == Action::\"fs.read\", resource)\n"
       "when { context.nope };\n",
       "/pp/zz-bad.cedar:3:8: in policy \"named\": ", "policy13"},
      {"zz-bad.cedar",
       "// a comment\n\npermit (principal, action == Action::\"fs.read\", resource)\n"
       "when { 1 + \"a\" == 2 };\n",
       "/pp/zz-bad.cedar:4:12: in the policy at ", "policy3"},
      {"zz-bad.cedar",
       "// a comment\n\npermit (principal, action == Action::\"fs.read\", resource)\n"
       "when { 1 + \"a\" == 2 };\n",
       "/pp/zz-bad.cedar:3:1: unexpected type", "policy3"},
      {"zz-dup.cedar", "@id(\"owner-team\")\nforbid (principal, action, resource);\n",
       "/pp/zz-dup.cedar:1:1: duplicate policy id `owner-team`", NULL},
  };
  int fails = 0;
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    char err[4096];
    put(pp, rows[i].name, rows[i].text, 0644);
    int rc = start(pp, NULL, err, sizeof err);
    char path[512];
    (void)snprintf(path, sizeof path, "%s/%s", pp, rows[i].name);
    assert_int_equal(unlink(path), 0);
    if (rc == 0 || !strstr(err, rows[i].want) || strchr(err, '\n') ||
        (rows[i].not &&strstr(err, rows[i].not ))) {
      fprintf(stderr, "row %zu: rc %d: %s\n", i, rc, err);
      fails++;
    }
  }
  assert_int_equal(fails, 0);
}

/* More problems than are listed: one line each, then how many more, all
 * within the caller's buffer. */
static void many_problems_are_capped(void **state) {
  (void)state;
  char text[4096] = "", err[1024];
  for (int i = 0; i < 30; i++)
    (void)snprintf(text + strlen(text), sizeof text - strlen(text),
                   "permit (principal, action, resource) when { %d + \"a\" == 2 };\n", i);
  put(pp, "zz-many.cedar", text, 0644);
  assert_int_not_equal(start(pp, NULL, err, sizeof err), 0);
  (void)snprintf(text, sizeof text, "%s/zz-many.cedar", pp);
  assert_int_equal(unlink(text), 0);
  size_t lines = 1;
  for (const char *c = err; *c; c++)
    lines += *c == '\n';
  assert_true(lines >= 3 && lines <= WD_LIMIT_GOV_START_PROBLEMS + 1);
  assert_true(strlen(err) < sizeof err - 1);
  has(err, "more problems)");
  assert_int_equal(strncmp(err, pp, strlen(pp)), 0);
}

/* What is not a readable regular file of ours is refused by name. */
static void bad_entries_are_named(void **state) {
  (void)state;
  char path[512], err[4096], schema[512];
  (void)snprintf(path, sizeof path, "%s/x.cedar", pp);
  assert_int_equal(mkdir(path, 0755), 0);
  assert_int_not_equal(start(pp, NULL, err, sizeof err), 0);
  has(err, "policy file ");
  has(err, "/pp/x.cedar is a directory");
  assert_int_equal(rmdir(path), 0);

  assert_int_equal(symlink("nothing-there", path), 0);
  assert_int_not_equal(start(pp, NULL, err, sizeof err), 0);
  has(err, "/pp/x.cedar is a symbolic link to nothing");
  assert_int_equal(unlink(path), 0);

  assert_int_equal(mkfifo(path, 0644), 0);
  assert_int_not_equal(start(pp, NULL, err, sizeof err), 0);
  has(err, "/pp/x.cedar is a FIFO");
  assert_int_equal(unlink(path), 0);

  (void)snprintf(schema, sizeof schema, "%s/fifo.cedarschema", top);
  assert_int_equal(mkfifo(schema, 0644), 0);
  assert_int_not_equal(start(pp, schema, err, sizeof err), 0);
  has(err, "schema ");
  has(err, "/fifo.cedarschema is a FIFO");

  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  assert_true(fd >= 0);
  assert_int_equal(ftruncate(fd, (off_t)WD_LIMIT_POLICY_TEXT_BYTES + 1), 0);
  assert_int_equal(close(fd), 0);
  assert_int_equal(start(pp, NULL, err, sizeof err), -WD_E_TOOBIG);
  has(err, "/pp/x.cedar has 67108865 bytes, over the limit");
  assert_int_equal(unlink(path), 0);

  if (geteuid() != 0) { /* root reads it anyway */
    put(pp, "x.cedar", "permit (principal, action, resource);\n", 0);
    assert_int_not_equal(start(pp, NULL, err, sizeof err), 0);
    has(err, "cannot open policy file ");
    has(err, "/pp/x.cedar: Permission denied");
    assert_int_equal(unlink(path), 0);
  }

  (void)snprintf(path, sizeof path, "%s/nope", pp);
  assert_int_equal(start(path, NULL, err, sizeof err), -WD_E_NOTFOUND);
  has(err, "policy directory ");
  has(err, "/pp/nope does not exist");
  assert_null(strstr(err, "schema"));
}

/* Anyone who may write the directory or a file could plant a policy that
 * permits anything. */
static void others_may_not_write(void **state) {
  (void)state;
  char err[4096], path[512];
  assert_int_equal(chmod(pp, 0777), 0);
  assert_int_not_equal(start(pp, NULL, err, sizeof err), 0);
  has(err, "/pp may be written by other users (mode 0777)");
  has(err, "chmod go-w ");
  /* Group-writable: refused for a group others may be in (only root can
   * give the directory one), taken for this process's private group. */
  assert_int_equal(chmod(pp, 0775), 0);
  if (geteuid() == 0) {
    assert_int_equal(chown(pp, (uid_t)-1, 65534), 0);
    assert_int_not_equal(start(pp, NULL, err, sizeof err), 0);
    has(err, "(mode 0775)");
    assert_int_equal(chown(pp, (uid_t)-1, getegid()), 0);
  }
  struct group *own = getgrgid(getegid());
  if (own && !own->gr_mem[0]) assert_int_equal(start(pp, NULL, err, sizeof err), 0);
  assert_int_equal(chmod(pp, 0755), 0);

  (void)snprintf(path, sizeof path, "%s/owner-team.cedar", pp);
  assert_int_equal(chmod(path, 0666), 0);
  assert_int_not_equal(start(pp, NULL, err, sizeof err), 0);
  has(err, "policy file ");
  has(err, "/pp/owner-team.cedar may be written by other users (mode 0666)");
  assert_int_equal(chmod(path, 0644), 0);

  (void)snprintf(path, sizeof path, "%s/governance.cedarschema", pp);
  assert_int_equal(chmod(path, 0646), 0);
  assert_int_not_equal(start(pp, NULL, err, sizeof err), 0);
  has(err, "/pp/governance.cedarschema may be written by other users (mode 0646)");
  assert_int_equal(chmod(path, 0644), 0);

  if (geteuid() == 0) { /* only root can give a file away */
    (void)snprintf(path, sizeof path, "%s/read-only-tier.cedar", pp);
    assert_int_equal(chown(path, 4321, 4321), 0);
    assert_int_not_equal(start(pp, NULL, err, sizeof err), 0);
    has(err, "/pp/read-only-tier.cedar belongs to uid 4321");
    assert_int_equal(chown(path, 0, 0), 0);
    assert_int_equal(chown(pp, 4321, 4321), 0);
    assert_int_not_equal(start(pp, NULL, err, sizeof err), 0);
    has(err, "/pp belongs to uid 4321");
    assert_int_equal(chown(pp, 0, 0), 0);
  }
  /* Read-only for others is how a checkout is, and starts. */
  assert_int_equal(start(pp, NULL, err, sizeof err), 0);
}

/* Default ids run on across files, as in the stored joined text, so two
 * files' first policies do not both become policy0. */
static void ids_run_on_across_files(void **state) {
  (void)state;
  char err[512], d[256];
  (void)snprintf(d, sizeof d, "%s/two", top);
  assert_int_equal(mkdir(d, 0755), 0);
  put(d, "a.cedar", "permit (principal, action, resource);", 0644);
  put(d, "b.cedar", "forbid (principal, action, resource);\n", 0644);
  wd_gov__poldir pd;
  assert_int_equal(wd_gov__read_policy_dir(d, &pd, err, sizeof err), 0);
  assert_int_equal(pd.nfiles, 2);
  assert_string_equal(pd.text, "permit (principal, action, resource);\n"
                               "forbid (principal, action, resource);\n");
  static wd_gov g; /* no schema: parsing only */
  cedar_policyset *ps = NULL;
  json_t *diags = NULL;
  assert_int_equal(wd_gov__build_policies(&g, pd.text, pd.len, &pd, &ps, &diags), 0);
  assert_string_equal(cedar_policyset_policy_id(ps, 0), "policy0");
  assert_string_equal(cedar_policyset_policy_id(ps, 1), "policy1");
  cedar_policyset_unref(ps);
  wd_gov__poldir_free(&pd);
}

/* PUT /v1/policies has one text: its diagnostics keep line and column in
 * it, and name no file. */
static void one_text_keeps_its_lines(void **state) {
  (void)state;
  static wd_gov g;
  static const char text[] = "permit (principal, action, resource);\n"
                             "permit (principal, action, resource)\nwhen { 1 + };\n";
  cedar_policyset *ps = NULL;
  json_t *diags = NULL;
  assert_int_equal(wd_gov__build_policies(&g, text, strlen(text), NULL, &ps, &diags), -WD_E_PARSE);
  assert_null(ps);
  json_t *d0 = json_array_get(diags, 0);
  assert_int_equal(json_integer_value(json_object_get(d0, "line")), 3);
  assert_int_equal(json_integer_value(json_object_get(d0, "column")), 12);
  assert_null(json_object_get(d0, "file"));
  assert_non_null(json_object_get(d0, "policy"));
  json_decref(diags);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(problems_say_where, setup, teardown),
      cmocka_unit_test_setup_teardown(many_problems_are_capped, setup, teardown),
      cmocka_unit_test_setup_teardown(bad_entries_are_named, setup, teardown),
      cmocka_unit_test_setup_teardown(others_may_not_write, setup, teardown),
      cmocka_unit_test_setup_teardown(ids_run_on_across_files, setup, teardown),
      cmocka_unit_test(one_text_keeps_its_lines),
      cmocka_unit_test_setup_teardown(api_set_outlives_restart, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
