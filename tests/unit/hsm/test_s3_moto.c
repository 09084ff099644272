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
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
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

/* ---- the credential chain ---- */

/* Write text to dir/name (mode 0700 when is_exec); the path lands in out. */
static void write_test_file(const char *dir, const char *name, const char *text,
			    bool is_exec, char *out, size_t out_len)
{
	hsm_test_path(out, out_len, dir, name);
	assert_int_equal(hsm_test_write_file(out, text, strlen(text)), 0);
	if (is_exec)
		assert_int_equal(chmod(out, 0700), 0);
}

/* A backend on moto with no keys in its configuration: the chain decides. */
static struct hsm_backend *moto_backend_from_chain(unsigned int refresh_s)
{
	struct hsm_s3_config cfg;

	moto_config(&cfg);
	cfg.access_key = NULL;
	cfg.secret_key = NULL;
	cfg.credential_refresh_s = refresh_s;
	return hsm_test_s3_create(&cfg);
}

static void config_file_gives_profile_keys_and_region(void **state)
{
	struct hsm_test_dir *tmp = *state;
	struct hsm_s3_credentials creds;
	struct hsm_s3_config cfg;
	char err[HSM_ERROR_MAX], path[PATH_MAX], creds_path[PATH_MAX];

	hsm_test_s3_clear_env();
	hsm_s3_config_init(&cfg);
	write_test_file(tmp->path, "config",
			"[default]\nregion = eu-north-1\n"
			"[profile site]\nregion = eu-west-2\n"
			"aws_access_key_id = CFGFILEKEY\n"
			"aws_secret_access_key = CFGFILESECRET\n"
			"[profile both]\naws_access_key_id = FROMCONFIG\n"
			"aws_secret_access_key = FROMCONFIG\n", false,
			path, sizeof(path));
	write_test_file(tmp->path, "credentials",
			"[both]\naws_access_key_id = FROMCREDS\n"
			"aws_secret_access_key = FROMCREDS\n", false,
			creds_path, sizeof(creds_path));
	setenv("AWS_CONFIG_FILE", path, 1);
	setenv("AWS_SHARED_CREDENTIALS_FILE", creds_path, 1);

	assert_string_equal(hsm_s3_resolve_region(&cfg), "eu-north-1");
	setenv("AWS_PROFILE", "site", 1);
	assert_string_equal(hsm_s3_resolve_region(&cfg), "eu-west-2");
	assert_int_equal(hsm_s3_resolve_credentials(&cfg, &creds, err,
						    sizeof(err)), 0);
	assert_string_equal(creds.access_key, "CFGFILEKEY");
	assert_string_equal(creds.secret_key, "CFGFILESECRET");
	assert_int_equal(creds.expiration, 0);

	/* the credentials file wins over the config file */
	cfg.profile = "both";
	assert_int_equal(hsm_s3_resolve_credentials(&cfg, &creds, err,
						    sizeof(err)), 0);
	assert_string_equal(creds.access_key, "FROMCREDS");

	/* the environment's region wins over the file's */
	setenv("AWS_REGION", "ap-south-1", 1);
	assert_string_equal(hsm_s3_resolve_region(&cfg), "ap-south-1");

	/* nothing anywhere, metadata off: a clear refusal, no request */
	cfg.profile = "absent";
	assert_int_equal(hsm_s3_resolve_credentials(&cfg, &creds, err,
						    sizeof(err)), -ENOKEY);
	assert_non_null(strstr(err, "[absent]"));
	assert_non_null(strstr(err, "instance metadata disabled"));
	hsm_test_s3_clear_env();
}

