// SPDX-License-Identifier: GPL-2.0
/*
 * s3_credentials.c: where the S3 backend's identity and region come from.
 *
 * Owns the lookup order that backend_s3.h documents, the same as the AWS
 * CLI and SDKs use, so an operator who can run `aws s3 ls` with some setup
 * gets the same identity here:
 *
 *  1. the backend's configuration (access key + secret [+ token]);
 *  2. the environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY
 *     [, AWS_SESSION_TOKEN];
 *  3. a web identity: AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN (what
 *     Kubernetes service accounts give a pod), exchanged for temporary
 *     credentials with STS AssumeRoleWithWebIdentity;
 *  4. the profile (cfg->profile, else AWS_PROFILE, else "default") of the
 *     shared files: ~/.aws/credentials (AWS_SHARED_CREDENTIALS_FILE) and
 *     ~/.aws/config (AWS_CONFIG_FILE), in which a profile gives static keys,
 *     a credential_process to run, or role_arn + web_identity_token_file;
 *  5. the EC2 instance metadata service, IMDSv2 only (a token PUT, then
 *     GETs carrying it), unless AWS_EC2_METADATA_DISABLED=true.
 *
 * A half-set source (a key without a secret) is an error rather than a
 * fall-through, so a typo does not archive with somebody else's identity.
 *
 * Temporary credentials (STS, credential_process, IMDS) come with an
 * expiry.  The client (s3_request.c) calls the chain again when they are
 * within refresh_s of it, and when S3 answers ExpiredToken; resolution has
 * no state of its own, so a refresh sees a rotated token file or a new
 * profile just as a fresh start would.
 *
 * Endpoints: STS is AWS_ENDPOINT_URL_STS, else AWS_ENDPOINT_URL, else
 * https://sts.<region>.amazonaws.com; IMDS is
 * AWS_EC2_METADATA_SERVICE_ENDPOINT, else http://169.254.169.254.  Tests
 * point both at loopback servers and turn IMDS off everywhere else.
 *
 * The file parser is written here rather than taken from libinih: inih's
 * default line limit (200 bytes) silently cuts session tokens, and the
 * format is tiny: "[section]" or "[profile section]" headers, "name = value"
 * lines, '#' and ';' comments.  JSON (credential_process, IMDS) is json-c,
 * XML (STS) libxml2.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>

#include <curl/curl.h>
#include <json-c/json.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "backend_s3.h"

#define CRED_LINE_MAX (HSM_S3_TOKEN_MAX + 128)
#define CRED_PATH_MAX 4096
/* An answer bigger than this is no credential document. */
#define CRED_DOC_MAX (64u << 10)
#define STS_VERSION "2011-06-15"
#define STS_SESSION_NAME "scoutfs-hsm"
#define IMDS_DEFAULT_ENDPOINT "http://169.254.169.254"
#define IMDS_TOKEN_TTL_S 21600
/* The SDKs give IMDS about a second: off EC2 nothing answers there. */
#define IMDS_TIMEOUT_MS 1000
#define STS_TIMEOUT_MS 10000

static bool is_set(const char *s)
{
	return s && s[0];
}

