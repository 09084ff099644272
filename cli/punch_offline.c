// SPDX-License-Identifier: GPL-2.0
/*
 * punch_offline.c: `scoutfs punch-offline -V VERSION -o OFFSET -l LENGTH
 * FILE`
 *
 * Turns the offline (released) blocks of [OFFSET, OFFSET + LENGTH) of
 * FILE into a hole: the range then reads as zeros and needs no staging.
 * The kernel refuses a range with online or unwritten blocks (EINVAL), a
 * VERSION that is not the file's data_version (ESTALE), and an OFFSET or
 * LENGTH that is not a non-zero multiple of 4 KiB (EOVERFLOW), as
 * upstream's does.  All three options are required (sizes take
 * K/M/G/T/P); FILE is opened for writing.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "commands.h"
#include "fsioctl.h"
#include "ioctl.h"
#include "range_opts.h"

static void punch_usage(FILE *f)
{
	fprintf(f, "usage: scoutfs punch-offline -V VERSION -o OFFSET -l LENGTH FILE\n"
		"  make the offline range of FILE at OFFSET of LENGTH bytes a (sparse) hole\n");
}

int cmd_punch_offline(int argc, char **argv)
{
	struct scoutfs_ioctl_punch_offline args;
	struct range_opts ro;
	int fd, ret;

	ret = cli_parse_range_opts(argc, argv, "scoutfs punch-offline",
				   punch_usage, &ro);
	if (ret >= 0)
		return ret;
	if (!ro.have_offset || !ro.have_length) {
		fprintf(stderr, "scoutfs punch-offline: must provide %s\n",
			!ro.have_offset ? "offset (-o)" : "length (-l)");
		punch_usage(stderr);
		return CMD_EXIT_USAGE;
	}
	if (optind != argc - 1) {
		fprintf(stderr, "scoutfs punch-offline: %s\n",
			optind == argc ? "must provide path to file" :
			"unknown extra argument given");
		punch_usage(stderr);
		return CMD_EXIT_USAGE;
	}

	fd = scoutfs_open_on_fs("scoutfs punch-offline", argv[optind], O_RDWR);
	if (fd < 0)
		return CMD_EXIT_FAILURE;
	memset(&args, 0, sizeof(args));
	args.offset = ro.offset;
	args.len = ro.length;
	args.data_version = ro.data_version;
	ret = ioctl(fd, SCOUTFS_IOC_PUNCH_OFFLINE, &args);
	if (ret < 0)
		fprintf(stderr, "scoutfs punch-offline: %s: punch_offline ioctl failed: %s (%d)\n",
			argv[optind], strerror(errno), errno);
	close(fd);
	return ret < 0 ? CMD_EXIT_FAILURE : CMD_EXIT_OK;
}
