// SPDX-License-Identifier: GPL-2.0
/*
 * hsm_test_s3.c: starting the S3 test servers and the backend helpers the
 * S3 tests share; see hsm_test_s3.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include "checksum.h"
#include "hsm_test_s3.h"
#include "hsm_test_util.h"

/* ---- servers ---- */

bool hsm_test_s3_script(const char *name, char *out, size_t out_len)
{
	char exe[PATH_MAX], top[PATH_MAX], rel[PATH_MAX];
	ssize_t n;
	int i;

	/* make -C tests/unit/hsm check runs here */
	snprintf(rel, sizeof(rel), "../../s3/%s", name);
	if (access(rel, X_OK) == 0 && realpath(rel, out))
		return true;
	/* TOP/build/<kind>/tests/unit/hsm/<test program> */
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0)
		return false;
	exe[n] = '\0';
	snprintf(top, sizeof(top), "%s", exe);
	for (i = 0; i < 6; i++)
		snprintf(top, sizeof(top), "%s", dirname(top));
	if ((size_t)snprintf(out, out_len, "%s/tests/s3/%s", top, name) >= out_len)
		return false;
	return access(out, X_OK) == 0;
}

static bool has_suffix(const char *name, size_t len, const char *suffix)
{
	size_t slen = strlen(suffix);

	return len >= slen && strncmp(name + len - slen, suffix, slen) == 0;
}

const char *hsm_test_s3_var(const struct hsm_test_s3_server *srv,
			    const char *name)
{
	size_t len = strlen(name);
	unsigned int i;

	for (i = 0; i < srv->nr_vars; i++)
		if (strncmp(srv->vars[i], name, len) == 0 &&
		    srv->vars[i][len] == '=')
			return srv->vars[i] + len + 1;
	return NULL;
}

static void copy_var(const struct hsm_test_s3_server *srv, const char *name,
		     char *out, size_t out_len)
{
	const char *v = hsm_test_s3_var(srv, name);

	if (v)
		snprintf(out, out_len, "%s", v);
}

int hsm_test_s3_start(struct hsm_test_s3_server *srv, const char *args)
{
	char script[PATH_MAX], cmd[2 * PATH_MAX], line[PATH_MAX];
	char prefix[64];
	FILE *out;
	size_t len;
	int status;

	srv->nr_vars = 0;
	srv->port = 0;
	srv->pid = 0;
	if (!hsm_test_s3_script(srv->script, script, sizeof(script)))
		return -EAGAIN;
	snprintf(cmd, sizeof(cmd), "'%s' %s", script, args);
	out = popen(cmd, "r");
	if (!out)
		return -EIO;
	while (fgets(line, sizeof(line), out)) {
		char *eq;

		line[strcspn(line, "\n")] = '\0';
		eq = strchr(line, '=');
		if (!eq)
			continue;
		len = (size_t)(eq - line);
		if (has_suffix(line, len, "_PORT"))
			srv->port = atoi(eq + 1);
		else if (has_suffix(line, len, "_PID"))
			srv->pid = (pid_t)atoi(eq + 1);
		if (srv->nr_vars < HSM_TEST_S3_VARS_MAX)
			snprintf(srv->vars[srv->nr_vars++], sizeof(srv->vars[0]),
				 "%s", line);
	}
	status = pclose(out);
	if (WIFEXITED(status) && WEXITSTATUS(status) == HSM_TEST_S3_SKIP_EXIT)
		return -EAGAIN;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !srv->port ||
	    !srv->pid)
		return -EIO;

	/* MOTO_ACCESS_KEY, ...: the prefix is the script's name */
	snprintf(prefix, sizeof(prefix), "%.*s", (int)strcspn(srv->script, "-"),
		 srv->script);
	for (len = 0; prefix[len]; len++)
		prefix[len] = (char)(prefix[len] >= 'a' && prefix[len] <= 'z' ?
				     prefix[len] - 'a' + 'A' : prefix[len]);
	snprintf(line, sizeof(line), "%s_ACCESS_KEY", prefix);
	copy_var(srv, line, srv->access_key, sizeof(srv->access_key));
	snprintf(line, sizeof(line), "%s_SECRET_KEY", prefix);
	copy_var(srv, line, srv->secret_key, sizeof(srv->secret_key));
	snprintf(srv->endpoint, sizeof(srv->endpoint), "http://127.0.0.1:%d",
		 srv->port);
	srv->is_available = true;
	return 0;
}

