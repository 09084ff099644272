// SPDX-License-Identifier: GPL-2.0
/*
 * move_blocks.c: `scoutfs move-blocks FROM_FILE -f OFFSET -l LENGTH
 * TO_FILE -t OFFSET [-s -V VERSION]`
 *
 * Moves the extents of [OFFSET, OFFSET + LENGTH) of FROM_FILE into
 * TO_FILE at the -t OFFSET, without copying data (MOVE_BLOCKS ioctl,
 * ioctl.h, which says what the kernel accepts).  Options and their long
 * names (--from-offset, --length, --to-offset) and the messages are
 * upstream's; -f, -l and -t are all required, the two paths are the
 * first and second positional arguments, options may come anywhere.
 * Sizes take K/M/G/T/P suffixes.  Beyond upstream's command: -s/--stage
 * sets MB_STAGE (the destination range must be offline) and then
 * -V/--data-version VERSION, the destination's data_version, is
 * required.  Both files are opened for reading and writing.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "commands.h"
#include "ioctl.h"
#include "parse.h"

static void move_usage(FILE *f)
{
	fprintf(f, "usage: scoutfs move-blocks FROM_FILE --from-offset OFFSET --length LENGTH TO_FILE --to-offset OFFSET [--stage --data-version VERSION]\n"
		"  move a region of extents from one regular file to another without copying\n"
		"  -f, --from-offset OFFSET   byte offset of the region in FROM_FILE\n"
		"  -l, --length LENGTH        bytes in the region\n"
		"  -t, --to-offset OFFSET     byte offset in TO_FILE to move the region to\n"
		"  -s, --stage                TO_FILE's region is offline: stage it\n"
		"  -V, --data-version VERSION TO_FILE's data_version (with --stage)\n");
}

static int usage_error(const char *msg)
{
	fprintf(stderr, "scoutfs move-blocks: %s\n", msg);
	move_usage(stderr);
	return CMD_EXIT_USAGE;
}

static int open_rw(const char *path)
{
	int fd = open(path, O_RDWR);

	if (fd < 0)
		fprintf(stderr, "failed to open '%s': %s (%d)\n", path,
			strerror(errno), errno);
	return fd;
}

int cmd_move_blocks(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "from-offset", required_argument, NULL, 'f' },
		{ "length", required_argument, NULL, 'l' },
		{ "to-offset", required_argument, NULL, 't' },
		{ "stage", no_argument, NULL, 's' },
		{ "data-version", required_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct scoutfs_ioctl_move_blocks mb;
	bool have_from = false, have_len = false, have_to = false;
	bool have_vers = false, stage = false;
	uint64_t from_off = 0, len = 0, to_off = 0, vers = 0;
	uint64_t *dest;
	int from_fd = -1, to_fd = -1;
	int c, ret;

	memset(&mb, 0, sizeof(mb));
	optind = 1;
	while ((c = getopt_long(argc, argv, "f:l:t:sV:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			dest = &from_off;
			have_from = true;
			break;
		case 'l':
			dest = &len;
			have_len = true;
			break;
		case 't':
			dest = &to_off;
			have_to = true;
			break;
		case 'V':
			if (scoutfs_parse_u64(optarg, &vers)) {
				fprintf(stderr, "scoutfs move-blocks: bad number '%s'\n",
					optarg);
				return CMD_EXIT_USAGE;
			}
			have_vers = true;
			continue;
		case 's':
			stage = true;
			continue;
		case 'h':
			move_usage(stdout);
			return CMD_EXIT_OK;
		default:
			move_usage(stderr);
			return CMD_EXIT_USAGE;
		}
		if (scoutfs_parse_size(optarg, dest)) {
			fprintf(stderr, "scoutfs move-blocks: bad number '%s'\n",
				optarg);
			return CMD_EXIT_USAGE;
		}
	}
	if (argc - optind > 2)
		return usage_error("more than two file path arguments given");
	if (argc - optind < 1)
		return usage_error("must provide from file path");
	if (argc - optind < 2)
		return usage_error("must provide to file path");
	if (!have_from)
		return usage_error("must provide from file offset --from-offset");
	if (!have_len)
		return usage_error("must provide region length --length");
	if (!have_to)
		return usage_error("must provide to file offset --to-offset");
	if (stage && !have_vers)
		return usage_error("--stage needs the destination's --data-version");
	if (have_vers && !stage)
		return usage_error("--data-version is only used with --stage");

	from_fd = open_rw(argv[optind]);
	if (from_fd < 0)
		return CMD_EXIT_FAILURE;
	to_fd = open_rw(argv[optind + 1]);
	if (to_fd < 0) {
		close(from_fd);
		return CMD_EXIT_FAILURE;
	}
	mb.from_fd = from_fd;
	mb.from_off = from_off;
	mb.len = len;
	mb.to_off = to_off;
	mb.data_version = vers;
	mb.flags = stage ? SCOUTFS_IOC_MB_STAGE : 0;
	ret = ioctl(to_fd, SCOUTFS_IOC_MOVE_BLOCKS, &mb);
	if (ret < 0)
		fprintf(stderr, "ioctl failed on '%s': %s (%d)\n",
			argv[optind + 1], strerror(errno), errno);
	close(from_fd);
	close(to_fd);
	return ret < 0 ? CMD_EXIT_FAILURE : CMD_EXIT_OK;
}
