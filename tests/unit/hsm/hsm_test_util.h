/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hsm_test_util.h: what the libhsm unit tests share.
 *
 * Temporary directories: every test that touches the disk gets its own
 * mkdtemp() directory (under $TMPDIR, default /tmp) and removes it, with
 * everything below it, when it finishes.  The cmocka fixtures
 * hsm_test_dir_setup()/hsm_test_dir_teardown() do both and hand the test a
 * struct hsm_test_dir through *state.
 *
 * Data streams: backends move data through hsm_read_fn/hsm_write_fn
 * callbacks, and tests must push multi-GiB streams through them without
 * holding the data in memory.  So test data is a *pattern*: a pure function
 * of (seed, kind, byte offset).  Any byte of a stream can be generated or
 * checked on its own, which is what range reads need: a writer told to
 * expect bytes from offset 1000 checks them against the same pattern the
 * reader produced at offset 1000.
 *
 *  - struct hsm_test_reader produces `size` bytes of a pattern through
 *    hsm_test_read() (an hsm_read_fn).  It can return short reads
 *    (max_chunk) and fail with an errno once it reaches an offset
 *    (fail_at/fail_err), to test what a backend leaves behind when its
 *    source breaks midway.
 *  - struct hsm_test_writer receives bytes through hsm_test_write() (an
 *    hsm_write_fn), counts them, checksums them, compares them with the
 *    pattern at the expected offset, optionally keeps the first bytes in a
 *    caller-sized buffer, and can fail on purpose (fail_at/fail_err).
 *
 * All functions return 0 or a negative errno, like libhsm.
 */
#ifndef SCOUTFS_HSM_TEST_UTIL_H
#define SCOUTFS_HSM_TEST_UTIL_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "backend.h"
#include "checksum.h"

/* ---- temporary directories ---- */

struct hsm_test_dir {
	char path[PATH_MAX];
};

/* mkdtemp() a fresh directory named after prefix; out holds PATH_MAX. */
int hsm_test_mkdtemp(const char *prefix, char *out, size_t outlen);
/* Remove path and everything below it; a missing path is not an error. */
int hsm_test_rmtree(const char *path);
/* snprintf "dir/name" into out (PATH_MAX); aborts the test if too long. */
void hsm_test_path(char *out, size_t outlen, const char *dir,
		   const char *name);

/* cmocka fixtures: *state becomes a struct hsm_test_dir *. */
int hsm_test_dir_setup(void **state);
int hsm_test_dir_teardown(void **state);

/* ---- small file helpers ---- */

int hsm_test_write_file(const char *path, const void *buf, size_t len);
/* Copy a file's bytes to dst (created or truncated). */
int hsm_test_copy_file(const char *src, const char *dst);
/* Exclusive-or one byte at offset with mask (mask != 0 changes it). */
int hsm_test_flip_byte(const char *path, off_t offset, uint8_t mask);
/* Size of a file, or a negative errno. */
int64_t hsm_test_file_size(const char *path);
/* Number of entries below dir (recursive, dirs and files), or -errno. */
int hsm_test_count_entries(const char *dir);
/* Number of regular files below dir (recursive), or -errno. */
int hsm_test_count_files(const char *dir);

/* ---- deterministic data patterns ---- */

enum hsm_test_pattern_kind {
	HSM_TEST_PATTERN_RANDOM = 0,	/* every byte pseudo-random */
	HSM_TEST_PATTERN_ZEROS,		/* all zero */
	HSM_TEST_PATTERN_MOSTLY_ZEROS,	/* 4 KiB random at each 1 MiB */
};

struct hsm_test_pattern {
	uint64_t seed;
	enum hsm_test_pattern_kind kind;
};

/* Fill buf with the pattern's bytes [offset, offset + len). */
void hsm_test_pattern_fill(const struct hsm_test_pattern *pat,
			   uint64_t offset, void *buf, size_t len);
/* Checksum of the pattern's bytes [0, size), computed by streaming. */
void hsm_test_pattern_checksum(const struct hsm_test_pattern *pat,
			       uint64_t size, struct hsm_checksum *sum);

/* ---- reader: an hsm_read_fn producing a pattern ---- */

struct hsm_test_reader {
	struct hsm_test_pattern pattern;
	uint64_t size;		/* bytes to produce in total */
	uint64_t pos;		/* bytes produced so far */
	size_t max_chunk;	/* 0, or the most bytes one call returns */
	uint64_t fail_at;	/* with fail_err: fail once pos reaches this */
	int fail_err;		/* negative errno to fail with, 0 = never */
	unsigned int calls;	/* how many times the reader was called */
};

void hsm_test_reader_init(struct hsm_test_reader *rd, uint64_t seed,
			  enum hsm_test_pattern_kind kind, uint64_t size);
ssize_t hsm_test_read(void *arg, void *buf, size_t len);

/* ---- writer: an hsm_write_fn checking against a pattern ---- */

struct hsm_test_writer {
	struct hsm_test_pattern pattern;
	uint64_t offset;	/* stream offset of the first byte expected */
	bool compare;		/* compare with pattern (init sets true) */
	uint64_t bytes;		/* bytes received */
	uint64_t mismatches;	/* bytes that differed from the pattern */
	uint64_t first_mismatch;	/* stream offset of the first one */
	struct hsm_checksum_ctx *sum;	/* of received bytes */
	uint8_t *capture;	/* optional: first capture_cap bytes kept */
	size_t capture_cap;
	uint64_t fail_at;	/* with fail_err: fail once bytes reaches it */
	int fail_err;
	unsigned int calls;
};

/* Expect the pattern starting at stream offset `offset`. */
int hsm_test_writer_init(struct hsm_test_writer *wr, uint64_t seed,
			 enum hsm_test_pattern_kind kind, uint64_t offset);
int hsm_test_write(void *arg, const void *buf, size_t len);
/* Checksum of everything received; ends the checksum (call once). */
void hsm_test_writer_checksum(struct hsm_test_writer *wr,
			      struct hsm_checksum *sum);
/* Free what init allocated; safe after hsm_test_writer_checksum(). */
void hsm_test_writer_release(struct hsm_test_writer *wr);

/* Large-test switch: true when env HSM_TEST_LARGE=1. */
bool hsm_test_large_enabled(void);

#endif
