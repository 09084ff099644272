/* SPDX-License-Identifier: GPL-2.0 */
/*
 * s3_request.h: one signed S3 request with retries (s3_request.c).
 * Internal to the S3 backend; backend_s3.c is the only user.
 */
#ifndef SCOUTFS_HSM_S3_REQUEST_H
#define SCOUTFS_HSM_S3_REQUEST_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

#include "backend.h"
#include "backend_s3.h"

#define S3_CODE_MAX 64

/*
 * libcurl's SigV4 signs our x-amz-content-sha256 as the payload hash from
 * 7.87.0 on (the Makefile and the rpm spec require it too).
 */
#define S3_LIBCURL_MIN_VERSION_NUM 0x075700
#define S3_LIBCURL_MIN_VERSION "7.87.0"
#if LIBCURL_VERSION_NUM < S3_LIBCURL_MIN_VERSION_NUM
#error "the S3 backend needs libcurl >= 7.87.0 (see README.md, Older distributions)"
#endif

/*
 * The libcurl loaded at run time may be older than the headers built
 * against: 0, or -ENOTSUP with the versions named in err.
 */
int s3_check_libcurl(char *err, size_t err_len);

/*
 * Before 8.10.0 curl's SigV4 sorts canonical headers by whole "name:value"
 * line, not by name, so a header whose name is a prefix of another's
 * ("x-amz-server-side-encryption" and "...-aws-kms-key-id") lands after
 * it and S3 refuses the signature.  SSE-KMS with a key id needs 8.10.
 */
#define S3_LIBCURL_PREFIX_SORT_VERSION_NUM 0x080a00
#define S3_LIBCURL_PREFIX_SORT_VERSION "8.10.0"
bool s3_libcurl_sorts_prefix_headers(void);

/*
 * What every request of one backend shares.  Read-only once set up,
 * except the credentials, which cred_lock covers: any request thread may
 * renew them (s3_client_credentials()).
 */
/* The methods requests are counted by (s3_client.nr_requests). */
enum {
	S3_METHOD_GET = 0,
	S3_METHOD_HEAD,
	S3_METHOD_PUT,
	S3_METHOD_POST,
	S3_METHOD_DELETE,
	S3_NR_METHODS,
};

struct s3_client {
	char *bucket;
	char *base_url;		/* the bucket's URL, without a trailing '/' */
	char *sigv4;		/* "aws:amz:<region>:s3" */
	pthread_mutex_t cred_lock;
	bool is_cred_lock_init;
	struct hsm_s3_credentials *creds;
	/* what the chain is run with again to renew them */
	struct hsm_s3_config *cred_cfg;
	unsigned int credential_refresh_s;
	/*
	 * Seconds the service's clock is ahead of ours, learnt from a
	 * RequestTimeTooSkewed answer; requests are signed at now + this.
	 * Under cred_lock.
	 */
	int64_t clock_offset_s;
	/*
	 * Requests performed, by method (each once, however many attempts
	 * its retries took): hsm_s3_counters().  Atomic: every thread of
	 * the backend's batches and part uploads counts here.
	 */
	_Atomic uint64_t nr_requests[S3_NR_METHODS];
	unsigned int retries;
	unsigned int retry_base_ms;
	unsigned int retry_max_ms;
	unsigned int connect_timeout_ms;
	unsigned int stall_timeout_s;
	unsigned int request_timeout_ms;
};

/* Does cfg name its bucket in the path, for this endpoint scheme and host? */
bool s3_is_path_style(const struct hsm_s3_config *cfg, const char *scheme,
		      const char *host);

int s3_client_init(struct s3_client *cl, const struct hsm_s3_config *cfg,
		   const struct hsm_s3_credentials *creds, const char *region,
		   char *err, size_t err_len);
void s3_client_release(struct s3_client *cl);

#define S3_USERPWD_MAX (2 * HSM_S3_KEY_MAX + 2)
#define S3_TOKEN_HEADER_MAX (HSM_S3_TOKEN_MAX + 32)

/*
 * The credentials to sign the next request with, as CURLOPT_USERPWD
 * ("key:secret") and an "x-amz-security-token: ..." header ("" when
 * none).  They are renewed first when they expire within
 * credential_refresh_s, or always with is_forced (S3 said ExpiredToken).
 * A failed renewal keeps credentials that have not expired yet.  0, or a
 * negative errno with the reason in err.
 */
int s3_client_credentials(struct s3_client *cl, bool is_forced,
			  char *userpwd, char *token_header,
			  char *err, size_t err_len);

#define S3_DATE_HEADER_MAX 40
/*
 * "X-Amz-Date: ..." for the service's clock when a skew was learnt, else
 * "" (curl then signs at its own clock, time(NULL)).
 */
void s3_client_date_header(struct s3_client *cl, char *out);

struct s3_request {
	/* ---- set by the caller ---- */
	const char *method;	/* GET, HEAD, PUT, POST, DELETE */
	const char *key;	/* NULL: the bucket itself */
	/*
	 * Query string exactly as it must be signed: parameters sorted,
	 * values URI-encoded, "name=" for a valueless one ("uploads=").
	 */
	const char *query;
	struct curl_slist *headers;	/* extra headers, caller owns */
	const void *body;	/* PUT/POST body, sent from memory */
	size_t body_len;
	/* Hex SHA-256 of body when the caller already has it, else NULL. */
	const char *body_sha256;
	const char *what;	/* extra words for messages ("part 3") */
	bool has_range;
	uint64_t range_start;
	uint64_t range_len;	/* UINT64_MAX: to the end */
	/* When set, a 2xx body streams here instead of into resp. */
	hsm_write_fn sink;
	void *sink_arg;

	/* ---- results ---- */
	long status;		/* last HTTP status, 0 if none */
	char code[S3_CODE_MAX];	/* S3 error code of a failure, "" if none */
	char *resp;		/* buffered body (NUL-terminated) */
	size_t resp_len;
	size_t resp_cap;
	struct curl_slist *resp_headers;	/* "name: value", name lowercase */
	uint64_t sink_bytes;	/* bytes handed to sink, over all attempts */
	int sink_err;
};

/*
 * Run the request, retrying transient failures (connection errors,
 * timeouts, 5xx, throttling) with exponential backoff.  Returns 0 on a
 * 2xx answer; otherwise a negative errno with "s3: METHOD bucket/key:
 * cause" in err.  Uses (and resets) the caller's easy handle so that
 * connections are reused; one handle per thread.
 */
int s3_request_perform(CURL *curl, struct s3_client *cl,
		       struct s3_request *req, char *err, size_t err_len);
/* Free the results; the request can then be performed again. */
void s3_request_release(struct s3_request *req);

/* Value of a response header (name in lowercase), or NULL. */
const char *s3_response_header(const struct s3_request *req,
			       const char *name);

/*
 * Text of element <child> directly below root element <root> of an XML
 * document.  0, -ENOENT when absent, -EINVAL when xml is not XML,
 * -ENAMETOOLONG when out is too small.
 */
int s3_xml_child_text(const char *xml, size_t len, const char *root,
		      const char *child, char *out, size_t out_len);

/* errno for an S3 answer: 404 NoSuchBucket -> -ENXIO, 403 -> -EACCES... */
int s3_status_errno(long status, const char *code);

#endif
