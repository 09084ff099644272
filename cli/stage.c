// SPDX-License-Identifier: GPL-2.0
/*
 * stage.c: `scoutfs stage -V VERSION [-o OFFSET] [-l LENGTH] ARCHIVE-FILE FILE`
 *
 * Copies [OFFSET, OFFSET + LENGTH) of ARCHIVE-FILE (a full copy of the
 * file's contents) into the same range of FILE, which must be offline
 * there; readers waiting for those blocks wake.  The kernel refuses
 * (ESTALE) unless VERSION is FILE's data_version.  Default: the whole
 * file.  The data goes in chunks, each one ioctl.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "fsioctl.h"
#include "ioctl.h"
#include "range_opts.h"

#define STAGE_CHUNK_BYTES (8 * 1024 * 1024)

static void stage_usage(FILE *f)
{
	fprintf(f, "usage: scoutfs stage -V VERSION [-o OFFSET] [-l LENGTH] ARCHIVE-FILE FILE\n");
}

int cmd_stage(int argc, char **argv)
{
	struct scoutfs_ioctl_stage args;
	struct range_opts ro;
	uint64_t vers, off, len, done = 0;
	const char *archive, *path;
	ssize_t got;
	struct stat st;
	char *buf = NULL;
	int afd = -1, fd = -1;
	int ret = CMD_EXIT_FAILURE;
	long staged;

	ret = cli_parse_range_opts(argc, argv, "scoutfs stage", stage_usage, &ro);
	if (ret >= 0)
		return ret;
	ret = CMD_EXIT_FAILURE;
	if (optind != argc - 2) {
		stage_usage(stderr);
		return CMD_EXIT_USAGE;
	}
	vers = ro.data_version;
	off = ro.offset;
	len = ro.length;
	archive = argv[optind];
	path = argv[optind + 1];

	afd = open(archive, O_RDONLY);
	if (afd < 0) {
		fprintf(stderr, "scoutfs stage: %s: %s\n", archive, strerror(errno));
		return CMD_EXIT_FAILURE;
	}
	fd = scoutfs_open_on_fs("scoutfs stage", path, O_RDWR);
	if (fd < 0)
		goto out;
	if (!ro.have_length) {
		fstat(fd, &st);
		len = (uint64_t)st.st_size > off ? st.st_size - off : 0;
	}
	buf = malloc(STAGE_CHUNK_BYTES);
	if (!buf)
		goto out;

	while (done < len) {
		size_t want = len - done < STAGE_CHUNK_BYTES ? len - done :
							       STAGE_CHUNK_BYTES;

		got = pread(afd, buf, want, off + done);
		if (got < 0) {
			fprintf(stderr, "scoutfs stage: %s: %s\n", archive,
				strerror(errno));
			goto out;
		}
		if ((size_t)got != want) {
			fprintf(stderr, "scoutfs stage: %s ends at %llu, before the %llu bytes to stage\n",
				archive, (unsigned long long)(off + done + got),
				(unsigned long long)(off + len));
			goto out;
		}
		memset(&args, 0, sizeof(args));
		args.data_version = vers;
		args.buf_ptr = (uintptr_t)buf;
		args.offset = off + done;
		args.length = (int32_t)want;
		staged = ioctl(fd, SCOUTFS_IOC_STAGE, &args);
		if (staged < 0) {
			fprintf(stderr, "scoutfs stage: %s at %llu: %s\n", path,
				(unsigned long long)(off + done),
				errno == ESTALE ? "data_version does not match (ESTALE)" :
				errno == EINVAL ? "range is not offline, not 4K aligned, or beyond the file's size (EINVAL)" :
				strerror(errno));
			goto out;
		}
		done += staged;
		if (staged == 0)
			break;
	}
	ret = CMD_EXIT_OK;
out:
	free(buf);
	if (fd >= 0)
		close(fd);
	close(afd);
	return ret;
}
