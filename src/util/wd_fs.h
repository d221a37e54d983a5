/* SPDX-License-Identifier: Apache-2.0
 *
 * Who may change a file the server trusts (a policy, its config). The
 * caller owns the stat buffer.
 */
#ifndef WD_UTIL_FS_H
#define WD_UTIL_FS_H

#include <sys/stat.h>

/* 1 when only its owner can write the file or directory sb describes:
 * not writable by others, and writable by its group only when that group
 * is this process's own and has no other members (a user-private group,
 * as a checkout under umask 002 gets). 0 otherwise. */
int wd_fs_owner_only_write(const struct stat *sb);

#endif
