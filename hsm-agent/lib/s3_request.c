// SPDX-License-Identifier: GPL-2.0
/*
 * s3_request.c: signed HTTP requests to an S3 service, with retries.
 *
 * Owns everything the S3 backend says on the wire: the bucket's URL
 * (virtual-host style by default, path style for IP and localhost
 * endpoints and buckets that are no DNS name, or as configured), SigV4
 * signing, the retry policy and turning an
 * S3 error answer into an errno and a message that names the object and
 * S3's own error code.
 *
 * Signing: libcurl's CURLOPT_AWS_SIGV4 ("aws:amz:<region>:s3") signs each
 * request; we always send x-amz-content-sha256, which curl uses as the
 * payload hash of the signature and S3 checks against the body it
 * receives, so every body we send is verified on arrival.  (Debian's libs3
 * signs only SigV2, which current S3 services refuse; that is why the
 * backend talks HTTP through libcurl itself.)  Query strings are passed
 * already in canonical form (sorted, encoded, "name=") so that the query
 * curl signs is the one S3 canonicalises.
 *
 * Retries: a request is retried, up to client->retries more times, after
 * connection failures, timeouts, 5xx answers, 429 and S3's throttling and
 * timeout codes (SlowDown, RequestTimeout...).  The delay doubles each
 * time from retry_base_ms up to retry_max_ms, with jitter so that the
 * parallel part uploads of one put do not retry in lockstep.  Other 4xx
 * answers fail at once: they will not get better by asking again.
 *
 * A GET that streams to a sink and breaks part way resumes where it
 * stopped with a Range request, so the sink never sees a byte twice; keys
 * are never overwritten (backend_s3.c makes each one unique), so the
 * bytes on either side of the break belong to the same object.
 *
 * Clock: S3 refuses a request signed more than 15 minutes away from its
 * clock with RequestTimeTooSkewed, naming its time.  The client keeps the
 * difference and signs every later request at the service's time (an
 * X-Amz-Date header that curl signs with) and tries the refused request
 * again, once: a host with a wrong clock keeps working instead of
 * retrying the same refusal.
 *
 * Credentials: each attempt asks s3_client_credentials() for the key to
 * sign with, which renews temporary credentials shortly before they
 * expire; an ExpiredToken answer renews them at once and the request is
 * tried again without a backoff, so a long-running agent never stops
 * because its session token aged.
 *
 * Threads: a client is read-only after s3_client_init() except its
 * credentials, under cred_lock; each thread brings its own CURL easy
 * handle.  libxml2 is initialised here, from the
 * thread that creates the backend, before any worker parses XML.
 */
#include <ctype.h>
#include <errno.h>
#include <stdatomic.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "s3_request.h"

/* Error answers are small; a body bigger than this is not kept whole. */
#define S3_RESP_MAX (16u << 20)
#define S3_USER_AGENT "scoutfs-hsm/1"
#define SHA256_OF_NOTHING \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

int s3_check_libcurl(char *err, size_t err_len)
{
	const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);

	if (v && v->version_num >= S3_LIBCURL_MIN_VERSION_NUM)
		return 0;
	snprintf(err, err_len,
		 "s3: libcurl %s is loaded, the S3 backend needs %s or later "
		 "(older versions sign uploads with the wrong payload hash)",
		 v ? v->version : "(unknown)", S3_LIBCURL_MIN_VERSION);
	return -ENOTSUP;
}

bool s3_libcurl_sorts_prefix_headers(void)
{
	const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);

	return v && v->version_num >= S3_LIBCURL_PREFIX_SORT_VERSION_NUM;
}

/* ---- client: bucket URL and credentials ---- */

static char *dup_printf(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static char *dup_printf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int ret;

	va_start(ap, fmt);
	ret = vasprintf(&s, fmt, ap);
	va_end(ap);
	return ret < 0 ? NULL : s;
}

static bool is_ip_literal(const char *host)
{
	return host[0] == '[' || strchr(host, ':') ||
	       strspn(host, "0123456789.") == strlen(host);
}

