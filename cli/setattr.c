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
	fprintf(f, "usage: scoutfs setattr [-V|--data-version VERSION [-s|--size SIZE [-o|--offline]]]\n"
		"                       [-t|--ctime CTIME] [-r|--crtime CRTIME] FILE\n"
		"  -o: make the whole file offline; times as SEC or SEC.NSEC\n"
		"  a size needs a non-zero VERSION; FILE must never have had contents\n");
}

int cmd_setattr(int argc, char **argv)
{
	struct scoutfs_ioctl_setattr_more args;
	static const struct option longopts[] = {
		{ "data-version", required_argument, NULL, 'V' },
		{ "size", required_argument, NULL, 's' },
		{ "offline", no_argument, NULL, 'o' },
		{ "ctime", required_argument, NULL, 't' },
		{ "crtime", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	uint64_t v, sec;
	uint32_t nsec;
	int fd, c;

	memset(&args, 0, sizeof(args));
	optind = 1;
	/* -d is the spelling of upstream's man page synopsis */
	while ((c = getopt_long(argc, argv, "V:d:s:ot:r:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'V':
		case 'd':
			if (scoutfs_parse_u64(optarg, &v))
				goto bad_arg;
			args.data_version = v;
			break;
		case 's':
			if (scoutfs_parse_size(optarg, &v))
				goto bad_arg;
			args.i_size = v;
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
	if (optind != argc - 1) {
		setattr_usage(stderr);
		return CMD_EXIT_USAGE;
	}
	fd = scoutfs_open_on_fs("scoutfs setattr", argv[optind], O_RDWR);
	if (fd < 0)
		return CMD_EXIT_FAILURE;
	if (ioctl(fd, SCOUTFS_IOC_SETATTR_MORE, &args) < 0) {
		fprintf(stderr, "scoutfs setattr: %s: %s\n", argv[optind],
			errno == EINVAL ? "a size needs a non-zero data_version, -o a size, and the file must be a regular file that never had contents (EINVAL)" :
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
