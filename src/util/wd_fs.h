/* SPDX-License-Identifier: Apache-2.0
 *
 * Files the server trusts (a policy, its schema, its config, a TLS key):
 * opened so that a FIFO cannot hang the start, and judged by who may
 * change them. The caller owns the stat buffer and the descriptor.
 */
#ifndef WD_UTIL_FS_H
#define WD_UTIL_FS_H

#include <sys/stat.h>

/* Opens name (relative to dfd; AT_FDCWD for a plain path) for reading
 * with O_NONBLOCK, which regular files ignore and which keeps a FIFO from
 * blocking the open, and fills *sb. 0 with *fd open on a regular file;
 * -WD_E_INVAL with *fd = -1 and *sb filled when it is anything else;
 * -WD_E_NOTFOUND (no such file) or -WD_E_IO with *fd = -1 and errno set
 * when it cannot be opened or examined. */
int wd_fs_open_regular(int dfd, const char *name, int *fd, struct stat *sb);

/* 1 when the file or directory sb describes belongs to this process's
 * user or to root. */
int wd_fs_owned_here(const struct stat *sb);

/* 1 when only its owner can write the file or directory sb describes:
 * not writable by others, and writable by its group only when that group
 * is this process's own and has no other members (a user-private group,
 * as a checkout under umask 002 gets). 0 otherwise. */
int wd_fs_owner_only_write(const struct stat *sb);

#endif