/* Can bucket be the first label of a host name (and of a certificate's)? */
static bool is_dns_bucket(const char *bucket, bool is_https)
{
	size_t i, len = strlen(bucket);

	if (len < 3 || len > 63 || bucket[0] == '-' || bucket[len - 1] == '-')
		return false;
	for (i = 0; i < len; i++) {
		char c = bucket[i];

		if (c == '.' && is_https)
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '.'))
			return false;
	}
	return true;
}

bool s3_is_path_style(const struct hsm_s3_config *cfg, const char *scheme,
		      const char *host)
{
	switch (cfg->addressing) {
	case HSM_S3_ADDRESSING_PATH:
		return true;
	case HSM_S3_ADDRESSING_VIRTUAL_HOST:
		return false;
	default:
		return is_ip_literal(host) || strcasecmp(host, "localhost") == 0 ||
		       !is_dns_bucket(cfg->bucket, strcmp(scheme, "https") == 0);
	}
}

/*
 * Path style: scheme://host[:port][/path]/bucket; virtual-host style:
 * scheme://bucket.host[:port][/path].
 */
static int build_base_url(struct s3_client *cl, const struct hsm_s3_config *cfg,
			  char *err, size_t err_len)
{
	char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL;
	CURLU *url = curl_url();
	size_t path_len;
	int ret = 0;

	if (!url)
		return -ENOMEM;
	if (curl_url_set(url, CURLUPART_URL, cfg->endpoint, 0) != CURLUE_OK ||
	    curl_url_get(url, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(url, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		snprintf(err, err_len, "s3: endpoint \"%s\" is not a URL",
			 cfg->endpoint);
		ret = -EINVAL;
		goto out;
	}
	if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
		snprintf(err, err_len, "s3: endpoint \"%s\": scheme must be http or https",
			 cfg->endpoint);
		ret = -EINVAL;
		goto out;
	}
	curl_url_get(url, CURLUPART_PORT, &port, 0);
	curl_url_get(url, CURLUPART_PATH, &path, 0);
	path_len = path ? strlen(path) : 0;
	while (path_len && path[path_len - 1] == '/')
		path_len--;

	if (s3_is_path_style(cfg, scheme, host)) {
		cl->base_url = dup_printf("%s://%s%s%s%.*s/%s", scheme, host,
					  port ? ":" : "", port ? port : "",
					  (int)path_len, path ? path : "",
					  cfg->bucket);
	} else {
		if (is_ip_literal(host)) {
			snprintf(err, err_len,
				 "s3: endpoint \"%s\": virtual-host addressing needs a host name, use path style",
				 cfg->endpoint);
			ret = -EINVAL;
			goto out;
		}
		cl->base_url = dup_printf("%s://%s.%s%s%s%.*s", scheme,
					  cfg->bucket, host, port ? ":" : "",
					  port ? port : "", (int)path_len,
					  path ? path : "");
	}
	if (!cl->base_url)
		ret = -ENOMEM;
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_url_cleanup(url);
	return ret;
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static void free_cred_cfg(struct hsm_s3_config *c)
{
	if (!c)
		return;
	free((char *)c->access_key);
	if (c->secret_key)
		memset((char *)c->secret_key, 0, strlen(c->secret_key));
	free((char *)c->secret_key);
	free((char *)c->session_token);
	free((char *)c->profile);
	free((char *)c->region);
	free(c);
}

/* The configuration fields the credential chain reads, copied. */
static struct hsm_s3_config *copy_cred_cfg(const struct hsm_s3_config *cfg,
					   const char *region)
{
	struct hsm_s3_config *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->access_key = dup_or_null(cfg->access_key);
	c->secret_key = dup_or_null(cfg->secret_key);
	c->session_token = dup_or_null(cfg->session_token);
	c->profile = dup_or_null(cfg->profile);
	c->region = strdup(region);
	if ((cfg->access_key && !c->access_key) ||
	    (cfg->secret_key && !c->secret_key) ||
	    (cfg->session_token && !c->session_token) ||
	    (cfg->profile && !c->profile) || !c->region) {
		free_cred_cfg(c);
		return NULL;
	}
	return c;
}

int s3_client_init(struct s3_client *cl, const struct hsm_s3_config *cfg,
		   const struct hsm_s3_credentials *creds, const char *region,
		   char *err, size_t err_len)
{
	int ret;

	memset(cl, 0, sizeof(*cl));
	xmlInitParser();

	ret = build_base_url(cl, cfg, err, err_len);
	if (ret)
		goto fail;
	pthread_mutex_init(&cl->cred_lock, NULL);
	cl->is_cred_lock_init = true;
	cl->bucket = strdup(cfg->bucket);
	cl->sigv4 = dup_printf("aws:amz:%s:s3", region);
	cl->creds = malloc(sizeof(*cl->creds));
	cl->cred_cfg = copy_cred_cfg(cfg, region);
	if (!cl->bucket || !cl->sigv4 || !cl->creds || !cl->cred_cfg) {
		ret = -ENOMEM;
		snprintf(err, err_len, "s3: out of memory");
		goto fail;
	}
	*cl->creds = *creds;
	cl->credential_refresh_s = cfg->credential_refresh_s;
	cl->retries = cfg->retries;
	cl->retry_base_ms = cfg->retry_base_ms;
	cl->retry_max_ms = cfg->retry_max_ms;
	cl->connect_timeout_ms = cfg->connect_timeout_ms;
	cl->stall_timeout_s = cfg->stall_timeout_s;
	cl->request_timeout_ms = cfg->request_timeout_ms;
	return 0;
fail:
	s3_client_release(cl);
	return ret;
}

void s3_client_release(struct s3_client *cl)
{
	free(cl->bucket);
	free(cl->base_url);
	free(cl->sigv4);
	if (cl->creds) {
		/* the secret should not outlive the backend in freed memory */
		memset(cl->creds, 0, sizeof(*cl->creds));
		free(cl->creds);
	}
	free_cred_cfg(cl->cred_cfg);
	if (cl->is_cred_lock_init)
		pthread_mutex_destroy(&cl->cred_lock);
	memset(cl, 0, sizeof(*cl));
}

void s3_client_date_header(struct s3_client *cl, char *out)
{
	int64_t offset;
	time_t when;
	struct tm tm;

	pthread_mutex_lock(&cl->cred_lock);
	offset = cl->clock_offset_s;
	pthread_mutex_unlock(&cl->cred_lock);
	out[0] = '\0';
	if (!offset)
		return;
	when = time(NULL) + (time_t)offset;
	gmtime_r(&when, &tm);
	strftime(out, S3_DATE_HEADER_MAX, "X-Amz-Date: %Y%m%dT%H%M%SZ", &tm);
}

/*
 * A RequestTimeTooSkewed answer names the service's time (<ServerTime>,
 * else the Date header): remember how far off we are.  true when learnt.
 */
static bool learn_clock_offset(struct s3_client *cl,
			       const struct s3_request *req)
{
	char text[64];
	const char *date;
	time_t server = -1;
	struct tm tm;

	if (s3_xml_child_text(req->resp, req->resp_len, "Error", "ServerTime",
			      text, sizeof(text)) == 0) {
		memset(&tm, 0, sizeof(tm));
		if (strptime(text, "%Y-%m-%dT%H:%M:%S", &tm))
			server = timegm(&tm);
	}
	if (server < 0 && (date = s3_response_header(req, "date")))
		server = curl_getdate(date, NULL);
	if (server < 0)
		return false;
	pthread_mutex_lock(&cl->cred_lock);
	cl->clock_offset_s = (int64_t)server - (int64_t)time(NULL);
	pthread_mutex_unlock(&cl->cred_lock);
	return true;
}

static bool credentials_are_due(const struct s3_client *cl, time_t now)
{
	const struct hsm_s3_credentials *c = cl->creds;

	return c->expiration &&
	       (int64_t)now + (int64_t)cl->credential_refresh_s >= c->expiration;
}

int s3_client_credentials(struct s3_client *cl, bool is_forced,
			  char *userpwd, char *token_header,
			  char *err, size_t err_len)
{
	struct hsm_s3_credentials *fresh = NULL;
	time_t now = time(NULL);
	int ret = 0;

	pthread_mutex_lock(&cl->cred_lock);
	if (is_forced || credentials_are_due(cl, now)) {
		fresh = malloc(sizeof(*fresh));
		ret = fresh ? hsm_s3_resolve_credentials(cl->cred_cfg, fresh,
							err, err_len) : -ENOMEM;
		if (!ret)
			*cl->creds = *fresh;
		else if (cl->creds->expiration == 0 ||
			 (int64_t)now < cl->creds->expiration)
			ret = 0;	/* the old ones still work: try later */
		if (fresh) {
			memset(fresh, 0, sizeof(*fresh));
			free(fresh);
		}
	}
	if (!ret) {
		snprintf(userpwd, S3_USERPWD_MAX, "%s:%s", cl->creds->access_key,
			 cl->creds->secret_key);
		if (cl->creds->session_token[0])
			snprintf(token_header, S3_TOKEN_HEADER_MAX,
				 "x-amz-security-token: %s",
				 cl->creds->session_token);
		else
			token_header[0] = '\0';
	}
	pthread_mutex_unlock(&cl->cred_lock);
	return ret;
}

/* ---- XML ---- */

int s3_xml_child_text(const char *xml, size_t len, const char *root,
		      const char *child, char *out, size_t out_len)
{
	xmlDocPtr doc;
	xmlNodePtr node;
	int ret = -ENOENT;

	if (!xml || !len)
		return -EINVAL;
	doc = xmlReadMemory(xml, (int)len, "s3-response.xml", NULL,
			    XML_PARSE_NONET | XML_PARSE_NOERROR |
			    XML_PARSE_NOWARNING);
	if (!doc)
		return -EINVAL;
	node = xmlDocGetRootElement(doc);
	if (!node || strcmp((const char *)node->name, root) != 0)
		goto out;
	for (node = node->children; node; node = node->next) {
		xmlChar *text;

		if (node->type != XML_ELEMENT_NODE ||
		    strcmp((const char *)node->name, child) != 0)
			continue;
		text = xmlNodeGetContent(node);
		if (!text)
			break;
		ret = (size_t)snprintf(out, out_len, "%s", (const char *)text)
			>= out_len ? -ENAMETOOLONG : 0;
		xmlFree(text);
		break;
	}
out:
	xmlFreeDoc(doc);
	return ret;
}

/* ---- errors and retry policy ---- */

int s3_status_errno(long status, const char *code)
{
	switch (status) {
	case 400:
		return -EINVAL;
	case 401:
	case 403:
		return -EACCES;
	case 404:
		/*
		 * A missing bucket is a configuration problem, not a missing
		 * copy: callers treat -ENOENT as "this copy is gone".
		 */
		return strcmp(code, "NoSuchBucket") == 0 ? -ENXIO : -ENOENT;
	case 409:
		return -EEXIST;
	case 412:
		return -ESTALE;
	case 416:
		return -EINVAL;
	default:
		return -EIO;
	}
}

static bool is_retryable_answer(long status, const char *code)
{
	static const char *const transient_codes[] = {
		"SlowDown", "Throttling", "ThrottlingException",
		"RequestTimeout", "InternalError",
		"ServiceUnavailable", "OperationAborted",
	};
	size_t i;

	if (status >= 500 || status == 429)
		return true;
	for (i = 0; i < sizeof(transient_codes) / sizeof(transient_codes[0]); i++)
		if (strcmp(code, transient_codes[i]) == 0)
			return true;
	return false;
}

static bool is_expired_token(const char *code)
{
	return strcmp(code, "ExpiredToken") == 0 ||
	       strcmp(code, "TokenRefreshRequired") == 0;
}

static bool is_retryable_curl(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_SEND_FAIL_REWIND:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return true;
	default:
		return false;
	}
}

static int curl_errno(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_RESOLVE_HOST:
		return -EHOSTUNREACH;
	case CURLE_COULDNT_CONNECT:
		return -ECONNREFUSED;
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
		return -ECONNRESET;
	case CURLE_OUT_OF_MEMORY:
		return -ENOMEM;
	default:
		return -EIO;
	}
}

