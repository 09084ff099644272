// SPDX-License-Identifier: GPL-2.0
/*
 * test_backend_dir.c: the directory backend keeps the promises of
 * backend.h: round trips of every awkward size, range reads, checksum
 * mismatch detection, no visible partial object after a failed put,
 * -ENOENT after del, copies of one version that never share a file (so
 * recycling one, through the real catalog, cannot remove another), and a
 * listing that finds orphans.  Each test gets its own temporary root.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include "backend_dir.h"
#include "catalog.h"
#include "hsm_test_util.h"

#define TEST_FSID "0123456789abcdef0123456789abcdef"
#define TEST_MIB (1024ULL * 1024ULL)
#define TEST_LARGE_BYTES (64 * TEST_MIB)
/* past 4 GiB, so 32-bit truncation anywhere shows */
#define TEST_HUGE_BYTES (4 * 1024 * TEST_MIB + 12345)

struct dir_fixture {
	struct hsm_test_dir dir;
	struct hsm_backend *be;
};

static int fixture_setup(void **state)
{
	struct dir_fixture *fx = calloc(1, sizeof(*fx));
	char err[HSM_ERROR_MAX];

	if (!fx)
		return -1;
	if (hsm_test_mkdtemp("hsm-dir", fx->dir.path, sizeof(fx->dir.path)) ||
	    hsm_backend_dir_open(fx->dir.path, &fx->be, err, sizeof(err))) {
		hsm_test_rmtree(fx->dir.path);
		free(fx);
		return -1;
	}
	*state = fx;
	return 0;
}

static int fixture_teardown(void **state)
{
	struct dir_fixture *fx = *state;

	hsm_backend_destroy(fx->be);
	hsm_test_rmtree(fx->dir.path);
	free(fx);
	return 0;
}

static void test_info(struct hsm_object_info *info, uint64_t ino,
		      uint64_t data_version, uint64_t size)
{
	memset(info, 0, sizeof(*info));
	strcpy(info->fsid, TEST_FSID);
	info->ino = ino;
	info->data_version = data_version;
	info->size = size;
	info->mtime_sec = 1700000000;
	info->path = "dir/file name";
}

/* put `size` bytes of the seed's pattern; asserts success */
static void put_pattern(struct hsm_backend *be, uint64_t ino, uint64_t seed,
			enum hsm_test_pattern_kind kind, uint64_t size,
			struct hsm_put_result *res)
{
	struct hsm_object_info info;
	struct hsm_test_reader rd;
	int ret;

	test_info(&info, ino, 1, size);
	hsm_test_reader_init(&rd, seed, kind, size);
	ret = be->ops->put(be, &info, hsm_test_read, &rd, res);
	if (ret)
		fail_msg("put: %d %s", ret, hsm_backend_error(be));
	assert_int_equal(res->bytes, size);
}

/* get [off, off + len) and check every byte against the pattern */
static int get_and_check(struct hsm_backend *be, const char *loc,
			 uint64_t seed, enum hsm_test_pattern_kind kind,
			 uint64_t off, uint64_t len, uint64_t *got)
{
	struct hsm_test_writer wr;
	int ret;

	assert_int_equal(hsm_test_writer_init(&wr, seed, kind, off), 0);
	ret = be->ops->get(be, loc, off, len, hsm_test_write, &wr);
	assert_int_equal(wr.mismatches, 0);
	*got = wr.bytes;
	hsm_test_writer_release(&wr);
	return ret;
}

static void full_path(struct dir_fixture *fx, const char *loc, char *out)
{
	hsm_test_path(out, PATH_MAX, fx->dir.path, loc);
}

static void round_trip(void **state, uint64_t size,
		       enum hsm_test_pattern_kind kind)
{
	struct dir_fixture *fx = *state;
	struct hsm_backend *be = fx->be;
	struct hsm_test_pattern pat = { .seed = size + 7, .kind = kind };
	struct hsm_put_result res;
	struct hsm_stat_result st;
	struct hsm_checksum want;
	struct hsm_checksum got_sum;
	struct hsm_test_writer wr;

	put_pattern(be, 100, pat.seed, kind, size, &res);
	hsm_test_pattern_checksum(&pat, size, &want);
	assert_true(hsm_checksum_equal(&res.checksum, &want));
	assert_true(strlen(res.location) > 6);

