// SPDX-License-Identifier: GPL-2.0
/*
 * get_fiemap.c: `scoutfs get-fiemap [-P|--physical] [-L|--logical]
 * [-b|--byte] FILE`
 *
 * Prints FILE's extents as FS_IOC_FIEMAP reports them, in upstream's
 * format: "N: offset: LOGICAL PHYSICAL length: LEN flags: OUL" a line,
 * then "extents: N".  -L prints only the logical offset, -P only the
 * physical one (not both options); offsets and lengths are in st_blksize
 * units unless -b asks for bytes.  Flags: O for an offline extent
 * (FIEMAP_EXTENT_UNKNOWN), U unwritten, L the last; '.' where unset.
 * Records are fetched a batch at a time, each next call starting after
 * the last record seen.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/fs.h>
#include <linux/fiemap.h>

#include "commands.h"

#define FIEMAP_BATCH 256

static void fiemap_usage(FILE *f)
{
	fprintf(f, "usage: scoutfs get-fiemap [-P|--physical] [-L|--logical] [-b|--byte] FILE\n"
		"  -P: physical offsets only, -L: logical offsets only, -b: bytes instead of blocks\n");
}

int cmd_get_fiemap(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "physical", no_argument, NULL, 'P' },
		{ "logical", no_argument, NULL, 'L' },
		{ "byte", no_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	bool logical = true, physical = true, bytes = false, last = false;
	struct fiemap_extent *fe;
	struct fiemap *fm;
	uint64_t nr = 0, off_l, off_p, len;
	const char *file;
	struct stat st;
	unsigned int i;
	int fd, c;
	int ret = CMD_EXIT_OK;

	optind = 1;
	while ((c = getopt_long(argc, argv, "PLbh", longopts, NULL)) != -1) {
		switch (c) {
		case 'P':
			logical = false;
			break;
		case 'L':
			physical = false;
			break;
		case 'b':
			bytes = true;
			break;
		case 'h':
			fiemap_usage(stdout);
			return CMD_EXIT_OK;
		default:
			fiemap_usage(stderr);
			return CMD_EXIT_USAGE;
		}
	}
	if (!logical && !physical) {
		fprintf(stderr, "scoutfs get-fiemap: can't pass both -P and -L options\n");
		return CMD_EXIT_USAGE;
	}
	if (optind != argc - 1) {
		fiemap_usage(stderr);
		return CMD_EXIT_USAGE;
	}
	file = argv[optind];

	fd = open(file, O_RDONLY);
	if (fd < 0) {
		fprintf(stderr, "failed to open '%s': %s (%d)\n", file,
			strerror(errno), errno);
		return CMD_EXIT_FAILURE;
	}
	if (fstat(fd, &st) < 0 || st.st_blksize <= 0) {
		fprintf(stderr, "stat failed on '%s': %s (%d)\n", file,
			strerror(errno), errno);
		close(fd);
		return CMD_EXIT_FAILURE;
	}
	fm = calloc(1, sizeof(*fm) + FIEMAP_BATCH * sizeof(*fe));
	if (!fm) {
		close(fd);
		return CMD_EXIT_FAILURE;
	}
	fe = fm->fm_extents;

	while (!last) {
		fm->fm_length = ~0ULL - fm->fm_start;
		fm->fm_extent_count = FIEMAP_BATCH;
		fm->fm_mapped_extents = 0;
		if (ioctl(fd, FS_IOC_FIEMAP, fm) < 0) {
			fprintf(stderr, "get_fiemap ioctl failed: %s (%d)\n",
				strerror(errno), errno);
			ret = CMD_EXIT_FAILURE;
			break;
		}
		if (fm->fm_mapped_extents == 0)
			break;
		for (i = 0; i < fm->fm_mapped_extents; i++) {
			off_l = fe[i].fe_logical;
			off_p = fe[i].fe_physical;
			len = fe[i].fe_length;
			if (!bytes) {
				off_l /= st.st_blksize;
				off_p /= st.st_blksize;
				len /= st.st_blksize;
			}
			printf("%llu: offset: ", (unsigned long long)nr++);
			if (logical)
				printf("%llu ", (unsigned long long)off_l);
			if (physical)
				printf("%llu ", (unsigned long long)off_p);
			printf("length: %llu flags: %c%c%c\n",
			       (unsigned long long)len,
			       fe[i].fe_flags & FIEMAP_EXTENT_UNKNOWN ? 'O' : '.',
			       fe[i].fe_flags & FIEMAP_EXTENT_UNWRITTEN ? 'U' : '.',
			       fe[i].fe_flags & FIEMAP_EXTENT_LAST ? 'L' : '.');
			if (fe[i].fe_flags & FIEMAP_EXTENT_LAST)
				last = true;
		}
		i = fm->fm_mapped_extents - 1;
		fm->fm_start = fe[i].fe_logical + fe[i].fe_length;
	}
	if (ret == CMD_EXIT_OK)
		printf("extents: %llu\n", (unsigned long long)nr);
	free(fm);
	close(fd);
	return ret;
}
