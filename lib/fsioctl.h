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
 * The same, with upstream's messages when the open fails ("failed to
 * open 'PATH': STRERROR (ERRNO)" and scoutfs_upstream_fail()'s second
 * line) for commands whose failures scripts grep; cmd is the bare
 * subcommand name.
 */
int scoutfs_open_on_fs_upstream(const char *cmd, const char *path, int flags);

/*
 * The path a command's -p/--path names, or, as upstream's commands do
 * when it is omitted, $SCOUTFS_MOUNT_PATH, or else the current directory.
 */
const char *scoutfs_mount_path(const char *given);

/*
 * A failed call in upstream's words: the line fmt makes, then
 * ": STRERROR (ERRNO)", and then "scoutfs: CMD failed: STRERROR (ERRNO)"
 * (the line upstream's main adds), so scripts that grep upstream's
 * messages find them.
 */
void scoutfs_upstream_fail(const char *cmd, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
