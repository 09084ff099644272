// SPDX-License-Identifier: GPL-2.0
/*
 * df.c: `scoutfs df [-h|--human-readable] [-p|--path PATH] [PATH]`: used
 * and free space of the metadata and data devices, in upstream's table:
 *
 *       Type  Size  Total  Used  Free  Use%
 *   MetaData  64KB  ...
 *       Data   4KB  ...
 *
 * Totals come from STATFS_MORE; free blocks from statfs(2) (f_bfree for
 * data, f_ffree / SCOUTFS_STATFS_INODES_PER_META_BLOCK for metadata),
 * where upstream sums the ALLOC_DETAIL ioctl, which this module lacks.
 * -h prints sizes in K/M/G/T/P units instead of blocks.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "commands.h"
#include "format.h"
#include "fsioctl.h"
#include "ioctl.h"

#define DF_ROWS 3
#define DF_COLS 6
#define DF_CELL 24

static void df_usage(FILE *f)
{
	fprintf(f, "usage: scoutfs df [-h|--human-readable] [-p|--path PATH] [PATH]\n");
}

static void human(char *cell, unsigned long long bytes)
{
	static const char units[] = "BKMGTPE";
	double v = bytes;
	int u = 0;

	while (v >= 1024 && units[u + 1]) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(cell, DF_CELL, "%llu", bytes);
	else
		snprintf(cell, DF_CELL, v < 10 ? "%.1f%c" : "%.0f%c", v, units[u]);
}

static void fill_row(char row[DF_COLS][DF_CELL], const char *type,
		     const char *size, unsigned long long block_bytes,
		     unsigned long long total, unsigned long long free,
		     bool is_human)
{
	unsigned long long used = total > free ? total - free : 0;
	unsigned long long vals[3] = { total, used, free };
	int i;

	snprintf(row[0], DF_CELL, "%s", type);
	snprintf(row[1], DF_CELL, "%s", size);
	for (i = 0; i < 3; i++) {
		if (is_human)
			human(row[2 + i], vals[i] * block_bytes);
		else
			snprintf(row[2 + i], DF_CELL, "%llu", vals[i]);
	}
	snprintf(row[5], DF_CELL, "%llu", total ? used * 100 / total : 0);
}

int cmd_df(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "human-readable", no_argument, NULL, 'h' },
		{ "path", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 }
	};
	static const char *heads[DF_COLS] = {
		"Type", "Size", "Total", "Used", "Free", "Use%"
	};
	char cells[DF_ROWS][DF_COLS][DF_CELL];
	struct scoutfs_ioctl_statfs_more sfm;
	const char *path = NULL;
	int wid[DF_COLS] = { 0 };
	bool is_human = false;
	struct statfs st;
	int fd, c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "hp:", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			is_human = true;
			break;
		case 'p':
			path = optarg;
			break;
		case 'H':
			df_usage(stdout);
			return CMD_EXIT_OK;
		default:
			df_usage(stderr);
			return CMD_EXIT_USAGE;
		}
	}
	if (optind < argc - 1 || (optind == argc - 1 && path)) {
		df_usage(stderr);
		return CMD_EXIT_USAGE;
	}
	if (optind == argc - 1)
		path = argv[optind];
	path = scoutfs_mount_path(path);

	fd = scoutfs_open_on_fs("scoutfs df", path, O_RDONLY);
	if (fd < 0)
		return CMD_EXIT_FAILURE;
	if (ioctl(fd, SCOUTFS_IOC_STATFS_MORE, &sfm) < 0 || fstatfs(fd, &st) < 0) {
		fprintf(stderr, "scoutfs df: %s: %s\n", path, strerror(errno));
		close(fd);
		return CMD_EXIT_FAILURE;
	}
	close(fd);

	for (c = 0; c < DF_COLS; c++)
		snprintf(cells[0][c], DF_CELL, "%s", heads[c]);
	fill_row(cells[1], "MetaData", "64KB", SCOUTFS_BLOCK_SIZE,
		 sfm.total_meta_blocks,
		 st.f_ffree / SCOUTFS_STATFS_INODES_PER_META_BLOCK, is_human);
	fill_row(cells[2], "Data", "4KB", SCOUTFS_DATA_BLOCK_SIZE,
		 sfm.total_data_blocks, st.f_bfree, is_human);

	for (r = 0; r < DF_ROWS; r++)
		for (c = 0; c < DF_COLS; c++)
			if ((int)strlen(cells[r][c]) > wid[c])
				wid[c] = strlen(cells[r][c]);
	for (r = 0; r < DF_ROWS; r++) {
		for (c = 0; c < DF_COLS; c++)
			printf("%*s  ", wid[c], cells[r][c]);
		printf("\n");
	}
	return CMD_EXIT_OK;
}