static void backoff_sleep(const struct s3_client *cl, unsigned int attempt,
			  unsigned int *seed)
{
	unsigned long long delay_ms = cl->retry_base_ms;
	struct timespec ts;

	while (attempt-- > 0 && delay_ms < cl->retry_max_ms)
		delay_ms *= 2;
	if (delay_ms > cl->retry_max_ms)
		delay_ms = cl->retry_max_ms;
	/* full delay halved plus up to the other half at random */
	delay_ms = delay_ms / 2 + (delay_ms ? rand_r(seed) % (delay_ms / 2 + 1) : 0);
	ts.tv_sec = delay_ms / 1000;
	ts.tv_nsec = (delay_ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* ---- callbacks ---- */

struct body_reader {
	const char *buf;
	size_t len;
	size_t pos;
};

static size_t read_body(char *out, size_t size, size_t nmemb, void *arg)
{
	struct body_reader *br = arg;
	size_t n = size * nmemb;

	if (n > br->len - br->pos)
		n = br->len - br->pos;
	memcpy(out, br->buf + br->pos, n);
	br->pos += n;
	return n;
}

/* curl rewinds the body when it must send it again (a redirect, a reset). */
static int seek_body(void *arg, curl_off_t offset, int origin)
{
	struct body_reader *br = arg;

	if (origin != SEEK_SET || offset < 0 || (size_t)offset > br->len)
		return CURL_SEEKFUNC_CANTSEEK;
	br->pos = (size_t)offset;
	return CURL_SEEKFUNC_OK;
}

struct attempt {
	struct s3_request *req;
	CURL *curl;
	bool is_checked_range;
	bool wants_partial;	/* asked for a Range: only 206 will do */
};

static int append_resp(struct s3_request *req, const char *data, size_t n)
{
	size_t cap;
	char *p;

	if (req->resp_len + n + 1 > S3_RESP_MAX)
		n = S3_RESP_MAX - 1 - req->resp_len;
	if (req->resp_len + n + 1 > req->resp_cap) {
		cap = req->resp_cap ? req->resp_cap * 2 : 4096;
		while (cap < req->resp_len + n + 1)
			cap *= 2;
		p = realloc(req->resp, cap);
		if (!p)
			return -ENOMEM;
		req->resp = p;
		req->resp_cap = cap;
	}
	memcpy(req->resp + req->resp_len, data, n);
	req->resp_len += n;
	req->resp[req->resp_len] = '\0';
	return 0;
}

static size_t write_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct attempt *at = arg;
	struct s3_request *req = at->req;
	size_t n = size * nmemb;
	long status = 0;

	curl_easy_getinfo(at->curl, CURLINFO_RESPONSE_CODE, &status);
	if (req->sink && status >= 200 && status < 300) {
		/* a server that ignores Range would hand us the wrong bytes */
		if (!at->is_checked_range) {
			at->is_checked_range = true;
			if (at->wants_partial && status != 206) {
				req->sink_err = -EIO;
				return 0;
			}
		}
		req->sink_err = req->sink(req->sink_arg, data, n);
		if (req->sink_err)
			return 0;
		req->sink_bytes += n;
		return n;
	}
	return append_resp(req, data, n) ? 0 : n;
}

static size_t header_line(char *data, size_t size, size_t nmemb, void *arg)
{
	struct s3_request *req = arg;
	size_t n = size * nmemb, i, len = n;
	struct curl_slist *l;
	char *line;

	/* a new status line (100 Continue, a retry) starts a new set */
	if (n >= 5 && strncmp(data, "HTTP/", 5) == 0) {
		curl_slist_free_all(req->resp_headers);
		req->resp_headers = NULL;
		return n;
	}
	while (len && (data[len - 1] == '\r' || data[len - 1] == '\n'))
		len--;
	if (!len || !memchr(data, ':', len))
		return n;
	line = strndup(data, len);
	if (!line)
		return 0;
	for (i = 0; line[i] && line[i] != ':'; i++)
		line[i] = (char)tolower((unsigned char)line[i]);
	l = curl_slist_append(req->resp_headers, line);
	free(line);
	if (!l)
		return 0;
	req->resp_headers = l;
	return n;
}

const char *s3_response_header(const struct s3_request *req, const char *name)
{
	size_t len = strlen(name);
	struct curl_slist *l;

	for (l = req->resp_headers; l; l = l->next) {
		if (strncmp(l->data, name, len) == 0 && l->data[len] == ':') {
			const char *v = l->data + len + 1;

			while (*v == ' ' || *v == '\t')
				v++;
			return v;
		}
	}
	return NULL;
}

void s3_request_release(struct s3_request *req)
{
	free(req->resp);
	req->resp = NULL;
	req->resp_len = 0;
	req->resp_cap = 0;
	curl_slist_free_all(req->resp_headers);
	req->resp_headers = NULL;
	req->status = 0;
	req->code[0] = '\0';
}

/* ---- one attempt ---- */

static char *encode_key(const char *key)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i, o = 0;
	char *out = malloc(strlen(key) * 3 + 1);

	if (!out)
		return NULL;
	for (i = 0; key[i]; i++) {
		unsigned char c = (unsigned char)key[i];

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		    c == '.' || c == '~' || c == '/') {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
	return out;
}

static void sha256_hex(const void *buf, size_t len, char *out)
{
	char text[HSM_CHECKSUM_TEXT_MAX];
	struct hsm_checksum sum;

	hsm_checksum_buf(buf, len, &sum);
	hsm_checksum_to_text(&sum, text);
	strcpy(out, text + strlen(HSM_CHECKSUM_PREFIX));
}

static struct curl_slist *build_headers(const struct s3_request *req,
					const char *payload_sha256,
					const char *token_header,
					const char *date_header,
					uint64_t range_start, uint64_t range_len)
{
	struct curl_slist *h = NULL, *l, *t;
	char line[128];

	for (l = req->headers; l; l = l->next) {
		t = curl_slist_append(h, l->data);
		if (!t)
			goto fail;
		h = t;
	}
	snprintf(line, sizeof(line), "x-amz-content-sha256: %s", payload_sha256);
	if (!(t = curl_slist_append(h, line)))
		goto fail;
	h = t;
	if (token_header[0]) {
		if (!(t = curl_slist_append(h, token_header)))
			goto fail;
		h = t;
	}
	/*
	 * curl signs with a date it is given instead of its clock's (curl
	 * before 8.3 also repeats the header, with the same value).
	 */
	if (date_header[0]) {
		if (!(t = curl_slist_append(h, date_header)))
			goto fail;
		h = t;
	}
	if (req->has_range) {
		if (range_len == UINT64_MAX)
			snprintf(line, sizeof(line), "Range: bytes=%llu-",
				 (unsigned long long)range_start);
		else
			snprintf(line, sizeof(line), "Range: bytes=%llu-%llu",
				 (unsigned long long)range_start,
				 (unsigned long long)(range_start + range_len - 1));
		if (!(t = curl_slist_append(h, line)))
			goto fail;
		h = t;
	}
	if (strcmp(req->method, "POST") == 0) {
		if (!(t = curl_slist_append(h, "Content-Type: application/xml")))
			goto fail;
		h = t;
	}
	return h;
fail:
	curl_slist_free_all(h);
	return NULL;
}

static void setup_common(CURL *curl, const struct s3_client *cl,
			 struct attempt *at, const char *userpwd,
			 char *curl_err)
{
	curl_easy_reset(curl);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, S3_USER_AGENT);
	/* a key is a name, not a path: "a/../b" must reach S3 as it is */
	curl_easy_setopt(curl, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(curl, CURLOPT_AWS_SIGV4, cl->sigv4);
	curl_easy_setopt(curl, CURLOPT_USERPWD, userpwd);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, curl_err);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, write_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, at);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, header_line);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, at->req);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)cl->connect_timeout_ms);
	/*
	 * Send a body at once instead of waiting for "100 Continue" (curl
	 * holds bodies over 1 MiB for it, a round trip or up to a second):
	 * a refusal costs the bytes sent.  (Dropping the Expect header
	 * instead would break the signature: curl signs an emptied header.)
	 */
	curl_easy_setopt(curl, CURLOPT_EXPECT_100_TIMEOUT_MS, 0L);
	if (cl->stall_timeout_s) {
		curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
		curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME,
				 (long)cl->stall_timeout_s);
	}
	if (cl->request_timeout_ms)
		curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS,
				 (long)cl->request_timeout_ms);
}