	assert_int_equal(be->ops->stat(be, res.location, &st), 0);
	assert_int_equal(st.bytes, size);
	assert_true(hsm_checksum_equal(&st.checksum, &want));
	assert_string_equal(st.info.fsid, TEST_FSID);
	assert_int_equal(st.info.ino, 100);
	assert_int_equal(st.info.data_version, 1);
	assert_int_equal(st.info.mtime_sec, 1700000000);
	assert_null(st.info.path);

	assert_int_equal(hsm_test_writer_init(&wr, pat.seed, kind, 0), 0);
	assert_int_equal(be->ops->get(be, res.location, 0, UINT64_MAX,
				      hsm_test_write, &wr), 0);
	assert_int_equal(wr.bytes, size);
	assert_int_equal(wr.mismatches, 0);
	hsm_test_writer_checksum(&wr, &got_sum);
	assert_true(hsm_checksum_equal(&got_sum, &want));
	hsm_test_writer_release(&wr);

	assert_int_equal(be->ops->verify(be, res.location), 0);
}

static void round_trip_empty(void **state)
{
	round_trip(state, 0, HSM_TEST_PATTERN_RANDOM);
}

static void round_trip_one_byte(void **state)
{
	round_trip(state, 1, HSM_TEST_PATTERN_RANDOM);
}

static void round_trip_4k(void **state)
{
	round_trip(state, 4096, HSM_TEST_PATTERN_RANDOM);
}

static void round_trip_unaligned_12345(void **state)
{
	round_trip(state, 12345, HSM_TEST_PATTERN_RANDOM);
}

static void round_trip_large_64m(void **state)
{
	round_trip(state, TEST_LARGE_BYTES + 3, HSM_TEST_PATTERN_RANDOM);
}

/* only registered with HSM_TEST_LARGE=1: it streams over 4 GiB twice */
static void round_trip_huge_sparse(void **state)
{
	round_trip(state, TEST_HUGE_BYTES, HSM_TEST_PATTERN_MOSTLY_ZEROS);
}

static void zero_runs_are_stored_sparse(void **state)
{
	struct dir_fixture *fx = *state;
	struct hsm_put_result res;
	char path[PATH_MAX];
	struct stat st;
	uint64_t got;

	put_pattern(fx->be, 5, 9, HSM_TEST_PATTERN_MOSTLY_ZEROS,
		    TEST_LARGE_BYTES, &res);
	full_path(fx, res.location, path);
	assert_int_equal(stat(path, &st), 0);
	assert_true((uint64_t)st.st_size > TEST_LARGE_BYTES);
	/* 4 KiB of data per MiB: far less than half the blocks */
	assert_true((uint64_t)st.st_blocks * 512 < TEST_LARGE_BYTES / 2);
	assert_int_equal(get_and_check(fx->be, res.location, 9,
				       HSM_TEST_PATTERN_MOSTLY_ZEROS, 0,
				       UINT64_MAX, &got), 0);
	assert_int_equal(got, TEST_LARGE_BYTES);
}

static void short_reads_from_source_are_assembled(void **state)
{
	struct dir_fixture *fx = *state;
	struct hsm_backend *be = fx->be;
	struct hsm_object_info info;
	struct hsm_test_reader rd;
	struct hsm_put_result res;
	uint64_t got;

	test_info(&info, 6, 1, 100000);
	hsm_test_reader_init(&rd, 3, HSM_TEST_PATTERN_RANDOM, 100000);
	rd.max_chunk = 333;
	assert_int_equal(be->ops->put(be, &info, hsm_test_read, &rd, &res), 0);
	assert_true(rd.calls > 300);
	assert_int_equal(get_and_check(be, res.location, 3,
				       HSM_TEST_PATTERN_RANDOM, 0, UINT64_MAX,
				       &got), 0);
	assert_int_equal(got, 100000);
}