int hsm_test_s3_group_start(struct hsm_test_s3_server *srv, const char *what)
{
	int ret;

	hsm_test_s3_clear_env();
	ret = hsm_test_s3_start(srv, "-b " HSM_TEST_S3_BUCKET);
	if (ret == -EAGAIN) {
		fprintf(stderr, "# %s not installed; %s skip\n", srv->script,
			what);
		return 0;
	}
	if (ret)
		fprintf(stderr, "# %s failed\n", srv->script);
	return ret ? -1 : 0;
}

void hsm_test_s3_stop(struct hsm_test_s3_server *srv, const char *args)
{
	char script[PATH_MAX], name[64], cmd[2 * PATH_MAX];
	size_t len;

	if (srv->pid <= 0)
		return;
	/* "fault-proxy-start" -> "fault-proxy-stop" */
	len = strlen(srv->script);
	if (len > strlen("-start"))
		len -= strlen("-start");
	snprintf(name, sizeof(name), "%.*s-stop", (int)len, srv->script);
	if (hsm_test_s3_script(name, script, sizeof(script))) {
		snprintf(cmd, sizeof(cmd), "'%s' %d %s", script, (int)srv->pid,
			 args);
		if (system(cmd) != 0)
			fprintf(stderr, "# %s failed\n", cmd);
	}
	srv->pid = 0;
}

/* ---- backends ---- */

void hsm_test_s3_config(const struct hsm_test_s3_server *srv,
			struct hsm_s3_config *cfg)
{
	hsm_s3_config_init(cfg);
	cfg->endpoint = srv->endpoint;
	cfg->bucket = HSM_TEST_S3_BUCKET;
	/* addressing left to auto: path style, as the endpoint is an IP */
	cfg->access_key = srv->access_key;
	cfg->secret_key = srv->secret_key;
	cfg->key_prefix = HSM_TEST_S3_KEY_PREFIX;
	cfg->multipart_threshold = HSM_TEST_S3_THRESHOLD;
	cfg->part_size = HSM_TEST_S3_PART_SIZE;
	cfg->parallel_parts = HSM_TEST_S3_PARALLEL;
	cfg->retries = 2;
	cfg->retry_base_ms = 20;
	cfg->retry_max_ms = 200;
	cfg->connect_timeout_ms = 2000;
	cfg->stall_timeout_s = 10;
}

struct hsm_backend *hsm_test_s3_create(const struct hsm_s3_config *cfg)
{
	struct hsm_backend *be = NULL;
	char err[HSM_ERROR_MAX] = "";
	int ret;

	ret = hsm_s3_backend_create(cfg, &be, err, sizeof(err));
	if (ret)
		fail_msg("hsm_s3_backend_create: %d %s", ret, err);
	assert_non_null(be);
	assert_string_equal(be->ops->name, "s3");
	return be;
}

struct hsm_backend *hsm_test_s3_backend(const struct hsm_test_s3_server *srv)
{
	struct hsm_s3_config cfg;

	hsm_test_s3_config(srv, &cfg);
	return hsm_test_s3_create(&cfg);
}

void hsm_test_s3_info(struct hsm_object_info *info, uint64_t ino,
		      uint64_t size)
{
	memset(info, 0, sizeof(*info));
	snprintf(info->fsid, sizeof(info->fsid), HSM_TEST_S3_FSID);
	info->ino = ino;
	info->data_version = 7;
	info->size = size;
	info->mtime_sec = 1700000000;
	info->path = "/mnt/scoutfs/dir/file name ü";
}

int hsm_test_s3_put_pattern(struct hsm_backend *be, uint64_t ino,
			    uint64_t seed, uint64_t size,
			    struct hsm_put_result *res)
{
	struct hsm_object_info info;
	struct hsm_test_reader rd;