static int count_lines(const char *path)
{
	FILE *f = fopen(path, "r");
	int c, n = 0;

	if (!f)
		return 0;
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

/*
 * A credential_process whose credentials expire 3 s after it runs, with
 * renewal 1 s before expiry: the first put uses the first answer, a put
 * after the credentials aged runs the process again first.
 */
static void credential_process_is_run_again_before_expiry(void **state)
{
	struct hsm_test_dir *tmp = *state;
	char script_path[PATH_MAX], config_path[PATH_MAX], calls[PATH_MAX];
	char *script, *config;
	struct hsm_put_result res;
	struct hsm_backend *be;

	REQUIRE_MOTO();
	hsm_test_s3_clear_env();
	hsm_test_path(calls, sizeof(calls), tmp->path, "calls");
	assert_true(asprintf(&script,
			     "#!/bin/sh\necho run >> '%s'\n"
			     "printf '{\"Version\": 1, \"AccessKeyId\": \"%s\", "
			     "\"SecretAccessKey\": \"%s\", \"Expiration\": \"%%s\"}' "
			     "\"$(date -u -d '+3 seconds' +%%Y-%%m-%%dT%%H:%%M:%%SZ)\"\n",
			     calls, moto.access_key, moto.secret_key) > 0);
	write_test_file(tmp->path, "cred-process", script, true, script_path,
			sizeof(script_path));
	free(script);
	assert_true(asprintf(&config, "[profile proc]\ncredential_process = %s\n",
			     script_path) > 0);
	write_test_file(tmp->path, "config", config, false, config_path,
			sizeof(config_path));
	free(config);
	setenv("AWS_CONFIG_FILE", config_path, 1);
	setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials", 1);
	setenv("AWS_PROFILE", "proc", 1);

	be = moto_backend_from_chain(1);
	assert_int_equal(count_lines(calls), 1);
	hsm_test_s3_assert_put(be, 500, 5000, 100, &res);
	assert_int_equal(count_lines(calls), 1);

	usleep(2500 * 1000);
	hsm_test_s3_assert_put(be, 501, 5001, 100, &res);
	assert_int_equal(count_lines(calls), 2);
	hsm_backend_destroy(be);
	hsm_test_s3_clear_env();
}

/*
 * moto checks signatures of STS calls too, but AssumeRoleWithWebIdentity
 * is unsigned by design (the token is the proof): let the next n requests
 * through unchecked, as moto-start does for its setup.
 */
static void moto_allow_unsigned_requests(int n)
{
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: text/plain");
	char url[128], body[16];
	CURL *curl = curl_easy_init();
	long status = 0;

	assert_non_null(curl);
	snprintf(url, sizeof(url), "%s/moto-api/reset-auth", moto.endpoint);
	snprintf(body, sizeof(body), "%d", n);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, fwrite);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, stderr);
	assert_int_equal(curl_easy_perform(curl), CURLE_OK);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	assert_int_equal(status, 200);
	fprintf(stderr, "\n");
	curl_easy_cleanup(curl);
	curl_slist_free_all(h);
}

static void web_identity_token_is_exchanged_with_sts(void **state)
{
	struct hsm_test_dir *tmp = *state;
	struct hsm_s3_credentials creds;
	struct hsm_s3_config cfg;
	char token_path[PATH_MAX], err[HSM_ERROR_MAX];
	struct hsm_backend *be;

	REQUIRE_MOTO();
	hsm_test_s3_clear_env();
	write_test_file(tmp->path, "token", "eyJhbGciOiJSUzI1NiJ9.test.token\n",
			false, token_path, sizeof(token_path));
	setenv("AWS_WEB_IDENTITY_TOKEN_FILE", token_path, 1);
	setenv("AWS_ROLE_ARN", hsm_test_s3_var(&moto, "MOTO_ROLE_ARN"), 1);
	setenv("AWS_ENDPOINT_URL_STS", moto.endpoint, 1);

	moto_allow_unsigned_requests(1);
	moto_config(&cfg);
	cfg.access_key = NULL;
	cfg.secret_key = NULL;
	assert_int_equal(hsm_s3_resolve_credentials(&cfg, &creds, err,
						    sizeof(err)), 0);
	assert_non_null(strstr(creds.source, "web identity"));
	assert_true(creds.session_token[0] != '\0');
	assert_true(creds.expiration > (int64_t)time(NULL));

	/* the role's temporary key works only with its session token */
	moto_allow_unsigned_requests(1);
	be = moto_backend_from_chain(HSM_S3_DEFAULT_CREDENTIAL_REFRESH_S);
	hsm_test_s3_assert_round_trip(be, 600, 6000, 4096);
	hsm_backend_destroy(be);

	/* half a web identity is an error, not a fall-through */
	unsetenv("AWS_ROLE_ARN");
	assert_int_equal(hsm_s3_resolve_credentials(&cfg, &creds, err,
						    sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "AWS_ROLE_ARN"));
	hsm_test_s3_clear_env();
}

static void instance_metadata_v2_gives_credentials(void **state)
{
	struct hsm_test_s3_server imds = { .script = "imds-start" };
	struct hsm_s3_credentials creds;
	struct hsm_s3_config cfg;
	char args[512], endpoint[64], err[HSM_ERROR_MAX];
	struct hsm_backend *be;

	(void)state;
	REQUIRE_MOTO();
	hsm_test_s3_clear_env();
	snprintf(args, sizeof(args), "'%s' '%s'", moto.access_key,
		 moto.secret_key);
	if (hsm_test_s3_start(&imds, args) != 0)
		fail_msg("imds-start failed");
	snprintf(endpoint, sizeof(endpoint), "http://127.0.0.1:%d", imds.port);
	setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials", 1);
	setenv("AWS_CONFIG_FILE", "/nonexistent/config", 1);
	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", endpoint, 1);
	unsetenv("AWS_EC2_METADATA_DISABLED");

	moto_config(&cfg);
	cfg.access_key = NULL;
	cfg.secret_key = NULL;
	assert_int_equal(hsm_s3_resolve_credentials(&cfg, &creds, err,
						    sizeof(err)), 0);
	assert_string_equal(creds.access_key, moto.access_key);
	assert_non_null(strstr(creds.source, "hsm-test-role"));
	assert_true(creds.expiration > (int64_t)time(NULL) + 3000);

	be = moto_backend_from_chain(HSM_S3_DEFAULT_CREDENTIAL_REFRESH_S);
	hsm_test_s3_assert_round_trip(be, 700, 7000, 4096);
	hsm_backend_destroy(be);
	hsm_test_s3_stop(&imds, "");

	/* nobody answering there: the chain ends with a clear refusal */
	assert_int_equal(hsm_s3_resolve_credentials(&cfg, &creds, err,
						    sizeof(err)), -ENOKEY);
	assert_non_null(strstr(err, "instance metadata"));
	hsm_test_s3_clear_env();
}