/*
 * One try.  Returns the curl result; the HTTP status and body land in req.
 */
static CURLcode attempt_once(CURL *curl, struct s3_client *cl,
			     struct s3_request *req, const char *url,
			     const char *payload_sha256, const char *userpwd,
			     const char *token_header, char *curl_err)
{
	struct body_reader br = { req->body, req->body_len, 0 };
	struct attempt at = { req, curl, false, false };
	uint64_t start = req->range_start, len = req->range_len;
	char date_header[S3_DATE_HEADER_MAX];
	struct curl_slist *headers;
	CURLcode cc;

	/* resume a streamed GET after the bytes the sink already has */
	if (req->sink && req->sink_bytes) {
		if (!req->has_range) {
			req->has_range = true;
			start = 0;
			len = UINT64_MAX;
		}
		start += req->sink_bytes;
		if (len != UINT64_MAX)
			len -= req->sink_bytes;
	}
	at.wants_partial = req->has_range;

	s3_client_date_header(cl, date_header);
	headers = build_headers(req, payload_sha256, token_header, date_header,
				start, len);
	if (!headers)
		return CURLE_OUT_OF_MEMORY;

	s3_request_release(req);
	setup_common(curl, cl, &at, userpwd, curl_err);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);

	if (strcmp(req->method, "HEAD") == 0) {
		curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
	} else if (strcmp(req->method, "PUT") == 0) {
		curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_body);
		curl_easy_setopt(curl, CURLOPT_READDATA, &br);
		curl_easy_setopt(curl, CURLOPT_SEEKFUNCTION, seek_body);
		curl_easy_setopt(curl, CURLOPT_SEEKDATA, &br);
		curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE,
				 (curl_off_t)req->body_len);
	} else if (strcmp(req->method, "POST") == 0) {
		curl_easy_setopt(curl, CURLOPT_POST, 1L);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS,
				 req->body ? (const char *)req->body : "");
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)req->body_len);
	} else if (strcmp(req->method, "DELETE") == 0) {
		curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, "DELETE");
	}

	curl_err[0] = '\0';
	cc = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &req->status);
	/* the easy handle outlives this list: do not leave it pointing here */
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(headers);
	return cc;
}