static void range_reads_start_middle_end_and_past_end(void **state)
{
	struct dir_fixture *fx = *state;
	struct hsm_backend *be = fx->be;
	const uint64_t size = 3 * TEST_MIB + 12345;
	struct hsm_test_writer wr;
	struct hsm_put_result res;
	uint64_t got;

	put_pattern(be, 7, 11, HSM_TEST_PATTERN_RANDOM, size, &res);

	/* start */
	assert_int_equal(get_and_check(be, res.location, 11,
				       HSM_TEST_PATTERN_RANDOM, 0, 100, &got), 0);
	assert_int_equal(got, 100);
	/* middle, crossing the backend's 1 MiB I/O boundary */
	assert_int_equal(get_and_check(be, res.location, 11,
				       HSM_TEST_PATTERN_RANDOM, TEST_MIB - 7,
				       2 * TEST_MIB + 1, &got), 0);
	assert_int_equal(got, 2 * TEST_MIB + 1);
	/* middle to the end */
	assert_int_equal(get_and_check(be, res.location, 11,
				       HSM_TEST_PATTERN_RANDOM, 5000,
				       UINT64_MAX, &got), 0);
	assert_int_equal(got, size - 5000);
	/* the last bytes exactly */
	assert_int_equal(get_and_check(be, res.location, 11,
				       HSM_TEST_PATTERN_RANDOM, size - 10, 10,
				       &got), 0);
	assert_int_equal(got, 10);
	/* a range running past the end is clipped at the end */
	assert_int_equal(get_and_check(be, res.location, 11,
				       HSM_TEST_PATTERN_RANDOM, size - 10, 1000,
				       &got), 0);
	assert_int_equal(got, 10);
	/* starting exactly at the end gives nothing */
	assert_int_equal(get_and_check(be, res.location, 11,
				       HSM_TEST_PATTERN_RANDOM, size, 10, &got),
			 0);
	assert_int_equal(got, 0);
	/* starting past the end is an error that says so */
	assert_int_equal(hsm_test_writer_init(&wr, 11, HSM_TEST_PATTERN_RANDOM,
					      size + 1), 0);
	assert_int_equal(be->ops->get(be, res.location, size + 1, 10,
				      hsm_test_write, &wr), -EINVAL);
	assert_int_equal(wr.bytes, 0);
	assert_non_null(strstr(hsm_backend_error(be), "past the end"));
	hsm_test_writer_release(&wr);
}

static void corrupted_data_fails_whole_read_with_ebadmsg(void **state)
{
	struct dir_fixture *fx = *state;
	struct hsm_backend *be = fx->be;
	struct hsm_put_result res;
	struct hsm_test_writer wr;
	char path[PATH_MAX];
	uint64_t got;

	put_pattern(be, 8, 13, HSM_TEST_PATTERN_RANDOM, 50000, &res);
	full_path(fx, res.location, path);
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(hsm_test_flip_byte(path, 40000, 0x01), 0);

	/* the writer still sees every byte, the get reports the mismatch */
	assert_int_equal(hsm_test_writer_init(&wr, 13, HSM_TEST_PATTERN_RANDOM,
					      0), 0);
	assert_int_equal(be->ops->get(be, res.location, 0, UINT64_MAX,
				      hsm_test_write, &wr), -EBADMSG);
	assert_int_equal(wr.bytes, 50000);
	assert_int_equal(wr.mismatches, 1);
	assert_int_equal(wr.first_mismatch, 40000);
	assert_non_null(strstr(hsm_backend_error(be), "checksum mismatch"));
	assert_non_null(strstr(hsm_backend_error(be), res.location));
	hsm_test_writer_release(&wr);

	assert_int_equal(be->ops->verify(be, res.location), -EBADMSG);
	/* range reads are not checksummed: an untouched range still reads */
	assert_int_equal(get_and_check(be, res.location, 13,
				       HSM_TEST_PATTERN_RANDOM, 0, 1000, &got),
			 0);
}

static void damaged_trailer_is_reported_as_corrupt(void **state)
{
	struct dir_fixture *fx = *state;
	struct hsm_backend *be = fx->be;
	struct hsm_put_result res;
	struct hsm_stat_result st;
	char path[PATH_MAX];
	int64_t size;

	put_pattern(be, 9, 17, HSM_TEST_PATTERN_RANDOM, 1000, &res);
	full_path(fx, res.location, path);
	assert_int_equal(chmod(path, 0644), 0);
	size = hsm_test_file_size(path);
	assert_true(size > 1000);
	/* the first byte of the footer's magic */
	assert_int_equal(hsm_test_flip_byte(path, size - 32, 0x20), 0);
	assert_int_equal(be->ops->stat(be, res.location, &st), -EBADMSG);
	assert_non_null(strstr(hsm_backend_error(be), "damaged"));
	assert_int_equal(be->ops->verify(be, res.location), -EBADMSG);

	/* a copy cut short loses its footer: corrupt too, never a crash */
	assert_int_equal(hsm_test_flip_byte(path, size - 32, 0x20), 0);
	assert_int_equal(be->ops->stat(be, res.location, &st), 0);
	assert_int_equal(truncate(path, 500), 0);
	assert_int_equal(be->ops->stat(be, res.location, &st), -EBADMSG);
	assert_int_equal(truncate(path, 0), 0);
	assert_int_equal(be->ops->stat(be, res.location, &st), -EBADMSG);
}

