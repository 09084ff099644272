// SPDX-License-Identifier: GPL-2.0
/*
 * search_xattrs.c: `scoutfs search-xattrs [-p PATH] XATTR-NAME`: the
 * inodes on the mount of PATH that carry an xattr named XATTR-NAME, one
 * inode number a line, found through the .srch. index without a scan
 * (only names containing ".srch." are indexed).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "commands.h"
#include "fsioctl.h"
#include "ioctl.h"

#define SEARCH_BATCH 1024

int cmd_search_xattrs(int argc, char **argv)
{
	struct scoutfs_ioctl_search_xattrs args;
	uint64_t inos[SEARCH_BATCH];
	static const struct option longopts[] = {
		{ "path", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *path = NULL;
	const char *name;
	int fd, c, i;
	long ret;

	optind = 1;
	while ((c = getopt_long(argc, argv, "p:h", longopts, NULL)) != -1) {
		if (c == 'p') {
			path = optarg;
		} else if (c == 'h') {
			printf("usage: scoutfs search-xattrs [-p PATH] XATTR-NAME\n");
			return CMD_EXIT_OK;
		} else {
			goto usage;
		}
	}
	if (optind != argc - 1)
		goto usage;
	name = argv[optind];
	path = scoutfs_mount_path(path);
	if (!strstr(name, ".srch.")) {
		fprintf(stderr, "scoutfs search-xattrs: only names containing '.srch.' are indexed: '%s'\n",
			name);
		return CMD_EXIT_USAGE;
	}

	fd = scoutfs_open_on_fs("scoutfs search-xattrs", path, O_RDONLY);
	if (fd < 0)
		return CMD_EXIT_FAILURE;
	memset(&args, 0, sizeof(args));
	args.next_ino = 0;
	args.last_ino = UINT64_MAX;
	args.name_ptr = (uintptr_t)name;
	args.name_bytes = strlen(name);
	args.inodes_ptr = (uintptr_t)inos;
	args.nr_inodes = SEARCH_BATCH;
	for (;;) {
		ret = ioctl(fd, SCOUTFS_IOC_SEARCH_XATTRS, &args);
		if (ret < 0) {
			fprintf(stderr, "scoutfs search-xattrs: %s: %s\n", path,
				strerror(errno));
			break;
		}
		for (i = 0; i < ret; i++)
			printf("%llu\n", (unsigned long long)inos[i]);
		if (args.output_flags & SCOUTFS_SEARCH_XATTRS_OFLAG_END)
			break;
	}
	close(fd);
	return ret < 0 ? CMD_EXIT_FAILURE : CMD_EXIT_OK;
usage:
	fprintf(stderr, "usage: scoutfs search-xattrs [-p PATH] XATTR-NAME\n");
	return CMD_EXIT_USAGE;
}
