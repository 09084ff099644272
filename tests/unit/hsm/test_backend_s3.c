// SPDX-License-Identifier: GPL-2.0
/*
 * test_backend_s3.c: the S3 backend against a real S3 server.
 *
 * The group setup starts s3rver (tests/s3/s3rver-start: npm's s3rver,
 * pinned in tests/s3/package-lock.json) on 127.0.0.1 with a free port and
 * a temporary data directory, and the teardown stops it.  Tests skip only
 * when node or s3rver is not installed (the script exits 77); CI installs
 * them with `npm ci --prefix tests/s3`.
 *
 * Some tests reach into s3rver's data directory, where object KEY of
 * bucket B is the file DIR/B/KEY._S3rver_object, to corrupt a copy or to
 * look for leftovers that the S3 API would not show.
 *
 * What s3rver 3.7.1 does not do, and so is not tested here: it does not
 * check SigV4 signatures (only that the access key exists, so wrong
 * credentials are tested with an unknown key: 403 InvalidAccessKeyId), and
 * it answers AbortMultipartUpload with 405 MethodNotAllowed (so aborted
 * uploads are checked as "no object visible", not "no parts stored").
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <libgen.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "backend.h"
#include "backend_s3.h"
#include "checksum.h"
#include "hsm_test_s3.h"
#include "hsm_test_util.h"
#include "s3_request.h"

#define TEST_BUCKET HSM_TEST_S3_BUCKET
#define TEST_ACCESS_KEY "S3RVER"	/* s3rver's built-in account */
#define TEST_SECRET_KEY "S3RVER"
#define MiB HSM_TEST_MiB

static struct hsm_test_s3_server s3rver = { .script = "s3rver-start" };

