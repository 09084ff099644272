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
 * parallel, and hsm_s3_put_batch() / hsm_s3_get_batch() keep several
 * objects in flight at once (parallel_objects), so that small objects do
 * not go one at a time.
 */
#ifndef SCOUTFS_HSM_BACKEND_S3_H
#define SCOUTFS_HSM_BACKEND_S3_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend.h"

#define HSM_S3_DEFAULT_REGION "us-east-1"
/*
 * 128 MiB: below it one PUT (buffered whole, checksum in the metadata,
 * 1 request); from it multipart (4 + parts requests, and servers such
 * as s3rver copy the parts into the object again at completion).  With
 * batches keeping several objects in flight, parallel parts matter only
 * for the largest files.
 */
#define HSM_S3_DEFAULT_MULTIPART_THRESHOLD (128ULL << 20)
#define HSM_S3_DEFAULT_PART_SIZE (16ULL << 20)
/* S3 numbers parts 1..10000; bigger streams need bigger parts. */
#define HSM_S3_MAX_PARTS 10000
#define HSM_S3_DEFAULT_PARALLEL_PARTS 4
#define HSM_S3_MAX_PARALLEL_PARTS 64
#define HSM_S3_DEFAULT_PARALLEL_OBJECTS 4
#define HSM_S3_MAX_PARALLEL_OBJECTS 64
#define HSM_S3_DEFAULT_RETRIES 5
#define HSM_S3_DEFAULT_RETRY_BASE_MS 200
#define HSM_S3_DEFAULT_RETRY_MAX_MS 20000
#define HSM_S3_DEFAULT_CONNECT_TIMEOUT_MS 10000
#define HSM_S3_DEFAULT_STALL_TIMEOUT_S 60
/* Keys per ListObjectsV2 page (S3's maximum). */
#define HSM_S3_DEFAULT_LIST_PAGE_KEYS 1000
/* Temporary credentials are renewed this long before they expire. */
#define HSM_S3_DEFAULT_CREDENTIAL_REFRESH_S 300
/* Days a restored copy of a cold object stays readable. */
#define HSM_S3_DEFAULT_RESTORE_DAYS 7
#define HSM_S3_STORAGE_CLASS_MAX 64

enum hsm_s3_addressing {
	/*
	 * The default: virtual-host style, except for endpoints that cannot
	 * have bucket sub-domains: an IP address or "localhost" (moto,
	 * s3rver, MinIO on loopback), and buckets that are no DNS name
	 * (upper case, '_', or '.' over https, where the certificate would
	 * not match).
	 */
	HSM_S3_ADDRESSING_AUTO = 0,
	/* http://bucket.host/key: AWS's style; path style is deprecated there. */
	HSM_S3_ADDRESSING_VIRTUAL_HOST,
	/* http://host/bucket/key: MinIO, Ceph and most local servers. */
	HSM_S3_ADDRESSING_PATH,
};

enum hsm_s3_sse {
	HSM_S3_SSE_NONE = 0,
	HSM_S3_SSE_S3,		/* x-amz-server-side-encryption: AES256 */
	HSM_S3_SSE_KMS,		/* ...: aws:kms (+ key id) */
};

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
	/* How the bucket is named in a request's URL (hsm_s3_addressing). */
	enum hsm_s3_addressing addressing;
	/*
	 * Server-side encryption of every object put() writes (signed
	 * x-amz-server-side-encryption headers): none, SSE-S3 (AES256) or
	 * SSE-KMS with sse_kms_key_id (NULL: the account's default key).
	 */
	enum hsm_s3_sse sse;
	const char *sse_kms_key_id;

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

	/*
	 * Streams of at least this many bytes go up as multipart uploads;
	 * smaller ones are held in memory whole (a batch: up to
	 * parallel_objects of them at once).
	 */
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
	/*
	 * Objects in flight at once in a batch (hsm_s3_put_batch()), each
	 * with its own connection; a batch of multipart puts may hold
	 * parallel_objects * parallel_parts * part_size bytes.
	 */
	unsigned int parallel_objects;

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

	/*
	 * Storage class of every object put() writes ("STANDARD_IA",
	 * "GLACIER", "DEEP_ARCHIVE"...; NULL: the bucket's default,
	 * STANDARD).  Sidecars stay STANDARD, so a cold copy's checksum can
	 * always be read.
	 */
	const char *storage_class;
	/*
	 * Reading a cold (GLACIER, DEEP_ARCHIVE) object that is not restored
	 * asks S3 to restore it for restore_days (0: the default) at
	 * restore_tier ("Standard", "Bulk", "Expedited"; NULL: Standard).
	 */
	unsigned int restore_days;
	const char *restore_tier;
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

