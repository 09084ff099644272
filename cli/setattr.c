// SPDX-License-Identifier: GPL-2.0
/*
 * setattr.c: `scoutfs setattr -V VERSION -s SIZE [-o] [-t CTIME] [-r CRTIME] FILE`
 *
 * On an empty regular file: sets data_version and size and, with -o,
 * makes all of it offline, so a namespace restored from an archive reads
 * (by staging) like the original.  Times are SEC or SEC.NSEC.
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

static int parse_time(const char *str, uint64_t *sec, uint32_t *nsec)
{
	char buf[64];
	char *dot;
	uint64_t ns = 0;

	if (strlen(str) >= sizeof(buf))
		return -1;
	strcpy(buf, str);
	dot = strchr(buf, '.');
	if (dot) {
		*dot++ = '\0';
		if (scoutfs_parse_u64(dot, &ns) || ns >= 1000000000ULL)
			return -1;
	}
	*nsec = (uint32_t)ns;
	return scoutfs_parse_u64(buf, sec);
}

static void setattr_usage(FILE *f)
{
	fprintf(f, "usage: scoutfs setattr -V VERSION -s SIZE [-o] [-t CTIME] [-r CRTIME] FILE\n"
		"  -o: make the whole file offline; times as SEC or SEC.NSEC\n");
}

int cmd_setattr(int argc, char **argv)
{
	struct scoutfs_ioctl_setattr_more args;
	uint64_t v, sec;
	uint32_t nsec;
	int have = 0;
	int fd, c;

	memset(&args, 0, sizeof(args));
	optind = 1;
	while ((c = getopt(argc, argv, "V:s:ot:r:h")) != -1) {
		switch (c) {
		case 'V':
			if (scoutfs_parse_u64(optarg, &v))
				goto bad_arg;
			args.data_version = v;
			have |= 1;
			break;
		case 's':
			if (scoutfs_parse_size(optarg, &v))
				goto bad_arg;
			args.i_size = v;
			have |= 2;
			break;
		case 'o':
			args.flags |= SCOUTFS_IOC_SETATTR_MORE_OFFLINE;
			break;
		case 't':
			if (parse_time(optarg, &sec, &nsec))
				goto bad_arg;
			args.ctime_sec = sec;
			args.ctime_nsec = nsec;
			break;
		case 'r':
			if (parse_time(optarg, &sec, &nsec))
				goto bad_arg;
			args.crtime_sec = sec;
			args.crtime_nsec = nsec;
			break;
		case 'h':
			setattr_usage(stdout);
			return CMD_EXIT_OK;
		default:
			setattr_usage(stderr);
			return CMD_EXIT_USAGE;
		}
	}
	if (have != 3 || optind != argc - 1) {
		setattr_usage(stderr);
		return CMD_EXIT_USAGE;
	}
	fd = scoutfs_open_on_fs("scoutfs setattr", argv[optind], O_RDWR);
	if (fd < 0)
		return CMD_EXIT_FAILURE;
	if (ioctl(fd, SCOUTFS_IOC_SETATTR_MORE, &args) < 0) {
		fprintf(stderr, "scoutfs setattr: %s: %s\n", argv[optind],
			errno == EINVAL ? "the file must be an empty regular file (EINVAL)" :
			strerror(errno));
		close(fd);
		return CMD_EXIT_FAILURE;
	}
	close(fd);
	return CMD_EXIT_OK;

bad_arg:
	fprintf(stderr, "scoutfs setattr: bad value '%s'\n", optarg);
	return CMD_EXIT_USAGE;
}
