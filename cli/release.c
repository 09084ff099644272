// SPDX-License-Identifier: GPL-2.0
/*
 * release.c: `scoutfs release -V VERSION [-o OFFSET] [-l LENGTH] FILE`
 *
 * Frees the blocks of [OFFSET, OFFSET + LENGTH) of FILE (default: all of
 * it) and marks the range offline; its data then lives only in the
 * archive.  The kernel refuses (ESTALE) unless VERSION is the file's
 * current data_version, so a file changed since it was archived is never
 * released.  Offsets and lengths take K/M/G/T/P suffixes and must be
 * multiples of 4 KiB.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "fsioctl.h"
#include "ioctl.h"
#include "range_opts.h"
#include "format.h"

static void release_usage(FILE *f)
{
	fprintf(f, "usage: scoutfs release -V VERSION [-o OFFSET] [-l LENGTH] FILE\n"
		"  OFFSET and LENGTH are multiples of 4K (default: the whole file)\n");
}

int cmd_release(int argc, char **argv)
{
	struct scoutfs_ioctl_release args;
	struct range_opts ro;
	uint64_t off, len;
	struct stat st;
	int fd, ret;

	ret = cli_parse_range_opts(argc, argv, "scoutfs release", release_usage,
				   &ro);
	if (ret >= 0)
		return ret;
	if (optind != argc - 1) {
		release_usage(stderr);
		return CMD_EXIT_USAGE;
	}
	off = ro.offset;
	len = ro.length;

	fd = scoutfs_open_on_fs("scoutfs release", argv[optind], O_RDWR);
	if (fd < 0)
		return CMD_EXIT_FAILURE;
	if (!ro.have_length) {
		fstat(fd, &st);
		len = ((uint64_t)st.st_size + SCOUTFS_DATA_BLOCK_SIZE - 1) &
		      ~(uint64_t)(SCOUTFS_DATA_BLOCK_SIZE - 1);
		len = len > off ? len - off : 0;
		if (len == 0) {
			close(fd);
			return CMD_EXIT_OK;
		}
	}
	if ((off | len) & (SCOUTFS_DATA_BLOCK_SIZE - 1)) {
		fprintf(stderr, "scoutfs release: offset %llu and length %llu must be multiples of 4096\n",
			(unsigned long long)off, (unsigned long long)len);
		close(fd);
		return CMD_EXIT_USAGE;
	}
	memset(&args, 0, sizeof(args));
	args.offset = off;
	args.length = len;
	args.data_version = ro.data_version;
	if (ioctl(fd, SCOUTFS_IOC_RELEASE, &args) < 0) {
		fprintf(stderr, "scoutfs release: %s: %s\n", argv[optind],
			errno == ESTALE ?
			"data_version does not match: the file changed since it was archived (ESTALE)" :
			strerror(errno));
		close(fd);
		return CMD_EXIT_FAILURE;
	}
	close(fd);
	return CMD_EXIT_OK;
}
