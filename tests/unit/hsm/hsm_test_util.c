// SPDX-License-Identifier: GPL-2.0
/*
 * hsm_test_util.c: temp directories, file helpers and pattern streams for
 * the libhsm unit tests.  hsm_test_util.h explains why data is a pattern
 * (a pure function of seed and offset) rather than a buffer.
 *
 * The random pattern is made of 64-bit words: word i of a stream is
 * splitmix64(seed + i * golden ratio), laid out little-endian whatever the
 * host, so the bytes of a stream are the same on every machine and any
 * range of it can be generated without generating what precedes it.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stdarg.h>
#include <setjmp.h>
#include <cmocka.h>

#include "hsm_test_util.h"

#define HSM_TEST_GOLDEN 0x9e3779b97f4a7c15ULL
#define HSM_TEST_MIB (1024ULL * 1024ULL)
#define HSM_TEST_SPARSE_DATA_BYTES 4096ULL	/* random head of each MiB */
#define HSM_TEST_CHUNK_BYTES (1024 * 1024)

/* ---- temporary directories ---- */

int hsm_test_mkdtemp(const char *prefix, char *out, size_t outlen)
{
	const char *tmp = getenv("TMPDIR");
	int n;

	if (!tmp || !*tmp)
		tmp = "/tmp";
	n = snprintf(out, outlen, "%s/%s.XXXXXX", tmp, prefix ? prefix : "hsm");
	if (n < 0 || (size_t)n >= outlen)
		return -ENAMETOOLONG;
	if (!mkdtemp(out))
		return -errno;
	return 0;
}

static int rmtree_one(const char *path, const struct stat *st, int flag,
		      struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP || flag == FTW_D)
		return rmdir(path) ? -errno : 0;
	return unlink(path) ? -errno : 0;
}

int hsm_test_rmtree(const char *path)
{
	struct stat st;
	int ret;

	if (lstat(path, &st) && errno == ENOENT)
		return 0;
	/* FTW_DEPTH: children before their directory; FTW_PHYS: no symlinks */
	ret = nftw(path, rmtree_one, 16, FTW_DEPTH | FTW_PHYS);
	if (ret == -1)
		return -errno;
	return ret;
}

void hsm_test_path(char *out, size_t outlen, const char *dir,
		   const char *name)
{
	int n = snprintf(out, outlen, "%s/%s", dir, name);

	assert_true(n > 0 && (size_t)n < outlen);
}

int hsm_test_dir_setup(void **state)
{
	struct hsm_test_dir *dir = calloc(1, sizeof(*dir));

	if (!dir)
		return -1;
	if (hsm_test_mkdtemp("hsm-test", dir->path, sizeof(dir->path))) {
		free(dir);
		return -1;
	}
	*state = dir;
	return 0;
}

int hsm_test_dir_teardown(void **state)
{
	struct hsm_test_dir *dir = *state;
	int ret;

	if (!dir)
		return 0;
	ret = hsm_test_rmtree(dir->path);
	free(dir);
	*state = NULL;
	return ret ? -1 : 0;
}

/* ---- small file helpers ---- */

int hsm_test_write_file(const char *path, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int ret = 0;

	if (fd < 0)
		return -errno;
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			break;
		}
		p += n;
		len -= (size_t)n;
	}
	if (close(fd) && !ret)
		ret = -errno;
	return ret;
}

int hsm_test_copy_file(const char *src, const char *dst)
{
	char buf[65536];
	int in = open(src, O_RDONLY | O_CLOEXEC);
	int out;
	int ret = 0;

	if (in < 0)
		return -errno;
	out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out < 0) {
		ret = -errno;
		close(in);
		return ret;
	}
	for (;;) {
		ssize_t n = read(in, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = n < 0 ? -errno : 0;
			break;
		}
		if (write(out, buf, (size_t)n) != n) {
			ret = -EIO;
			break;
		}
	}
	close(in);
	if (close(out) && !ret)
		ret = -errno;
	return ret;
}

