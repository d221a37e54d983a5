/* SPDX-License-Identifier: Apache-2.0
 *
 * `warden admin backup`: a copy of a data directory that a server can be
 * started on, taken while the server runs. The database comes first and
 * the keys after it, so that every key the copied database has recorded
 * is in the copy (a key retired meanwhile only signed tokens that have
 * expired); the copied log is then verified, so the operator knows what
 * the copy holds.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gov/gov_int.h"

/* Tries at the keys: a rotation that saves while they are read can name a
 * file it has just replaced. */
#define WD_GOV__KEY_TRIES 3

/* Removes what a failed backup made: dest/keys/ and its files, the
 * database's files, dest. Only names a backup writes are removed. */
static void remove_partial(const char *dest) {
  char path[4400];
  (void)snprintf(path, sizeof path, "%s/keys", dest);
  DIR *d = opendir(path);
  if (d) {
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
      if (e->d_name[0] == '.') continue;
      char f[4700];
      (void)snprintf(f, sizeof f, "%s/%s", path, e->d_name);
      (void)unlink(f);
    }
    (void)closedir(d);
    (void)rmdir(path);
  }
  static const char *const db[] = {"warden.db", "warden.db-wal", "warden.db-shm"};
  for (size_t i = 0; i < sizeof db / sizeof db[0]; i++) {
    (void)snprintf(path, sizeof path, "%s/%s", dest, db[i]);
    (void)unlink(path);
  }
  (void)rmdir(dest);
}

static int copy_keys(const char *data_dir, const char *dest, int64_t records, unsigned *n,
                     char *err, size_t errlen) {
  char from[4200], to[4200], why[512] = "";
  int rc = 0;
  wd_ident_keyset *ks = NULL;
  (void)snprintf(from, sizeof from, "%s/keys", data_dir);
  (void)snprintf(to, sizeof to, "%s/keys", dest);
  for (int i = 0; i < WD_GOV__KEY_TRIES; i++) {
    rc = wd_ident_keyset_load_diag(from, &ks, why, sizeof why);
    if (rc != -WD_E_VALIDATE) break;
  }
  /* No keyset is a start that failed before its first record; with
   * records, the keys were lost, and a server started on the copy would
   * refuse every token signed before. */
  if (rc == -WD_E_NOTFOUND && records == 0) return 0;
  if (rc == -WD_E_NOTFOUND)
    WD_GOV__FAIL(rc,
                 "%s/keyset.json is missing, though the database holds records: restore %s "
                 "first, or a server started on the copy would refuse every token it signed",
                 from, from);
  if (rc) WD_GOV__FAIL(rc, "cannot read the signing keys: %s", *why ? why : wd_strerror(rc));
  *n = (unsigned)wd_ident_keyset_count(ks);
  if ((rc = wd_ident_keyset_save(ks, to)) != 0)
    WD_GOV__FAIL(rc, "cannot write the signing keys to %s: %s", to, wd_strerror(rc));
cleanup:
  wd_ident_keyset_free(ks);
  return rc;
}

int wd_gov_backup(const char *data_dir, const char *dest, wd_gov_backup_report *rep, char *err,
                  size_t errlen) {
  char path[4200], url[4300];
  int rc = 0, made = 0;
  wd_store *st = NULL;
  struct stat sb;
  if (!data_dir || !*data_dir || !dest || !*dest || !rep) return -WD_E_INVAL;
  memset(rep, 0, sizeof *rep);
  (void)snprintf(path, sizeof path, "%s/warden.db", data_dir);
  if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size == 0)
    WD_GOV__FAIL(-WD_E_NOTFOUND, "no Warden state in %s (no warden.db)", data_dir);
  if (mkdir(dest, 0700) != 0) {
    if (errno == EEXIST)
      WD_GOV__FAIL(-WD_E_EXISTS, "%s exists: give a directory that does not exist yet", dest);
    WD_GOV__FAIL(-WD_E_IO, "cannot create %s: %s", dest, strerror(errno));
  }
  made = 1;
  (void)snprintf(url, sizeof url, "sqlite:%s", path);
  if ((rc = wd_store_open(url, WD_STORE_READONLY, &st)) != 0)
    WD_GOV__FAIL(rc, "cannot open %s: %s", path, wd_strerror(rc));
  (void)snprintf(path, sizeof path, "%s/warden.db", dest);
  if ((rc = wd_store_backup(st, path)) != 0)
    WD_GOV__FAIL(rc, "cannot copy the database to %s: %s", path, wd_strerror(rc));
  wd_store_close(st);
  st = NULL;
  wd_audit_report ar;
  int vrc = wd_audit_verify_file(path, &ar);
  if (vrc && vrc != -WD_E_VALIDATE)
    WD_GOV__FAIL(vrc, "cannot read the copied evidence log: %s", wd_strerror(vrc));
  if ((rc = copy_keys(data_dir, dest, ar.last_seq > 0 || vrc, &rep->keys, err, errlen)) != 0)
    goto cleanup;
  rep->records = ar.records;
  rep->last_seq = ar.last_seq;
  memcpy(rep->last_hash, ar.last_hash, sizeof rep->last_hash);
  /* A break the report leaves unplaced is still a break. */
  rep->bad_seq = vrc && !ar.bad_seq ? ar.records + 1 : ar.bad_seq;
  (void)snprintf(rep->reason, sizeof rep->reason, "%s", ar.reason);
cleanup:
  wd_store_close(st);
  if (rc && made) remove_partial(dest);
  return rc;
}
