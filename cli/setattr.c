// SPDX-License-Identifier: GPL-2.0
/*
 * setattr.c: `scoutfs setattr -V VERSION -s SIZE [-o] [-t CTIME] [-r CRTIME] FILE`
 *
 * On an empty regular file: sets data_version and size and, with -o,
 * makes all of it offline, so a namespace restored from an archive reads
 * (by staging) like the original.  Times are SEC or SEC.NSEC.
 *
 * Upstream's refusals and words: -V 0 ("data version must not be 0") and
 * -o without a size ("must provide size if using --offline option") are
 * usage errors; FILE is opened for writing (a directory fails there,
 * EISDIR: "failed to open 'FILE': Is a directory (21)"), and a refused
 * ioctl prints "setattr_more ioctl failed on 'FILE': ..." and
 * "scoutfs: setattr failed: ...".  Exit statuses are ours (2, 1).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "commands.h"
#include "fsioctl.h"
#include "ioctl.h"
#include "parse.h"

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
	bool have_version = false;
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
			have_version = true;
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
			if (scoutfs_parse_time(optarg, &sec, &nsec))
				goto bad_arg;
			args.ctime_sec = sec;
			args.ctime_nsec = nsec;
			break;
		case 'r':
			if (scoutfs_parse_time(optarg, &sec, &nsec))
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
	/* upstream's refusals, before anything is opened */
	if (have_version && args.data_version == 0) {
		fprintf(stderr, "scoutfs setattr: data version must not be 0\n");
		goto usage;
	}
	if ((args.flags & SCOUTFS_IOC_SETATTR_MORE_OFFLINE) && !args.i_size) {
		fprintf(stderr, "scoutfs setattr: must provide size if using --offline option\n");
		goto usage;
	}
	if (optind != argc - 1) {
		if (optind == argc)
			fprintf(stderr, "scoutfs setattr: must provide path to file\n");
		goto usage;
	}
	/* for writing, as upstream's: a directory is EISDIR here */
	fd = scoutfs_open_on_fs_upstream("setattr", argv[optind], O_WRONLY);
	if (fd < 0)
		return CMD_EXIT_FAILURE;
	if (ioctl(fd, SCOUTFS_IOC_SETATTR_MORE, &args) < 0) {
		scoutfs_upstream_fail("setattr", errno,
				      "setattr_more ioctl failed on '%s'",
				      argv[optind]);
		close(fd);
		return CMD_EXIT_FAILURE;
	}
	close(fd);
	return CMD_EXIT_OK;

bad_arg:
	fprintf(stderr, "scoutfs setattr: bad value '%s'\n", optarg);
	return CMD_EXIT_USAGE;
usage:
	setattr_usage(stderr);
	return CMD_EXIT_USAGE;
}