static void failed_put_leaves_no_partial_object(void **state)
{
	struct dir_fixture *fx = *state;
	struct hsm_backend *be = fx->be;
	struct hsm_object_info info;
	struct hsm_test_reader rd;
	struct hsm_put_result res;
	uint64_t got;

	test_info(&info, 10, 1, 5 * TEST_MIB);
	hsm_test_reader_init(&rd, 19, HSM_TEST_PATTERN_RANDOM, 5 * TEST_MIB);
	rd.fail_at = 2 * TEST_MIB + 17;
	rd.fail_err = -EIO;
	assert_int_equal(be->ops->put(be, &info, hsm_test_read, &rd, &res),
			 -EIO);
	assert_int_equal(rd.pos, 2 * TEST_MIB + 17);
	assert_non_null(strstr(hsm_backend_error(be), "source read failed"));
	assert_int_equal(hsm_test_count_files(fx->dir.path), 0);

	/* a good copy, then a failed retry of it: the good copy survives */
	put_pattern(be, 10, 19, HSM_TEST_PATTERN_RANDOM, 5 * TEST_MIB, &res);
	hsm_test_reader_init(&rd, 23, HSM_TEST_PATTERN_RANDOM, 5 * TEST_MIB);
	rd.fail_at = TEST_MIB;
	rd.fail_err = -ENOSPC;
	assert_int_equal(be->ops->put(be, &info, hsm_test_read, &rd,
				      &(struct hsm_put_result){ 0 }), -ENOSPC);
	assert_int_equal(hsm_test_count_files(fx->dir.path), 1);
	assert_int_equal(be->ops->verify(be, res.location), 0);
	assert_int_equal(get_and_check(be, res.location, 19,
				       HSM_TEST_PATTERN_RANDOM, 0, UINT64_MAX,
				       &got), 0);
	assert_int_equal(got, 5 * TEST_MIB);
}

static void put_of_wrong_size_fails_and_leaves_nothing(void **state)
{
	struct dir_fixture *fx = *state;
	struct hsm_backend *be = fx->be;
	struct hsm_object_info info;
	struct hsm_test_reader rd;
	struct hsm_put_result res;

	/* the file grew while it was copied: the copy is not a version */
	test_info(&info, 11, 1, 1000);
	hsm_test_reader_init(&rd, 29, HSM_TEST_PATTERN_RANDOM, 1001);
	assert_int_equal(be->ops->put(be, &info, hsm_test_read, &rd, &res),
			 -EIO);
	assert_non_null(strstr(hsm_backend_error(be), "expected 1000"));
	assert_int_equal(hsm_test_count_files(fx->dir.path), 0);
}

static void del_then_get_returns_enoent(void **state)
{
	struct dir_fixture *fx = *state;
	struct hsm_backend *be = fx->be;
	struct hsm_put_result res;
	struct hsm_stat_result st;
	uint64_t got;

	put_pattern(be, 12, 31, HSM_TEST_PATTERN_RANDOM, 4096, &res);
	assert_int_equal(be->ops->del(be, res.location), 0);
	assert_int_equal(get_and_check(be, res.location, 31,
				       HSM_TEST_PATTERN_RANDOM, 0, UINT64_MAX,
				       &got), -ENOENT);
	assert_int_equal(got, 0);
	assert_non_null(strstr(hsm_backend_error(be), res.location));
	assert_int_equal(be->ops->stat(be, res.location, &st), -ENOENT);
	assert_int_equal(be->ops->verify(be, res.location), -ENOENT);
	assert_int_equal(be->ops->del(be, res.location), -ENOENT);
	assert_int_equal(hsm_test_count_files(fx->dir.path), 0);
}

