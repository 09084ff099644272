// SPDX-License-Identifier: GPL-2.0
/*
 * walk_inodes.c: `scoutfs walk-inodes {meta_seq|data_seq} FIRST LAST PATH`
 *
 * Prints every inode whose position in the chosen seq index lies in
 * [FIRST, LAST], one "seq.minor.ino" line each, in index order, up to the
 * last committed seq.  Positions are N, major.minor.ino, or -1 (the end).
 */
#include <errno.h>
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

#define WALK_BATCH 1024

static void walk_usage(FILE *f)
{
	fprintf(f, "usage: scoutfs walk-inodes {meta_seq|data_seq} FIRST LAST PATH\n"
		"  FIRST, LAST: N, major.minor.ino, or -1 for the end\n"
		"  prints seq.minor.ino of each inode in the index range\n");
}

static int parse_pos(const char *str,
		     struct scoutfs_ioctl_walk_inodes_entry *ent)
{
	uint64_t major, ino;
	uint32_t minor;

	if (scoutfs_parse_walk_pos(str, &major, &minor, &ino))
		return -1;
	ent->major = major;
	ent->minor = minor;
	ent->ino = ino;
	return 0;
}

int cmd_walk_inodes(int argc, char **argv)
{
	struct scoutfs_ioctl_walk_inodes_entry *ents;
	struct scoutfs_ioctl_walk_inodes walk;
	int fd;
	int ret;
	int i;

	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		walk_usage(stdout);
		return CMD_EXIT_OK;
	}
	if (argc != 5) {
		walk_usage(stderr);
		return CMD_EXIT_USAGE;
	}

	memset(&walk, 0, sizeof(walk));
	if (!strcmp(argv[1], "meta_seq")) {
		walk.index = SCOUTFS_IOC_WALK_INODES_META_SEQ;
	} else if (!strcmp(argv[1], "data_seq")) {
		walk.index = SCOUTFS_IOC_WALK_INODES_DATA_SEQ;
	} else {
		fprintf(stderr, "scoutfs walk-inodes: unknown index '%s' (meta_seq or data_seq)\n",
			argv[1]);
		return CMD_EXIT_USAGE;
	}
	if (parse_pos(argv[2], &walk.first) || parse_pos(argv[3], &walk.last)) {
		fprintf(stderr, "scoutfs walk-inodes: bad position '%s' (N, major.minor.ino or -1)\n",
			parse_pos(argv[2], &walk.first) ? argv[2] : argv[3]);
		return CMD_EXIT_USAGE;
	}

	fd = scoutfs_open_on_fs("scoutfs walk-inodes", argv[4], O_RDONLY);
	if (fd < 0)
		return CMD_EXIT_FAILURE;
	ents = calloc(WALK_BATCH, sizeof(*ents));
	if (!ents) {
		close(fd);
		return CMD_EXIT_FAILURE;
	}
	walk.entries_ptr = (uintptr_t)ents;
	walk.nr_entries = WALK_BATCH;

	for (;;) {
		ret = ioctl(fd, SCOUTFS_IOC_WALK_INODES, &walk);
		if (ret < 0) {
			fprintf(stderr, "scoutfs walk-inodes: %s: %s\n", argv[4],
				strerror(errno));
			break;
		}
		if (ret == 0)
			break;
		for (i = 0; i < ret; i++)
			printf("%llu.%u.%llu\n", (unsigned long long)ents[i].major,
			       ents[i].minor, (unsigned long long)ents[i].ino);
		/* resume after the last entry */
		walk.first = ents[ret - 1];
		if (++walk.first.ino == 0 && ++walk.first.major == 0)
			break;
	}
	free(ents);
	close(fd);
	return ret < 0 ? CMD_EXIT_FAILURE : CMD_EXIT_OK;
}