int hsm_test_flip_byte(const char *path, off_t offset, uint8_t mask)
{
	uint8_t byte;
	int fd = open(path, O_RDWR | O_CLOEXEC);
	int ret = 0;

	if (fd < 0)
		return -errno;
	if (pread(fd, &byte, 1, offset) != 1) {
		ret = -EIO;
		goto out;
	}
	byte ^= mask;
	if (pwrite(fd, &byte, 1, offset) != 1)
		ret = -EIO;
out:
	if (close(fd) && !ret)
		ret = -errno;
	return ret;
}

int64_t hsm_test_file_size(const char *path)
{
	struct stat st;

	if (stat(path, &st))
		return -errno;
	return st.st_size;
}

/* nftw() has no callback argument; tests are single-threaded walkers */
static int count_total;
static bool count_only_files;

static int count_one(const char *path, const struct stat *st, int flag,
		     struct FTW *ftw)
{
	(void)path;
	(void)flag;
	if (ftw->level > 0 && (!count_only_files || S_ISREG(st->st_mode)))
		count_total++;
	return 0;
}

static int count_below(const char *dir, bool only_files)
{
	count_total = 0;
	count_only_files = only_files;
	if (nftw(dir, count_one, 16, FTW_PHYS) == -1)
		return -errno;
	return count_total;
}

int hsm_test_count_entries(const char *dir)
{
	return count_below(dir, false);
}

int hsm_test_count_files(const char *dir)
{
	return count_below(dir, true);
}

/* ---- deterministic data patterns ---- */

