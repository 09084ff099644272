// SPDX-License-Identifier: GPL-2.0
/*
 * data_waiting.c: `scoutfs data-waiting [-I INO] [-B BLOCK] [-p PATH]`
 * lists the tasks of the mount of PATH (default ".") waiting for offline
 * data after the (INO, BLOCK) cursor, one "ino I iblock B ops OPS" line
 * each, in order, so an agent knows what to stage first.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "commands.h"
#include "fsioctl.h"
#include "ioctl.h"
#include "parse.h"

#define DATA_WAITING_BATCH 128

static void dw_ops_str(unsigned int op, char *buf, size_t size)
{
	snprintf(buf, size, "%s%s%s",
		 (op & SCOUTFS_IOC_DWO_READ) ? "read," : "",
		 (op & SCOUTFS_IOC_DWO_WRITE) ? "write," : "",
		 (op & SCOUTFS_IOC_DWO_CHANGE_SIZE) ? "change_size," : "");
	if (buf[0])
		buf[strlen(buf) - 1] = '\0';
}

static void data_waiting_usage(FILE *f)
{
	fprintf(f, "usage: scoutfs data-waiting [-I INO] [-B BLOCK] [-p PATH]\n"
		"  lists waiters after inode INO block BLOCK (default 0 0) on the mount of PATH\n");
}

int cmd_data_waiting(int argc, char **argv)
{
	struct scoutfs_ioctl_data_waiting_entry ents[DATA_WAITING_BATCH];
	struct scoutfs_ioctl_data_waiting args;
	static const struct option longopts[] = {
		{ "inode", required_argument, NULL, 'I' },
		{ "block", required_argument, NULL, 'B' },
		{ "path", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *path = NULL;
	uint64_t ino = 0, iblock = 0;
	char ops[64];
	int fd, ret, i, c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "I:B:p:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'I':
			if (scoutfs_parse_u64(optarg, &ino))
				goto usage;
			break;
		case 'B':
			if (scoutfs_parse_u64(optarg, &iblock))
				goto usage;
			break;
		case 'p':
			path = optarg;
			break;
		case 'h':
			data_waiting_usage(stdout);
			return CMD_EXIT_OK;
		default:
			goto usage;
		}
	}
	if (optind < argc)
		path = argv[optind++];
	if (optind != argc)
		goto usage;
	path = scoutfs_mount_path(path);

	fd = scoutfs_open_on_fs("scoutfs data-waiting", path, O_RDONLY);
	if (fd < 0)
		return CMD_EXIT_FAILURE;
	memset(&args, 0, sizeof(args));
	args.after_ino = ino;
	args.after_iblock = iblock;
	args.ents_ptr = (uintptr_t)ents;
	args.ents_nr = DATA_WAITING_BATCH;
	for (;;) {
		ret = ioctl(fd, SCOUTFS_IOC_DATA_WAITING, &args);
		if (ret <= 0)
			break;
		for (i = 0; i < ret; i++) {
			dw_ops_str(ents[i].op, ops, sizeof(ops));
			printf("ino %llu iblock %llu ops %s\n",
			       (unsigned long long)ents[i].ino,
			       (unsigned long long)ents[i].iblock, ops);
		}
		args.after_ino = ents[ret - 1].ino;
		args.after_iblock = ents[ret - 1].iblock;
	}
	if (ret < 0)
		fprintf(stderr, "scoutfs data-waiting: %s: %s\n", path,
			strerror(errno));
	close(fd);
	return ret < 0 ? CMD_EXIT_FAILURE : CMD_EXIT_OK;
usage:
	data_waiting_usage(stderr);
	return CMD_EXIT_USAGE;
}