/* S3 error code and message of a failed answer, from its XML body. */
static void parse_error_answer(struct s3_request *req, char *message,
			       size_t message_len)
{
	message[0] = '\0';
	if (s3_xml_child_text(req->resp, req->resp_len, "Error", "Code",
			      req->code, sizeof(req->code)) != 0) {
		/* HEAD answers have no body: name the status instead */
		switch (req->status) {
		case 403:
			strcpy(req->code, "Forbidden");
			break;
		case 404:
			strcpy(req->code, "NotFound");
			break;
		default:
			snprintf(req->code, sizeof(req->code), "HTTP%ld",
				 req->status);
		}
		return;
	}
	s3_xml_child_text(req->resp, req->resp_len, "Error", "Message",
			  message, message_len);
}

static void count_request(struct s3_client *cl, const char *method)
{
	static const char *const names[S3_NR_METHODS] = {
		[S3_METHOD_GET] = "GET", [S3_METHOD_HEAD] = "HEAD",
		[S3_METHOD_PUT] = "PUT", [S3_METHOD_POST] = "POST",
		[S3_METHOD_DELETE] = "DELETE",
	};
	int i;

	for (i = 0; i < S3_NR_METHODS; i++) {
		if (strcmp(method, names[i]) == 0) {
			atomic_fetch_add(&cl->nr_requests[i], 1);
			return;
		}
	}
}