/* ---- listing, lost answers and retries (through tests/s3/fault-proxy) ---- */

static struct hsm_test_s3_server proxy = { .script = "fault-proxy-start" };

/* Start the fault proxy in front of moto; the backend's endpoint is it. */
static void proxy_start(void)
{
	char args[32];

	snprintf(args, sizeof(args), "%d", moto.port);
	if (hsm_test_s3_start(&proxy, args) != 0)
		fail_msg("fault-proxy-start failed");
	snprintf(proxy.access_key, sizeof(proxy.access_key), "%s",
		 moto.access_key);
	snprintf(proxy.secret_key, sizeof(proxy.secret_key), "%s",
		 moto.secret_key);
}

static void proxy_stop(void)
{
	hsm_test_s3_stop(&proxy, "");
}

struct text_buf {
	char data[65536];
	size_t len;
};

static size_t text_buf_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct text_buf *tb = arg;
	size_t n = size * nmemb;

	if (tb->len + n >= sizeof(tb->data))
		return 0;
	memcpy(tb->data + tb->len, data, n);
	tb->len += n;
	tb->data[tb->len] = '\0';
	return n;
}

/* POST body (or GET when NULL) to the proxy's control path; answer in tb. */
static void proxy_control(const char *path, const char *body,
			  struct text_buf *tb)
{
	CURL *curl = curl_easy_init();
	char url[128];
	long status = 0;

	assert_non_null(curl);
	tb->len = 0;
	tb->data[0] = '\0';
	snprintf(url, sizeof(url), "%s%s", proxy.endpoint, path);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	if (body)
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, text_buf_write);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, tb);
	assert_int_equal(curl_easy_perform(curl), CURLE_OK);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	assert_int_equal(status, 200);
	curl_easy_cleanup(curl);
}

static void proxy_faults(const char *rules_json)
{
	struct text_buf tb;

	proxy_control("/__proxy__/faults", rules_json, &tb);
}

/* How many requests the proxy logged that contain what. */
static int proxy_count(const char *what)
{
	static struct text_buf tb;
	const char *p;
	int n = 0;

	proxy_control("/__proxy__/log", NULL, &tb);
	for (p = tb.data; (p = strstr(p, what)); p += strlen(what))
		n++;
	return n;
}

static struct hsm_backend *proxy_backend(void)
{
	struct hsm_s3_config cfg;

	moto_config(&cfg);
	cfg.endpoint = proxy.endpoint;
	cfg.retries = 3;
	return hsm_test_s3_create(&cfg);
}

struct listed {
	char locations[8][HSM_LOCATION_MAX];
	uint64_t bytes[8];
	unsigned int nr;
};

static int collect_location(void *arg, const char *location, uint64_t bytes)
{
	struct listed *l = arg;

	if (l->nr >= 8)
		return -E2BIG;
	snprintf(l->locations[l->nr], HSM_LOCATION_MAX, "%s", location);
	l->bytes[l->nr++] = bytes;
	return 0;
}

/*
 * moto 5.2 computes the signature of a query holding "%2F" (an encoded
 * '/') over the decoded value, so a prefix with a '/' fails there with
 * SignatureDoesNotMatch whoever signs (boto3 too); the prefixes here have
 * none.  AWS signs the encoded form, as we do.
 */
static struct hsm_backend *list_backend(const char *key_prefix)
{
	struct hsm_s3_config cfg;

	moto_config(&cfg);
	cfg.endpoint = proxy.endpoint;
	cfg.key_prefix = key_prefix;
	cfg.list_page_keys = 2;
	return hsm_test_s3_create(&cfg);
}

static void list_finds_every_copy_across_pages(void **state)
{
	static const uint64_t sizes[] = { 10, 0, 6 * MiB + 1, 3000, 77 };
	struct hsm_put_result res[5], other;
	struct hsm_backend *be, *be_other;
	struct listed l;
	unsigned int i, j;

	(void)state;
	REQUIRE_MOTO();
	proxy_start();
	be = list_backend("listtest-");
	be_other = list_backend("listother-");
	for (i = 0; i < 5; i++)
		assert_int_equal(hsm_test_s3_put_pattern(be, 800 + i, 8000 + i,
							 sizes[i], &res[i]), 0);
	assert_int_equal(hsm_test_s3_put_pattern(be_other, 810, 8100, 5,
						 &other), 0);
	memset(&l, 0, sizeof(l));
	if (hsm_backend_list(be, "", collect_location, &l))
		fail_msg("list: %s", hsm_backend_error(be));
	/* five copies, the multipart one's sidecar not among them */
	assert_int_equal(l.nr, 5);
	for (i = 0; i < 5; i++) {
		for (j = 0; j < l.nr; j++)
			if (strcmp(l.locations[j], res[i].location) == 0)
				break;
		assert_true(j < l.nr);
		assert_int_equal(l.bytes[j], sizes[i]);
	}
	/* 5 objects + 1 sidecar at 2 keys a page: 3 pages */
	assert_int_equal(proxy_count("list-type=2"), 3);

	/* another prefix, another set */
	memset(&l, 0, sizeof(l));
	assert_int_equal(hsm_backend_list(be_other, "", collect_location, &l), 0);
	assert_int_equal(l.nr, 1);
	assert_string_equal(l.locations[0], other.location);
	hsm_backend_destroy(be);
	hsm_backend_destroy(be_other);
	proxy_stop();
}

