/* SPDX-License-Identifier: GPL-2.0 */
/*
 * backend_s3.h: the S3 archive backend (backend_s3.c, s3_request.c,
 * s3_credentials.c).
 *
 * Fill a struct hsm_s3_config with hsm_s3_config_init() (which sets every
 * tunable to its default), set at least endpoint and bucket, and call
 * hsm_s3_backend_create().  The backend then implements backend.h over
 * one bucket: a location is the object key.
 *
 * Credentials and region are looked up at creation, in the order the AWS
 * tools use (see hsm_s3_resolve_credentials()); credentials that expire
 * are looked up again before they do, and when S3 says ExpiredToken.
 *
 * A backend is used by one thread at a time (like every hsm_backend); put()
 * runs its own worker threads internally to send multipart parts in
 * parallel.
 */
#ifndef SCOUTFS_HSM_BACKEND_S3_H
#define SCOUTFS_HSM_BACKEND_S3_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend.h"

#define HSM_S3_DEFAULT_REGION "us-east-1"
#define HSM_S3_DEFAULT_MULTIPART_THRESHOLD (64ULL << 20)
#define HSM_S3_DEFAULT_PART_SIZE (16ULL << 20)
/* S3 numbers parts 1..10000; bigger streams need bigger parts. */
#define HSM_S3_MAX_PARTS 10000
#define HSM_S3_DEFAULT_PARALLEL_PARTS 4
#define HSM_S3_MAX_PARALLEL_PARTS 64
#define HSM_S3_DEFAULT_RETRIES 5
#define HSM_S3_DEFAULT_RETRY_BASE_MS 200
#define HSM_S3_DEFAULT_RETRY_MAX_MS 20000
#define HSM_S3_DEFAULT_CONNECT_TIMEOUT_MS 10000
#define HSM_S3_DEFAULT_STALL_TIMEOUT_S 60
/* Keys per ListObjectsV2 page (S3's maximum). */
#define HSM_S3_DEFAULT_LIST_PAGE_KEYS 1000
/* Temporary credentials are renewed this long before they expire. */
#define HSM_S3_DEFAULT_CREDENTIAL_REFRESH_S 300

struct hsm_s3_config {
	/*
	 * Where the service is: "https://s3.eu-west-1.amazonaws.com",
	 * "http://127.0.0.1:9000".  A path after the host is kept (for
	 * gateways mounted below a prefix).
	 */
	const char *endpoint;
	/* NULL: $AWS_REGION, else $AWS_DEFAULT_REGION, else us-east-1. */
	const char *region;
	const char *bucket;
	/*
	 * true: http://host/bucket/key (MinIO, Ceph, most local servers);
	 * false: http://bucket.host/key (AWS virtual-hosted style).
	 */
	bool path_style;

	/*
	 * Credentials: when access_key and secret_key are both set they are
	 * used (with session_token if set); otherwise the chain of
	 * hsm_s3_resolve_credentials().
	 */
	const char *access_key;
	const char *secret_key;
	const char *session_token;
	/* Profile in the credentials file; NULL: $AWS_PROFILE or "default". */
	const char *profile;

	/* Prepended to every key put() creates, e.g. "scoutfs/archive/". */
	const char *key_prefix;

	/* Streams of at least this many bytes go up as multipart uploads. */
	uint64_t multipart_threshold;
	/*
	 * Bytes per part.  AWS wants at least 5 MiB (except the last part);
	 * smaller is accepted here so tests can make many parts cheaply.
	 * put() grows it when a stream would otherwise need more than
	 * HSM_S3_MAX_PARTS parts.
	 */
	uint64_t part_size;
	/* Parts in flight at once; memory used is parallel_parts * part_size. */
	unsigned int parallel_parts;

	/* Attempts after the first for a request that failed transiently. */
	unsigned int retries;
	/* Backoff before retry n is about retry_base_ms * 2^n, capped. */
	unsigned int retry_base_ms;
	unsigned int retry_max_ms;
	unsigned int connect_timeout_ms;
	/* A transfer that moves no byte for this long is a timeout. */
	unsigned int stall_timeout_s;
	/* Whole-request limit, 0 = none (large objects take long). */
	unsigned int request_timeout_ms;
	/* Renew expiring credentials this many seconds before they expire. */
	unsigned int credential_refresh_s;
	/* Keys asked for per ListObjectsV2 page, 1..1000. */
	unsigned int list_page_keys;
};

/* Defaults for everything; endpoint and bucket stay NULL. */
void hsm_s3_config_init(struct hsm_s3_config *cfg);

/*
 * Create an S3 backend.  Checks the configuration and resolves region and
 * credentials; it does not contact the service (the first request
 * reports unreachable endpoints and bad credentials, by name).  Returns 0
 * and *out, or a negative errno with the reason in err (err_len bytes).
 */
int hsm_s3_backend_create(const struct hsm_s3_config *cfg,
			  struct hsm_backend **out, char *err, size_t err_len);

/* ---- credential and region resolution (exposed for tests) ---- */

#define HSM_S3_KEY_MAX 256
#define HSM_S3_TOKEN_MAX 4096

struct hsm_s3_credentials {
	char access_key[HSM_S3_KEY_MAX];
	char secret_key[HSM_S3_KEY_MAX];
	char session_token[HSM_S3_TOKEN_MAX];	/* "" when none */
	int64_t expiration;	/* seconds since the epoch, 0: never */
	/* Where they came from, for messages: "config", "environment",
	 * "/home/x/.aws/credentials [default]". */
	char source[HSM_S3_KEY_MAX + 64];
};

/*
 * Resolve credentials in this order:
 *  1. cfg->access_key + cfg->secret_key (+ cfg->session_token);
 *  2. $AWS_ACCESS_KEY_ID + $AWS_SECRET_ACCESS_KEY (+ $AWS_SESSION_TOKEN);
 *  3. $AWS_WEB_IDENTITY_TOKEN_FILE + $AWS_ROLE_ARN (+
 *     $AWS_ROLE_SESSION_NAME), through STS AssumeRoleWithWebIdentity at
 *     $AWS_ENDPOINT_URL_STS, else $AWS_ENDPOINT_URL, else AWS's;
 *  4. profile cfg->profile, else $AWS_PROFILE, else "default", of
 *     $AWS_CONFIG_FILE (else ~/.aws/config) and $AWS_SHARED_CREDENTIALS_FILE
 *     (else ~/.aws/credentials, which wins): aws_access_key_id +
 *     aws_secret_access_key (+ aws_session_token), else credential_process,
 *     else role_arn + web_identity_token_file;
 *  5. IMDSv2 at $AWS_EC2_METADATA_SERVICE_ENDPOINT (else 169.254.169.254),
 *     unless $AWS_EC2_METADATA_DISABLED is "true".
 * A half-set source (a key without a secret) is an error rather than
 * silently falling through to the next, so a typo does not archive with
 * somebody else's identity.  Returns 0, or -ENOKEY when no source has
 * credentials, -EINVAL for a malformed source, -EACCES when a source
 * refused (STS, a failing credential_process), with the reason in err.
 */
int hsm_s3_resolve_credentials(const struct hsm_s3_config *cfg,
			       struct hsm_s3_credentials *creds,
			       char *err, size_t err_len);

/*
 * cfg->region, else $AWS_REGION, else $AWS_DEFAULT_REGION, else the
 * profile's region in the config files, else the default.  The string
 * lives until the calling thread's next call.
 */
const char *hsm_s3_resolve_region(const struct hsm_s3_config *cfg);

#endif