int s3_request_perform(CURL *curl, struct s3_client *cl,
		       struct s3_request *req, char *err, size_t err_len)
{
	char payload_sha256[2 * HSM_CHECKSUM_BYTES + 1];
	char userpwd[S3_USERPWD_MAX];
	char *token_header = malloc(S3_TOKEN_HEADER_MAX);
	char curl_err[CURL_ERROR_SIZE];
	char message[256];
	char *ekey = NULL, *url = NULL;
	unsigned int attempt, seed;
	bool is_expired = false, is_skew_learnt = false;
	int ret = 0;
	CURLcode cc;

	seed = (unsigned int)time(NULL) ^ (unsigned int)(uintptr_t)req ^
	       (unsigned int)pthread_self();
	count_request(cl, req->method);
	req->sink_bytes = 0;
	req->sink_err = 0;

	ekey = token_header ? encode_key(req->key ? req->key : "") : NULL;
	if (ekey)
		url = dup_printf("%s/%s%s%s", cl->base_url, ekey,
				 req->query ? "?" : "",
				 req->query ? req->query : "");
	if (!url) {
		snprintf(err, err_len, "s3: %s %s/%s: out of memory",
			 req->method, cl->bucket, req->key ? req->key : "");
		ret = -ENOMEM;
		goto out;
	}