static void versions_get_distinct_fanned_out_locations(void **state)
{
	struct dir_fixture *fx = *state;
	struct hsm_backend *be = fx->be;
	struct hsm_object_info info;
	struct hsm_test_reader rd;
	struct hsm_put_result a;
	struct hsm_put_result b;
	struct hsm_stat_result st;

	test_info(&info, 13, 1, 10);
	hsm_test_reader_init(&rd, 1, HSM_TEST_PATTERN_RANDOM, 10);
	assert_int_equal(be->ops->put(be, &info, hsm_test_read, &rd, &a), 0);
	info.data_version = 2;
	info.size = 20;
	hsm_test_reader_init(&rd, 2, HSM_TEST_PATTERN_RANDOM, 20);
	assert_int_equal(be->ops->put(be, &info, hsm_test_read, &rd, &b), 0);

	assert_string_not_equal(a.location, b.location);
	/* "hh/hh/name" */
	assert_int_equal(a.location[2], '/');
	assert_int_equal(a.location[5], '/');
	assert_non_null(strstr(a.location, TEST_FSID));
	assert_int_equal(be->ops->stat(be, a.location, &st), 0);
	assert_int_equal(st.info.data_version, 1);
	assert_int_equal(st.bytes, 10);
	assert_int_equal(be->ops->stat(be, b.location, &st), 0);
	assert_int_equal(st.info.data_version, 2);
	assert_int_equal(st.bytes, 20);
	assert_int_equal(hsm_test_count_files(fx->dir.path), 2);
}

static void copy_describes_itself_including_odd_paths(void **state)
{
	struct dir_fixture *fx = *state;
	struct hsm_backend *be = fx->be;
	struct hsm_object_info info;
	struct hsm_test_reader rd;
	struct hsm_put_result res;
	struct hsm_stat_result st;
	char path[PATH_MAX];
	char tail[600];
	FILE *f;
	size_t n;

	test_info(&info, 14, 3, 64);
	info.path = "a/new\nline=100%";
	hsm_test_reader_init(&rd, 5, HSM_TEST_PATTERN_RANDOM, 64);
	assert_int_equal(be->ops->put(be, &info, hsm_test_read, &rd, &res), 0);
	assert_int_equal(be->ops->stat(be, res.location, &st), 0);
	assert_int_equal(st.info.ino, 14);

	full_path(fx, res.location, path);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_int_equal(fseek(f, 64, SEEK_SET), 0);
	n = fread(tail, 1, sizeof(tail) - 1, f);
	fclose(f);
	tail[n] = '\0';
	assert_non_null(strstr(tail, "scoutfs-hsm-dir-object 1\n"));
	assert_non_null(strstr(tail, "ino=14\n"));
	assert_non_null(strstr(tail, "data_version=3\n"));
	assert_non_null(strstr(tail, "path=a/new%0Aline=100%25\n"));
	assert_non_null(strstr(tail, "checksum=sha256:"));
}

static void invalid_locations_are_refused(void **state)
{
	struct dir_fixture *fx = *state;
	struct hsm_backend *be = fx->be;
	static const char *const bad[] = {
		"", "../../etc/passwd", "/etc/passwd", "ab/cd/../../x",
		"ab/cd/.hidden", "ab/cd", "zz/cd/abc", "ab/cd/abc/def",
	};
	struct hsm_stat_result st;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(be->ops->stat(be, bad[i], &st), -EINVAL);
		assert_int_equal(be->ops->del(be, bad[i]), -EINVAL);
		assert_non_null(strstr(hsm_backend_error(be),
				       "invalid location"));
	}
}

static void writer_error_aborts_get(void **state)
{
	struct dir_fixture *fx = *state;
	struct hsm_backend *be = fx->be;
	struct hsm_put_result res;
	struct hsm_test_writer wr;

	put_pattern(be, 15, 37, HSM_TEST_PATTERN_RANDOM, 3 * TEST_MIB, &res);
	assert_int_equal(hsm_test_writer_init(&wr, 37, HSM_TEST_PATTERN_RANDOM,
					      0), 0);
	wr.fail_at = TEST_MIB;
	wr.fail_err = -ENOSPC;
	assert_int_equal(be->ops->get(be, res.location, 0, UINT64_MAX,
				      hsm_test_write, &wr), -ENOSPC);
	assert_int_equal(wr.bytes, TEST_MIB);
	hsm_test_writer_release(&wr);
}

