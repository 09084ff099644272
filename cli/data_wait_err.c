// SPDX-License-Identifier: GPL-2.0
/*
 * data_wait_err.c: `scoutfs data-wait-err -p PATH -I INO -V VERS -F OFFSET
 * -C COUNT -O OP -E ERR` hands the tasks waiting for OP (read, write,
 * change_size) on [OFFSET, OFFSET + COUNT) of inode INO the error ERR
 * (negative errno, e.g. -5 for EIO), which their system call returns.
 * Prints how many waiters got it, in upstream's words ("data_wait_err
 * found N waiters.").  As upstream's, every option but -p is required,
 * each missing one named ("no inode given", "no version given", ...),
 * ERR must be -4095..-1 ("errno out of range") and a refused ioctl prints
 * "data_wait_err returned -1: error STRERROR (ERRNO)".  Exit statuses are
 * ours: 2 for these usage errors, 1 for a failed call.
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

static void dwe_usage(FILE *f)
{
	fprintf(f, "usage: scoutfs data-wait-err [-p PATH] -I INO -V VERSION -F OFFSET -C COUNT\n"
		"                              -O {read|write|change_size} -E ERRNO\n"
		"  ERRNO is negative, e.g. -5 (EIO)\n");
}

static int parse_op(const char *str, uint64_t *op)
{
	if (!strcmp(str, "read"))
		*op = SCOUTFS_IOC_DWO_READ;
	else if (!strcmp(str, "write"))
		*op = SCOUTFS_IOC_DWO_WRITE;
	else if (!strcmp(str, "change_size"))
		*op = SCOUTFS_IOC_DWO_CHANGE_SIZE;
	else
		return -1;
	return 0;
}

int cmd_data_wait_err(int argc, char **argv)
{
	struct scoutfs_ioctl_data_wait_err args;
	const char *path = NULL;
	const char *why;
	static const char *const missing[] = {
		"inode", "version", "offset", "count", "operation", "error"
	};
	uint64_t v;
	char *end;
	long err = 0;
	int have = 0;
	int fd, ret, c;
	unsigned int i;

	static const struct option longopts[] = {
		{ "path", required_argument, NULL, 'p' },
		{ "inode", required_argument, NULL, 'I' },
		{ "version", required_argument, NULL, 'V' },
		{ "data-version", required_argument, NULL, 'V' },
		{ "offset", required_argument, NULL, 'F' },
		{ "count", required_argument, NULL, 'C' },
		{ "op", required_argument, NULL, 'O' },
		{ "err", required_argument, NULL, 'E' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};

	memset(&args, 0, sizeof(args));
	optind = 1;
	while ((c = getopt_long(argc, argv, "p:I:V:F:C:O:E:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'p': path = optarg; break;
		case 'I': if (scoutfs_parse_u64(optarg, &v)) goto usage;
			  args.ino = v; have |= 1; break;
		case 'V': if (scoutfs_parse_u64(optarg, &v)) goto usage;
			  args.data_version = v; have |= 2; break;
		case 'F': if (scoutfs_parse_size(optarg, &v)) goto usage;
			  args.offset = v; have |= 4; break;
		case 'C': if (scoutfs_parse_size(optarg, &v)) goto usage;
			  args.count = v; have |= 8; break;
		case 'O':
			if (parse_op(optarg, &v)) {
				why = "invalid data wait op";
				goto bad;
			}
			args.op = v;
			have |= 16;
			break;
		case 'E':
			errno = 0;
			err = strtol(optarg, &end, 10);
			why = errno || *end || end == optarg ? "error parse error" :
			      err >= 0 || err < -4095 ? "errno out of range (-4095..-1)" :
			      NULL;
			if (why)
				goto bad;
			args.err = err;
			have |= 32;
			break;
		case 'h':
			dwe_usage(stdout);
			return CMD_EXIT_OK;
		default:
			goto usage;
		}
	}
	for (i = 0; i < sizeof(missing) / sizeof(missing[0]); i++) {
		if (!(have & (1 << i))) {
			fprintf(stderr, "scoutfs data-wait-err: no %s given\n",
				missing[i]);
			goto usage;
		}
	}
	if (optind != argc)
		goto usage;

	path = scoutfs_mount_path(path);
	fd = scoutfs_open_on_fs("scoutfs data-wait-err", path, O_RDONLY);
	if (fd < 0)
		return CMD_EXIT_FAILURE;
	ret = ioctl(fd, SCOUTFS_IOC_DATA_WAIT_ERR, &args);
	if (ret < 0)
		fprintf(stderr, "data_wait_err returned %d: error %s (%d)\n",
			ret, strerror(errno), errno);
	else
		printf("data_wait_err found %d waiters.\n", ret);
	close(fd);
	return ret < 0 ? CMD_EXIT_FAILURE : CMD_EXIT_OK;
bad:
	fprintf(stderr, "scoutfs data-wait-err: %s: '%s'\n", why, optarg);
usage:
	dwe_usage(stderr);
	return CMD_EXIT_USAGE;
}