static bool is_true(const char *s)
{
	return s && strcasecmp(s, "true") == 0;
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

/* "2026-12-02T21:00:00Z", with optional fraction or +00:00; 0 if not. */
static int64_t parse_expiration(const char *text)
{
	struct tm tm;
	const char *rest;

	if (!text)
		return 0;
	memset(&tm, 0, sizeof(tm));
	rest = strptime(text, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!rest)
		return 0;
	return (int64_t)timegm(&tm);
}

/* ---- shared files ---- */

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

/* The names a profile may set, in either file. */
enum profile_field {
	PROF_KEY,
	PROF_SECRET,
	PROF_TOKEN,
	PROF_REGION,
	PROF_PROCESS,
	PROF_ROLE_ARN,
	PROF_TOKEN_FILE,
	PROF_SESSION_NAME,
	PROF_NR,
};

static const char *const profile_names[PROF_NR] = {
	[PROF_KEY] = "aws_access_key_id",
	[PROF_SECRET] = "aws_secret_access_key",
	[PROF_TOKEN] = "aws_session_token",
	[PROF_REGION] = "region",
	[PROF_PROCESS] = "credential_process",
	[PROF_ROLE_ARN] = "role_arn",
	[PROF_TOKEN_FILE] = "web_identity_token_file",
	[PROF_SESSION_NAME] = "role_session_name",
};

struct profile_values {
	char *v[PROF_NR];
	bool is_found;		/* the section exists */
};

static void profile_values_free(struct profile_values *vals)
{
	int i;

	for (i = 0; i < PROF_NR; i++)
		free(vals->v[i]);
	memset(vals, 0, sizeof(*vals));
}

/*
 * Read section `profile` of the file at path into vals; a value already
 * set (from the other file) is replaced.  0, -ENOENT when the file does
 * not exist, another negative errno on read errors.
 */
static int read_profile(const char *path, const char *profile,
			struct profile_values *vals)
{
	bool in_profile = false;
	char *line;
	FILE *f;
	int ret = 0;
	int i;

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
		char *eq;

		if (*s == '#' || *s == ';' || *s == '\0')
			continue;
		if (*s == '[') {
			in_profile = section_is_profile(s, profile);
			vals->is_found |= in_profile;
			continue;
		}
		eq = strchr(s, '=');
		if (!in_profile || !eq)
			continue;
		*eq = '\0';
		s = trim(s);
		for (i = 0; i < PROF_NR; i++)
			if (strcmp(s, profile_names[i]) == 0)
				break;
		if (i == PROF_NR)
			continue;
		free(vals->v[i]);
		vals->v[i] = strdup(trim(eq + 1));
		if (!vals->v[i]) {
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

/* $env, else $HOME/.aws/<name>; false when neither can be formed. */
static bool shared_file_path(const char *env, const char *name, char *path,
			     size_t path_len)
{
	const char *file = getenv(env);
	const char *home = getenv("HOME");

	if (is_set(file))
		snprintf(path, path_len, "%s", file);
	else if (is_set(home))
		snprintf(path, path_len, "%s/.aws/%s", home, name);
	else
		return false;
	return true;
}

static const char *resolve_profile_name(const struct hsm_s3_config *cfg)
{
	const char *profile = cfg->profile;

	if (!is_set(profile))
		profile = getenv("AWS_PROFILE");
	if (!is_set(profile))
		profile = "default";
	return profile;
}

/*
 * The profile from ~/.aws/config, then ~/.aws/credentials over it (the
 * credentials file wins for the names both set).  *cred_path names the
 * credentials file for messages.  Missing files are no error.
 */
static int load_profile(const char *profile, struct profile_values *vals,
			char *cred_path, size_t cred_path_len,
			char *err, size_t err_len)
{
	char path[CRED_PATH_MAX];
	int ret;

	memset(vals, 0, sizeof(*vals));
	cred_path[0] = '\0';
	if (shared_file_path("AWS_CONFIG_FILE", "config", path, sizeof(path))) {
		ret = read_profile(path, profile, vals);
		if (ret && ret != -ENOENT) {
			snprintf(err, err_len, "s3: credentials: reading %s: %s",
				 path, strerror(-ret));
			return ret;
		}
	}
	if (shared_file_path("AWS_SHARED_CREDENTIALS_FILE", "credentials",
			     cred_path, cred_path_len)) {
		ret = read_profile(cred_path, profile, vals);
		if (ret && ret != -ENOENT) {
			snprintf(err, err_len, "s3: credentials: reading %s: %s",
				 cred_path, strerror(-ret));
			return ret;
		}
	}
	return 0;
}

/* ---- HTTP for STS and IMDS ---- */

struct doc_buf {
	char *data;
	size_t len;
};

static size_t doc_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct doc_buf *doc = arg;
	size_t n = size * nmemb;
	char *p;

	if (doc->len + n + 1 > CRED_DOC_MAX)
		return 0;
	p = realloc(doc->data, doc->len + n + 1);
	if (!p)
		return 0;
	memcpy(p + doc->len, data, n);
	doc->data = p;
	doc->len += n;
	doc->data[doc->len] = '\0';
	return n;
}

/*
 * One small request; the answer lands in *doc (NUL-terminated, caller
 * frees).  Returns the HTTP status, or a negative errno when there was no
 * answer (the reason in err).
 */
static long http_fetch(const char *method, const char *url, const char *header,
		       const char *body, long timeout_ms, struct doc_buf *doc,
		       char *err, size_t err_len)
{
	char curl_err[CURL_ERROR_SIZE] = "";
	struct curl_slist *headers = NULL;
	CURL *curl = curl_easy_init();
	long status = 0;
	CURLcode cc;

	doc->data = NULL;
	doc->len = 0;
	if (!curl)
		return -ENOMEM;
	if (header)
		headers = curl_slist_append(NULL, header);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, curl_err);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, doc_write);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, doc);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	if (body) {
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
	} else if (strcmp(method, "PUT") == 0) {
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "");
	}
	cc = curl_easy_perform(curl);
	if (cc == CURLE_OK) {
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	} else {
		snprintf(err, err_len, "%s %s: %s%s%s", method, url,
			 curl_easy_strerror(cc), curl_err[0] ? ": " : "",
			 curl_err);
		status = cc == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT :
			 -ECONNREFUSED;
	}
	curl_slist_free_all(headers);
	curl_easy_cleanup(curl);
	return status;
}