static void lost_completion_answer_still_commits_the_copy(void **state)
{
	struct hsm_stat_result st;
	struct hsm_put_result res;
	struct hsm_backend *be;
	uint64_t bytes = 0;

	(void)state;
	REQUIRE_MOTO();
	proxy_start();
	be = proxy_backend();
	/*
	 * moto completes the upload, the answer never reaches us, and the
	 * retry is told what AWS says of a completed upload's id: 404
	 * NoSuchUpload ("... aborted or completed").  (moto itself would
	 * complete it again.)
	 */
	proxy_faults("[{\"method\": \"POST\", \"query\": \"uploadId=\", "
		     "\"action\": \"drop\", \"count\": 1},"
		     " {\"method\": \"POST\", \"query\": \"uploadId=\", "
		     "\"action\": \"error\", \"status\": 404, "
		     "\"code\": \"NoSuchUpload\", \"count\": 1}]");
	hsm_test_s3_assert_put(be, 900, 9000, 11 * MiB, &res);
	assert_int_equal(proxy_count("uploadId=") - proxy_count("partNumber="),
			 2);
	assert_int_equal(be->ops->stat(be, res.location, &st), 0);
	assert_true(hsm_checksum_equal(&st.checksum, &res.checksum));
	assert_int_equal(hsm_test_s3_get_and_compare(be, res.location, 9000, 0,
						     UINT64_MAX, &bytes), 0);
	assert_int_equal(bytes, 11 * MiB);
	hsm_backend_destroy(be);
	proxy_stop();
}

static void throttling_and_server_errors_are_retried(void **state)
{
	struct hsm_put_result res;
	struct hsm_backend *be;
	uint64_t bytes;

	(void)state;
	REQUIRE_MOTO();
	proxy_start();
	be = proxy_backend();
	proxy_faults("[{\"method\": \"PUT\", \"action\": \"error\", \"status\": 503, "
		     "\"code\": \"SlowDown\", \"count\": 2},"
		     " {\"method\": \"GET\", \"action\": \"error\", \"status\": 500, "
		     "\"code\": \"InternalError\", \"count\": 1}]");
	hsm_test_s3_assert_put(be, 1000, 10000, 4096, &res);
	assert_int_equal(proxy_count("PUT "), 3);
	assert_int_equal(proxy_count(" error"), 2);
	assert_int_equal(hsm_test_s3_get_and_compare(be, res.location, 10000, 0,
						     UINT64_MAX, &bytes), 0);
	assert_int_equal(proxy_count(" error"), 3);

	/* a client error is not retried */
	proxy_faults("[{\"method\": \"PUT\", \"action\": \"error\", \"status\": 400, "
		     "\"code\": \"InvalidArgument\", \"count\": 5}]");
	assert_int_equal(hsm_test_s3_put_pattern(be, 1001, 10001, 10, &res),
			 -EINVAL);
	hsm_test_s3_assert_error(be, "400 InvalidArgument");
	assert_int_equal(proxy_count(" error"), 4);
	hsm_backend_destroy(be);
	proxy_stop();
}

static void a_stalled_answer_times_out_and_is_retried(void **state)
{
	struct hsm_s3_config cfg;
	struct hsm_put_result res;
	struct hsm_backend *be;

	(void)state;
	REQUIRE_MOTO();
	proxy_start();
	moto_config(&cfg);
	cfg.endpoint = proxy.endpoint;
	cfg.request_timeout_ms = 1000;
	be = hsm_test_s3_create(&cfg);
	proxy_faults("[{\"method\": \"PUT\", \"action\": \"delay\", \"seconds\": 3, "
		     "\"count\": 1}]");
	hsm_test_s3_assert_put(be, 1100, 11000, 4096, &res);
	assert_int_equal(proxy_count(" delay"), 1);
	assert_int_equal(proxy_count("PUT "), 2);
	hsm_backend_destroy(be);
	proxy_stop();
}

