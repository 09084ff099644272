/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hsm_test_s3.h: what the S3 backend tests share (test_backend_s3.c runs
 * against s3rver, test_s3_moto.c against moto_server with SigV4 checked).
 *
 * A test server is started by one of the scripts in tests/s3 (s3rver-start,
 * moto-start), which print NAME=VALUE lines; hsm_test_s3_start() runs the
 * script, keeps every line in the server's vars, and the helpers below
 * build backends pointed at it.  A script exiting 77 means the server is
 * not installed: the tests of that server skip.
 *
 * Every helper fails the running cmocka test on an unexpected error.
 */
#ifndef SCOUTFS_HSM_TEST_S3_H
#define SCOUTFS_HSM_TEST_S3_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "backend.h"
#include "backend_s3.h"

#define HSM_TEST_S3_BUCKET "hsm-test"
#define HSM_TEST_S3_KEY_PREFIX "t/"
#define HSM_TEST_S3_FSID "0123456789abcdef0123456789abcdef"
#define HSM_TEST_S3_SKIP_EXIT 77
#define HSM_TEST_S3_VARS_MAX 16
#define HSM_TEST_MiB (1024ULL * 1024)
/* Small parts so a 40 MiB stream makes many parts in flight at once. */
#define HSM_TEST_S3_THRESHOLD (1 * HSM_TEST_MiB)
#define HSM_TEST_S3_PART_SIZE (1 * HSM_TEST_MiB)
#define HSM_TEST_S3_PARALLEL 4

struct hsm_test_s3_server {
	const char *script;	/* "s3rver-start", "moto-start" */
	bool is_available;
	int port;
	pid_t pid;
	char access_key[128];
	char secret_key[128];
	char endpoint[64];	/* http://127.0.0.1:PORT */
	/* every NAME=VALUE line the script printed */
	char vars[HSM_TEST_S3_VARS_MAX][PATH_MAX];
	unsigned int nr_vars;
};

/* Path of tests/s3/<name> in the source tree; false when not found. */
bool hsm_test_s3_script(const char *name, char *out, size_t out_len);

/*
 * Run tests/s3/<srv->script> with args (may be ""), fill srv from what it
 * prints (PORT and PID from any *_PORT and *_PID line).  0, -EAGAIN when
 * the server is not installed (skip), -EIO on failure.
 */
int hsm_test_s3_start(struct hsm_test_s3_server *srv, const char *args);
/*
 * A cmocka group setup's start of srv for the tests of what: clear the
 * AWS environment (hsm_test_s3_clear_env()) and start srv with the test
 * bucket.  0 when it runs or is not installed (srv->is_available says;
 * the tests then skip), -1 when it failed to start.
 */
int hsm_test_s3_group_start(struct hsm_test_s3_server *srv, const char *what);
/* Stop it with the matching *-stop script plus extra args (may be ""). */
void hsm_test_s3_stop(struct hsm_test_s3_server *srv, const char *args);
/* Value of a NAME=VALUE line the script printed, or NULL. */
const char *hsm_test_s3_var(const struct hsm_test_s3_server *srv,
			    const char *name);

/* A configuration for srv: test bucket, small parts, short retries. */
void hsm_test_s3_config(const struct hsm_test_s3_server *srv,
			struct hsm_s3_config *cfg);
/* Create a backend from cfg; fails the test when creation fails. */
struct hsm_backend *hsm_test_s3_create(const struct hsm_s3_config *cfg);
/* hsm_test_s3_create(hsm_test_s3_config(srv)) */
struct hsm_backend *hsm_test_s3_backend(const struct hsm_test_s3_server *srv);

/* The object info the tests archive as inode ino with size bytes. */
void hsm_test_s3_info(struct hsm_object_info *info, uint64_t ino,
		      uint64_t size);
/* put a random pattern (seed) of size bytes as inode ino; 0 or -errno. */
int hsm_test_s3_put_pattern(struct hsm_backend *be, uint64_t ino,
			    uint64_t seed, uint64_t size,
			    struct hsm_put_result *res);
/* The same, failing the test unless it succeeds with the right checksum. */
void hsm_test_s3_assert_put(struct hsm_backend *be, uint64_t ino,
			    uint64_t seed, uint64_t size,
			    struct hsm_put_result *res);
/* get [offset, offset+length), every byte checked against the pattern. */
int hsm_test_s3_get_and_compare(struct hsm_backend *be, const char *location,
				uint64_t seed, uint64_t offset,
				uint64_t length, uint64_t *bytes);
/* put, stat, get and verify one object of size bytes. */
void hsm_test_s3_assert_round_trip(struct hsm_backend *be, uint64_t ino,
				   uint64_t seed, uint64_t size);
/* Fail the test unless the backend's last error mentions what. */
void hsm_test_s3_assert_error(struct hsm_backend *be, const char *what);

/*
 * Unset every AWS_* variable the credential chain reads, and turn the
 * instance metadata source off (AWS_EC2_METADATA_DISABLED=true), so that
 * no test ever sends a request to the metadata address.
 */
void hsm_test_s3_clear_env(void);

#endif
