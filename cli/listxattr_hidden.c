// SPDX-License-Identifier: GPL-2.0
/*
 * listxattr_hidden.c: `scoutfs listxattr-hidden FILE`: the
 * "scoutfs.hide." xattr names of FILE, which listxattr(2) leaves out
 * (the HSM keeps its per-file state there), one a line.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "commands.h"
#include "fsioctl.h"
#include "ioctl.h"

#define LISTXATTR_HIDDEN_BUF_BYTES 65536

int cmd_listxattr_hidden(int argc, char **argv)
{
	struct scoutfs_ioctl_listxattr_hidden args;
	char *buf, *p;
	int fd, ret;

	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		printf("usage: scoutfs listxattr-hidden FILE\n");
		return CMD_EXIT_OK;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: scoutfs listxattr-hidden FILE\n");
		return CMD_EXIT_USAGE;
	}
	fd = scoutfs_open_on_fs("scoutfs listxattr-hidden", argv[1], O_RDONLY);
	if (fd < 0)
		return CMD_EXIT_FAILURE;
	buf = malloc(LISTXATTR_HIDDEN_BUF_BYTES);
	if (!buf) {
		close(fd);
		return CMD_EXIT_FAILURE;
	}
	memset(&args, 0, sizeof(args));
	args.buf_ptr = (uintptr_t)buf;
	args.buf_bytes = LISTXATTR_HIDDEN_BUF_BYTES;
	while ((ret = ioctl(fd, SCOUTFS_IOC_LISTXATTR_HIDDEN, &args)) > 0) {
		for (p = buf; p < buf + ret; p += strlen(p) + 1)
			printf("%s\n", p);
	}
	if (ret < 0)
		fprintf(stderr, "scoutfs listxattr-hidden: %s: %s\n", argv[1],
			strerror(errno));
	free(buf);
	close(fd);
	return ret < 0 ? CMD_EXIT_FAILURE : CMD_EXIT_OK;
}