/* ExpiredToken: the chain is asked again at once, then the request. */
static void expired_token_answer_renews_credentials_and_retries(void **state)
{
	struct hsm_test_dir *tmp = *state;
	char script_path[PATH_MAX], config_path[PATH_MAX], calls[PATH_MAX];
	struct hsm_s3_config cfg;
	struct hsm_put_result res;
	struct hsm_backend *be;
	char *script, *config;

	REQUIRE_MOTO();
	proxy_start();
	hsm_test_s3_clear_env();
	hsm_test_path(calls, sizeof(calls), tmp->path, "calls");
	assert_true(asprintf(&script,
			     "#!/bin/sh\necho run >> '%s'\n"
			     "echo '{\"Version\": 1, \"AccessKeyId\": \"%s\", "
			     "\"SecretAccessKey\": \"%s\"}'\n",
			     calls, moto.access_key, moto.secret_key) > 0);
	write_test_file(tmp->path, "cred-process", script, true, script_path,
			sizeof(script_path));
	free(script);
	assert_true(asprintf(&config, "[default]\ncredential_process = %s\n",
			     script_path) > 0);
	write_test_file(tmp->path, "config", config, false, config_path,
			sizeof(config_path));
	free(config);
	setenv("AWS_CONFIG_FILE", config_path, 1);
	setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials", 1);

	moto_config(&cfg);
	cfg.endpoint = proxy.endpoint;
	cfg.access_key = NULL;
	cfg.secret_key = NULL;
	be = hsm_test_s3_create(&cfg);
	assert_int_equal(count_lines(calls), 1);
	proxy_faults("[{\"method\": \"PUT\", \"action\": \"error\", \"status\": 400, "
		     "\"code\": \"ExpiredToken\", \"count\": 1}]");
	hsm_test_s3_assert_put(be, 1200, 12000, 100, &res);
	assert_int_equal(count_lines(calls), 2);
	assert_int_equal(proxy_count("PUT "), 2);
	hsm_backend_destroy(be);
	hsm_test_s3_clear_env();
	proxy_stop();
}

static void skewed_clock_is_corrected_from_the_server_time(void **state)
{
	struct hsm_put_result res;
	struct hsm_backend *be;
	uint64_t bytes;

	(void)state;
	REQUIRE_MOTO();
	proxy_start();
	be = proxy_backend();
	/* the service's clock is an hour ahead of ours */
	proxy_faults("[{\"action\": \"skew\", \"seconds\": 3600, "
		     "\"count\": 1000}]");
	hsm_test_s3_assert_put(be, 1300, 13000, 100, &res);
	assert_int_equal(proxy_count("skew-refused"), 1);
	/* learnt once: later requests are signed at the service's time */
	hsm_test_s3_assert_put(be, 1301, 13001, 6 * MiB + 3, &res);
	assert_int_equal(hsm_test_s3_get_and_compare(be, res.location, 13001, 0,
						     UINT64_MAX, &bytes), 0);
	assert_int_equal(proxy_count("skew-refused"), 1);
	hsm_backend_destroy(be);
	proxy_stop();
}

/*
 * A read is one GET (the answer carries the metadata the checksum check
 * needs); a multipart copy adds the GET of its small sidecar.  No HEAD.
 */
static void get_sends_no_head_first(void **state)
{
	struct hsm_put_result small, big;
	struct hsm_backend *be;
	uint64_t bytes = 0;
	int gets;

	(void)state;
	REQUIRE_MOTO();
	proxy_start();
	be = proxy_backend();
	hsm_test_s3_assert_put(be, 1400, 14000, 4096, &small);
	hsm_test_s3_assert_put(be, 1401, 14001, 11 * MiB + 3, &big);
	gets = proxy_count("GET ");

	assert_int_equal(hsm_test_s3_get_and_compare(be, small.location, 14000,
						     0, UINT64_MAX, &bytes), 0);
	assert_int_equal(bytes, 4096);
	assert_int_equal(proxy_count("GET "), gets + 1);
	assert_int_equal(hsm_test_s3_get_and_compare(be, small.location, 14000,
						     100, 50, &bytes), 0);
	assert_int_equal(bytes, 50);
	assert_int_equal(proxy_count("GET "), gets + 2);
	assert_int_equal(hsm_test_s3_get_and_compare(be, big.location, 14001,
						     0, UINT64_MAX, &bytes), 0);
	assert_int_equal(bytes, 11 * MiB + 3);
	assert_int_equal(proxy_count("GET "), gets + 4);
	assert_int_equal(proxy_count(".sha256"), 2);	/* its PUT and GET */
	assert_int_equal(proxy_count("HEAD "), 0);

	/* the end of the object is an empty read, past it an error */
	assert_int_equal(hsm_test_s3_get_and_compare(be, small.location, 14000,
						     4096, 10, &bytes), 0);
	assert_int_equal(bytes, 0);
	assert_int_equal(hsm_test_s3_get_and_compare(be, small.location, 14000,
						     4097, 10, &bytes), -EINVAL);
	hsm_test_s3_assert_error(be, "past the end");
	assert_int_equal(hsm_test_s3_get_and_compare(be, "t/no/such/key", 1, 0,
						     UINT64_MAX, &bytes), -ENOENT);
	hsm_test_s3_assert_error(be, "NoSuchKey");
	hsm_backend_destroy(be);
	proxy_stop();
}

/* ---- addressing and server-side encryption ---- */

