/* SPDX-License-Identifier: Apache-2.0 */
#define _POSIX_C_SOURCE 200809L
#include "wd_fs.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <unistd.h>

#include "warden/err.h"

int wd_fs_open_regular(int dfd, const char *name, int *fd, struct stat *sb) {
  *fd = openat(dfd, name, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (*fd < 0) return errno == ENOENT ? -WD_E_NOTFOUND : -WD_E_IO;
  int rc = fstat(*fd, sb) != 0 ? -WD_E_IO : S_ISREG(sb->st_mode) ? 0 : -WD_E_INVAL;
  if (rc) {
    int saved = errno;
    (void)close(*fd);
    *fd = -1;
    errno = saved;
  }
  return rc;
}

int wd_fs_owned_here(const struct stat *sb) { return sb->st_uid == geteuid() || sb->st_uid == 0; }

int wd_fs_owner_only_write(const struct stat *sb) {
  if (sb->st_mode & S_IWOTH) return 0;
  if (!(sb->st_mode & S_IWGRP)) return 1;
  if (sb->st_gid != getegid()) return 0;
  /* Users whose primary group it is are not listed here; a group named
   * as the primary group of others is a shared group by design, which
   * the check below cannot see. */
  char buf[16384];
  struct group g, *found = NULL;
  if (getgrgid_r(sb->st_gid, &g, buf, sizeof buf, &found) != 0 || !found) return 0;
  return g.gr_mem[0] == NULL;
}
