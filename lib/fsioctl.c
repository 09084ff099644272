// SPDX-License-Identifier: GPL-2.0
/*
 * fsioctl.c: what every command that talks to a mounted scoutfs needs
 * before its ioctl: an fd on the filesystem, refused with a clear message
 * when the path is elsewhere (an ioctl number of ours could mean anything
 * to another filesystem).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "format.h"
#include "fsioctl.h"

int scoutfs_open_on_fs(const char *prog, const char *path, int flags)
{
	struct statfs st;
	int fd;
	int err;

	fd = open(path, flags);
	if (fd < 0) {
		err = errno;
		fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(err));
		return -err;
	}
	if (fstatfs(fd, &st) || st.f_type != SCOUTFS_SUPER_MAGIC) {
		fprintf(stderr, "%s: %s: not on a scoutfs filesystem\n", prog,
			path);
		close(fd);
		return -EINVAL;
	}
	return fd;
}

const char *scoutfs_mount_path(const char *given)
{
	const char *env;

	if (given)
		return given;
	env = getenv("SCOUTFS_MOUNT_PATH");
	return env && *env ? env : ".";
}
