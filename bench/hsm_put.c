// SPDX-License-Identifier: GPL-2.0
/*
 * hsm_put.c: the archive half of the HSM benchmarks (bench/hsm_archive.sh).
 *
 * Reads a list of file paths on stdin and archives each through one libhsm
 * backend, exactly as the agent's archiver does: one put() per file with
 * the file as the stream, checksum computed on the way.  For S3 the files
 * go in batches (hsm_s3_put_batch(), HSM_PUT_BATCH files a batch) so that
 * parallel_objects puts are in flight at once, as the archiver sends them.  It prints the
 * number of files and bytes archived; the script times it against the
 * tool a user would otherwise use (cp, rclone).
 *
 * usage: hsm_put dir ROOT
 *        hsm_put tape VOLUME_DIR            (aggregated pax segments)
 *        hsm_put s3 ENDPOINT BUCKET         (credentials from the environment)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend.h"
#include "backend_dir.h"
#include "backend_s3.h"
#include "backend_tape.h"

static ssize_t read_fd(void *arg, void *buf, size_t len)
{
	ssize_t ret = read(*(int *)arg, buf, len);

	return ret < 0 ? -errno : ret;
}

static int open_backend(int argc, char **argv, struct hsm_backend **be)
{
	char err[HSM_ERROR_MAX] = "";
	int ret = -EINVAL;

	if (argc == 3 && !strcmp(argv[1], "dir")) {
		ret = hsm_backend_dir_open(argv[2], be, err, sizeof(err));
	} else if (argc == 3 && !strcmp(argv[1], "tape")) {
		struct hsm_tape_config cfg = {
			.volume_dir = argv[2],
			.auto_label_prefix = "BENCH",
			/* one fsync per segment, as a tape drive writes */
			.durability = HSM_TAPE_SYNC_ON_FLUSH,
		};
		ret = hsm_tape_create(&cfg, be, err, sizeof(err));
	} else if (argc == 4 && !strcmp(argv[1], "s3")) {
		struct hsm_s3_config cfg;

		hsm_s3_config_init(&cfg);
		cfg.endpoint = argv[2];
		cfg.bucket = argv[3];
		/* tunables, for trying other settings than the defaults */
		if (getenv("HSM_PUT_S3_THRESHOLD_MB"))
			cfg.multipart_threshold =
				strtoull(getenv("HSM_PUT_S3_THRESHOLD_MB"), NULL, 10) << 20;
		if (getenv("HSM_PUT_S3_PART_MB"))
			cfg.part_size = strtoull(getenv("HSM_PUT_S3_PART_MB"), NULL, 10) << 20;
		if (getenv("HSM_PUT_S3_PARALLEL_PARTS"))
			cfg.parallel_parts = atoi(getenv("HSM_PUT_S3_PARALLEL_PARTS"));
		if (getenv("HSM_PUT_S3_PARALLEL_OBJECTS"))
			cfg.parallel_objects = atoi(getenv("HSM_PUT_S3_PARALLEL_OBJECTS"));
		ret = hsm_s3_backend_create(&cfg, be, err, sizeof(err));
	} else {
		fprintf(stderr, "usage: hsm_put dir ROOT | tape VOLDIR | s3 ENDPOINT BUCKET < file-list\n");
		return -EINVAL;
	}
	if (ret)
		fprintf(stderr, "hsm_put: %s backend: %s\n", argv[1], err);
	return ret;
}

static int put_file(struct hsm_backend *be, const char *path, uint64_t ino,
		    uint64_t *bytes)
{
	struct hsm_object_info info = { .fsid = "0123456789abcdef", .ino = ino,
					.data_version = 1, .path = path };
	struct hsm_put_result res;
	struct stat st;
	int fd, ret;

	fd = open(path, O_RDONLY);
	if (fd < 0 || fstat(fd, &st)) {
		fprintf(stderr, "hsm_put: %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	info.size = st.st_size;
	info.mtime_sec = st.st_mtime;
	ret = be->ops->put(be, &info, read_fd, &fd, &res);
	close(fd);
	if (ret) {
		fprintf(stderr, "hsm_put: %s: %s\n", path, hsm_backend_error(be));
		return ret;
	}
	*bytes += res.bytes;
	return 0;
}

#define HSM_PUT_BATCH 64

struct batch_file {
	struct hsm_object_info info;
	int fd;
	char path[4096];
};

/* Archive up to HSM_PUT_BATCH files of the list at once through S3. */
static int put_s3_batch(struct hsm_backend *be, struct batch_file *files,
			struct hsm_s3_put_item *items, unsigned int nr,
			uint64_t *bytes)
{
	unsigned int i;
	int ret;

	ret = hsm_s3_put_batch(be, items, nr);
	for (i = 0; i < nr; i++) {
		close(files[i].fd);
		if (items[i].ret)
			fprintf(stderr, "hsm_put: %s: %s\n", files[i].path,
				items[i].error);
		else
			*bytes += items[i].res.bytes;
	}
	return ret;
}

static int run_s3(struct hsm_backend *be, uint64_t *files_done,
		  uint64_t *bytes)
{
	static struct batch_file files[HSM_PUT_BATCH];
	static struct hsm_s3_put_item items[HSM_PUT_BATCH];
	char line[4096];
	unsigned int nr = 0;
	struct stat st;
	int ret;

	while (fgets(line, sizeof(line), stdin)) {
		struct batch_file *f = &files[nr];

		line[strcspn(line, "\n")] = '\0';
		if (!line[0])
			continue;
		memset(f, 0, sizeof(*f));
		snprintf(f->path, sizeof(f->path), "%s", line);
		f->fd = open(line, O_RDONLY);
		if (f->fd < 0 || fstat(f->fd, &st)) {
			fprintf(stderr, "hsm_put: %s: %s\n", line, strerror(errno));
			return -errno;
		}
		snprintf(f->info.fsid, sizeof(f->info.fsid), "0123456789abcdef");
		f->info.ino = *files_done + nr + 1;
		f->info.data_version = 1;
		f->info.path = f->path;
		f->info.size = st.st_size;
		f->info.mtime_sec = st.st_mtime;
		memset(&items[nr], 0, sizeof(items[nr]));
		items[nr].info = &f->info;
		items[nr].reader = read_fd;
		items[nr].reader_arg = &f->fd;
		if (++nr < HSM_PUT_BATCH)
			continue;
		ret = put_s3_batch(be, files, items, nr, bytes);
		if (ret)
			return ret;
		*files_done += nr;
		nr = 0;
	}
	ret = nr ? put_s3_batch(be, files, items, nr, bytes) : 0;
	if (!ret)
		*files_done += nr;
	return ret;
}

int main(int argc, char **argv)
{
	struct hsm_backend *be = NULL;
	uint64_t files = 0, bytes = 0;
	char line[4096];
	int ret;

	if (open_backend(argc, argv, &be))
		return 1;
	if (!strcmp(argv[1], "s3")) {
		ret = run_s3(be, &files, &bytes);
		goto out;
	}
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\n")] = '\0';
		if (!line[0])
			continue;
		ret = put_file(be, line, files + 1, &bytes);
		if (ret)
			goto out;
		files++;
	}
	ret = 0;
	if (!strcmp(argv[1], "tape")) {
		ret = hsm_tape_flush(be);
		if (ret)
			fprintf(stderr, "hsm_put: flush: %s\n", hsm_backend_error(be));
	}
out:
	hsm_backend_destroy(be);
	if (!ret)
		printf("%llu files, %llu bytes\n", (unsigned long long)files,
		       (unsigned long long)bytes);
	return ret ? 1 : 0;
}