static void virtual_host_addressing_names_the_bucket_in_the_host(void **state)
{
	struct hsm_s3_config cfg;
	struct hsm_backend *be;
	char endpoint[64];

	(void)state;
	REQUIRE_MOTO();
	proxy_start();
	/* "hsm-test.localhost" is loopback: curl resolves *.localhost itself */
	snprintf(endpoint, sizeof(endpoint), "http://localhost:%d", proxy.port);
	moto_config(&cfg);
	cfg.endpoint = endpoint;
	cfg.addressing = HSM_S3_ADDRESSING_VIRTUAL_HOST;
	be = hsm_test_s3_create(&cfg);
	hsm_test_s3_assert_round_trip(be, 1600, 16000, 100);
	hsm_test_s3_assert_round_trip(be, 1601, 16001, 6 * MiB + 1);
	/* the bucket travelled in the Host header, never in a path */
	assert_true(proxy_count("PUT /t/") >= 3);
	assert_true(proxy_count("GET /t/") >= 2);
	assert_int_equal(proxy_count("/" HSM_TEST_S3_BUCKET "/"), 0);
	hsm_backend_destroy(be);

	/* the default for "localhost" is path style */
	cfg.addressing = HSM_S3_ADDRESSING_AUTO;
	be = hsm_test_s3_create(&cfg);
	hsm_test_s3_assert_round_trip(be, 1602, 16002, 100);
	assert_true(proxy_count("PUT /" HSM_TEST_S3_BUCKET "/t/") >= 1);
	hsm_backend_destroy(be);
	proxy_stop();
}

struct head_answer {
	char storage_class[512];
	char sse[512];
	char kms_key[512];
};

static size_t head_header(char *data, size_t size, size_t nmemb, void *arg)
{
	static const char sse[] = "x-amz-server-side-encryption:";
	static const char kms[] = "x-amz-server-side-encryption-aws-kms-key-id:";
	static const char sc[] = "x-amz-storage-class:";
	struct head_answer *ha = arg;
	size_t n = size * nmemb;
	char line[512];

	snprintf(line, sizeof(line), "%.*s", (int)(n < 511 ? n : 511), data);
	line[strcspn(line, "\r\n")] = '\0';
	if (strncasecmp(line, sse, sizeof(sse) - 1) == 0)
		snprintf(ha->sse, sizeof(ha->sse), "%s", line + sizeof(sse));
	else if (strncasecmp(line, sc, sizeof(sc) - 1) == 0)
		snprintf(ha->storage_class, sizeof(ha->storage_class), "%s",
			 line + sizeof(sc));
	else if (strncasecmp(line, kms, sizeof(kms) - 1) == 0)
		snprintf(ha->kms_key, sizeof(ha->kms_key), "%s",
			 line + sizeof(kms));
	return n;
}

/* HEAD an object on moto itself, signed, for what moto stored with it. */
static void moto_head(const char *key, struct head_answer *ha)
{
	CURL *curl = curl_easy_init();
	char url[HSM_LOCATION_MAX + 128], userpwd[300];
	struct curl_slist *headers;
	long status = 0;

	memset(ha, 0, sizeof(*ha));
	assert_non_null(curl);
	snprintf(url, sizeof(url), "%s/%s/%s", moto.endpoint,
		 HSM_TEST_S3_BUCKET, key);
	snprintf(userpwd, sizeof(userpwd), "%s:%s", moto.access_key,
		 moto.secret_key);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
	curl_easy_setopt(curl, CURLOPT_AWS_SIGV4, "aws:amz:us-east-1:s3");
	curl_easy_setopt(curl, CURLOPT_USERPWD, userpwd);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, head_header);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, ha);
	headers = curl_slist_append(NULL, "x-amz-content-sha256: "
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	assert_non_null(headers);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	assert_int_equal(curl_easy_perform(curl), CURLE_OK);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	assert_int_equal(status, 200);
	curl_easy_cleanup(curl);
	curl_slist_free_all(headers);
}

#define TEST_KMS_KEY "arn:aws:kms:us-east-1:123456789012:key/hsm-test-key"

/*
 * A KMS key id is refused, by name, where libcurl cannot sign it (before
 * 8.10): true when this libcurl can.
 */
static bool kms_key_id_is_signable(const struct hsm_s3_config *cfg)
{
	const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
	struct hsm_backend *be = NULL;
	char err[HSM_ERROR_MAX];
	int ret;

	ret = hsm_s3_backend_create(cfg, &be, err, sizeof(err));
	hsm_backend_destroy(be);
	if (v->version_num >= 0x080a00) {
		assert_int_equal(ret, 0);
		return true;
	}
	assert_int_equal(ret, -ENOTSUP);
	assert_non_null(strstr(err, "8.10.0"));
	fprintf(stderr, "# libcurl %s: SSE-KMS key id refused: %s\n",
		v->version, err);
	return false;
}

