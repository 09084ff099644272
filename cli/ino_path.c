// SPDX-License-Identifier: GPL-2.0
/*
 * ino_path.c: `scoutfs ino-path INO PATH`: every path (hard links
 * included) of inode INO, relative to the mount root, one a line.
 */
#include <errno.h>
#include <getopt.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "commands.h"
#include "fsioctl.h"
#include "ioctl.h"
#include "parse.h"

#define INO_PATH_RESULT_BYTES 4096

int cmd_ino_path(int argc, char **argv)
{
	struct scoutfs_ioctl_ino_path_result *res;
	struct scoutfs_ioctl_ino_path args;
	static const struct option longopts[] = {
		{ "path", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *path = NULL;
	uint64_t ino;
	int found = 0;
	int fd;
	int ret;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "p:h", longopts, NULL)) != -1) {
		if (c == 'p') {
			path = optarg;
		} else if (c == 'h') {
			printf("usage: scoutfs ino-path INO [-p|--path PATH] [PATH]\n"
			       "  prints every path of inode INO, relative to the mount of PATH\n");
			return CMD_EXIT_OK;
		} else {
			goto usage;
		}
	}
	memset(&args, 0, sizeof(args));
	if (optind == argc - 2 && !path)
		path = argv[optind + 1];
	else if (optind != argc - 1)
		goto usage;
	if (scoutfs_parse_u64(argv[optind], &ino))
		goto usage;
	path = scoutfs_mount_path(path);
	args.ino = ino;
	fd = scoutfs_open_on_fs("scoutfs ino-path", path, O_RDONLY);
	if (fd < 0)
		return CMD_EXIT_FAILURE;
	res = malloc(INO_PATH_RESULT_BYTES);
	if (!res) {
		close(fd);
		return CMD_EXIT_FAILURE;
	}
	args.result_ptr = (uintptr_t)res;
	args.result_bytes = INO_PATH_RESULT_BYTES;

	for (;;) {
		ret = ioctl(fd, SCOUTFS_IOC_INO_PATH, &args);
		if (ret < 0)
			break;
		printf("%s\n", (char *)res->path);
		found++;
		args.dir_ino = res->dir_ino;
		args.dir_pos = res->dir_pos + 1;
	}
	if (errno == ENOENT && found)
		ret = 0;
	else
		fprintf(stderr, "scoutfs ino-path: inode %llu: %s\n",
			(unsigned long long)args.ino,
			errno == ENOENT ? "no such inode or no paths" :
			strerror(errno));
	free(res);
	close(fd);
	return ret < 0 ? CMD_EXIT_FAILURE : CMD_EXIT_OK;

usage:
	fprintf(stderr, "usage: scoutfs ino-path INO [-p|--path PATH] [PATH]\n");
	return CMD_EXIT_USAGE;
}