/* ---- credential_process ---- */

static const char *json_string(struct json_object *obj, const char *name)
{
	struct json_object *v;

	if (!json_object_object_get_ex(obj, name, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/*
 * Fill creds from a JSON credential document: names for the keys differ
 * between credential_process ("SessionToken") and IMDS ("Token").
 */
static int credentials_from_json(const char *text, const char *token_name,
				 const char *source,
				 struct hsm_s3_credentials *creds,
				 char *err, size_t err_len)
{
	struct json_object *obj = json_tokener_parse(text);
	const char *key, *secret;
	int ret;

	if (!obj || !json_object_is_type(obj, json_type_object)) {
		snprintf(err, err_len, "s3: credentials: %s did not give a JSON object",
			 source);
		json_object_put(obj);
		return -EINVAL;
	}
	key = json_string(obj, "AccessKeyId");
	secret = json_string(obj, "SecretAccessKey");
	if (!is_set(key) || !is_set(secret)) {
		snprintf(err, err_len,
			 "s3: credentials: %s gave no AccessKeyId and SecretAccessKey",
			 source);
		json_object_put(obj);
		return -EINVAL;
	}
	ret = set_credentials(creds, key, secret, json_string(obj, token_name),
			      err, err_len);
	if (!ret)
		creds->expiration = parse_expiration(json_string(obj, "Expiration"));
	json_object_put(obj);
	return ret;
}

static int credentials_from_process(const char *command, const char *profile,
				    struct hsm_s3_credentials *creds,
				    char *err, size_t err_len)
{
	struct doc_buf doc = { NULL, 0 };
	char buf[4096], source[256];
	size_t n;
	FILE *p;
	int status, ret;

	snprintf(source, sizeof(source), "credential_process of profile [%s]",
		 profile);
	p = popen(command, "r");
	if (!p) {
		snprintf(err, err_len, "s3: credentials: %s: %s", source,
			 strerror(errno));
		return -errno;
	}
	while ((n = fread(buf, 1, sizeof(buf), p)) > 0)
		if (doc_write(buf, 1, n, &doc) != n)
			break;
	status = pclose(p);
	if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		snprintf(err, err_len, "s3: credentials: %s (%.100s) failed with status %d",
			 source, command, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		ret = -EACCES;
		goto out;
	}
	ret = credentials_from_json(doc.data ? doc.data : "", "SessionToken",
				    source, creds, err, err_len);
	if (!ret)
		snprintf(creds->source, sizeof(creds->source), "%s", source);
out:
	free(doc.data);
	return ret;
}

/* ---- web identity (STS AssumeRoleWithWebIdentity) ---- */

/* Text of the first element named `name` anywhere below node. */
static char *xml_find_text(xmlNodePtr node, const char *name)
{
	char *found;

	for (; node; node = node->next) {
		if (node->type != XML_ELEMENT_NODE)
			continue;
		if (strcmp((const char *)node->name, name) == 0) {
			xmlChar *text = xmlNodeGetContent(node);
			char *copy = text ? strdup((const char *)text) : NULL;

			xmlFree(text);
			return copy;
		}
		found = xml_find_text(node->children, name);
		if (found)
			return found;
	}
	return NULL;
}

static void sts_endpoint(const char *region, char *out, size_t out_len)
{
	const char *url = getenv("AWS_ENDPOINT_URL_STS");

	if (!is_set(url))
		url = getenv("AWS_ENDPOINT_URL");
	if (is_set(url))
		snprintf(out, out_len, "%s", url);
	else
		snprintf(out, out_len, "https://sts.%s.amazonaws.com", region);
}

static int read_token_file(const char *path, char *token, size_t token_len,
			   char *err, size_t err_len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f) {
		snprintf(err, err_len, "s3: credentials: web identity token file %s: %s",
			 path, strerror(errno));
		return -ENOKEY;
	}
	n = fread(token, 1, token_len - 1, f);
	fclose(f);
	token[n] = '\0';
	token[strcspn(token, "\r\n")] = '\0';
	if (!token[0]) {
		snprintf(err, err_len, "s3: credentials: web identity token file %s is empty",
			 path);
		return -ENOKEY;
	}
	return 0;
}

static int credentials_from_web_identity(const char *token_file,
					 const char *role_arn,
					 const char *session_name,
					 const char *region,
					 struct hsm_s3_credentials *creds,
					 char *err, size_t err_len)
{
	char *token = malloc(HSM_S3_TOKEN_MAX);
	char *e_role = NULL, *e_token = NULL, *e_session = NULL, *body = NULL;
	char *key = NULL, *secret = NULL, *session = NULL, *expiry = NULL;
	char endpoint[1024], why[512] = "";
	struct doc_buf doc = { NULL, 0 };
	xmlDocPtr xml = NULL;
	long status;
	int ret;

	if (!token)
		return -ENOMEM;
	ret = read_token_file(token_file, token, HSM_S3_TOKEN_MAX, err, err_len);
	if (ret)
		goto out;
	e_role = curl_easy_escape(NULL, role_arn, 0);
	e_token = curl_easy_escape(NULL, token, 0);
	e_session = curl_easy_escape(NULL, is_set(session_name) ? session_name :
				     STS_SESSION_NAME, 0);
	if (!e_role || !e_token || !e_session ||
	    asprintf(&body, "Action=AssumeRoleWithWebIdentity&RoleArn=%s"
		     "&RoleSessionName=%s&Version=" STS_VERSION
		     "&WebIdentityToken=%s", e_role, e_session, e_token) < 0) {
		body = NULL;
		ret = -ENOMEM;
		goto out;
	}
	sts_endpoint(region, endpoint, sizeof(endpoint));
	status = http_fetch("POST", endpoint,
			    "Content-Type: application/x-www-form-urlencoded",
			    body, STS_TIMEOUT_MS, &doc, why, sizeof(why));
	if (status < 0) {
		snprintf(err, err_len, "s3: credentials: STS AssumeRoleWithWebIdentity: %s",
			 why);
		ret = (int)status;
		goto out;
	}
	if (doc.data)
		xml = xmlReadMemory(doc.data, (int)doc.len, "sts.xml", NULL,
				    XML_PARSE_NONET | XML_PARSE_NOERROR |
				    XML_PARSE_NOWARNING);
	if (status != 200 || !xml) {
		char *code = xml ? xml_find_text(xmlDocGetRootElement(xml), "Code") : NULL;

		snprintf(err, err_len,
			 "s3: credentials: STS AssumeRoleWithWebIdentity for %s at %s: %ld %s",
			 role_arn, endpoint, status, code ? code : "(no error code)");
		free(code);
		ret = -EACCES;
		goto out;
	}
	key = xml_find_text(xmlDocGetRootElement(xml), "AccessKeyId");
	secret = xml_find_text(xmlDocGetRootElement(xml), "SecretAccessKey");
	session = xml_find_text(xmlDocGetRootElement(xml), "SessionToken");
	expiry = xml_find_text(xmlDocGetRootElement(xml), "Expiration");
	if (!is_set(key) || !is_set(secret)) {
		snprintf(err, err_len,
			 "s3: credentials: STS AssumeRoleWithWebIdentity answer has no credentials");
		ret = -EIO;
		goto out;
	}
	ret = set_credentials(creds, key, secret, session, err, err_len);
	if (ret)
		goto out;
	creds->expiration = parse_expiration(expiry);
	snprintf(creds->source, sizeof(creds->source), "web identity %.200s",
		 role_arn);
out:
	if (token)
		memset(token, 0, HSM_S3_TOKEN_MAX);
	free(token);
	curl_free(e_role);
	curl_free(e_token);
	curl_free(e_session);
	free(body);
	free(doc.data);
	if (secret)
		memset(secret, 0, strlen(secret));
	free(key);
	free(secret);
	free(session);
	free(expiry);
	xmlFreeDoc(xml);
	return ret;
}

/* ---- instance metadata (IMDSv2) ---- */

static int credentials_from_imds(struct hsm_s3_credentials *creds,
				 char *err, size_t err_len)
{
	const char *base = getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");
	char url[1024], header[1200], why[512] = "";
	struct doc_buf doc = { NULL, 0 };
	char role[256];
	long status;
	int ret;

	if (!is_set(base))
		base = IMDS_DEFAULT_ENDPOINT;
	snprintf(url, sizeof(url), "%s/latest/api/token", base);
	snprintf(header, sizeof(header),
		 "X-aws-ec2-metadata-token-ttl-seconds: %d", IMDS_TOKEN_TTL_S);
	status = http_fetch("PUT", url, header, NULL, IMDS_TIMEOUT_MS, &doc,
			    why, sizeof(why));
	if (status != 200 || !doc.data || !doc.data[0] ||
	    strlen(doc.data) > sizeof(header) - 64) {
		snprintf(err, err_len, "s3: credentials: instance metadata token: %s",
			 status < 0 ? why : "refused");
		ret = -ENOKEY;
		goto out;
	}
	snprintf(header, sizeof(header), "X-aws-ec2-metadata-token: %s", doc.data);
	free(doc.data);

	snprintf(url, sizeof(url), "%s/latest/meta-data/iam/security-credentials/",
		 base);
	status = http_fetch("GET", url, header, NULL, IMDS_TIMEOUT_MS, &doc, why,
			    sizeof(why));
	if (status != 200 || !doc.data || !doc.data[0]) {
		snprintf(err, err_len, "s3: credentials: instance metadata: no IAM role (%ld)",
			 status);
		ret = -ENOKEY;
		goto out;
	}
	snprintf(role, sizeof(role), "%.*s", (int)strcspn(doc.data, "\r\n"),
		 doc.data);
	free(doc.data);

	snprintf(url, sizeof(url), "%s/latest/meta-data/iam/security-credentials/%s",
		 base, role);
	status = http_fetch("GET", url, header, NULL, IMDS_TIMEOUT_MS, &doc, why,
			    sizeof(why));
	if (status != 200 || !doc.data) {
		snprintf(err, err_len, "s3: credentials: instance metadata role %s: %ld",
			 role, status);
		ret = -ENOKEY;
		goto out;
	}
	ret = credentials_from_json(doc.data, "Token", "instance metadata",
				    creds, err, err_len);
	if (!ret)
		snprintf(creds->source, sizeof(creds->source),
			 "instance metadata role %s", role);
out:
	free(doc.data);
	return ret;
}

/* ---- the chain ---- */

static int credentials_from_profile(const char *profile,
				    const struct profile_values *vals,
				    const char *cred_path, const char *region,
				    struct hsm_s3_credentials *creds,
				    char *err, size_t err_len)
{
	const char *key = vals->v[PROF_KEY], *secret = vals->v[PROF_SECRET];
	int ret;

	if (is_set(key) || is_set(secret)) {
		if (!is_set(key) || !is_set(secret)) {
			snprintf(err, err_len,
				 "s3: credentials: profile [%s] has %s but not %s",
				 profile,
				 is_set(key) ? "aws_access_key_id" : "aws_secret_access_key",
				 is_set(key) ? "aws_secret_access_key" : "aws_access_key_id");
			return -EINVAL;
		}
		ret = set_credentials(creds, key, secret, vals->v[PROF_TOKEN], err,
				      err_len);
		if (!ret)
			snprintf(creds->source, sizeof(creds->source), "%.*s [%s]",
				 (int)(sizeof(creds->source) / 2), cred_path,
				 profile);
		return ret;
	}
	if (is_set(vals->v[PROF_PROCESS]))
		return credentials_from_process(vals->v[PROF_PROCESS], profile,
						creds, err, err_len);
	if (is_set(vals->v[PROF_ROLE_ARN]) && is_set(vals->v[PROF_TOKEN_FILE]))
		return credentials_from_web_identity(vals->v[PROF_TOKEN_FILE],
						     vals->v[PROF_ROLE_ARN],
						     vals->v[PROF_SESSION_NAME],
						     region, creds, err, err_len);
	return -ENOKEY;
}

int hsm_s3_resolve_credentials(const struct hsm_s3_config *cfg,
			       struct hsm_s3_credentials *creds,
			       char *err, size_t err_len)
{
	const char *env_key = getenv("AWS_ACCESS_KEY_ID");
	const char *env_secret = getenv("AWS_SECRET_ACCESS_KEY");
	const char *token_file = getenv("AWS_WEB_IDENTITY_TOKEN_FILE");
	const char *role_arn = getenv("AWS_ROLE_ARN");
	const char *profile = resolve_profile_name(cfg);
	char cred_path[CRED_PATH_MAX], region[128];
	struct profile_values vals;
	int ret;

	memset(creds, 0, sizeof(*creds));
	snprintf(region, sizeof(region), "%s", hsm_s3_resolve_region(cfg));

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

	if (is_set(token_file) || is_set(role_arn)) {
		if (!is_set(token_file) || !is_set(role_arn)) {
			snprintf(err, err_len,
				 "s3: credentials: %s is set but %s is not",
				 is_set(token_file) ? "AWS_WEB_IDENTITY_TOKEN_FILE" : "AWS_ROLE_ARN",
				 is_set(token_file) ? "AWS_ROLE_ARN" : "AWS_WEB_IDENTITY_TOKEN_FILE");
			return -EINVAL;
		}
		return credentials_from_web_identity(token_file, role_arn,
						     getenv("AWS_ROLE_SESSION_NAME"),
						     region, creds, err, err_len);
	}

	ret = load_profile(profile, &vals, cred_path, sizeof(cred_path), err,
			   err_len);
	if (ret)
		return ret;
	ret = credentials_from_profile(profile, &vals, cred_path, region, creds,
				       err, err_len);
	profile_values_free(&vals);
	if (ret != -ENOKEY)
		return ret;

	if (is_true(getenv("AWS_EC2_METADATA_DISABLED"))) {
		snprintf(err, err_len,
			 "s3: no credentials: none in the configuration, "
			 "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY and "
			 "AWS_WEB_IDENTITY_TOKEN_FILE unset, profile [%s] not "
			 "found or empty in %s and the config file, and instance "
			 "metadata disabled", profile,
			 cred_path[0] ? cred_path : "~/.aws/credentials (HOME unset)");
		return -ENOKEY;
	}
	return credentials_from_imds(creds, err, err_len);
}

const char *hsm_s3_resolve_region(const struct hsm_s3_config *cfg)
{
	static __thread char from_file[128];
	struct profile_values vals;
	const char *region = cfg->region;
	char cred_path[CRED_PATH_MAX], err[8];

	if (!is_set(region))
		region = getenv("AWS_REGION");
	if (!is_set(region))
		region = getenv("AWS_DEFAULT_REGION");
	if (is_set(region))
		return region;
	if (load_profile(resolve_profile_name(cfg), &vals, cred_path,
			 sizeof(cred_path), err, sizeof(err)) == 0 &&
	    is_set(vals.v[PROF_REGION]) &&
	    strlen(vals.v[PROF_REGION]) < sizeof(from_file)) {
		strcpy(from_file, vals.v[PROF_REGION]);
		region = from_file;
	}
	if (!is_set(region))
		region = HSM_S3_DEFAULT_REGION;
	profile_values_free(&vals);
	return region;
}