static void server_side_encryption_is_asked_for_and_signed(void **state)
{
	struct hsm_put_result small, big;
	struct head_answer ha;
	struct hsm_s3_config cfg;
	struct hsm_backend *be;
	bool is_key_id = true;

	(void)state;
	REQUIRE_MOTO();
	proxy_start();
	moto_config(&cfg);
	cfg.endpoint = proxy.endpoint;
	cfg.sse = HSM_S3_SSE_KMS;
	cfg.sse_kms_key_id = TEST_KMS_KEY;
	if (!kms_key_id_is_signable(&cfg)) {
		/* the account's default KMS key: one header */
		cfg.sse_kms_key_id = NULL;
		is_key_id = false;
	}
	be = hsm_test_s3_create(&cfg);
	hsm_test_s3_assert_put(be, 1700, 17000, 100, &small);
	hsm_test_s3_assert_put(be, 1701, 17001, 6 * MiB + 1, &big);
	hsm_test_s3_assert_round_trip(be, 1702, 17002, 10);
	/*
	 * The object PUTs, the upload's start and the sidecar PUT carry the
	 * headers, inside the signature; parts do not (S3 takes them from
	 * the upload).
	 */
	assert_int_equal(proxy_count("x-amz-server-side-encryption"),
			 is_key_id ? 8 : 4);
	assert_int_equal(proxy_count("x-amz-server-side-encryption-aws-kms-key-id"),
			 is_key_id ? 4 : 0);
	moto_head(small.location, &ha);
	assert_string_equal(ha.sse, "aws:kms");
	if (is_key_id)
		assert_non_null(strstr(ha.kms_key, "hsm-test-key"));
	moto_head(big.location, &ha);
	assert_string_equal(ha.sse, "aws:kms");
	hsm_backend_destroy(be);

	cfg.sse = HSM_S3_SSE_S3;
	cfg.sse_kms_key_id = NULL;
	be = hsm_test_s3_create(&cfg);
	hsm_test_s3_assert_put(be, 1703, 17003, 100, &small);
	moto_head(small.location, &ha);
	assert_string_equal(ha.sse, "AES256");
	assert_string_equal(ha.kms_key, "");
	hsm_backend_destroy(be);

	/* a key id without SSE-KMS is a configuration mistake */
	{
		struct hsm_backend *bad = NULL;
		char err[HSM_ERROR_MAX];

		cfg.sse_kms_key_id = TEST_KMS_KEY;
		assert_int_equal(hsm_s3_backend_create(&cfg, &bad, err,
						       sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "SSE-KMS"));
	}
	proxy_stop();
}

/* ---- storage classes ---- */

/* Let moto's restores take `reads` looks at their state to finish. */
static void moto_restores_take(int reads)
{
	CURL *curl = curl_easy_init();
	char url[128], body[256];
	long status = 0;

	assert_non_null(curl);
	snprintf(url, sizeof(url), "%s/moto-api/state-manager/set-transition",
		 moto.endpoint);
	snprintf(body, sizeof(body),
		 "{\"model_name\": \"s3::keyrestore\", \"transition\": "
		 "{\"progression\": \"manual\", \"times\": %d}}", reads);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
	assert_int_equal(curl_easy_perform(curl), CURLE_OK);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	assert_int_equal(status, 201);
	curl_easy_cleanup(curl);
}