	hsm_test_s3_info(&info, ino, size);
	hsm_test_reader_init(&rd, seed, HSM_TEST_PATTERN_RANDOM, size);
	/* short reads: the backend must loop until a part is full */
	rd.max_chunk = 100000;
	return be->ops->put(be, &info, hsm_test_read, &rd, res);
}

void hsm_test_s3_assert_put(struct hsm_backend *be, uint64_t ino,
			    uint64_t seed, uint64_t size,
			    struct hsm_put_result *res)
{
	struct hsm_test_pattern pat = { seed, HSM_TEST_PATTERN_RANDOM };
	struct hsm_checksum want;
	int ret;

	ret = hsm_test_s3_put_pattern(be, ino, seed, size, res);
	if (ret)
		fail_msg("put of %" PRIu64 " bytes: %d %s", size, ret,
			 hsm_backend_error(be));
	hsm_test_pattern_checksum(&pat, size, &want);
	assert_true(hsm_checksum_equal(&res->checksum, &want));
	assert_int_equal(res->bytes, size);
	assert_true(strncmp(res->location, HSM_TEST_S3_KEY_PREFIX,
			    strlen(HSM_TEST_S3_KEY_PREFIX)) == 0);
}

int hsm_test_s3_get_and_compare(struct hsm_backend *be, const char *location,
				uint64_t seed, uint64_t offset,
				uint64_t length, uint64_t *bytes)
{
	struct hsm_test_writer wr;
	int ret;

	assert_int_equal(hsm_test_writer_init(&wr, seed, HSM_TEST_PATTERN_RANDOM,
					      offset), 0);
	ret = be->ops->get(be, location, offset, length, hsm_test_write, &wr);
	*bytes = wr.bytes;
	assert_int_equal(wr.mismatches, 0);
	hsm_test_writer_release(&wr);
	return ret;
}

void hsm_test_s3_assert_round_trip(struct hsm_backend *be, uint64_t ino,
				   uint64_t seed, uint64_t size)
{
	struct hsm_stat_result st;
	struct hsm_put_result res;
	uint64_t bytes = 0;
	int ret;

	hsm_test_s3_assert_put(be, ino, seed, size, &res);

	ret = be->ops->stat(be, res.location, &st);
	if (ret)
		fail_msg("stat %s: %d %s", res.location, ret, hsm_backend_error(be));
	assert_int_equal(st.bytes, size);
	assert_true(hsm_checksum_equal(&st.checksum, &res.checksum));
	assert_string_equal(st.info.fsid, HSM_TEST_S3_FSID);
	assert_int_equal(st.info.ino, ino);
	assert_int_equal(st.info.data_version, 7);
	assert_int_equal(st.info.size, size);
	assert_int_equal(st.info.mtime_sec, 1700000000);

	ret = hsm_test_s3_get_and_compare(be, res.location, seed, 0, UINT64_MAX,
					  &bytes);
	if (ret)
		fail_msg("get %s: %d %s", res.location, ret, hsm_backend_error(be));
	assert_int_equal(bytes, size);
	assert_int_equal(be->ops->verify(be, res.location), 0);
}

void hsm_test_s3_assert_error(struct hsm_backend *be, const char *what)
{
	fprintf(stderr, "# backend said: %s\n", hsm_backend_error(be));
	if (!strstr(hsm_backend_error(be), what))
		fail_msg("error \"%s\" does not mention \"%s\"",
			 hsm_backend_error(be), what);
}

void hsm_test_s3_clear_env(void)
{
	static const char *const names[] = {
		"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
		"AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_REGION",
		"AWS_DEFAULT_REGION", "AWS_SHARED_CREDENTIALS_FILE",
		"AWS_CONFIG_FILE", "AWS_WEB_IDENTITY_TOKEN_FILE",
		"AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME", "AWS_ENDPOINT_URL",
		"AWS_ENDPOINT_URL_STS", "AWS_EC2_METADATA_SERVICE_ENDPOINT",
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		unsetenv(names[i]);
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
}
