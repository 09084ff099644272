// SPDX-License-Identifier: GPL-2.0
/*
 * test_s3_moto.c: the S3 backend against moto_server with SigV4 checked.
 *
 * s3rver (test_backend_s3.c) accepts any signature, so a signing bug would
 * pass there; moto recomputes every request's signature from the secret
 * of the key it names and refuses a mismatch with 403
 * SignatureDoesNotMatch.  tests/s3/moto-start creates an IAM user (and its
 * key), a role for web identities and the bucket, then turns checking on
 * for every later request.  The tests skip when no Python with moto is
 * installed (the script exits 77).
 *
 * No test here may reach an address outside the loopback: the group setup
 * clears the AWS_* environment and sets AWS_EC2_METADATA_DISABLED=true.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include "backend.h"
#include "backend_s3.h"
#include "hsm_test_s3.h"
#include "hsm_test_util.h"

#define MiB HSM_TEST_MiB
/* moto, as AWS, refuses parts below 5 MiB (except the last) */
#define MOTO_PART_SIZE (5 * MiB)

static struct hsm_test_s3_server moto = { .script = "moto-start" };

static int group_setup(void **state)
{
	int ret;

	(void)state;
	hsm_test_s3_clear_env();
	ret = hsm_test_s3_start(&moto, "-b " HSM_TEST_S3_BUCKET);
	if (ret == -EAGAIN) {
		fprintf(stderr, "# moto_server not installed; moto tests skip\n");
		return 0;
	}
	if (ret) {
		fprintf(stderr, "# moto-start failed\n");
		return -1;
	}
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	hsm_test_s3_stop(&moto, "");
	return 0;
}

static void moto_config(struct hsm_s3_config *cfg)
{
	hsm_test_s3_config(&moto, cfg);
	cfg->multipart_threshold = MOTO_PART_SIZE;
	cfg->part_size = MOTO_PART_SIZE;
}

static struct hsm_backend *moto_backend(void)
{
	struct hsm_s3_config cfg;

	moto_config(&cfg);
	return hsm_test_s3_create(&cfg);
}

#define REQUIRE_MOTO()				\
	do {					\
		if (!moto.is_available)		\
			skip();			\
	} while (0)

/* ---- signatures ---- */

static void signed_requests_round_trip(void **state)
{
	static const uint64_t sizes[] = { 0, 1, 4096, 11 * MiB + 17 };
	struct hsm_backend *be;
	size_t i;

	(void)state;
	REQUIRE_MOTO();
	be = moto_backend();
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		hsm_test_s3_assert_round_trip(be, 100 + i, 1000 + i, sizes[i]);
	hsm_backend_destroy(be);
}

static void signed_ranged_get_returns_the_range(void **state)
{
	struct hsm_put_result res;
	struct hsm_backend *be;
	uint64_t bytes = 0;

	(void)state;
	REQUIRE_MOTO();
	be = moto_backend();
	hsm_test_s3_assert_put(be, 150, 1500, 6 * MiB + 5, &res);
	assert_int_equal(hsm_test_s3_get_and_compare(be, res.location, 1500,
						     5 * MiB - 3, 1000, &bytes), 0);
	assert_int_equal(bytes, 1000);
	hsm_backend_destroy(be);
}

static void wrong_secret_fails_with_signature_does_not_match(void **state)
{
	struct hsm_s3_config cfg;
	struct hsm_put_result res;
	struct hsm_stat_result st;
	struct hsm_backend *be;

	(void)state;
	REQUIRE_MOTO();
	moto_config(&cfg);
	cfg.secret_key = "not-the-secret-of-this-key";
	be = hsm_test_s3_create(&cfg);

	assert_int_equal(hsm_test_s3_put_pattern(be, 200, 2000, 100, &res),
			 -EACCES);
	hsm_test_s3_assert_error(be, "403 SignatureDoesNotMatch");
	assert_int_equal(hsm_test_s3_put_pattern(be, 201, 2001, 6 * MiB, &res),
			 -EACCES);
	hsm_test_s3_assert_error(be, "SignatureDoesNotMatch");
	assert_int_equal(be->ops->stat(be, "t/whatever", &st), -EACCES);
	hsm_test_s3_assert_error(be, "SignatureDoesNotMatch");
	hsm_backend_destroy(be);
}

static void unknown_access_key_fails_with_invalid_access_key(void **state)
{
	struct hsm_s3_config cfg;
	struct hsm_put_result res;
	struct hsm_backend *be;

	(void)state;
	REQUIRE_MOTO();
	moto_config(&cfg);
	cfg.access_key = "AKIANOTAREALKEY00000";
	be = hsm_test_s3_create(&cfg);
	assert_int_equal(hsm_test_s3_put_pattern(be, 300, 3000, 100, &res),
			 -EACCES);
	hsm_test_s3_assert_error(be, "403 InvalidAccessKeyId");
	hsm_backend_destroy(be);
}

static void signed_delete_and_missing_key(void **state)
{
	struct hsm_put_result res;
	struct hsm_stat_result st;
	struct hsm_backend *be;

	(void)state;
	REQUIRE_MOTO();
	be = moto_backend();
	hsm_test_s3_assert_put(be, 400, 4000, 6 * MiB, &res);
	assert_int_equal(be->ops->del(be, res.location), 0);
	assert_int_equal(be->ops->stat(be, res.location, &st), -ENOENT);
	assert_int_equal(be->ops->del(be, res.location), -ENOENT);
	hsm_backend_destroy(be);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(signed_requests_round_trip),
		cmocka_unit_test(signed_ranged_get_returns_the_range),
		cmocka_unit_test(wrong_secret_fails_with_signature_does_not_match),
		cmocka_unit_test(unknown_access_key_fails_with_invalid_access_key),
		cmocka_unit_test(signed_delete_and_missing_key),
	};

	return cmocka_run_group_tests_name("s3_moto", tests, group_setup,
					   group_teardown);
}