static void put_refuses_non_hex_fsid(void **state)
{
	struct dir_fixture *fx = *state;
	struct hsm_backend *be = fx->be;
	struct hsm_object_info info;
	struct hsm_test_reader rd;
	struct hsm_put_result res;

	test_info(&info, 16, 1, 1);
	strcpy(info.fsid, "../x");
	hsm_test_reader_init(&rd, 1, HSM_TEST_PATTERN_RANDOM, 1);
	assert_int_equal(be->ops->put(be, &info, hsm_test_read, &rd, &res),
			 -EINVAL);
	assert_int_equal(hsm_test_count_entries(fx->dir.path), 0);
}

static void open_refuses_missing_or_non_directory_root(void **state)
{
	struct hsm_test_dir *dir = *state;
	struct hsm_backend *be = NULL;
	char path[PATH_MAX];
	char err[HSM_ERROR_MAX];

	hsm_test_path(path, sizeof(path), dir->path, "missing");
	assert_int_equal(hsm_backend_dir_open(path, &be, err, sizeof(err)),
			 -ENOENT);
	assert_null(be);
	assert_non_null(strstr(err, path));

	hsm_test_path(path, sizeof(path), dir->path, "file");
	assert_int_equal(hsm_test_write_file(path, "x", 1), 0);
	assert_int_equal(hsm_backend_dir_open(path, &be, err, sizeof(err)),
			 -ENOTDIR);
	assert_non_null(strstr(err, "not a directory"));

	assert_int_equal(hsm_backend_dir_open(dir->path, &be, NULL, 0), 0);
	assert_string_equal(be->ops->name, HSM_BACKEND_DIR_NAME);
	hsm_backend_destroy(be);
}

/* put copy copy_num of (ino, data_version 1) with the seed's bytes */
static void put_copy(struct hsm_backend *be, uint64_t ino,
		     unsigned int copy_num, uint64_t seed, uint64_t size,
		     struct hsm_put_result *res)
{
	struct hsm_object_info info;
	struct hsm_test_reader rd;

	test_info(&info, ino, 1, size);
	info.copy_num = copy_num;
	hsm_test_reader_init(&rd, seed, HSM_TEST_PATTERN_RANDOM, size);
	if (be->ops->put(be, &info, hsm_test_read, &rd, res))
		fail_msg("put copy %u: %s", copy_num, hsm_backend_error(be));
}

/*
 * Copies 1 and 2 of one version on one backend, copy 2 again on a second
 * backend over the same root, and copy 1 written twice (a retry): four
 * files, each its own, and deleting any one leaves the others intact.
 */
static void copies_of_one_version_never_share_a_file(void **state)
{
	struct dir_fixture *fx = *state;
	struct hsm_backend *be = fx->be;
	struct hsm_backend *other = NULL;
	struct hsm_put_result res[4];
	struct hsm_stat_result st;
	char name[32];
	size_t i;
	size_t j;

	assert_int_equal(hsm_backend_dir_open(fx->dir.path, &other, NULL, 0),
			 0);
	put_copy(be, 21, 1, 5, 5000, &res[0]);
	put_copy(be, 21, 2, 5, 5000, &res[1]);
	put_copy(other, 21, 2, 5, 5000, &res[2]);
	put_copy(be, 21, 1, 5, 5000, &res[3]);
	for (i = 0; i < 4; i++)
		for (j = i + 1; j < 4; j++)
			assert_string_not_equal(res[i].location,
						res[j].location);
	assert_int_equal(hsm_test_count_files(fx->dir.path), 4);

	/* the name and the trailer say which copy it is */
	snprintf(name, sizeof(name), "-%08x-", 2);
	assert_non_null(strstr(res[1].location, name));
	assert_int_equal(be->ops->stat(be, res[1].location, &st), 0);
	assert_int_equal(st.info.copy_num, 2);
	assert_int_equal(be->ops->stat(be, res[0].location, &st), 0);
	assert_int_equal(st.info.copy_num, 1);

	assert_int_equal(be->ops->del(be, res[0].location), 0);
	assert_int_equal(other->ops->del(other, res[2].location), 0);
	assert_int_equal(be->ops->verify(be, res[1].location), 0);
	assert_int_equal(be->ops->verify(be, res[3].location), 0);
	assert_int_equal(hsm_test_count_files(fx->dir.path), 2);
	hsm_backend_destroy(other);
}

