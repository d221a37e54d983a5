/* SPDX-License-Identifier: Apache-2.0
 *
 * SQLite backend: a consistent copy of the whole database into a new
 * file, through SQLite's online backup, while the service writes on.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "store/store_sqlite_int.h"

int wd_store__sq_backup(wd_store *st, const char *path) {
  sq_store *s = (sq_store *)st;
  sq_conn *c = NULL;
  sqlite3 *dst = NULL;
  /* Made here, 0600 and new, so that SQLite never creates it with the
   * umask's mode nor writes over a file that was there. */
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return errno == EEXIST ? -WD_E_EXISTS : -WD_E_IO;
  (void)close(fd);
  int rc = wd_store__sq_acquire(s, &c);
  if (rc) goto out;
  int src = sqlite3_open_v2(path, &dst, SQLITE_OPEN_READWRITE, NULL);
  if (src != SQLITE_OK) {
    rc = -WD_E_IO;
    goto out;
  }
  sqlite3_backup *b = sqlite3_backup_init(dst, "main", c->db, "main");
  if (!b) {
    rc = wd_store__sq_err(sqlite3_extended_errcode(dst));
    goto out;
  }
  /* Every page in one step: one read transaction, one snapshot. */
  src = sqlite3_backup_step(b, -1);
  int fin = sqlite3_backup_finish(b);
  if (src != SQLITE_DONE)
    rc = wd_store__sq_err(src);
  else if (fin != SQLITE_OK)
    rc = wd_store__sq_err(fin);
  /* One file, whatever reads it next: a reader of a WAL database makes
   * its -wal and -shm beside it. A server that opens it goes back to WAL. */
  if (!rc && sqlite3_exec(dst, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL) != SQLITE_OK)
    rc = wd_store__sq_err(sqlite3_extended_errcode(dst));
out:
  if (c) wd_store__sq_release(s, c);
  if (dst) (void)sqlite3_close(dst);
  if (rc) (void)unlink(path);
  return rc;
}