	if (req->body_sha256)
		snprintf(payload_sha256, sizeof(payload_sha256), "%s",
			 req->body_sha256);
	else if (req->body_len)
		sha256_hex(req->body, req->body_len, payload_sha256);
	else
		strcpy(payload_sha256, SHA256_OF_NOTHING);

	for (attempt = 0;; attempt++) {
		bool is_last = attempt >= cl->retries;

		ret = s3_client_credentials(cl, is_expired, userpwd, token_header,
					    err, err_len);
		if (ret)
			break;
		cc = attempt_once(curl, cl, req, url, payload_sha256, userpwd,
				  token_header, curl_err);
		if (cc == CURLE_OK && req->status >= 200 && req->status < 300) {
			ret = 0;
			break;
		}

		if (req->sink_err) {
			ret = req->sink_err;
			if (ret == -EIO)
				snprintf(err, err_len,
					 "s3: %s %s/%s: server ignored the Range of the read",
					 req->method, cl->bucket,
					 req->key ? req->key : "");
			else
				snprintf(err, err_len,
					 "s3: %s %s/%s: writer failed after %llu bytes: %s",
					 req->method, cl->bucket,
					 req->key ? req->key : "",
					 (unsigned long long)req->sink_bytes,
					 strerror(-ret));
			break;
		}

		if (cc != CURLE_OK) {
			ret = curl_errno(cc);
			snprintf(err, err_len, "s3: %s %s/%s%s%s: %s%s%s (%u attempt%s)",
				 req->method, cl->bucket,
				 req->key ? req->key : "",
				 req->what ? " " : "", req->what ? req->what : "",
				 curl_easy_strerror(cc), curl_err[0] ? ": " : "",
				 curl_err, attempt + 1, attempt ? "s" : "");
			if (!is_retryable_curl(cc) || is_last)
				break;
		} else {
			parse_error_answer(req, message, sizeof(message));
			ret = s3_status_errno(req->status, req->code);
			snprintf(err, err_len, "s3: %s %s/%s%s%s: %ld %s%s%s%s",
				 req->method, cl->bucket,
				 req->key ? req->key : "",
				 req->what ? " " : "", req->what ? req->what : "",
				 req->status, req->code, message[0] ? ": " : "",
				 message,
				 is_retryable_answer(req->status, req->code) ?
				 " (gave up retrying)" : "");
			/*
			 * Temporary credentials aged on the way (or the clock
			 * is off): renew them and try again at once.
			 */
			is_expired = is_expired_token(req->code);
			if (is_expired && !is_last)
				continue;
			/*
			 * Our clock is off: sign at the service's and go again,
			 * once; a second refusal will not get better by asking.
			 */
			if (strcmp(req->code, "RequestTimeTooSkewed") == 0 &&
			    !is_skew_learnt && !is_last &&
			    learn_clock_offset(cl, req)) {
				is_skew_learnt = true;
				continue;
			}
			if (!is_retryable_answer(req->status, req->code) || is_last)
				break;
		}
		backoff_sleep(cl, attempt, &seed);
	}
out:
	memset(userpwd, 0, sizeof(userpwd));
	free(token_header);
	free(ekey);
	free(url);
	return ret;
}
