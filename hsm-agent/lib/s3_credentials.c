// SPDX-License-Identifier: GPL-2.0
/*
 * s3_credentials.c: where the S3 backend's identity and region come from.
 *
 * Owns the lookup order (configuration, environment, shared credentials
 * file) that backend_s3.h documents, and the parser for the shared
 * credentials file.  It is the same order the AWS CLI and SDKs use, so an
 * operator who can run `aws s3 ls` with some setup gets the same identity
 * here.
 *
 * The file parser is written here rather than taken from libinih: inih's
 * default line limit (200 bytes) silently cuts session tokens, which are
 * often longer, and the format needed is tiny: "[section]" or
 * "[profile section]" headers, "name = value" lines, '#' and ';' comments.
 *
 * Nothing here is cached: resolution runs once when a backend is created
 * and the result is copied into the backend.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend_s3.h"

#define CRED_LINE_MAX (HSM_S3_TOKEN_MAX + 128)

static bool is_set(const char *s)
{
	return s && s[0];
}

static int copy_field(char *dst, size_t dst_len, const char *src,
		      const char *what, char *err, size_t err_len)
{
	if (strlen(src) >= dst_len) {
		snprintf(err, err_len, "s3: credentials: %s longer than %zu bytes",
			 what, dst_len - 1);
		return -EINVAL;
	}
	strcpy(dst, src);
	return 0;
}

static int set_credentials(struct hsm_s3_credentials *creds, const char *key,
			   const char *secret, const char *token,
			   char *err, size_t err_len)
{
	int ret;

	ret = copy_field(creds->access_key, sizeof(creds->access_key), key,
			 "access key", err, err_len);
	if (!ret)
		ret = copy_field(creds->secret_key, sizeof(creds->secret_key),
				 secret, "secret key", err, err_len);
	if (!ret)
		ret = copy_field(creds->session_token,
				 sizeof(creds->session_token),
				 token ? token : "", "session token", err,
				 err_len);
	return ret;
}

static char *trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' ||
			   end[-1] == '\n' || end[-1] == '\r'))
		*--end = '\0';
	return s;
}

/* "[name]" or "[profile name]" names profile `profile`? */
static bool section_is_profile(char *line, const char *profile)
{
	char *end = strchr(line, ']');
	char *name;

	if (!end)
		return false;
	*end = '\0';
	name = trim(line + 1);
	if (strncmp(name, "profile ", 8) == 0)
		name = trim(name + 8);
	return strcmp(name, profile) == 0;
}

struct profile_values {
	char *key;
	char *secret;
	char *token;
};

static void profile_values_free(struct profile_values *vals)
{
	free(vals->key);
	free(vals->secret);
	free(vals->token);
}

/*
 * Read the three credential names from section `profile` of the file at
 * path.  Returns 0 (values may be NULL when absent), -ENOENT when the
 * file does not exist, another negative errno on read errors.
 */
static int read_profile(const char *path, const char *profile,
			struct profile_values *vals)
{
	char *line = NULL;
	bool in_profile = false;
	FILE *f;
	int ret = 0;

	f = fopen(path, "r");
	if (!f)
		return -errno;
	line = malloc(CRED_LINE_MAX);
	if (!line) {
		ret = -ENOMEM;
		goto out;
	}

	while (fgets(line, CRED_LINE_MAX, f)) {
		char *s = trim(line);
		char *eq, **slot = NULL;

		if (*s == '#' || *s == ';' || *s == '\0')
			continue;
		if (*s == '[') {
			in_profile = section_is_profile(s, profile);
			continue;
		}
		eq = strchr(s, '=');
		if (!in_profile || !eq)
			continue;
		*eq = '\0';
		s = trim(s);
		if (strcmp(s, "aws_access_key_id") == 0)
			slot = &vals->key;
		else if (strcmp(s, "aws_secret_access_key") == 0)
			slot = &vals->secret;
		else if (strcmp(s, "aws_session_token") == 0)
			slot = &vals->token;
		if (!slot)
			continue;
		free(*slot);
		*slot = strdup(trim(eq + 1));
		if (!*slot) {
			ret = -ENOMEM;
			goto out;
		}
	}
	if (ferror(f))
		ret = -EIO;
out:
	free(line);
	fclose(f);
	return ret;
}

