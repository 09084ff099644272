// SPDX-License-Identifier: GPL-2.0
/*
 * fsioctl.c: what every command that talks to a mounted scoutfs needs
 * before its ioctl: an fd on the filesystem, refused with a clear message
 * when the path is elsewhere (an ioctl number of ours could mean anything
 * to another filesystem).
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "format.h"
#include "fsioctl.h"

/* fd must be on scoutfs: else it is closed, with a message; -EINVAL */
static int check_on_fs(const char *prog, const char *path, int fd)
{
	struct statfs st;

	if (fstatfs(fd, &st) || st.f_type != SCOUTFS_SUPER_MAGIC) {
		fprintf(stderr, "%s: %s: not on a scoutfs filesystem\n", prog,
			path);
		close(fd);
		return -EINVAL;
	}
	return fd;
}

int scoutfs_open_on_fs(const char *prog, const char *path, int flags)
{
	int fd;
	int err;

	fd = open(path, flags);
	if (fd < 0) {
		err = errno;
		fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(err));
		return -err;
	}
	return check_on_fs(prog, path, fd);
}

int scoutfs_open_on_fs_upstream(const char *cmd, const char *path, int flags)
{
	char prog[64];
	int fd;
	int err;

	fd = open(path, flags);
	if (fd < 0) {
		err = errno;
		scoutfs_upstream_fail(cmd, err, "failed to open '%s'", path);
		return -err;
	}
	snprintf(prog, sizeof(prog), "scoutfs %s", cmd);
	return check_on_fs(prog, path, fd);
}

const char *scoutfs_mount_path(const char *given)
{
	const char *env;

	if (given)
		return given;
	env = getenv("SCOUTFS_MOUNT_PATH");
	return env && *env ? env : ".";
}

void scoutfs_upstream_fail(const char *cmd, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, ": %s (%d)\n", strerror(err), err);
	fprintf(stderr, "scoutfs: %s failed: %s (%d)\n", cmd, strerror(err), err);
}