/*
 * Through the real catalog: copy 1 is written, then goes bad (a failed
 * verify); copy 1 is written again and verified.  The recycler deletes
 * every copy list_to_recycle names; the valid copy must survive it.
 */
static void recycling_a_bad_copy_never_removes_the_valid_one(void **state)
{
	struct dir_fixture *fx = *state;
	struct hsm_backend *be = fx->be;
	struct hsm_catalog_copy copies[4];
	struct hsm_catalog_file file = { 0 };
	struct hsm_put_result bad;
	struct hsm_put_result good;
	struct hsm_catalog *cat = NULL;
	char catalog[PATH_MAX];
	char root[PATH_MAX];
	char err[HSM_ERROR_MAX];
	int64_t bad_id;
	int64_t good_id;
	size_t count;
	size_t i;
	bool is_safe;

	/* the catalog lives outside the backend's root */
	hsm_test_path(root, sizeof(root), fx->dir.path, "archive");
	assert_int_equal(mkdir(root, 0700), 0);
	hsm_backend_destroy(fx->be);
	assert_int_equal(hsm_backend_dir_open(root, &fx->be, NULL, 0), 0);
	be = fx->be;
	hsm_test_path(catalog, sizeof(catalog), fx->dir.path, "catalog.db");
	if (hsm_catalog_open(catalog, HSM_CATALOG_CREATE, &cat, err,
			     sizeof(err)))
		fail_msg("catalog: %s", err);
	assert_int_equal(hsm_catalog_fs_upsert(cat, TEST_FSID, "/mnt"), 0);
	strcpy(file.fsid, TEST_FSID);
	file.ino = 31;
	file.data_version = 1;
	file.size = 7000;
	assert_int_equal(hsm_catalog_file_record(cat, &file), 0);

	assert_int_equal(hsm_catalog_copy_begin(cat, file.id, 1,
						HSM_BACKEND_DIR_NAME, &bad_id),
			 0);
	put_copy(be, 31, 1, 8, 7000, &bad);
	assert_int_equal(hsm_catalog_copy_written(cat, bad_id, bad.location,
						  &bad.checksum), 0);
	assert_int_equal(hsm_catalog_copy_mark_bad(cat, bad_id), 0);

	assert_int_equal(hsm_catalog_copy_begin(cat, file.id, 1,
						HSM_BACKEND_DIR_NAME, &good_id),
			 0);
	put_copy(be, 31, 1, 8, 7000, &good);
	assert_int_equal(hsm_catalog_copy_written(cat, good_id, good.location,
						  &good.checksum), 0);
	assert_int_equal(be->ops->verify(be, good.location), 0);
	assert_int_equal(hsm_catalog_copy_verified(cat, good_id), 0);

	/* the recycler's pass */
	assert_int_equal(hsm_catalog_copy_list_to_recycle(cat,
			 HSM_BACKEND_DIR_NAME, 0, copies, 4, &count), 0);
	assert_int_equal(count, 1);
	for (i = 0; i < count; i++) {
		assert_int_equal(be->ops->del(be, copies[i].location), 0);
		assert_int_equal(hsm_catalog_copy_mark_deleted(cat,
							       copies[i].id), 0);
	}

	assert_int_equal(be->ops->verify(be, good.location), 0);
	assert_int_equal(hsm_catalog_release_is_safe(cat, TEST_FSID, 31, 1, 1,
						     &is_safe), 0);
	assert_true(is_safe);
	assert_int_equal(hsm_test_count_files(root), 1);
	hsm_catalog_close(cat);
}

struct list_seen {
	size_t nr;
	char locations[8][HSM_LOCATION_MAX];
	uint64_t bytes[8];
};

static int list_collect(void *arg, const char *location, uint64_t bytes)
{
	struct list_seen *ls = arg;

	if (ls->nr == 8)
		return -E2BIG;
	snprintf(ls->locations[ls->nr], HSM_LOCATION_MAX, "%s", location);
	ls->bytes[ls->nr++] = bytes;
	return 0;
}