/* snprintf that fails the test instead of silently cutting a path. */
static void fmt_path(char *out, size_t out_len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void fmt_path(char *out, size_t out_len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(out, out_len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= out_len) {
		fprintf(stderr, "# path too long: %s\n", out);
		abort();
	}
}

/* ---- s3rver control ---- */

/* s3rver's data directory, where the tests look behind the S3 API. */
static const char *s3rver_dir(void)
{
	const char *dir = hsm_test_s3_var(&s3rver, "S3RVER_DIR");

	return dir ? dir : "/nonexistent";
}

/* Run s3rver-start; port 0 picks a free one.  0, -EAGAIN to skip, -EIO. */
static int s3rver_start(int port, const char *dir)
{
	char args[PATH_MAX + 64];
	int ret;

	snprintf(args, sizeof(args), "-b %s%s%.0d%s%s%s", TEST_BUCKET,
		 port ? " -p " : "", port, dir ? " -d '" : "", dir ? dir : "",
		 dir ? "'" : "");
	ret = hsm_test_s3_start(&s3rver, args);
	snprintf(s3rver.access_key, sizeof(s3rver.access_key), TEST_ACCESS_KEY);
	snprintf(s3rver.secret_key, sizeof(s3rver.secret_key), TEST_SECRET_KEY);
	return ret;
}

/*
 * Kill the server the hard way, as a crash would.  Its sockets close as
 * it dies, which is all a restart on the same port needs.
 */
static void s3rver_kill(void)
{
	if (s3rver.pid > 0)
		kill(s3rver.pid, SIGKILL);
	s3rver.pid = 0;
	usleep(200 * 1000);
}

static int group_setup(void **state)
{
	int ret;

	(void)state;
	hsm_test_s3_clear_env();
	ret = s3rver_start(0, NULL);
	if (ret == -EAGAIN) {
		fprintf(stderr, "# node or s3rver not installed; S3 tests skip\n");
		return 0;
	}
	if (ret) {
		fprintf(stderr, "# s3rver-start failed\n");
		return -1;
	}
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	if (s3rver.is_available) {
		char dir[PATH_MAX];

		snprintf(dir, sizeof(dir), "%s", s3rver_dir());
		hsm_test_s3_stop(&s3rver, "");
		hsm_test_rmtree(dir);
	}
	return 0;
}

#define REQUIRE_S3RVER()				\
	do {						\
		if (!s3rver.is_available)		\
			skip();				\
	} while (0)

/* ---- helpers ---- */

static struct hsm_backend *test_backend(void)
{
	return hsm_test_s3_backend(&s3rver);
}

static void object_file(char *out, size_t out_len, const char *location)
{
	fmt_path(out, out_len, "%s/%s/%s._S3rver_object", s3rver_dir(),
		 TEST_BUCKET, location);
}

static int nr_object_files;

static int count_object_file(const char *path, const struct stat *st, int flag,
			     struct FTW *ftw)
{
	const char *suffix = "._S3rver_object";
	size_t len = strlen(path), slen = strlen(suffix);

	(void)st;
	(void)ftw;
	if (flag == FTW_F && len > slen && strcmp(path + len - slen, suffix) == 0)
		nr_object_files++;
	return 0;
}

/* Objects stored for inode ino (of the test fsid), seen on s3rver's disk. */
static int count_objects_of_ino(uint64_t ino)
{
	char dir[PATH_MAX + 128];

	snprintf(dir, sizeof(dir), "%s/%s/%s0123456789abcdef0123456789abcdef/%016" PRIx64,
		 s3rver_dir(), TEST_BUCKET, HSM_TEST_S3_KEY_PREFIX, ino);
	nr_object_files = 0;
	if (access(dir, F_OK) != 0)
		return 0;
	assert_int_equal(nftw(dir, count_object_file, 16, FTW_PHYS), 0);
	return nr_object_files;
}

/* ---- round trips ---- */

static void put_get_round_trips_small_sizes(void **state)
{
	static const uint64_t sizes[] = { 0, 1, 4096, 12345 };
	struct hsm_backend *be;
	size_t i;

	(void)state;
	REQUIRE_S3RVER();
	be = test_backend();
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		hsm_test_s3_assert_round_trip(be, 100 + i, 1000 + i, sizes[i]);
	hsm_backend_destroy(be);
}

static void put_of_large_stream_uses_parallel_multipart(void **state)
{
	uint64_t size = hsm_test_large_enabled() ? 1024 * MiB + 12345 : 40 * MiB;
	struct hsm_stat_result st;
	struct hsm_put_result res;
	struct hsm_backend *be;
	char sidecar[PATH_MAX + HSM_LOCATION_MAX];

	(void)state;
	REQUIRE_S3RVER();
	be = test_backend();
	hsm_test_s3_assert_round_trip(be, 200, 2000, size);

	/* and an unaligned one: the last part is short */
	hsm_test_s3_assert_put(be, 201, 2001, 5 * MiB + 12345, &res);
	assert_int_equal(be->ops->stat(be, res.location, &st), 0);
	assert_int_equal(st.bytes, 5 * MiB + 12345);
	assert_true(hsm_checksum_equal(&st.checksum, &res.checksum));
	/* multipart copies keep their checksum in a sidecar object */
	object_file(sidecar, sizeof(sidecar), res.location);
	snprintf(sidecar + strlen(sidecar) - strlen("._S3rver_object"),
		 sizeof(sidecar) - strlen(sidecar) + strlen("._S3rver_object"),
		 ".sha256._S3rver_object");
	assert_int_equal(access(sidecar, F_OK), 0);
	assert_int_equal(be->ops->verify(be, res.location), 0);
	hsm_backend_destroy(be);
}

static void put_at_threshold_goes_multipart(void **state)
{
	struct hsm_backend *be;

	(void)state;
	REQUIRE_S3RVER();
	be = test_backend();
	/* exactly one full part, and threshold + 1: two parts, one 1 byte */
	hsm_test_s3_assert_round_trip(be, 210, 2100, HSM_TEST_S3_THRESHOLD);
	hsm_test_s3_assert_round_trip(be, 211, 2101, HSM_TEST_S3_THRESHOLD + 1);
	hsm_backend_destroy(be);
}

/* ---- ranged reads ---- */

static void ranged_get_returns_exactly_the_range(void **state)
{
	static const struct {
		uint64_t offset, length, expect;
	} ranges[] = {
		{ 0, 100, 100 },
		{ 4095, 2, 2 },
		{ 1 * MiB - 1, 2, 2 },		/* across a part boundary */
		{ 3 * MiB, UINT64_MAX, 0 },	/* to the end: size - offset */
		{ 12345, 1, 1 },
		{ 0, 0, 0 },
	};
	uint64_t sizes[] = { 12345 * 2, 3 * MiB + 777 };
	struct hsm_put_result res;
	struct hsm_backend *be;
	uint64_t bytes, expect;
	size_t s, i;
	int ret;

	(void)state;
	REQUIRE_S3RVER();
	be = test_backend();
	for (s = 0; s < 2; s++) {
		hsm_test_s3_assert_put(be, 300 + s, 3000 + s, sizes[s], &res);
		for (i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
			if (ranges[i].offset > sizes[s])
				continue;
			expect = ranges[i].length == UINT64_MAX ?
				 sizes[s] - ranges[i].offset : ranges[i].expect;
			ret = hsm_test_s3_get_and_compare(be, res.location, 3000 + s,
					      ranges[i].offset, ranges[i].length,
					      &bytes);
			if (ret)
				fail_msg("get %" PRIu64 "+%" PRIu64 ": %d %s",
					 ranges[i].offset, ranges[i].length,
					 ret, hsm_backend_error(be));
			assert_int_equal(bytes, expect);
		}
		/* a range running past the end stops at the end */
		ret = hsm_test_s3_get_and_compare(be, res.location, 3000 + s, sizes[s] - 10,
				      1000, &bytes);
		assert_int_equal(ret, 0);
		assert_int_equal(bytes, 10);
		/* at the end: nothing; past it: an error */
		assert_int_equal(hsm_test_s3_get_and_compare(be, res.location, 3000 + s,
						 sizes[s], UINT64_MAX, &bytes), 0);
		assert_int_equal(bytes, 0);
		assert_int_equal(hsm_test_s3_get_and_compare(be, res.location, 3000 + s,
						 sizes[s] + 1, 1, &bytes),
				 -EINVAL);
	}
	hsm_backend_destroy(be);
}

/* ---- corruption ---- */

static void corrupted_object_fails_whole_get_and_verify(void **state)
{
	static const uint64_t sizes[] = { 12345, 2 * MiB + 5 };
	char path[PATH_MAX + HSM_LOCATION_MAX];
	struct hsm_put_result res;
	struct hsm_test_writer wr;
	struct hsm_backend *be;
	uint64_t bytes;
	size_t i;
	int ret;

	(void)state;
	REQUIRE_S3RVER();
	be = test_backend();
	for (i = 0; i < 2; i++) {
		hsm_test_s3_assert_put(be, 400 + i, 4000 + i, sizes[i], &res);
		object_file(path, sizeof(path), res.location);
		assert_int_equal(hsm_test_flip_byte(path, 777, 0x10), 0);

		assert_int_equal(hsm_test_writer_init(&wr, 4000 + i,
						      HSM_TEST_PATTERN_RANDOM, 0), 0);
		ret = be->ops->get(be, res.location, 0, UINT64_MAX,
				   hsm_test_write, &wr);
		assert_int_equal(ret, -EBADMSG);
		hsm_test_s3_assert_error(be, "checksum mismatch");
		hsm_test_s3_assert_error(be, res.location);
		/* the writer saw the bytes, including the bad one */
		assert_int_equal(wr.bytes, sizes[i]);
		assert_int_equal(wr.mismatches, 1);
		hsm_test_writer_release(&wr);

		assert_int_equal(be->ops->verify(be, res.location), -EBADMSG);

		/* a range read is not verified: it has no checksum to match */
		assert_int_equal(hsm_test_s3_get_and_compare(be, res.location, 4000 + i,
						 0, 700, &bytes), 0);
		assert_int_equal(bytes, 700);
	}
	hsm_backend_destroy(be);
}

/* ---- errors ---- */

static void wrong_credentials_fail_with_the_s3_error_code(void **state)
{
	struct hsm_s3_config cfg;
	struct hsm_put_result res;
	struct hsm_stat_result st;
	struct hsm_backend *be;
	int ret;

	(void)state;
	REQUIRE_S3RVER();
	hsm_test_s3_config(&s3rver, &cfg);
	cfg.access_key = "AKIANOTAREALKEY";
	cfg.secret_key = "wrong";
	be = hsm_test_s3_create(&cfg);

	ret = hsm_test_s3_put_pattern(be, 500, 5000, 100, &res);
	assert_int_equal(ret, -EACCES);
	hsm_test_s3_assert_error(be, "403 InvalidAccessKeyId");
	hsm_test_s3_assert_error(be, "PUT " TEST_BUCKET "/");

	ret = hsm_test_s3_put_pattern(be, 501, 5001, 3 * MiB, &res);
	assert_int_equal(ret, -EACCES);
	hsm_test_s3_assert_error(be, "InvalidAccessKeyId");

	ret = be->ops->stat(be, "t/whatever", &st);
	assert_int_equal(ret, -EACCES);
	hsm_test_s3_assert_error(be, "HEAD " TEST_BUCKET "/t/whatever: 403 InvalidAccessKeyId");
	hsm_backend_destroy(be);
}

static void missing_bucket_and_missing_key_are_told_apart(void **state)
{
	struct hsm_s3_config cfg;
	struct hsm_put_result res;
	struct hsm_stat_result st;
	struct hsm_backend *be;
	uint64_t bytes;
	int ret;

	(void)state;
	REQUIRE_S3RVER();
	hsm_test_s3_config(&s3rver, &cfg);
	cfg.bucket = "no-such-bucket";
	be = hsm_test_s3_create(&cfg);
	ret = hsm_test_s3_put_pattern(be, 600, 6000, 100, &res);
	assert_int_equal(ret, -ENXIO);
	hsm_test_s3_assert_error(be, "404 NoSuchBucket");
	ret = hsm_test_s3_put_pattern(be, 601, 6001, 2 * MiB, &res);
	assert_int_equal(ret, -ENXIO);
	hsm_test_s3_assert_error(be, "NoSuchBucket");
	ret = be->ops->stat(be, "t/x", &st);
	assert_int_equal(ret, -ENXIO);
	hsm_test_s3_assert_error(be, "NoSuchBucket");
	hsm_backend_destroy(be);

	be = test_backend();
	ret = be->ops->stat(be, "t/no/such/key", &st);
	assert_int_equal(ret, -ENOENT);
	hsm_test_s3_assert_error(be, "NoSuchKey");
	hsm_test_s3_assert_error(be, "t/no/such/key");
	assert_int_equal(hsm_test_s3_get_and_compare(be, "t/no/such/key", 1, 0, UINT64_MAX,
					 &bytes), -ENOENT);
	assert_int_equal(be->ops->del(be, "t/no/such/key"), -ENOENT);
	assert_int_equal(be->ops->verify(be, "t/no/such/key"), -ENOENT);
	hsm_backend_destroy(be);
}

static void unreachable_endpoint_fails_after_retries(void **state)
{
	struct hsm_s3_config cfg;
	struct hsm_put_result res;
	struct hsm_backend *be;
	int ret;

	(void)state;
	REQUIRE_S3RVER();
	hsm_test_s3_config(&s3rver, &cfg);
	/* port 1 on loopback: nothing listens there */
	cfg.endpoint = "http://127.0.0.1:1";
	be = hsm_test_s3_create(&cfg);
	ret = hsm_test_s3_put_pattern(be, 650, 6500, 100, &res);
	assert_int_equal(ret, -ECONNREFUSED);
	hsm_test_s3_assert_error(be, "3 attempts");
	hsm_backend_destroy(be);
}

static void delete_removes_copy_and_sidecar(void **state)
{
	struct hsm_put_result small, large;
	struct hsm_stat_result st;
	struct hsm_backend *be;

	(void)state;
	REQUIRE_S3RVER();
	be = test_backend();
	hsm_test_s3_assert_put(be, 700, 7000, 12345, &small);
	hsm_test_s3_assert_put(be, 701, 7001, 2 * MiB + 1, &large);
	assert_int_equal(count_objects_of_ino(701), 2);	/* object + sidecar */

	assert_int_equal(be->ops->del(be, small.location), 0);
	assert_int_equal(be->ops->del(be, large.location), 0);
	assert_int_equal(be->ops->stat(be, small.location, &st), -ENOENT);
	assert_int_equal(be->ops->stat(be, large.location, &st), -ENOENT);
	assert_int_equal(count_objects_of_ino(700), 0);
	assert_int_equal(count_objects_of_ino(701), 0);
	assert_int_equal(be->ops->del(be, small.location), -ENOENT);
	hsm_backend_destroy(be);
}

static void multipart_copy_without_sidecar_is_invisible(void **state)
{
	char path[PATH_MAX + HSM_LOCATION_MAX + 16];
	char sidecar_key[HSM_LOCATION_MAX + 16];
	struct hsm_stat_result st;
	struct hsm_put_result res;
	struct hsm_backend *be;
	uint64_t bytes;

	(void)state;
	REQUIRE_S3RVER();
	be = test_backend();
	hsm_test_s3_assert_put(be, 720, 7200, 2 * MiB, &res);

	/* as if put() died between completing the upload and the sidecar */
	fmt_path(sidecar_key, sizeof(sidecar_key), "%s.sha256", res.location);
	object_file(path, sizeof(path), sidecar_key);
	assert_int_equal(unlink(path), 0);

	assert_int_equal(be->ops->stat(be, res.location, &st), -ENOENT);
	hsm_test_s3_assert_error(be, "never finished");
	assert_int_equal(hsm_test_s3_get_and_compare(be, res.location, 7200, 0, UINT64_MAX,
					 &bytes), -ENOENT);
	assert_int_equal(bytes, 0);
	/* the leftover object is still removable */
	assert_int_equal(be->ops->del(be, res.location), 0);
	assert_int_equal(count_objects_of_ino(720), 0);
	hsm_backend_destroy(be);
}

static void every_put_makes_a_new_key(void **state)
{
	struct hsm_put_result a, b;
	struct hsm_backend *be;
	uint64_t bytes;

	(void)state;
	REQUIRE_S3RVER();
	be = test_backend();
	hsm_test_s3_assert_put(be, 750, 7500, 1000, &a);
	hsm_test_s3_assert_put(be, 750, 7501, 1000, &b);
	assert_string_not_equal(a.location, b.location);
	/* the first copy is untouched by the second */
	assert_int_equal(hsm_test_s3_get_and_compare(be, a.location, 7500, 0, UINT64_MAX,
					 &bytes), 0);
	hsm_backend_destroy(be);
}

static void reader_failure_leaves_no_object(void **state)
{
	struct hsm_object_info info;
	struct hsm_put_result res;
	struct hsm_test_reader rd;
	struct hsm_backend *be;
	int ret;

	(void)state;
	REQUIRE_S3RVER();
	be = test_backend();
	hsm_test_s3_info(&info, 800, 5 * MiB);
	hsm_test_reader_init(&rd, 8000, HSM_TEST_PATTERN_RANDOM, info.size);
	rd.fail_at = 3 * MiB + 5;
	rd.fail_err = -EIO;
	ret = be->ops->put(be, &info, hsm_test_read, &rd, &res);
	assert_int_equal(ret, -EIO);
	hsm_test_s3_assert_error(be, "reader failed");
	assert_int_equal(count_objects_of_ino(800), 0);

	/* a stream shorter than the info declares is refused too */
	hsm_test_s3_info(&info, 801, 5000);
	hsm_test_reader_init(&rd, 8001, HSM_TEST_PATTERN_RANDOM, 4000);
	assert_int_equal(be->ops->put(be, &info, hsm_test_read, &rd, &res), -EIO);
	hsm_test_s3_assert_error(be, "ended after 4000 of 5000");
	hsm_test_s3_info(&info, 801, 2 * MiB);
	hsm_test_reader_init(&rd, 8001, HSM_TEST_PATTERN_RANDOM, 2 * MiB + 1);
	assert_int_equal(be->ops->put(be, &info, hsm_test_read, &rd, &res), -EIO);
	hsm_test_s3_assert_error(be, "more than");
	assert_int_equal(count_objects_of_ino(801), 0);
	hsm_backend_destroy(be);
}

/* ---- server crash ---- */

struct killing_reader {
	struct hsm_test_reader rd;
	uint64_t kill_at;
	bool is_killed;
};

static ssize_t killing_read(void *arg, void *buf, size_t len)
{
	struct killing_reader *kr = arg;

	if (!kr->is_killed && kr->rd.pos >= kr->kill_at) {
		s3rver_kill();
		kr->is_killed = true;
	}
	return hsm_test_read(&kr->rd, buf, len);
}

static void server_killed_mid_upload_leaves_nothing_and_retry_works(void **state)
{
	char dir[PATH_MAX];
	struct hsm_object_info info;
	struct hsm_put_result res;
	struct killing_reader kr;
	struct hsm_backend *be;
	int port = s3rver.port;
	uint64_t bytes;
	int ret;

	(void)state;
	REQUIRE_S3RVER();
	be = test_backend();
	hsm_test_s3_info(&info, 900, 12 * MiB);
	hsm_test_reader_init(&kr.rd, 9000, HSM_TEST_PATTERN_RANDOM, info.size);
	kr.kill_at = 5 * MiB;
	kr.is_killed = false;

	ret = be->ops->put(be, &info, killing_read, &kr, &res);
	assert_true(kr.is_killed);
	assert_true(ret < 0);
	if (ret != -ECONNREFUSED && ret != -ECONNRESET)
		fail_msg("put: %d %s", ret, hsm_backend_error(be));
	hsm_test_s3_assert_error(be, "s3: PUT " TEST_BUCKET "/t/");
	hsm_test_s3_assert_error(be, "part");

	snprintf(dir, sizeof(dir), "%s", s3rver_dir());
	ret = s3rver_start(port, dir);
	if (ret)
		fail_msg("restarting s3rver on port %d: %d", port, ret);
	assert_int_equal(s3rver.port, port);
	assert_int_equal(count_objects_of_ino(900), 0);

	ret = hsm_test_s3_put_pattern(be, 900, 9000, info.size, &res);
	if (ret)
		fail_msg("put after restart: %d %s", ret, hsm_backend_error(be));
	assert_int_equal(hsm_test_s3_get_and_compare(be, res.location, 9000, 0, UINT64_MAX,
					 &bytes), 0);
	assert_int_equal(bytes, info.size);
	assert_int_equal(count_objects_of_ino(900), 2);
	hsm_backend_destroy(be);
}

/* ---- credentials ---- */

static void credentials_come_from_config_then_environment(void **state)
{
	struct hsm_s3_credentials creds;
	struct hsm_s3_config cfg;
	char err[HSM_ERROR_MAX];

	(void)state;
	hsm_test_s3_clear_env();
	hsm_s3_config_init(&cfg);
	setenv("AWS_ACCESS_KEY_ID", "ENVKEY", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "ENVSECRET", 1);
	setenv("AWS_SESSION_TOKEN", "ENVTOKEN", 1);

	assert_int_equal(hsm_s3_resolve_credentials(&cfg, &creds, err,
						    sizeof(err)), 0);
	assert_string_equal(creds.access_key, "ENVKEY");
	assert_string_equal(creds.secret_key, "ENVSECRET");
	assert_string_equal(creds.session_token, "ENVTOKEN");
	assert_string_equal(creds.source, "environment");

	cfg.access_key = "CFGKEY";
	cfg.secret_key = "CFGSECRET";
	assert_int_equal(hsm_s3_resolve_credentials(&cfg, &creds, err,
						    sizeof(err)), 0);
	assert_string_equal(creds.access_key, "CFGKEY");
	assert_string_equal(creds.session_token, "");
	assert_string_equal(creds.source, "config");

	/* half a configuration is an error, not a fall-through */
	cfg.secret_key = NULL;
	assert_int_equal(hsm_s3_resolve_credentials(&cfg, &creds, err,
						    sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "secret key"));
	cfg.access_key = NULL;
	unsetenv("AWS_SECRET_ACCESS_KEY");
	assert_int_equal(hsm_s3_resolve_credentials(&cfg, &creds, err,
						    sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "AWS_SECRET_ACCESS_KEY"));

	/* region */
	assert_string_equal(hsm_s3_resolve_region(&cfg), HSM_S3_DEFAULT_REGION);
	setenv("AWS_DEFAULT_REGION", "eu-north-1", 1);
	assert_string_equal(hsm_s3_resolve_region(&cfg), "eu-north-1");
	setenv("AWS_REGION", "eu-west-3", 1);
	assert_string_equal(hsm_s3_resolve_region(&cfg), "eu-west-3");
	cfg.region = "ap-south-1";
	assert_string_equal(hsm_s3_resolve_region(&cfg), "ap-south-1");
	hsm_test_s3_clear_env();
}

static void credentials_come_from_the_shared_file(void **state)
{
	struct hsm_test_dir *tmp = *state;
	struct hsm_s3_credentials creds;
	struct hsm_s3_config cfg;
	char err[HSM_ERROR_MAX];
	char path[PATH_MAX + 64];
	char token[1001];
	char *text;
	char *old_home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;

	hsm_test_s3_clear_env();
	hsm_s3_config_init(&cfg);
	setenv("HOME", tmp->path, 1);

	/* no file at all */
	assert_int_equal(hsm_s3_resolve_credentials(&cfg, &creds, err,
						    sizeof(err)), -ENOKEY);
	assert_non_null(strstr(err, ".aws/credentials"));

	/* session tokens are long: longer than inih's default line limit */
	memset(token, 'T', sizeof(token) - 1);
	token[sizeof(token) - 1] = '\0';
	assert_true(asprintf(&text,
			     "# comment\n"
			     "[default]\n"
			     "aws_access_key_id = DEFKEY\n"
			     "aws_secret_access_key=DEFSECRET\n"
			     "\n"
			     "[profile other]\n"
			     "  aws_access_key_id = OTHERKEY  \n"
			     "; another comment\n"
			     "aws_secret_access_key = OTHERSECRET\r\n"
			     "aws_session_token = %s\n"
			     "[half]\n"
			     "aws_access_key_id = HALFKEY\n", token) > 0);
	snprintf(path, sizeof(path), "%s/.aws", tmp->path);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/.aws/credentials", tmp->path);
	assert_int_equal(hsm_test_write_file(path, text, strlen(text)), 0);
	free(text);

	assert_int_equal(hsm_s3_resolve_credentials(&cfg, &creds, err,
						    sizeof(err)), 0);
	assert_string_equal(creds.access_key, "DEFKEY");
	assert_string_equal(creds.secret_key, "DEFSECRET");
	assert_string_equal(creds.session_token, "");
	assert_non_null(strstr(creds.source, "[default]"));

	setenv("AWS_PROFILE", "other", 1);
	assert_int_equal(hsm_s3_resolve_credentials(&cfg, &creds, err,
						    sizeof(err)), 0);
	assert_string_equal(creds.access_key, "OTHERKEY");
	assert_string_equal(creds.secret_key, "OTHERSECRET");
	assert_string_equal(creds.session_token, token);

	cfg.profile = "half";
	assert_int_equal(hsm_s3_resolve_credentials(&cfg, &creds, err,
						    sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "[half]"));
	cfg.profile = "absent";
	assert_int_equal(hsm_s3_resolve_credentials(&cfg, &creds, err,
						    sizeof(err)), -ENOKEY);
	assert_non_null(strstr(err, "[absent]"));

	/* the environment wins over the file */
	setenv("AWS_ACCESS_KEY_ID", "ENVKEY", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "ENVSECRET", 1);
	assert_int_equal(hsm_s3_resolve_credentials(&cfg, &creds, err,
						    sizeof(err)), 0);
	assert_string_equal(creds.access_key, "ENVKEY");

	hsm_test_s3_clear_env();
	if (old_home)
		setenv("HOME", old_home, 1);
	else
		unsetenv("HOME");
	free(old_home);
}

static void backend_works_with_credentials_from_environment(void **state)
{
	struct hsm_s3_config cfg;
	struct hsm_backend *be = NULL;
	char err[HSM_ERROR_MAX];

	(void)state;
	REQUIRE_S3RVER();
	hsm_test_s3_clear_env();
	hsm_test_s3_config(&s3rver, &cfg);
	cfg.access_key = NULL;
	cfg.secret_key = NULL;
	setenv("AWS_ACCESS_KEY_ID", TEST_ACCESS_KEY, 1);
	setenv("AWS_SECRET_ACCESS_KEY", TEST_SECRET_KEY, 1);
	setenv("AWS_SESSION_TOKEN", "a-session-token", 1);
	be = hsm_test_s3_create(&cfg);
	hsm_test_s3_assert_round_trip(be, 1000, 10000, 4096);
	hsm_backend_destroy(be);

	/* and none anywhere: creation fails and says why */
	hsm_test_s3_clear_env();
	setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials", 1);
	be = NULL;
	assert_int_equal(hsm_s3_backend_create(&cfg, &be, err, sizeof(err)),
			 -ENOKEY);
	assert_null(be);
	assert_non_null(strstr(err, "/nonexistent/credentials"));
	hsm_test_s3_clear_env();
}

static void bad_configuration_is_refused(void **state)
{
	struct hsm_s3_config cfg;
	struct hsm_backend *be = NULL;
	char err[HSM_ERROR_MAX];

	(void)state;
	hsm_s3_config_init(&cfg);
	cfg.access_key = "k";
	cfg.secret_key = "s";
	cfg.bucket = "b";
	assert_int_equal(hsm_s3_backend_create(&cfg, &be, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "endpoint"));
	cfg.endpoint = "ftp://127.0.0.1/";
	assert_int_equal(hsm_s3_backend_create(&cfg, &be, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "http"));
	/* virtual-host style puts the bucket in the host name: not an IP */
	cfg.endpoint = "http://127.0.0.1:9/";
	cfg.addressing = HSM_S3_ADDRESSING_VIRTUAL_HOST;
	assert_int_equal(hsm_s3_backend_create(&cfg, &be, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "path style"));
	cfg.addressing = HSM_S3_ADDRESSING_AUTO;
	cfg.parallel_parts = 0;
	assert_int_equal(hsm_s3_backend_create(&cfg, &be, err, sizeof(err)),
			 -EINVAL);
	assert_null(be);
}

/* The bucket's URL for endpoint and bucket with addressing (no request). */
static void assert_base_url(const char *endpoint, const char *bucket,
			    enum hsm_s3_addressing addressing, const char *want)
{
	struct hsm_s3_credentials creds;
	struct hsm_s3_config cfg;
	struct s3_client cl;
	char err[HSM_ERROR_MAX];

	memset(&creds, 0, sizeof(creds));
	hsm_s3_config_init(&cfg);
	cfg.endpoint = endpoint;
	cfg.bucket = bucket;
	cfg.addressing = addressing;
	assert_int_equal(s3_client_init(&cl, &cfg, &creds, "eu-west-1", err,
					sizeof(err)), 0);
	assert_string_equal(cl.base_url, want);
	s3_client_release(&cl);
}

static void addressing_is_virtual_host_except_where_it_cannot_be(void **state)
{
	(void)state;
	/* AWS and other named endpoints: the bucket in the host name */
	assert_base_url("https://s3.eu-west-1.amazonaws.com", "archive",
			HSM_S3_ADDRESSING_AUTO,
			"https://archive.s3.eu-west-1.amazonaws.com");
	assert_base_url("https://s3.example.org:8443/gw/", "archive",
			HSM_S3_ADDRESSING_AUTO,
			"https://archive.s3.example.org:8443/gw");
	/* loopback servers by address or as localhost: path style */
	assert_base_url("http://127.0.0.1:9000", "archive",
			HSM_S3_ADDRESSING_AUTO, "http://127.0.0.1:9000/archive");
	assert_base_url("http://[::1]:9000", "archive",
			HSM_S3_ADDRESSING_AUTO, "http://[::1]:9000/archive");
	assert_base_url("http://localhost:9000", "archive",
			HSM_S3_ADDRESSING_AUTO, "http://localhost:9000/archive");
	/* buckets that are no host name label (or would break TLS) */
	assert_base_url("https://s3.eu-west-1.amazonaws.com", "Old_Bucket",
			HSM_S3_ADDRESSING_AUTO,
			"https://s3.eu-west-1.amazonaws.com/Old_Bucket");
	assert_base_url("https://s3.eu-west-1.amazonaws.com", "a.b.c",
			HSM_S3_ADDRESSING_AUTO,
			"https://s3.eu-west-1.amazonaws.com/a.b.c");
	assert_base_url("http://s3.internal", "a.b.c", HSM_S3_ADDRESSING_AUTO,
			"http://a.b.c.s3.internal");
	/* what is configured wins */
	assert_base_url("https://s3.eu-west-1.amazonaws.com", "archive",
			HSM_S3_ADDRESSING_PATH,
			"https://s3.eu-west-1.amazonaws.com/archive");
	assert_base_url("http://localhost:9000", "archive",
			HSM_S3_ADDRESSING_VIRTUAL_HOST,
			"http://archive.localhost:9000");
}

/* ---- batches ---- */

/*
 * A gate opens once `want` callers are waiting at it at the same time:
 * the proof that a batch has that many objects in flight.  A caller
 * that waits 20 s in vain reports it (a batch that runs items one at a
 * time never gets there) rather than hanging the test.
 */
struct gate {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned int inside;
	unsigned int want;
	bool is_open;
	bool is_timed_out;
};

static void gate_pass(struct gate *g)
{
	struct timespec deadline;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 20;
	pthread_mutex_lock(&g->lock);
	if (++g->inside >= g->want) {
		g->is_open = true;
		pthread_cond_broadcast(&g->cond);
	}
	while (!g->is_open && !g->is_timed_out)
		if (pthread_cond_timedwait(&g->cond, &g->lock, &deadline))
			g->is_timed_out = true;
	pthread_mutex_unlock(&g->lock);
}

struct gated_reader {
	struct hsm_test_reader rd;
	struct gate *gate;
	bool has_passed;
};

static ssize_t gated_read(void *arg, void *buf, size_t len)
{
	struct gated_reader *gr = arg;

	if (!gr->has_passed) {
		gr->has_passed = true;
		gate_pass(gr->gate);
	}
	return hsm_test_read(&gr->rd, buf, len);
}

struct gated_writer {
	struct hsm_test_writer wr;
	struct gate *gate;
	bool has_passed;
};

static int gated_write(void *arg, const void *buf, size_t len)
{
	struct gated_writer *gw = arg;

	if (!gw->has_passed) {
		gw->has_passed = true;
		gate_pass(gw->gate);
	}
	return hsm_test_write(&gw->wr, buf, len);
}

#define BATCH_NR 10
#define BATCH_PARALLEL 4

static void batch_keeps_several_objects_in_flight(void **state)
{
	/* small objects and two multipart ones, one of them empty-tailed */
	static const uint64_t sizes[BATCH_NR] = {
		100, 4096, 1, 70000, 3 * MiB + 7, 5000, 0, 2 * MiB, 9, 123456,
	};
	struct gate put_gate = { PTHREAD_MUTEX_INITIALIZER,
				 PTHREAD_COND_INITIALIZER, 0, BATCH_PARALLEL,
				 false, false };
	struct gate get_gate = { PTHREAD_MUTEX_INITIALIZER,
				 PTHREAD_COND_INITIALIZER, 0, BATCH_PARALLEL,
				 false, false };
	struct hsm_object_info infos[BATCH_NR];
	struct gated_reader readers[BATCH_NR];
	struct gated_writer writers[BATCH_NR];
	struct hsm_s3_put_item puts[BATCH_NR];
	struct hsm_s3_get_item gets[BATCH_NR];
	struct hsm_s3_config cfg;
	struct hsm_backend *be;
	unsigned int i, j;

	(void)state;
	REQUIRE_S3RVER();
	hsm_test_s3_config(&s3rver, &cfg);
	cfg.parallel_objects = BATCH_PARALLEL;
	be = hsm_test_s3_create(&cfg);

	memset(puts, 0, sizeof(puts));
	for (i = 0; i < BATCH_NR; i++) {
		hsm_test_s3_info(&infos[i], 1500 + i, sizes[i]);
		memset(&readers[i], 0, sizeof(readers[i]));
		hsm_test_reader_init(&readers[i].rd, 15000 + i,
				     HSM_TEST_PATTERN_RANDOM, sizes[i]);
		readers[i].gate = &put_gate;
		puts[i].info = &infos[i];
		puts[i].reader = gated_read;
		puts[i].reader_arg = &readers[i];
	}
	if (hsm_s3_put_batch(be, puts, BATCH_NR))
		fail_msg("put batch: %s", hsm_backend_error(be));
	/* BATCH_PARALLEL readers were inside put() at the same moment */
	assert_false(put_gate.is_timed_out);
	assert_true(put_gate.is_open);
	for (i = 0; i < BATCH_NR; i++) {
		struct hsm_test_pattern pat = { 15000 + i,
						HSM_TEST_PATTERN_RANDOM };
		struct hsm_checksum want;

		assert_int_equal(puts[i].ret, 0);
		hsm_test_pattern_checksum(&pat, sizes[i], &want);
		assert_true(hsm_checksum_equal(&puts[i].res.checksum, &want));
		for (j = 0; j < i; j++)
			assert_string_not_equal(puts[i].res.location,
						puts[j].res.location);
	}

	memset(gets, 0, sizeof(gets));
	for (i = 0; i < BATCH_NR; i++) {
		memset(&writers[i], 0, sizeof(writers[i]));
		assert_int_equal(hsm_test_writer_init(&writers[i].wr, 15000 + i,
						      HSM_TEST_PATTERN_RANDOM,
						      0), 0);
		/* an empty object's writer is never called: no gate for it */
		writers[i].gate = &get_gate;
		writers[i].has_passed = sizes[i] == 0;
		gets[i].location = puts[i].res.location;
		gets[i].length = UINT64_MAX;
		gets[i].writer = gated_write;
		gets[i].writer_arg = &writers[i];
	}
	if (hsm_s3_get_batch(be, gets, BATCH_NR))
		fail_msg("get batch: %s", hsm_backend_error(be));
	assert_false(get_gate.is_timed_out);
	for (i = 0; i < BATCH_NR; i++) {
		assert_int_equal(gets[i].ret, 0);
		assert_int_equal(writers[i].wr.bytes, sizes[i]);
		assert_int_equal(writers[i].wr.mismatches, 0);
		hsm_test_writer_release(&writers[i].wr);
	}

	/* a failing item fails alone, and its error is the batch's */
	gets[3].location = "t/no/such/key";
	gets[5].offset = sizes[5] + 10;
	gets[5].length = 1;
	for (i = 0; i < BATCH_NR; i++)
		gets[i].writer = NULL;
	assert_int_equal(hsm_s3_get_batch(be, gets, BATCH_NR), -ENOENT);
	hsm_test_s3_assert_error(be, "NoSuchKey");
	for (i = 0; i < BATCH_NR; i++)
		assert_int_equal(gets[i].ret, i == 3 ? -ENOENT :
					      i == 5 ? -EINVAL : 0);
	assert_non_null(strstr(gets[5].error, "past the end"));
	hsm_backend_destroy(be);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(put_get_round_trips_small_sizes),
		cmocka_unit_test(put_of_large_stream_uses_parallel_multipart),
		cmocka_unit_test(put_at_threshold_goes_multipart),
		cmocka_unit_test(ranged_get_returns_exactly_the_range),
		cmocka_unit_test(corrupted_object_fails_whole_get_and_verify),
		cmocka_unit_test(wrong_credentials_fail_with_the_s3_error_code),
		cmocka_unit_test(missing_bucket_and_missing_key_are_told_apart),
		cmocka_unit_test(unreachable_endpoint_fails_after_retries),
		cmocka_unit_test(delete_removes_copy_and_sidecar),
		cmocka_unit_test(multipart_copy_without_sidecar_is_invisible),
		cmocka_unit_test(every_put_makes_a_new_key),
		cmocka_unit_test(reader_failure_leaves_no_object),
		cmocka_unit_test(server_killed_mid_upload_leaves_nothing_and_retry_works),
		cmocka_unit_test(credentials_come_from_config_then_environment),
		cmocka_unit_test_setup_teardown(credentials_come_from_the_shared_file,
						hsm_test_dir_setup,
						hsm_test_dir_teardown),
		cmocka_unit_test(backend_works_with_credentials_from_environment),
		cmocka_unit_test(bad_configuration_is_refused),
		cmocka_unit_test(addressing_is_virtual_host_except_where_it_cannot_be),
		cmocka_unit_test(batch_keeps_several_objects_in_flight),
	};

	return cmocka_run_group_tests_name("backend_s3", tests, group_setup,
					   group_teardown);
}