static void cold_copy_is_restored_and_reported_as_slow(void **state)
{
	static const uint64_t sizes[] = { 100, 6 * MiB + 1 };
	struct hsm_s3_object_state st;
	struct hsm_put_result res;
	struct head_answer ha;
	struct hsm_s3_config cfg;
	struct hsm_backend *be;
	char sidecar[HSM_LOCATION_MAX + 16];
	uint64_t bytes;
	unsigned int i;

	(void)state;
	REQUIRE_MOTO();
	proxy_start();
	moto_config(&cfg);
	cfg.endpoint = proxy.endpoint;
	cfg.storage_class = "GLACIER";
	cfg.restore_days = 2;
	be = hsm_test_s3_create(&cfg);
	for (i = 0; i < 2; i++) {
		hsm_test_s3_assert_put(be, 1800 + i, 18000 + i, sizes[i], &res);
		moto_head(res.location, &ha);
		assert_string_equal(ha.storage_class, "GLACIER");
		assert_int_equal(hsm_s3_object_state(be, res.location, &st), 0);
		assert_string_equal(st.storage_class, "GLACIER");
		assert_int_equal(st.restore, HSM_S3_COLD);

		/* a read is not a failure: a restore is asked for, try later */
		assert_int_equal(hsm_test_s3_get_and_compare(be, res.location,
							     18000 + i, 0,
							     UINT64_MAX, &bytes),
				 -EINPROGRESS);
		assert_int_equal(bytes, 0);
		hsm_test_s3_assert_error(be, "restore asked for (2 days");
		/* one more restore asked by the verify() while restoring */
		assert_int_equal(proxy_count("?restore="), 2 * (int)i + 1);
		/* the restore takes three looks: restoring, then readable */
		moto_restores_take(3);
		assert_int_equal(hsm_s3_object_state(be, res.location, &st), 0);
		assert_int_equal(st.restore, HSM_S3_RESTORING);
		assert_int_equal(be->ops->verify(be, res.location), -EINPROGRESS);
		assert_int_equal(hsm_s3_restore_wait(be, res.location, 30, 1), 0);
		assert_int_equal(hsm_s3_object_state(be, res.location, &st), 0);
		assert_int_equal(st.restore, HSM_S3_WARM);
		assert_true(st.restore_expiry > time(NULL) + 86400);
		assert_int_equal(hsm_test_s3_get_and_compare(be, res.location,
							     18000 + i, 0,
							     UINT64_MAX, &bytes),
				 0);
		assert_int_equal(bytes, sizes[i]);
	}
	/* the multipart copy's sidecar stayed warm */
	snprintf(sidecar, sizeof(sidecar), "%s.sha256", res.location);
	moto_head(sidecar, &ha);
	assert_string_equal(ha.storage_class, "");
	hsm_backend_destroy(be);

	/* a warm class reads at once */
	cfg.storage_class = "STANDARD_IA";
	be = hsm_test_s3_create(&cfg);
	hsm_test_s3_assert_round_trip(be, 1810, 18100, 1000);

	/* in a batch each copy may name its own class */
	{
		/*
		 * The caller's thread runs the first item: its class must
		 * not leak into the other workers' items.
		 */
		static const char *const classes[] = { "DEEP_ARCHIVE", NULL,
						       "GLACIER_IR", "bad" };
		struct hsm_object_info infos[4];
		struct hsm_test_reader readers[4];
		struct hsm_s3_put_item items[4];

		memset(items, 0, sizeof(items));
		for (i = 0; i < 4; i++) {
			hsm_test_s3_info(&infos[i], 1820 + i, 10);
			hsm_test_reader_init(&readers[i], 18200 + i,
					     HSM_TEST_PATTERN_RANDOM, 10);
			items[i].info = &infos[i];
			items[i].reader = hsm_test_read;
			items[i].reader_arg = &readers[i];
			items[i].storage_class = classes[i];
		}
		assert_int_equal(hsm_s3_put_batch(be, items, 4), -EINVAL);
		hsm_test_s3_assert_error(be, "no S3 storage class");
		assert_int_equal(items[3].ret, -EINVAL);
		for (i = 0; i < 3; i++) {
			assert_int_equal(items[i].ret, 0);
			moto_head(items[i].res.location, &ha);
			assert_string_equal(ha.storage_class,
					    classes[i] ? classes[i] : "STANDARD_IA");
		}
		/* GLACIER_IR is instant retrieval: warm */
		assert_int_equal(hsm_s3_object_state(be, items[2].res.location,
						     &st), 0);
		assert_int_equal(st.restore, HSM_S3_WARM);
		assert_int_equal(hsm_s3_object_state(be, items[0].res.location,
						     &st), 0);
		assert_int_equal(st.restore, HSM_S3_COLD);
	}
	hsm_backend_destroy(be);
	proxy_stop();

	cfg.storage_class = "glacier";
	{
		struct hsm_backend *bad = NULL;
		char err[HSM_ERROR_MAX];

		assert_int_equal(hsm_s3_backend_create(&cfg, &bad, err,
						       sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "storage class"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(signed_requests_round_trip),
		cmocka_unit_test(signed_ranged_get_returns_the_range),
		cmocka_unit_test(wrong_secret_fails_with_signature_does_not_match),
		cmocka_unit_test(unknown_access_key_fails_with_invalid_access_key),
		cmocka_unit_test(signed_delete_and_missing_key),
		cmocka_unit_test_setup_teardown(config_file_gives_profile_keys_and_region,
						hsm_test_dir_setup,
						hsm_test_dir_teardown),
		cmocka_unit_test_setup_teardown(credential_process_is_run_again_before_expiry,
						hsm_test_dir_setup,
						hsm_test_dir_teardown),
		cmocka_unit_test_setup_teardown(web_identity_token_is_exchanged_with_sts,
						hsm_test_dir_setup,
						hsm_test_dir_teardown),
		cmocka_unit_test(instance_metadata_v2_gives_credentials),
		cmocka_unit_test(list_finds_every_copy_across_pages),
		cmocka_unit_test(lost_completion_answer_still_commits_the_copy),
		cmocka_unit_test(throttling_and_server_errors_are_retried),
		cmocka_unit_test(a_stalled_answer_times_out_and_is_retried),
		cmocka_unit_test(skewed_clock_is_corrected_from_the_server_time),
		cmocka_unit_test(get_sends_no_head_first),
		cmocka_unit_test(virtual_host_addressing_names_the_bucket_in_the_host),
		cmocka_unit_test(server_side_encryption_is_asked_for_and_signed),
		cmocka_unit_test(cold_copy_is_restored_and_reported_as_slow),
		cmocka_unit_test_setup_teardown(expired_token_answer_renews_credentials_and_retries,
						hsm_test_dir_setup,
						hsm_test_dir_teardown),
	};

	return cmocka_run_group_tests_name("s3_moto", tests, group_setup,
					   group_teardown);
}