/* ---- batches ---- */

struct hsm_s3_put_item {
	/* set by the caller */
	const struct hsm_object_info *info;
	hsm_read_fn reader;
	void *reader_arg;
	/* storage class of this copy; NULL: the backend's storage_class */
	const char *storage_class;
	/* results: ret 0 and res, or a negative errno and error */
	int ret;
	struct hsm_put_result res;
	char error[HSM_ERROR_MAX];
};

/*
 * put() each item, up to parallel_objects at once, each on its own
 * connection (multipart items also send their parts in parallel).  Each
 * item's reader is called from one thread, but not necessarily the
 * caller's, and readers of different items run concurrently.  Every item
 * is tried whatever the others do; returns 0 when all succeeded, else
 * the first failed item's errno with its error as the backend's.
 */
int hsm_s3_put_batch(struct hsm_backend *be, struct hsm_s3_put_item *items,
		     size_t nr);

struct hsm_s3_get_item {
	/* set by the caller: as backend.h get() */
	const char *location;
	uint64_t offset;
	uint64_t length;
	hsm_write_fn writer;
	void *writer_arg;
	/* results */
	int ret;
	char error[HSM_ERROR_MAX];
};

/* get() each item, up to parallel_objects at once, as hsm_s3_put_batch(). */
int hsm_s3_get_batch(struct hsm_backend *be, struct hsm_s3_get_item *items,
		     size_t nr);

/* ---- request counters ---- */

/*
 * Requests the backend (and its batches and part workers) performed so
 * far, by method, each counted once whatever its retries: how many PUTs
 * a pack of small files cost.
 */
struct hsm_s3_counters {
	uint64_t get, head, put, post, del;
};

void hsm_s3_counters(struct hsm_backend *be, struct hsm_s3_counters *out);

/* ---- cold storage classes ---- */

/*
 * get() and verify() of a copy in a cold storage class that has not been
 * restored return -EINPROGRESS after asking S3 to restore it
 * (RestoreObject), or after finding a restore already under way: "slow
 * copy, try again later", not a failure of the copy.  A stager that has
 * a warm copy elsewhere reads that one; otherwise it waits with
 * hsm_s3_restore_wait() and reads again.
 */
enum hsm_s3_restore_state {
	HSM_S3_WARM = 0,	/* readable now (a warm class, or restored) */
	HSM_S3_COLD,		/* archived, no restore asked for */
	HSM_S3_RESTORING,	/* a restore is under way */
};

struct hsm_s3_object_state {
	char storage_class[HSM_S3_STORAGE_CLASS_MAX];	/* "STANDARD"... */
	enum hsm_s3_restore_state restore;
	int64_t restore_expiry;	/* restored until (epoch s), 0: unknown */
};

/* Storage class and restore state of a copy (a HEAD). 0 or -errno. */
int hsm_s3_object_state(struct hsm_backend *be, const char *location,
			struct hsm_s3_object_state *st);

/*
 * Ask for a restore of a cold copy (RestoreObject): 0 when the copy is
 * readable already, -EINPROGRESS when a restore was asked for or is under
 * way, another -errno on failure.
 */
int hsm_s3_restore(struct hsm_backend *be, const char *location);

/*
 * Wait until a copy is readable: restore it if it is cold, then look
 * every poll_s seconds.  0 once it is readable, -ETIMEDOUT after
 * timeout_s seconds still restoring, another -errno on failure.
 */
int hsm_s3_restore_wait(struct hsm_backend *be, const char *location,
			unsigned int timeout_s, unsigned int poll_s);

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
