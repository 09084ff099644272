// SPDX-License-Identifier: GPL-2.0
/*
 * stage.c: `scoutfs stage ARCHIVE-FILE FILE -V VERSION [-o OFFSET] [-l LENGTH]`
 *
 * Reads ARCHIVE-FILE sequentially from its start (its current position,
 * as upstream's stage does, so it may be a pipe: `<(generator)`) and
 * writes LENGTH bytes of it at OFFSET in FILE, whose blocks there must be
 * offline; readers waiting for those blocks wake.  The kernel refuses
 * (ESTALE) unless VERSION is FILE's data_version.  LENGTH defaults, as
 * upstream's, to ARCHIVE-FILE's size; for an archive that is not a
 * regular file (a pipe) to everything it yields.  An archive that ends
 * before LENGTH bytes is an error.  The data goes in chunks, one ioctl
 * each.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
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
	fprintf(f, "usage: scoutfs stage ARCHIVE-FILE FILE -V|--data-version VERSION\n"
		"                     [-o|--offset OFFSET] [-l|--length LENGTH]\n"
		"  reads ARCHIVE-FILE from its start; LENGTH defaults to its size\n");
}

/* Fill buf with up to want bytes; fewer only at the archive's end. */
static ssize_t read_full(int fd, char *buf, size_t want)
{
	size_t got = 0;
	ssize_t ret;

	while (got < want) {
		ret = read(fd, buf + got, want - got);
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret < 0)
			return -1;
		if (ret == 0)
			break;
		got += ret;
	}
	return got;
}

int cmd_stage(int argc, char **argv)
{
	struct scoutfs_ioctl_stage args;
	struct range_opts ro;
	uint64_t off, len, done = 0;
	const char *archive, *path;
	bool to_eof = false;
	ssize_t got;
	struct stat st;
	char *buf = NULL;
	int afd = -1, fd = -1;
	int ret;
	long staged;

	ret = cli_parse_range_opts(argc, argv, "scoutfs stage", stage_usage, &ro);
	if (ret >= 0)
		return ret;
	ret = CMD_EXIT_FAILURE;
	if (optind != argc - 2) {
		stage_usage(stderr);
		return CMD_EXIT_USAGE;
	}
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
		if (fstat(afd, &st) == 0 && S_ISREG(st.st_mode))
			len = st.st_size;
		else
			to_eof = true;
	}
	buf = malloc(STAGE_CHUNK_BYTES);
	if (!buf)
		goto out;

	while (to_eof || done < len) {
		size_t want = to_eof || len - done >= STAGE_CHUNK_BYTES ?
			      STAGE_CHUNK_BYTES : len - done;

		got = read_full(afd, buf, want);
		if (got < 0) {
			fprintf(stderr, "scoutfs stage: %s: %s\n", archive,
				strerror(errno));
			goto out;
		}
		if (got == 0 && to_eof)
			break;
		if (!to_eof && (size_t)got != want) {
			fprintf(stderr, "scoutfs stage: %s ends after %llu bytes, before the %llu bytes to stage\n",
				archive, (unsigned long long)(done + got),
				(unsigned long long)len);
			goto out;
		}
		memset(&args, 0, sizeof(args));
		args.data_version = ro.data_version;
		args.buf_ptr = (uintptr_t)buf;
		args.offset = off + done;
		args.length = (int32_t)got;
		staged = ioctl(fd, SCOUTFS_IOC_STAGE, &args);
		if (staged < 0) {
			fprintf(stderr, "scoutfs stage: %s at %llu: %s\n", path,
				(unsigned long long)(off + done),
				errno == ESTALE ? "data_version does not match (ESTALE)" :
				errno == EINVAL ? "range is not 4K aligned or beyond the file's size (EINVAL)" :
				strerror(errno));
			goto out;
		}
		if (staged != got) {
			fprintf(stderr, "scoutfs stage: %s at %llu: staged %ld of %zd bytes\n",
				path, (unsigned long long)(off + done), staged, got);
			goto out;
		}
		done += got;
	}
	ret = CMD_EXIT_OK;
out:
	free(buf);
	if (fd >= 0)
		close(fd);
	close(afd);
	return ret;
}
