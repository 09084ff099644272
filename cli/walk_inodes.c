// SPDX-License-Identifier: GPL-2.0
/*
 * walk_inodes.c: `scoutfs walk-inodes [-p|--path PATH] {meta_seq|data_seq}
 * FIRST LAST` (upstream's current form) or `scoutfs walk-inodes
 * {meta_seq|data_seq} FIRST LAST PATH` (the seed's, and upstream's older)
 *
 * Prints every inode whose position in the chosen seq index lies in
 * [FIRST, LAST], one "seq.minor.ino" line each, in index order, up to the
 * last committed seq.  Positions are N, major.minor[.ino] (values left
 * out are 0) or -1 (the end).  The path is -p (-p PATH, -pPATH, --path
 * PATH, --path=PATH, before or after the arguments), or the fourth
 * argument, else $SCOUTFS_MOUNT_PATH, else the current directory; both
 * -p and a fourth argument is a usage error.  Options are parsed by hand
 * because "-1" is a position, not an option; a lone "--" ends them.
 */
#include <errno.h>
#include <stdbool.h>
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
	fprintf(f, "usage: scoutfs walk-inodes [-p|--path PATH] {meta_seq|data_seq} FIRST LAST\n"
		"       scoutfs walk-inodes {meta_seq|data_seq} FIRST LAST PATH\n"
		"  FIRST, LAST: N, major.minor[.ino], or -1 for the end\n"
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
	const char *pos[4] = { NULL };
	const char *path = NULL;
	bool opts_done = false;
	int nr_pos = 0;
	int fd;
	int ret;
	int i;

	for (i = 1; i < argc; i++) {
		if (!opts_done && (!strcmp(argv[i], "-h") ||
				   !strcmp(argv[i], "--help"))) {
			walk_usage(stdout);
			return CMD_EXIT_OK;
		} else if (!opts_done && !strcmp(argv[i], "--")) {
			opts_done = true;
		} else if (!opts_done && (!strcmp(argv[i], "-p") ||
					  !strcmp(argv[i], "--path"))) {
			if (i + 1 >= argc || path) {
				walk_usage(stderr);
				return CMD_EXIT_USAGE;
			}
			path = argv[++i];
		} else if (!opts_done && !strncmp(argv[i], "--path=", 7) &&
			   !path) {
			path = argv[i] + 7;
		} else if (!opts_done && !strncmp(argv[i], "-p", 2) &&
			   argv[i][2] && !path) {
			path = argv[i] + 2;
		} else if (nr_pos < 4) {
			pos[nr_pos++] = argv[i];
		} else {
			nr_pos++;
		}
	}
	if (nr_pos < 3 || nr_pos > 4 || (nr_pos == 4 && path)) {
		walk_usage(stderr);
		return CMD_EXIT_USAGE;
	}
	path = scoutfs_mount_path(nr_pos == 4 ? pos[3] : path);

	memset(&walk, 0, sizeof(walk));
	if (!strcmp(pos[0], "meta_seq")) {
		walk.index = SCOUTFS_IOC_WALK_INODES_META_SEQ;
	} else if (!strcmp(pos[0], "data_seq")) {
		walk.index = SCOUTFS_IOC_WALK_INODES_DATA_SEQ;
	} else {
		fprintf(stderr, "scoutfs walk-inodes: unknown index '%s' (meta_seq or data_seq)\n",
			pos[0]);
		return CMD_EXIT_USAGE;
	}
	if (parse_pos(pos[1], &walk.first) || parse_pos(pos[2], &walk.last)) {
		fprintf(stderr, "scoutfs walk-inodes: bad position '%s' (N, major.minor[.ino] or -1)\n",
			parse_pos(pos[1], &walk.first) ? pos[1] : pos[2]);
		return CMD_EXIT_USAGE;
	}

	fd = scoutfs_open_on_fs("scoutfs walk-inodes", path, O_RDONLY);
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
			fprintf(stderr, "scoutfs walk-inodes: %s: %s\n", path,
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
