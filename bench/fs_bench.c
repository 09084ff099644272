// SPDX-License-Identifier: GPL-2.0
/*
 * fs_bench: the filesystem work bench/fs_vs_ext4.sh times, the same
 * system calls on whichever filesystem the path is on.
 *
 *   fs_bench seqwrite FILE MB        write MB MiB in 1 MiB write(2)s, fsync
 *   fs_bench seqread FILE            read FILE to its end in 1 MiB read(2)s
 *   fs_bench randwrite FILE N        N pwrite(2)s of 4 KiB at random 4 KiB-
 *                                    aligned offsets inside FILE's size, each
 *                                    followed by fdatasync(2)
 *   fs_bench meta DIR FILES DIRS     make DIRS subdirectories of DIR (not
 *                                    timed; DIRS = 1 uses DIR itself), then
 *                                    create FILES empty files spread over
 *                                    them, stat each, unlink each, syncfs
 *   fs_bench mktree DIR FILES DIRS   the same tree, left in place and synced
 *
 * Each timed phase prints "phase NAME SECONDS" (CLOCK_MONOTONIC), and
 * every command ends with "total SECONDS" for the whole timed work.  The
 * random offsets come from a fixed seed, so both filesystems see the same
 * sequence.  Exits non-zero, naming the call, on the first failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BUF_SIZE	(1U << 20)
#define RAND_IO		4096U

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what, const char *path)
{
	fprintf(stderr, "fs_bench: %s %s: %s\n", what, path ? path : "",
		strerror(errno));
	exit(1);
}

static unsigned long arg_num(const char *s)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || end == s) {
		fprintf(stderr, "fs_bench: not a number: %s\n", s);
		exit(2);
	}
	return v;
}

static void phase(const char *name, double t0)
{
	printf("phase %s %.3f\n", name, now() - t0);
}

static int seqwrite(const char *path, unsigned long mb)
{
	char *buf = malloc(BUF_SIZE);
	double t0;
	unsigned long i;
	int fd;

	if (!buf)
		die("malloc", NULL);
	/* not zeros, so nothing can mistake the data for a hole */
	for (i = 0; i < BUF_SIZE; i++)
		buf[i] = (char)(i * 7 + 1);
	t0 = now();
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		die("open", path);
	for (i = 0; i < mb; i++) {
		buf[0] = (char)i;
		if (write(fd, buf, BUF_SIZE) != (ssize_t)BUF_SIZE)
			die("write", path);
	}
	phase("write", t0);
	if (fsync(fd) || close(fd))
		die("fsync", path);
	printf("total %.3f\n", now() - t0);
	free(buf);
	return 0;
}

static int seqread(const char *path)
{
	char *buf = malloc(BUF_SIZE);
	unsigned long long bytes = 0;
	double t0;
	ssize_t n;
	int fd;

	if (!buf)
		die("malloc", NULL);
	t0 = now();
	fd = open(path, O_RDONLY);
	if (fd < 0)
		die("open", path);
	while ((n = read(fd, buf, BUF_SIZE)) > 0)
		bytes += n;
	if (n < 0)
		die("read", path);
	close(fd);
	printf("bytes %llu\n", bytes);
	printf("total %.3f\n", now() - t0);
	free(buf);
	return 0;
}

/* xorshift64: the same offsets on every filesystem and run */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static int randwrite(const char *path, unsigned long n)
{
	char buf[RAND_IO];
	uint64_t seed = 0x5c0ff5eedULL, blocks;
	struct stat st;
	double t0;
	unsigned long i;
	int fd;

	memset(buf, 0xa5, sizeof(buf));
	fd = open(path, O_WRONLY);
	if (fd < 0)
		die("open", path);
	if (fstat(fd, &st))
		die("fstat", path);
	blocks = st.st_size / RAND_IO;
	if (blocks == 0) {
		fprintf(stderr, "fs_bench: %s is smaller than %u bytes\n", path, RAND_IO);
		return 1;
	}
	t0 = now();
	for (i = 0; i < n; i++) {
		off_t off = (off_t)(rnd(&seed) % blocks) * RAND_IO;

		buf[0] = (char)i;
		if (pwrite(fd, buf, RAND_IO, off) != (ssize_t)RAND_IO)
			die("pwrite", path);
		if (fdatasync(fd))
			die("fdatasync", path);
	}
	printf("total %.3f\n", now() - t0);
	close(fd);
	return 0;
}

static void file_path(char *p, const char *dir, unsigned long i, unsigned long dirs)
{
	if (dirs <= 1)
		snprintf(p, PATH_MAX, "%s/f%lu", dir, i);
	else
		snprintf(p, PATH_MAX, "%s/d%lu/f%lu", dir, i % dirs, i);
}

static void make_dirs(const char *dir, unsigned long dirs)
{
	char p[PATH_MAX];
	unsigned long d;

	for (d = 0; dirs > 1 && d < dirs; d++) {
		snprintf(p, sizeof(p), "%s/d%lu", dir, d);
		if (mkdir(p, 0755) && errno != EEXIST)
			die("mkdir", p);
	}
}

static void create_files(const char *dir, unsigned long files, unsigned long dirs)
{
	char p[PATH_MAX];
	unsigned long i;
	int fd;

	for (i = 0; i < files; i++) {
		file_path(p, dir, i, dirs);
		fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0644);
		if (fd < 0 || close(fd))
			die("create", p);
	}
}

static void sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY);

	if (fd < 0 || syncfs(fd) || close(fd))
		die("syncfs", dir);
}

static int meta(const char *dir, unsigned long files, unsigned long dirs)
{
	char p[PATH_MAX];
	struct stat st;
	double t0, t;
	unsigned long i;

	make_dirs(dir, dirs);
	sync_dir(dir);

	t0 = t = now();
	create_files(dir, files, dirs);
	phase("create", t);

	t = now();
	for (i = 0; i < files; i++) {
		file_path(p, dir, i, dirs);
		if (stat(p, &st))
			die("stat", p);
	}
	phase("stat", t);

	t = now();
	for (i = 0; i < files; i++) {
		file_path(p, dir, i, dirs);
		if (unlink(p))
			die("unlink", p);
	}
	phase("unlink", t);

	t = now();
	sync_dir(dir);
	phase("syncfs", t);
	printf("total %.3f\n", now() - t0);
	return 0;
}

static int mktree(const char *dir, unsigned long files, unsigned long dirs)
{
	double t0 = now();

	make_dirs(dir, dirs);
	create_files(dir, files, dirs);
	sync_dir(dir);
	printf("total %.3f\n", now() - t0);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 4 && !strcmp(argv[1], "seqwrite"))
		return seqwrite(argv[2], arg_num(argv[3]));
	if (argc == 3 && !strcmp(argv[1], "seqread"))
		return seqread(argv[2]);
	if (argc == 4 && !strcmp(argv[1], "randwrite"))
		return randwrite(argv[2], arg_num(argv[3]));
	if (argc == 5 && !strcmp(argv[1], "meta"))
		return meta(argv[2], arg_num(argv[3]), arg_num(argv[4]));
	if (argc == 5 && !strcmp(argv[1], "mktree"))
		return mktree(argv[2], arg_num(argv[3]), arg_num(argv[4]));
	fprintf(stderr,
		"usage: fs_bench seqwrite FILE MB | seqread FILE | randwrite FILE N |\n"
		"       meta DIR FILES DIRS | mktree DIR FILES DIRS\n");
	return 2;
}
