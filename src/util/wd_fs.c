/* SPDX-License-Identifier: Apache-2.0 */
#define _POSIX_C_SOURCE 200809L
#include "wd_fs.h"

#include <grp.h>
#include <unistd.h>

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
