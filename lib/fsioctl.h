/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SCOUTFS_LIB_FSIOCTL_H
#define SCOUTFS_LIB_FSIOCTL_H

/*
 * Open path for ioctls and check that it is on a scoutfs filesystem.
 * Returns an fd, or -errno with a one-line reason printed to stderr
 * prefixed by prog ("not on a scoutfs filesystem", the open error).
 */
int scoutfs_open_on_fs(const char *prog, const char *path, int flags);

/*
 * The path a command's -p/--path names, or, as upstream's commands do
 * when it is omitted, $SCOUTFS_MOUNT_PATH, or else the current directory.
 */
const char *scoutfs_mount_path(const char *given);

#endif