static bool list_has(const struct list_seen *ls, const char *location,
		     uint64_t bytes)
{
	size_t i;

	for (i = 0; i < ls->nr; i++)
		if (!strcmp(ls->locations[i], location) && ls->bytes[i] == bytes)
			return true;
	return false;
}

/* list() sees every copy (orphans too) but never an unfinished put. */
static void list_finds_every_copy_but_no_temporary(void **state)
{
	struct dir_fixture *fx = *state;
	struct hsm_backend *be = fx->be;
	struct list_seen *ls = calloc(1, sizeof(*ls));
	struct hsm_put_result res[3];
	char path[PATH_MAX];
	char prefix[8];
	char *slash;

	assert_non_null(ls);
	put_copy(be, 41, 1, 1, 100, &res[0]);
	put_copy(be, 42, 1, 2, 0, &res[1]);
	put_copy(be, 43, 2, 3, 3000, &res[2]);
	/* what a crash in the middle of a put leaves */
	full_path(fx, res[2].location, path);
	slash = strrchr(path, '/');
	snprintf(slash + 1, (size_t)(path + sizeof(path) - slash - 1),
		 ".%s.abcdef", "0123456789abcdef0123456789abcdef-00");
	assert_int_equal(hsm_test_write_file(path, "partial", 7), 0);

	assert_int_equal(hsm_backend_list(be, "", list_collect, ls), 0);
	assert_int_equal(ls->nr, 3);
	assert_true(list_has(ls, res[0].location, 100));
	assert_true(list_has(ls, res[1].location, 0));
	assert_true(list_has(ls, res[2].location, 3000));

	memset(ls, 0, sizeof(*ls));
	snprintf(prefix, sizeof(prefix), "%.5s", res[2].location);
	assert_int_equal(hsm_backend_list(be, prefix, list_collect, ls), 0);
	assert_true(ls->nr >= 1);
	assert_true(list_has(ls, res[2].location, 3000));
	memset(ls, 0, sizeof(*ls));
	assert_int_equal(hsm_backend_list(be, res[0].location, list_collect,
					  ls), 0);
	assert_int_equal(ls->nr, 1);
	free(ls);
}

#define DIR_TEST(fn) \
	cmocka_unit_test_setup_teardown(fn, fixture_setup, fixture_teardown)

int main(void)
{
	const struct CMUnitTest huge[] = { DIR_TEST(round_trip_huge_sparse) };
	const struct CMUnitTest tests[] = {
		DIR_TEST(round_trip_empty),
		DIR_TEST(round_trip_one_byte),
		DIR_TEST(round_trip_4k),
		DIR_TEST(round_trip_unaligned_12345),
		DIR_TEST(round_trip_large_64m),
		DIR_TEST(zero_runs_are_stored_sparse),
		DIR_TEST(short_reads_from_source_are_assembled),
		DIR_TEST(range_reads_start_middle_end_and_past_end),
		DIR_TEST(corrupted_data_fails_whole_read_with_ebadmsg),
		DIR_TEST(damaged_trailer_is_reported_as_corrupt),
		DIR_TEST(failed_put_leaves_no_partial_object),
		DIR_TEST(put_of_wrong_size_fails_and_leaves_nothing),
		DIR_TEST(del_then_get_returns_enoent),
		DIR_TEST(versions_get_distinct_fanned_out_locations),
		DIR_TEST(copy_describes_itself_including_odd_paths),
		DIR_TEST(invalid_locations_are_refused),
		DIR_TEST(writer_error_aborts_get),
		DIR_TEST(put_refuses_non_hex_fsid),
		DIR_TEST(copies_of_one_version_never_share_a_file),
		DIR_TEST(recycling_a_bad_copy_never_removes_the_valid_one),
		DIR_TEST(list_finds_every_copy_but_no_temporary),
		cmocka_unit_test_setup_teardown(
			open_refuses_missing_or_non_directory_root,
			hsm_test_dir_setup, hsm_test_dir_teardown),
	};

	int failed = cmocka_run_group_tests_name("backend_dir", tests, NULL,
						 NULL);

	/* a separate group so normal runs print no SKIP lines */
	if (hsm_test_large_enabled())
		failed += cmocka_run_group_tests_name("backend_dir_large", huge,
						      NULL, NULL);
	return failed;
}