static uint64_t splitmix64(uint64_t x)
{
	x += HSM_TEST_GOLDEN;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static void fill_random(uint64_t seed, uint64_t offset, uint8_t *buf,
			size_t len)
{
	while (len) {
		uint64_t word_index = offset / 8;
		unsigned int byte = (unsigned int)(offset % 8);
		uint64_t word = splitmix64(seed + word_index * HSM_TEST_GOLDEN);

		for (; byte < 8 && len; byte++, len--, offset++)
			*buf++ = (uint8_t)(word >> (8 * byte));
	}
}

void hsm_test_pattern_fill(const struct hsm_test_pattern *pat,
			   uint64_t offset, void *buf, size_t len)
{
	uint8_t *p = buf;

	switch (pat->kind) {
	case HSM_TEST_PATTERN_RANDOM:
		fill_random(pat->seed, offset, p, len);
		return;
	case HSM_TEST_PATTERN_ZEROS:
		memset(p, 0, len);
		return;
	case HSM_TEST_PATTERN_MOSTLY_ZEROS:
		while (len) {
			uint64_t in_mib = offset % HSM_TEST_MIB;
			uint64_t run;

			if (in_mib < HSM_TEST_SPARSE_DATA_BYTES) {
				run = HSM_TEST_SPARSE_DATA_BYTES - in_mib;
				if (run > len)
					run = len;
				fill_random(pat->seed, offset, p, run);
			} else {
				run = HSM_TEST_MIB - in_mib;
				if (run > len)
					run = len;
				memset(p, 0, run);
			}
			p += run;
			offset += run;
			len -= run;
		}
		return;
	}
	fail_msg("unknown pattern kind %d", (int)pat->kind);
}

void hsm_test_pattern_checksum(const struct hsm_test_pattern *pat,
			       uint64_t size, struct hsm_checksum *sum)
{
	struct hsm_checksum_ctx *ctx = hsm_checksum_begin();
	uint8_t *buf = malloc(HSM_TEST_CHUNK_BYTES);
	uint64_t off = 0;

	assert_non_null(ctx);
	assert_non_null(buf);
	while (off < size) {
		size_t n = HSM_TEST_CHUNK_BYTES;

		if (size - off < n)
			n = (size_t)(size - off);
		hsm_test_pattern_fill(pat, off, buf, n);
		hsm_checksum_update(ctx, buf, n);
		off += n;
	}
	hsm_checksum_end(ctx, sum);
	free(buf);
}

/* ---- reader ---- */

void hsm_test_reader_init(struct hsm_test_reader *rd, uint64_t seed,
			  enum hsm_test_pattern_kind kind, uint64_t size)
{
	memset(rd, 0, sizeof(*rd));
	rd->pattern.seed = seed;
	rd->pattern.kind = kind;
	rd->size = size;
}

ssize_t hsm_test_read(void *arg, void *buf, size_t len)
{
	struct hsm_test_reader *rd = arg;
	uint64_t left = rd->size - rd->pos;

	rd->calls++;
	if (rd->fail_err && rd->pos >= rd->fail_at)
		return rd->fail_err;
	if (rd->max_chunk && len > rd->max_chunk)
		len = rd->max_chunk;
	if (len > left)
		len = (size_t)left;
	/* stop exactly at fail_at so the failure lands where asked */
	if (rd->fail_err && rd->pos + len > rd->fail_at)
		len = (size_t)(rd->fail_at - rd->pos);
	if (len > SSIZE_MAX)
		len = SSIZE_MAX;
	hsm_test_pattern_fill(&rd->pattern, rd->pos, buf, len);
	rd->pos += len;
	return (ssize_t)len;
}

/* ---- writer ---- */

int hsm_test_writer_init(struct hsm_test_writer *wr, uint64_t seed,
			 enum hsm_test_pattern_kind kind, uint64_t offset)
{
	memset(wr, 0, sizeof(*wr));
	wr->pattern.seed = seed;
	wr->pattern.kind = kind;
	wr->offset = offset;
	wr->compare = true;
	wr->first_mismatch = UINT64_MAX;
	wr->sum = hsm_checksum_begin();
	return wr->sum ? 0 : -ENOMEM;
}

static void writer_compare(struct hsm_test_writer *wr, const uint8_t *buf,
			   size_t len)
{
	uint8_t expect[4096];
	size_t done = 0;

	while (done < len) {
		size_t n = len - done;
		size_t i;

		if (n > sizeof(expect))
			n = sizeof(expect);
		hsm_test_pattern_fill(&wr->pattern,
				      wr->offset + wr->bytes + done, expect, n);
		if (memcmp(expect, buf + done, n) != 0) {
			for (i = 0; i < n; i++) {
				if (expect[i] == buf[done + i])
					continue;
				if (wr->first_mismatch == UINT64_MAX)
					wr->first_mismatch =
						wr->offset + wr->bytes + done + i;
				wr->mismatches++;
			}
		}
		done += n;
	}
}

int hsm_test_write(void *arg, const void *buf, size_t len)
{
	struct hsm_test_writer *wr = arg;

	wr->calls++;
	if (wr->fail_err && wr->bytes + len > wr->fail_at)
		return wr->fail_err;
	if (wr->compare)
		writer_compare(wr, buf, len);
	if (wr->capture && wr->bytes < wr->capture_cap) {
		size_t n = wr->capture_cap - (size_t)wr->bytes;

		if (n > len)
			n = len;
		memcpy(wr->capture + wr->bytes, buf, n);
	}
	if (wr->sum)
		hsm_checksum_update(wr->sum, buf, len);
	wr->bytes += len;
	return 0;
}

void hsm_test_writer_checksum(struct hsm_test_writer *wr,
			      struct hsm_checksum *sum)
{
	assert_non_null(wr->sum);
	hsm_checksum_end(wr->sum, sum);
	wr->sum = NULL;
}

void hsm_test_writer_release(struct hsm_test_writer *wr)
{
	hsm_checksum_abort(wr->sum);
	wr->sum = NULL;
}

bool hsm_test_large_enabled(void)
{
	const char *v = getenv("HSM_TEST_LARGE");

	return v && strcmp(v, "1") == 0;
}