static int credentials_from_file(const char *profile,
				 struct hsm_s3_credentials *creds,
				 char *err, size_t err_len)
{
	struct profile_values vals = { NULL, NULL, NULL };
	const char *file = getenv("AWS_SHARED_CREDENTIALS_FILE");
	const char *home = getenv("HOME");
	char path[4096];
	int ret;

	if (is_set(file)) {
		snprintf(path, sizeof(path), "%s", file);
	} else if (is_set(home)) {
		snprintf(path, sizeof(path), "%s/.aws/credentials", home);
	} else {
		snprintf(err, err_len,
			 "s3: no credentials: none in the configuration, "
			 "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY unset, and "
			 "HOME unset so no ~/.aws/credentials");
		return -ENOKEY;
	}

	ret = read_profile(path, profile, &vals);
	if (ret == -ENOENT) {
		snprintf(err, err_len,
			 "s3: no credentials: none in the configuration, "
			 "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY unset, "
			 "and no file %s", path);
		ret = -ENOKEY;
		goto out;
	}
	if (ret < 0) {
		snprintf(err, err_len, "s3: credentials: reading %s: %s",
			 path, strerror(-ret));
		goto out;
	}
	if (!is_set(vals.key) && !is_set(vals.secret)) {
		snprintf(err, err_len,
			 "s3: no credentials: profile [%s] not found or empty in %s",
			 profile, path);
		ret = -ENOKEY;
		goto out;
	}
	if (!is_set(vals.key) || !is_set(vals.secret)) {
		snprintf(err, err_len,
			 "s3: credentials: profile [%s] in %s has %s but not %s",
			 profile, path,
			 is_set(vals.key) ? "aws_access_key_id" : "aws_secret_access_key",
			 is_set(vals.key) ? "aws_secret_access_key" : "aws_access_key_id");
		ret = -EINVAL;
		goto out;
	}
	ret = set_credentials(creds, vals.key, vals.secret, vals.token, err,
			      err_len);
	if (!ret)
		snprintf(creds->source, sizeof(creds->source), "%.*s [%s]",
			 (int)(sizeof(creds->source) / 2), path, profile);
out:
	profile_values_free(&vals);
	return ret;
}

int hsm_s3_resolve_credentials(const struct hsm_s3_config *cfg,
			       struct hsm_s3_credentials *creds,
			       char *err, size_t err_len)
{
	const char *env_key = getenv("AWS_ACCESS_KEY_ID");
	const char *env_secret = getenv("AWS_SECRET_ACCESS_KEY");
	const char *profile;
	int ret;

	memset(creds, 0, sizeof(*creds));

	if (is_set(cfg->access_key) || is_set(cfg->secret_key)) {
		if (!is_set(cfg->access_key) || !is_set(cfg->secret_key)) {
			snprintf(err, err_len,
				 "s3: credentials: configuration sets %s but not %s",
				 is_set(cfg->access_key) ? "access key" : "secret key",
				 is_set(cfg->access_key) ? "secret key" : "access key");
			return -EINVAL;
		}
		ret = set_credentials(creds, cfg->access_key, cfg->secret_key,
				      cfg->session_token, err, err_len);
		if (!ret)
			strcpy(creds->source, "config");
		return ret;
	}

	if (is_set(env_key) || is_set(env_secret)) {
		if (!is_set(env_key) || !is_set(env_secret)) {
			snprintf(err, err_len,
				 "s3: credentials: %s is set but %s is not",
				 is_set(env_key) ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
				 is_set(env_key) ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
			return -EINVAL;
		}
		ret = set_credentials(creds, env_key, env_secret,
				      getenv("AWS_SESSION_TOKEN"), err, err_len);
		if (!ret)
			strcpy(creds->source, "environment");
		return ret;
	}

	profile = cfg->profile;
	if (!is_set(profile))
		profile = getenv("AWS_PROFILE");
	if (!is_set(profile))
		profile = "default";
	return credentials_from_file(profile, creds, err, err_len);
}

const char *hsm_s3_resolve_region(const struct hsm_s3_config *cfg)
{
	const char *region = cfg->region;

	if (!is_set(region))
		region = getenv("AWS_REGION");
	if (!is_set(region))
		region = getenv("AWS_DEFAULT_REGION");
	if (!is_set(region))
		region = HSM_S3_DEFAULT_REGION;
	return region;
}
