// SPDX-License-Identifier: GPL-2.0
/*
 * config.c: load and check the hsm-agent configuration file.
 *
 * The file is libconfig's format (libconfig parses it and reports syntax
 * errors with their line; we never parse text ourselves beyond size and
 * duration values such as "64M" and "10m").  The tree is then walked once,
 * section by section, into struct agent_config.  The walk never stops at
 * the first problem: every problem it finds is appended to the error list
 * as "FILE:LINE: what is wrong", so an operator fixes a file in one go.
 * The rules, section by section:
 *
 *  - every group accepts a fixed list of names; any other name is an
 *    error at its own line (a typo such as "hihg_watermark" never passes
 *    silently as a default);
 *  - every value has one type (a size or a duration may be written as a
 *    number or as a string with a unit) and a range;
 *  - names of backends and archive sets are unique, and a copy names a
 *    backend that exists; references are checked after all backends are
 *    read, so order in the file does not matter;
 *  - consistency across settings: low watermark below high, size_min not
 *    above size_max, a set either copies (1 to 4 copies) or says
 *    never_archive, S3 keys come in pairs, a tape backend has exactly one
 *    of device and volume_dir, metrics listen on loopback only.
 *
 * A load that found any error frees what it built and returns -EINVAL;
 * the caller (startup, SIGHUP, --check-config) decides what to do.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>

#include <libconfig.h>

#include "config.h"
#include "tape_format.h"

#define WHAT_MAX 256

/* the name of a setting's place, for messages ("backend 's3a' volume 2") */
__attribute__((format(printf, 3, 4)))
static void fmt_what(char *dst, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dst, len, fmt, ap);
	va_end(ap);
}

struct ctx {
	const char *path;
	struct agent_config_errors *errs;
};

static void add_error(struct agent_config_errors *errs, const char *msg)
{
	char **n = realloc(errs->msgs, (errs->nr + 1) * sizeof(*n));
	char *d = strdup(msg);

	if (!n || !d) {
		free(d);
		if (n)
			errs->msgs = n;
		return;
	}
	errs->msgs = n;
	errs->msgs[errs->nr++] = d;
}

__attribute__((format(printf, 3, 4)))
static void err_at(struct ctx *c, const config_setting_t *s, const char *fmt,
		   ...)
{
	char body[768];
	char msg[1024 + PATH_MAX];
	const char *file = NULL;
	unsigned int line = 0;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	if (s) {
		file = config_setting_source_file(s);
		line = config_setting_source_line(s);
	}
	if (!file)
		file = c->path;
	if (line)
		fmt_what(msg, sizeof(msg), "%s:%u: %s", file, line, body);
	else
		fmt_what(msg, sizeof(msg), "%s: %s", file, body);
	add_error(c->errs, msg);
}

static const char *type_name(const config_setting_t *s)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_GROUP: return "a group { }";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64: return "an integer";
	case CONFIG_TYPE_FLOAT: return "a number with a fraction";
	case CONFIG_TYPE_STRING: return "a string";
	case CONFIG_TYPE_BOOL: return "a boolean";
	case CONFIG_TYPE_ARRAY: return "an array [ ]";
	case CONFIG_TYPE_LIST: return "a list ( )";
	}
	return "nothing";
}

/* ---- values with units ---- */

int agent_parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	unsigned int shift = 0;
	char *end;

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -ERANGE;
	while (*end == ' ')
		end++;
	switch (toupper((unsigned char)*end)) {
	case 0: break;
	case 'K': shift = 10; break;
	case 'M': shift = 20; break;
	case 'G': shift = 30; break;
	case 'T': shift = 40; break;
	case 'P': shift = 50; break;
	case 'B': if (end[1]) return -EINVAL; end++; break;
	default: return -EINVAL;
	}
	if (shift) {
		end++;
		if (!strcasecmp(end, "iB") || !strcasecmp(end, "B"))
			end += strlen(end);
	} else if (*end == 'B' || *end == 'b') {
		end++;
	}
	if (*end)
		return -EINVAL;
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = (uint64_t)v << shift;
	return 0;
}

int agent_parse_duration(const char *s, uint64_t *out)
{
	unsigned long long v;
	uint64_t mult = 1;
	char *end;

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -ERANGE;
	while (*end == ' ')
		end++;
	if (*end) {
		switch (*end) {
		case 's': mult = 1; break;
		case 'm': mult = 60; break;
		case 'h': mult = 3600; break;
		case 'd': mult = 86400; break;
		case 'w': mult = 7 * 86400; break;
		default: return -EINVAL;
		}
		if (end[1])
			return -EINVAL;
	}
	if (v > UINT64_MAX / mult)
		return -ERANGE;
	*out = v * mult;
	return 0;
}

/* ---- typed getters: false when absent or wrong (the error recorded) ---- */

static void check_keys(struct ctx *c, const config_setting_t *group,
		       const char *what, const char *const *allowed)
{
	int i, n = config_setting_length(group);

	for (i = 0; i < n; i++) {
		const config_setting_t *m = config_setting_get_elem(group, i);
		const char *name = config_setting_name(m);
		char known[512] = "";
		size_t k;
		bool ok = false;

		for (k = 0; allowed[k]; k++) {
			if (!strcmp(allowed[k], name))
				ok = true;
		}
		if (ok)
			continue;
		for (k = 0; allowed[k]; k++) {
			size_t len = strlen(known);

			snprintf(known + len, sizeof(known) - len, "%s%s",
				 k ? ", " : "", allowed[k]);
		}
		err_at(c, m, "%s: unknown setting '%s' (known here: %s)", what,
		       name, known);
	}
}

static config_setting_t *member(const config_setting_t *g, const char *key)
{
	return g ? config_setting_get_member(g, key) : NULL;
}

static bool get_string(struct ctx *c, const config_setting_t *g,
		       const char *key, const char *what, bool required,
		       const char **out)
{
	config_setting_t *s = member(g, key);

	if (!s) {
		if (required)
			err_at(c, g, "%s: '%s' is required", what, key);
		return false;
	}
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		err_at(c, s, "%s: '%s' must be a string, not %s", what, key,
		       type_name(s));
		return false;
	}
	*out = config_setting_get_string(s);
	if (!**out) {
		err_at(c, s, "%s: '%s' must not be empty", what, key);
		return false;
	}
	return true;
}

static bool get_bool(struct ctx *c, const config_setting_t *g,
		     const char *key, const char *what, bool *out)
{
	config_setting_t *s = member(g, key);

	if (!s)
		return false;
	if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
		err_at(c, s, "%s: '%s' must be true or false, not %s", what,
		       key, type_name(s));
		return false;
	}
	*out = config_setting_get_bool(s);
	return true;
}

enum unit { UNIT_NONE, UNIT_SIZE, UNIT_DURATION };

static bool get_number(struct ctx *c, const config_setting_t *g,
		       const char *key, const char *what, enum unit unit,
		       uint64_t min, uint64_t max, uint64_t *out)
{
	config_setting_t *s = member(g, key);
	uint64_t v;
	int type;

	if (!s)
		return false;
	type = config_setting_type(s);
	if (type == CONFIG_TYPE_INT || type == CONFIG_TYPE_INT64) {
		long long ll = config_setting_get_int64(s);

		if (ll < 0) {
			err_at(c, s, "%s: '%s' must not be negative (%lld)",
			       what, key, ll);
			return false;
		}
		v = (uint64_t)ll;
	} else if (type == CONFIG_TYPE_STRING && unit != UNIT_NONE) {
		const char *str = config_setting_get_string(s);
		int ret = unit == UNIT_SIZE ? agent_parse_size(str, &v) :
			  agent_parse_duration(str, &v);

		if (ret) {
			err_at(c, s, "%s: '%s' = \"%s\" is not a %s", what, key,
			       str, unit == UNIT_SIZE ?
			       "size (bytes, or a number with K, M, G, T or P)" :
			       "duration (seconds, or a number with s, m, h, d or w)");
			return false;
		}
	} else {
		err_at(c, s, "%s: '%s' must be %s, not %s", what, key,
		       unit == UNIT_SIZE ? "a size (a number or a string like \"64M\")" :
		       unit == UNIT_DURATION ? "a duration (a number of seconds or a string like \"10m\")" :
		       "an integer", type_name(s));
		return false;
	}
	if (v < min || v > max) {
		err_at(c, s, "%s: '%s' = %llu is out of range (%llu to %llu)",
		       what, key, (unsigned long long)v,
		       (unsigned long long)min, (unsigned long long)max);
		return false;
	}
	*out = v;
	return true;
}

static bool get_uint(struct ctx *c, const config_setting_t *g,
		     const char *key, const char *what, unsigned int min,
		     unsigned int max, unsigned int *out)
{
	uint64_t v;

	if (!get_number(c, g, key, what, UNIT_NONE, min, max, &v))
		return false;
	*out = (unsigned int)v;
	return true;
}

static bool get_float(struct ctx *c, const config_setting_t *g,
		      const char *key, const char *what, double min,
		      double max, double *out)
{
	config_setting_t *s = member(g, key);
	double v;

	if (!s)
		return false;
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		v = (double)config_setting_get_int64(s);
		break;
	case CONFIG_TYPE_FLOAT:
		v = config_setting_get_float(s);
		break;
	default:
		err_at(c, s, "%s: '%s' must be a number, not %s", what, key,
		       type_name(s));
		return false;
	}
	if (!(v >= min && v <= max)) {
		err_at(c, s, "%s: '%s' = %g is out of range (%g to %g)", what,
		       key, v, min, max);
		return false;
	}
	*out = v;
	return true;
}

/* -1 when absent or wrong, else the index of the string in names */
static int get_enum(struct ctx *c, const config_setting_t *g, const char *key,
		    const char *what, const char *const *names)
{
	config_setting_t *s = member(g, key);
	const char *v;
	char known[256] = "";
	int i;

	if (!get_string(c, g, key, what, false, &v))
		return -1;
	for (i = 0; names[i]; i++) {
		size_t len = strlen(known);

		if (!strcmp(names[i], v))
			return i;
		snprintf(known + len, sizeof(known) - len, "%s%s",
			 i ? ", " : "", names[i]);
	}
	err_at(c, s, "%s: '%s' = \"%s\" is not one of: %s", what, key, v,
	       known);
	return -1;
}

/* the group at key, NULL when absent or not a group (error recorded) */
static config_setting_t *get_group(struct ctx *c, const config_setting_t *g,
				   const char *key, const char *what)
{
	config_setting_t *s = member(g, key);

	if (s && config_setting_type(s) != CONFIG_TYPE_GROUP) {
		err_at(c, s, "%s: '%s' must be a group { ... }, not %s", what,
		       key, type_name(s));
		return NULL;
	}
	return s;
}

/* a list ( ) of groups; arrays [ ] cannot hold groups in libconfig */
static config_setting_t *get_list(struct ctx *c, const config_setting_t *g,
				  const char *key, const char *what)
{
	config_setting_t *s = member(g, key);
	int i;

	if (!s)
		return NULL;
	if (config_setting_type(s) != CONFIG_TYPE_LIST) {
		err_at(c, s, "%s: '%s' must be a list ( { ... }, ... ), not %s",
		       what, key, type_name(s));
		return NULL;
	}
	for (i = 0; i < config_setting_length(s); i++) {
		config_setting_t *e = config_setting_get_elem(s, i);

		if (config_setting_type(e) != CONFIG_TYPE_GROUP) {
			err_at(c, e, "%s: '%s' element %d must be a group { ... }, not %s",
			       what, key, i + 1, type_name(e));
			return NULL;
		}
	}
	return s;
}

static bool name_is_valid(const char *n)
{
	size_t len = strlen(n);

	if (!len || len >= AGENT_NAME_MAX)
		return false;
	for (; *n; n++) {
		if (!isalnum((unsigned char)*n) && !strchr("-_.", *n))
			return false;
	}
	return true;
}

static bool path_is_absolute(struct ctx *c, const config_setting_t *g,
			     const char *key, const char *what, const char *p)
{
	if (p[0] == '/')
		return true;
	err_at(c, member(g, key), "%s: '%s' = \"%s\" must be an absolute path",
	       what, key, p);
	return false;
}

/* ---- sections ---- */

static const char *const dir_keys[] = {
	"name", "type", "archive_workers", "stage_workers", "bandwidth",
	"root", NULL
};
static const char *const s3_keys[] = {
	"name", "type", "archive_workers", "stage_workers", "bandwidth",
	"endpoint", "bucket", "region", "addressing", "path_style",
	"sse", "sse_kms_key_id", "storage_class", "parallel_objects",
	"access_key",
	"secret_key", "session_token", "profile", "key_prefix",
	"multipart_threshold", "part_size", "parallel_parts", "retries",
	"retry_base_ms", "retry_max_ms", "connect_timeout_ms",
	"stall_timeout", "request_timeout_ms", "credential_refresh",
	"list_page_keys", "pack_threshold", "pack_max_files",
	"pack_max_bytes", "pack_delay", NULL
};
static const char *const tape_keys[] = {
	"name", "type", "archive_workers", "stage_workers", "bandwidth",
	"device", "volume_dir", "volumes", "default_capacity",
	"auto_label_prefix", "segment_bytes", "block_size", "durability",
	"changer", NULL
};
static const char *const backend_types[] = { "dir", "s3", "tape", NULL };

const char *agent_backend_type_name(enum agent_backend_type type)
{
	return type <= AGENT_BACKEND_TAPE ? backend_types[type] : "?";
}

static void load_s3(struct ctx *c, const config_setting_t *g,
		    const char *what, struct agent_backend_conf *b)
{
	struct hsm_s3_config *s3 = &b->s3;
	uint64_t v;
	bool have_key, have_secret;

	hsm_s3_config_init(s3);
	if (get_string(c, g, "endpoint", what, true, &s3->endpoint) &&
	    strncmp(s3->endpoint, "http://", 7) &&
	    strncmp(s3->endpoint, "https://", 8))
		err_at(c, member(g, "endpoint"),
		       "%s: 'endpoint' = \"%s\" must start with http:// or https://",
		       what, s3->endpoint);
	get_string(c, g, "bucket", what, true, &s3->bucket);
	get_string(c, g, "region", what, false, &s3->region);
	{
		static const char *const addressing[] = {
			"auto", "virtual_host", "path", NULL
		};
		static const char *const sse[] = { "none", "s3", "kms", NULL };
		bool path_style = false;
		int i;

		i = get_enum(c, g, "addressing", what, addressing);
		if (i >= 0)
			s3->addressing = (enum hsm_s3_addressing)i;
		/* the older boolean spelling of addressing = "path" */
		if (get_bool(c, g, "path_style", what, &path_style)) {
			if (i >= 0)
				err_at(c, member(g, "path_style"),
				       "%s: 'path_style' and 'addressing' both set; keep 'addressing'",
				       what);
			else if (path_style)
				s3->addressing = HSM_S3_ADDRESSING_PATH;
		}
		i = get_enum(c, g, "sse", what, sse);
		if (i >= 0)
			s3->sse = (enum hsm_s3_sse)i;
		if (get_string(c, g, "sse_kms_key_id", what, false,
			       &s3->sse_kms_key_id) && s3->sse != HSM_S3_SSE_KMS)
			err_at(c, member(g, "sse_kms_key_id"),
			       "%s: 'sse_kms_key_id' needs sse = \"kms\"", what);
		get_string(c, g, "storage_class", what, false,
			   &s3->storage_class);
	}
	have_key = get_string(c, g, "access_key", what, false, &s3->access_key);
	have_secret = get_string(c, g, "secret_key", what, false,
				 &s3->secret_key);
	if (have_key != have_secret)
		err_at(c, member(g, have_key ? "access_key" : "secret_key"),
		       "%s: 'access_key' and 'secret_key' go together; only '%s' is set",
		       what, have_key ? "access_key" : "secret_key");
	if (get_string(c, g, "session_token", what, false,
		       &s3->session_token) && !have_key)
		err_at(c, member(g, "session_token"),
		       "%s: 'session_token' needs 'access_key' and 'secret_key'",
		       what);
	get_string(c, g, "profile", what, false, &s3->profile);
	get_string(c, g, "key_prefix", what, false, &s3->key_prefix);
	get_number(c, g, "multipart_threshold", what, UNIT_SIZE, 1,
		   5ULL << 40, &s3->multipart_threshold);
	get_number(c, g, "part_size", what, UNIT_SIZE, 1, 5ULL << 30,
		   &s3->part_size);
	get_uint(c, g, "parallel_parts", what, 1, HSM_S3_MAX_PARALLEL_PARTS,
		 &s3->parallel_parts);
	get_uint(c, g, "parallel_objects", what, 1, HSM_S3_MAX_PARALLEL_OBJECTS,
		 &s3->parallel_objects);
	get_uint(c, g, "retries", what, 0, 100, &s3->retries);
	get_uint(c, g, "retry_base_ms", what, 1, 600000, &s3->retry_base_ms);
	get_uint(c, g, "retry_max_ms", what, 1, 3600000, &s3->retry_max_ms);
	if (s3->retry_base_ms > s3->retry_max_ms)
		err_at(c, member(g, "retry_base_ms") ?: member(g, "retry_max_ms"),
		       "%s: 'retry_base_ms' (%u) is above 'retry_max_ms' (%u)",
		       what, s3->retry_base_ms, s3->retry_max_ms);
	get_uint(c, g, "connect_timeout_ms", what, 1, 600000,
		 &s3->connect_timeout_ms);
	if (get_number(c, g, "stall_timeout", what, UNIT_DURATION, 1, 86400,
		       &v))
		s3->stall_timeout_s = (unsigned int)v;
	get_uint(c, g, "request_timeout_ms", what, 0, UINT_MAX,
		 &s3->request_timeout_ms);
	if (get_number(c, g, "credential_refresh", what, UNIT_DURATION, 0,
		       86400, &v))
		s3->credential_refresh_s = (unsigned int)v;
	get_uint(c, g, "list_page_keys", what, 1, 1000, &s3->list_page_keys);
	b->pack_threshold = 1 << 20;
	get_number(c, g, "pack_threshold", what, UNIT_SIZE, 0, 5ULL << 30,
		   &b->pack_threshold);
	b->pack_max_files = 1000;
	get_uint(c, g, "pack_max_files", what, 1, 100000, &b->pack_max_files);
	b->pack_max_bytes = 64ULL << 20;
	get_number(c, g, "pack_max_bytes", what, UNIT_SIZE, 1, 1ULL << 30,
		   &b->pack_max_bytes);
	b->pack_delay = 5;
	get_number(c, g, "pack_delay", what, UNIT_DURATION, 0, 3600,
		   &b->pack_delay);
	if (b->pack_threshold > b->pack_max_bytes)
		err_at(c, member(g, "pack_threshold") ?: member(g, "pack_max_bytes"),
		       "%s: 'pack_threshold' (%llu) is above 'pack_max_bytes' (%llu): a file to pack would not fit a pack",
		       what, (unsigned long long)b->pack_threshold,
		       (unsigned long long)b->pack_max_bytes);
}

static void load_tape(struct ctx *c, const config_setting_t *g,
		      const char *what, struct agent_backend_conf *b)
{
	struct hsm_tape_config *t = &b->tape;
	config_setting_t *vols, *ch;
	bool dev, dir;
	uint64_t v;
	int i, n;

	memset(t, 0, sizeof(*t));
	dev = get_string(c, g, "device", what, false, &t->device);
	dir = get_string(c, g, "volume_dir", what, false, &t->volume_dir);
	if (dev == dir)
		err_at(c, g, "%s: give exactly one of 'device' (a tape drive) and 'volume_dir' (file-backed volumes)",
		       what);
	if (dev)
		path_is_absolute(c, g, "device", what, t->device);
	if (dir)
		path_is_absolute(c, g, "volume_dir", what, t->volume_dir);
	get_number(c, g, "default_capacity", what, UNIT_SIZE, 0, UINT64_MAX,
		   &t->default_capacity);
	if (get_string(c, g, "auto_label_prefix", what, false,
		       &t->auto_label_prefix) && dev)
		err_at(c, member(g, "auto_label_prefix"),
		       "%s: 'auto_label_prefix' is for file-backed volumes (volume_dir) only",
		       what);
	t->segment_bytes = HSM_TAPE_DEFAULT_SEGMENT_BYTES;
	get_number(c, g, "segment_bytes", what, UNIT_SIZE, 1 << 20,
		   UINT64_MAX, &t->segment_bytes);
	t->block_size = HSM_TAPE_DEFAULT_BLOCK_SIZE;
	if (get_number(c, g, "block_size", what, UNIT_SIZE, 512, 16 << 20,
		       &v)) {
		if (v % 512)
			err_at(c, member(g, "block_size"),
			       "%s: 'block_size' = %llu is not a multiple of 512",
			       what, (unsigned long long)v);
		t->block_size = (size_t)v;
	}
	i = get_enum(c, g, "durability", what,
		     (const char *const[]){ "each_put", "on_flush", NULL });
	/* not given: the library's default (the zero value) */
	if (i == 0)
		t->durability = HSM_TAPE_SYNC_EACH_PUT;
	else if (i == 1)
		t->durability = HSM_TAPE_SYNC_ON_FLUSH;

	ch = get_group(c, g, "changer", what);
	if (ch) {
		char cw[WHAT_MAX];

		fmt_what(cw, sizeof(cw), "%s changer", what);
		check_keys(c, ch, cw,
			   (const char *const[]){ "mtx", "device", "drive", NULL });
		if (!get_string(c, ch, "mtx", cw, false, &t->changer.mtx_path))
			t->changer.mtx_path = "mtx";
		if (get_string(c, ch, "device", cw, true, &t->changer.device))
			path_is_absolute(c, ch, "device", cw, t->changer.device);
		get_uint(c, ch, "drive", cw, 0, 1024, &t->changer.drive);
		if (!dev)
			err_at(c, ch, "%s: a changer needs 'device' (the drive it loads)",
			       what);
	}

	vols = get_list(c, g, "volumes", what);
	n = vols ? config_setting_length(vols) : 0;
	if (n) {
		b->tape_volumes = calloc((size_t)n, sizeof(*b->tape_volumes));
		if (!b->tape_volumes) {
			err_at(c, vols, "out of memory");
			return;
		}
	}
	for (i = 0; i < n; i++) {
		config_setting_t *vg = config_setting_get_elem(vols, i);
		struct hsm_tape_volume_config *vc = &b->tape_volumes[i];
		char vw[WHAT_MAX];
		int j;

		fmt_what(vw, sizeof(vw), "%s volume %d", what, i + 1);
		check_keys(c, vg, vw,
			   (const char *const[]){ "label", "capacity", "slot", NULL });
		if (get_string(c, vg, "label", vw, true, &vc->label)) {
			if (!tape_label_is_valid(vc->label))
				err_at(c, member(vg, "label"),
				       "%s: '%s' is not a valid volume label",
				       vw, vc->label);
			for (j = 0; j < i; j++) {
				if (b->tape_volumes[j].label &&
				    !strcmp(b->tape_volumes[j].label, vc->label))
					err_at(c, member(vg, "label"),
					       "%s: volume '%s' is listed twice",
					       vw, vc->label);
			}
		}
		get_number(c, vg, "capacity", vw, UNIT_SIZE, 0, UINT64_MAX,
			   &vc->capacity);
		get_uint(c, vg, "slot", vw, 0, 100000, &vc->slot);
	}
	t->volumes = b->tape_volumes;
	t->nr_volumes = (size_t)n;
	/* a device without volumes or changer: the loaded volume is used */
	if (dir && !dev && !n && !t->auto_label_prefix)
		err_at(c, g, "%s: file-backed tape needs 'volumes' or 'auto_label_prefix'",
		       what);
}

static void load_backends(struct ctx *c, const config_setting_t *root,
			  struct agent_config *cfg)
{
	config_setting_t *list = get_list(c, root, "backends", "backends");
	int i, j, n = list ? config_setting_length(list) : 0;

	if (!n)
		return;
	cfg->backends = calloc((size_t)n, sizeof(*cfg->backends));
	if (!cfg->backends) {
		err_at(c, list, "out of memory");
		return;
	}
	cfg->nr_backends = (size_t)n;
	for (i = 0; i < n; i++) {
		config_setting_t *g = config_setting_get_elem(list, i);
		struct agent_backend_conf *b = &cfg->backends[i];
		char what[WHAT_MAX];
		const char *const *keys;
		unsigned int max_workers = 1024;
		int type;

		b->line = config_setting_source_line(g);
		fmt_what(what, sizeof(what), "backend %d", i + 1);
		if (get_string(c, g, "name", what, true, &b->name)) {
			if (!name_is_valid(b->name)) {
				err_at(c, member(g, "name"),
				       "%s: name \"%s\" must be 1 to %d letters, digits, '-', '_' or '.'",
				       what, b->name, AGENT_NAME_MAX - 1);
			} else {
				fmt_what(what, sizeof(what), "backend '%s'",
					 b->name);
			}
			for (j = 0; j < i; j++) {
				if (cfg->backends[j].name &&
				    !strcmp(cfg->backends[j].name, b->name))
					err_at(c, member(g, "name"),
					       "%s: a backend of this name is already defined at line %u",
					       what, cfg->backends[j].line);
			}
		}
		if (!member(g, "type"))
			err_at(c, g, "%s: 'type' is required (dir, s3 or tape)",
			       what);
		type = get_enum(c, g, "type", what, backend_types);
		b->archive_workers = 1;
		b->stage_workers = 1;
		if (type == AGENT_BACKEND_S3) {
			b->archive_workers = 4;
			b->stage_workers = 4;
		}
		if (type == AGENT_BACKEND_TAPE)
			max_workers = 1;
		if (get_uint(c, g, "archive_workers", what, 1, 1024,
			     &b->archive_workers) &&
		    b->archive_workers > max_workers)
			err_at(c, member(g, "archive_workers"),
			       "%s: a tape backend drives one drive, so 'archive_workers' must be 1 (define one backend per drive)",
			       what);
		if (get_uint(c, g, "stage_workers", what, 1, 1024,
			     &b->stage_workers) &&
		    b->stage_workers > max_workers)
			err_at(c, member(g, "stage_workers"),
			       "%s: a tape backend drives one drive, so 'stage_workers' must be 1 (define one backend per drive)",
			       what);
		get_number(c, g, "bandwidth", what, UNIT_SIZE, 0, UINT64_MAX,
			   &b->bandwidth);
		switch (type) {
		case AGENT_BACKEND_DIR:
			b->type = AGENT_BACKEND_DIR;
			keys = dir_keys;
			if (get_string(c, g, "root", what, true, &b->dir_root))
				path_is_absolute(c, g, "root", what, b->dir_root);
			break;
		case AGENT_BACKEND_S3:
			b->type = AGENT_BACKEND_S3;
			keys = s3_keys;
			load_s3(c, g, what, b);
			break;
		case AGENT_BACKEND_TAPE:
			b->type = AGENT_BACKEND_TAPE;
			keys = tape_keys;
			load_tape(c, g, what, b);
			break;
		default:
			/* type missing or wrong (reported): its keys are unknown */
			keys = NULL;
			break;
		}
		if (keys)
			check_keys(c, g, what, keys);
	}
}

/*
 * An owner or group: a number, or a name looked up in the passwd or
 * group database now (a name that does not resolve is an error, not a
 * set that silently matches nobody).
 */
static bool lookup_id(struct ctx *c, const config_setting_t *s,
		      const char *what, bool group, uint32_t *out)
{
	const char *key = group ? "group" : "owner";
	const char *kind = group ? "group" : "user";
	struct passwd pw, *pwr = NULL;
	struct group gr, *grr = NULL;
	char buf[4096];
	const char *name;

	if (config_setting_type(s) == CONFIG_TYPE_INT ||
	    config_setting_type(s) == CONFIG_TYPE_INT64) {
		long long v = config_setting_get_int64(s);

		if (v < 0 || v >= (long long)UINT32_MAX) {
			err_at(c, s, "%s: '%s' = %lld is not a %s id", what,
			       key, v, kind);
			return false;
		}
		*out = (uint32_t)v;
		return true;
	}
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		err_at(c, s, "%s: '%s' must be a %s name or id, not %s",
		       what, key, kind, type_name(s));
		return false;
	}
	name = config_setting_get_string(s);
	if (group ? getgrnam_r(name, &gr, buf, sizeof(buf), &grr) || !grr :
		    getpwnam_r(name, &pw, buf, sizeof(buf), &pwr) || !pwr) {
		err_at(c, s, "%s: '%s' = \"%s\": no such %s", what, key, name,
		       kind);
		return false;
	}
	*out = group ? grr->gr_gid : pwr->pw_uid;
	return true;
}

static void load_match(struct ctx *c, const config_setting_t *m,
		       const char *what, struct agent_set_conf *set)
{
	config_setting_t *p, *x;
	char mw[WHAT_MAX];

	fmt_what(mw, sizeof(mw), "%s match", what);
	check_keys(c, m, mw, (const char *const[]){ "path", "size_min",
		   "size_max", "owner", "group", "xattr", "age", NULL });
	p = member(m, "path");
	if (p && config_setting_type(p) == CONFIG_TYPE_STRING) {
		set->paths = calloc(1, sizeof(*set->paths));
		if (set->paths) {
			set->paths[0] = config_setting_get_string(p);
			set->nr_paths = 1;
		}
	} else if (p && (config_setting_type(p) == CONFIG_TYPE_ARRAY ||
			 config_setting_type(p) == CONFIG_TYPE_LIST)) {
		int i, n = config_setting_length(p);

		if (!n)
			err_at(c, p, "%s: 'path' must list at least one glob", mw);
		set->paths = calloc((size_t)n + 1, sizeof(*set->paths));
		for (i = 0; set->paths && i < n; i++) {
			config_setting_t *e = config_setting_get_elem(p, i);

			if (config_setting_type(e) != CONFIG_TYPE_STRING) {
				err_at(c, e, "%s: 'path' must hold strings, not %s",
				       mw, type_name(e));
				continue;
			}
			set->paths[set->nr_paths++] = config_setting_get_string(e);
		}
	} else if (p) {
		err_at(c, p, "%s: 'path' must be a glob string or an array of them, not %s",
		       mw, type_name(p));
	}
	for (size_t i = 0; i < set->nr_paths; i++) {
		if (set->paths[i][0] != '/' && set->paths[i][0] != '*')
			err_at(c, p, "%s: path glob \"%s\" must start with '/' (the mount's root) or '*'",
			       mw, set->paths[i]);
	}
	set->has_size_min = get_number(c, m, "size_min", mw, UNIT_SIZE, 0,
				       UINT64_MAX, &set->size_min);
	set->has_size_max = get_number(c, m, "size_max", mw, UNIT_SIZE, 0,
				       UINT64_MAX, &set->size_max);
	if (set->has_size_min && set->has_size_max &&
	    set->size_min > set->size_max)
		err_at(c, member(m, "size_min"),
		       "%s: 'size_min' (%llu) is above 'size_max' (%llu)", mw,
		       (unsigned long long)set->size_min,
		       (unsigned long long)set->size_max);
	if (member(m, "owner"))
		set->has_uid = lookup_id(c, member(m, "owner"), mw, false,
					 &set->uid);
	if (member(m, "group"))
		set->has_gid = lookup_id(c, member(m, "group"), mw, true,
					 &set->gid);
	x = get_group(c, m, "xattr", mw);
	if (x) {
		check_keys(c, x, mw, (const char *const[]){ "name", "value", NULL });
		get_string(c, x, "name", mw, true, &set->xattr_name);
		if (member(x, "value") &&
		    config_setting_type(member(x, "value")) == CONFIG_TYPE_STRING)
			set->xattr_value = config_setting_get_string(member(x, "value"));
		else if (member(x, "value"))
			err_at(c, member(x, "value"), "%s: xattr 'value' must be a string, not %s",
			       mw, type_name(member(x, "value")));
	}
	get_number(c, m, "age", mw, UNIT_DURATION, 0, UINT64_MAX,
		   &set->min_age);
}

static void load_sets(struct ctx *c, const config_setting_t *root,
		      struct agent_config *cfg)
{
	config_setting_t *list = get_list(c, root, "archive_sets",
					  "archive_sets");
	int i, j, n = list ? config_setting_length(list) : 0;

	if (!n)
		return;
	cfg->sets = calloc((size_t)n, sizeof(*cfg->sets));
	if (!cfg->sets) {
		err_at(c, list, "out of memory");
		return;
	}
	cfg->nr_sets = (size_t)n;
	for (i = 0; i < n; i++) {
		config_setting_t *g = config_setting_get_elem(list, i);
		struct agent_set_conf *set = &cfg->sets[i];
		config_setting_t *m, *copies;
		char what[WHAT_MAX];
		int k, nc;

		set->line = config_setting_source_line(g);
		fmt_what(what, sizeof(what), "archive set %d", i + 1);
		check_keys(c, g, what, (const char *const[]){ "name", "match",
			   "never_archive", "copies", "norelease",
			   "keep_first_kib", NULL });
		if (get_string(c, g, "name", what, true, &set->name)) {
			if (!name_is_valid(set->name))
				err_at(c, member(g, "name"),
				       "%s: name \"%s\" must be 1 to %d letters, digits, '-', '_' or '.'",
				       what, set->name, AGENT_NAME_MAX - 1);
			else
				fmt_what(what, sizeof(what), "archive set '%s'",
					 set->name);
			for (j = 0; j < i; j++) {
				if (cfg->sets[j].name &&
				    !strcmp(cfg->sets[j].name, set->name))
					err_at(c, member(g, "name"),
					       "%s: an archive set of this name is already defined at line %u",
					       what, cfg->sets[j].line);
			}
		}
		m = get_group(c, g, "match", what);
		if (m)
			load_match(c, m, what, set);
		get_bool(c, g, "never_archive", what, &set->never_archive);
		get_bool(c, g, "norelease", what, &set->norelease);
		set->has_keep_first_kib = get_number(c, g, "keep_first_kib",
						     what, UNIT_NONE, 0,
						     UINT64_MAX >> 10,
						     &set->keep_first_kib);
		copies = get_list(c, g, "copies", what);
		nc = copies ? config_setting_length(copies) : 0;
		if (set->never_archive && nc)
			err_at(c, copies, "%s: a set with never_archive = true has no copies",
			       what);
		if (!set->never_archive && !nc && (copies || !member(g, "copies")))
			err_at(c, copies ?: g, "%s: needs 'copies' (1 to %d) or never_archive = true",
			       what, AGENT_MAX_COPIES);
		if (nc > AGENT_MAX_COPIES)
			err_at(c, copies, "%s: %d copies; at most %d", what, nc,
			       AGENT_MAX_COPIES);
		for (k = 0; k < nc && k < AGENT_MAX_COPIES && !set->never_archive; k++) {
			config_setting_t *cg = config_setting_get_elem(copies, k);
			struct agent_copy_conf *cc = &set->copies[k];
			char cw[WHAT_MAX];
			int bi, prev;

			fmt_what(cw, sizeof(cw), "%s copy %d", what, k + 1);
			check_keys(c, cg, cw, (const char *const[]){ "backend",
				   "age", NULL });
			get_number(c, cg, "age", cw, UNIT_DURATION, 0,
				   UINT64_MAX, &cc->age);
			if (!get_string(c, cg, "backend", cw, true,
					&cc->backend_name))
				continue;
			bi = agent_config_backend_index(cfg, cc->backend_name);
			if (bi < 0) {
				char known[512] = "";

				for (size_t b = 0; b < cfg->nr_backends; b++) {
					size_t len = strlen(known);

					if (cfg->backends[b].name)
						snprintf(known + len, sizeof(known) - len,
							 "%s%s", len ? ", " : "",
							 cfg->backends[b].name);
				}
				err_at(c, member(cg, "backend"),
				       "%s: unknown backend '%s' (defined: %s)",
				       cw, cc->backend_name,
				       known[0] ? known : "none");
				continue;
			}
			cc->backend = (unsigned int)bi;
			for (prev = 0; prev < k; prev++) {
				if (set->copies[prev].backend_name &&
				    !strcmp(set->copies[prev].backend_name,
					    cc->backend_name))
					err_at(c, member(cg, "backend"),
					       "%s: backend '%s' already holds copy %d; copies of one set go to different backends",
					       cw, cc->backend_name, prev + 1);
			}
		}
		if (!set->never_archive)
			set->nr_copies = (unsigned int)(nc < AGENT_MAX_COPIES ?
							nc : AGENT_MAX_COPIES);
	}
}

static void load_release(struct ctx *c, const config_setting_t *root,
			 struct agent_config *cfg)
{
	struct agent_release_conf *r = &cfg->release;
	config_setting_t *g = get_group(c, root, "release", "release");
	const char *w = "release";
	int order;

	r->high_watermark = 90;
	r->low_watermark = 80;
	r->order = AGENT_RELEASE_WEIGHTED;
	r->size_weight = 1.0;
	r->age_weight = 1.0;
	r->min_residence = 600;
	r->pin_xattr = "user.hsm.norelease";
	r->interval = 60;
	if (!g)
		return;
	check_keys(c, g, w, (const char *const[]){ "high_watermark",
		   "low_watermark", "order", "size_weight", "age_weight",
		   "min_residence", "pin_xattr", "keep_first_kib", "interval",
		   NULL });
	get_uint(c, g, "high_watermark", w, 1, 100, &r->high_watermark);
	get_uint(c, g, "low_watermark", w, 0, 99, &r->low_watermark);
	if (r->low_watermark >= r->high_watermark)
		err_at(c, member(g, "low_watermark") ?: member(g, "high_watermark"),
		       "release: 'low_watermark' (%u%%) must be below 'high_watermark' (%u%%)",
		       r->low_watermark, r->high_watermark);
	order = get_enum(c, g, "order", w,
			 (const char *const[]){ "weighted", "lru", NULL });
	if (order == 1)
		r->order = AGENT_RELEASE_LRU;
	get_float(c, g, "size_weight", w, 0, 1e6, &r->size_weight);
	get_float(c, g, "age_weight", w, 0, 1e6, &r->age_weight);
	if (r->order == AGENT_RELEASE_WEIGHTED && r->size_weight == 0 &&
	    r->age_weight == 0)
		err_at(c, g, "release: 'size_weight' and 'age_weight' are both 0; nothing would order the candidates (use order = \"lru\"?)");
	if (r->order == AGENT_RELEASE_LRU &&
	    (member(g, "size_weight") || member(g, "age_weight")))
		err_at(c, member(g, "size_weight") ?: member(g, "age_weight"),
		       "release: weights apply to order = \"weighted\" only");
	get_number(c, g, "min_residence", w, UNIT_DURATION, 0, UINT64_MAX,
		   &r->min_residence);
	get_string(c, g, "pin_xattr", w, false, &r->pin_xattr);
	get_number(c, g, "keep_first_kib", w, UNIT_NONE, 0, UINT64_MAX >> 10,
		   &r->keep_first_kib);
	get_number(c, g, "interval", w, UNIT_DURATION, 1, 86400, &r->interval);
}

static void load_stager(struct ctx *c, const config_setting_t *root,
			struct agent_config *cfg)
{
	struct agent_stager_conf *s = &cfg->stager;
	config_setting_t *g = get_group(c, root, "stager", "stager");
	const char *w = "stager";
	int act;

	s->timeout = 3600;
	s->retries = 3;
	s->retry_backoff_ms = 1000;
	s->max_queued = 100000;
	s->window = 60;
	s->window_bytes = 0;
	s->storm_action = AGENT_STORM_QUEUE;
	s->poll_ms = 100;
	s->spool_dir = "/var/tmp";
	if (!g)
		return;
	check_keys(c, g, w, (const char *const[]){ "timeout", "retries",
		   "retry_backoff_ms", "max_queued", "window", "window_bytes",
		   "storm_action", "poll_ms", "spool_dir", NULL });
	if (get_string(c, g, "spool_dir", w, false, &s->spool_dir))
		path_is_absolute(c, g, "spool_dir", w, s->spool_dir);
	get_number(c, g, "poll_ms", w, UNIT_NONE, 10, 10000, &s->poll_ms);
	get_number(c, g, "timeout", w, UNIT_DURATION, 1, 7 * 86400,
		   &s->timeout);
	get_uint(c, g, "retries", w, 0, 100, &s->retries);
	get_number(c, g, "retry_backoff_ms", w, UNIT_NONE, 1, 3600000,
		   &s->retry_backoff_ms);
	get_uint(c, g, "max_queued", w, 1, 1000000000, &s->max_queued);
	get_number(c, g, "window", w, UNIT_DURATION, 1, 86400, &s->window);
	get_number(c, g, "window_bytes", w, UNIT_SIZE, 0, UINT64_MAX,
		   &s->window_bytes);
	act = get_enum(c, g, "storm_action", w,
		       (const char *const[]){ "queue", "eagain", NULL });
	if (act == 1)
		s->storm_action = AGENT_STORM_EAGAIN;
}

static void load_indexer(struct ctx *c, const config_setting_t *root,
			 struct agent_config *cfg)
{
	config_setting_t *g = get_group(c, root, "indexer", "indexer");

	cfg->indexer.interval_ms = 1000;
	if (!g)
		return;
	check_keys(c, g, "indexer",
		   (const char *const[]){ "interval_ms", NULL });
	get_number(c, g, "interval_ms", "indexer", UNIT_NONE, 50, 3600000,
		   &cfg->indexer.interval_ms);
}

static bool address_is_loopback(const char *a)
{
	struct in_addr v4;
	struct in6_addr v6;

	if (inet_pton(AF_INET, a, &v4) == 1)
		return (ntohl(v4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, a, &v6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&v6);
	return false;
}

static void load_metrics(struct ctx *c, const config_setting_t *root,
			 struct agent_config *cfg)
{
	struct agent_metrics_conf *m = &cfg->metrics;
	config_setting_t *g = get_group(c, root, "metrics", "metrics");
	const char *w = "metrics";
	struct sockaddr_un sun;

	if (!g)
		return;
	check_keys(c, g, w, (const char *const[]){ "socket", "address",
		   "port", NULL });
	if (get_string(c, g, "socket", w, false, &m->socket) &&
	    path_is_absolute(c, g, "socket", w, m->socket) &&
	    strlen(m->socket) >= sizeof(sun.sun_path))
		err_at(c, member(g, "socket"),
		       "metrics: 'socket' is %zu bytes long; a unix socket path has at most %zu",
		       strlen(m->socket), sizeof(sun.sun_path) - 1);
	get_uint(c, g, "port", w, 1, 65535, &m->port);
	if (get_string(c, g, "address", w, false, &m->address)) {
		if (!address_is_loopback(m->address))
			err_at(c, member(g, "address"),
			       "metrics: 'address' = \"%s\" is not a loopback address (127.0.0.0/8 or ::1): the agent serves metrics and status to this host only",
			       m->address);
		if (!m->port)
			err_at(c, member(g, "address"),
			       "metrics: 'address' needs 'port'");
	} else if (m->port) {
		m->address = "127.0.0.1";
	}
}

static const char *const log_levels[] = {
	"error", "warning", "notice", "info", "debug", NULL
};

int agent_config_backend_index(const struct agent_config *cfg,
			       const char *name)
{
	size_t i;

	for (i = 0; i < cfg->nr_backends; i++) {
		if (cfg->backends[i].name && !strcmp(cfg->backends[i].name, name))
			return (int)i;
	}
	return -1;
}

void agent_config_free(struct agent_config *cfg)
{
	size_t i;

	if (!cfg)
		return;
	for (i = 0; i < cfg->nr_backends; i++)
		free(cfg->backends[i].tape_volumes);
	for (i = 0; i < cfg->nr_sets; i++)
		free(cfg->sets[i].paths);
	free(cfg->backends);
	free(cfg->sets);
	if (cfg->priv) {
		config_destroy(cfg->priv);
		free(cfg->priv);
	}
	free(cfg->path);
	free(cfg);
}

void agent_config_errors_free(struct agent_config_errors *errs)
{
	size_t i;

	for (i = 0; i < errs->nr; i++)
		free(errs->msgs[i]);
	free(errs->msgs);
	errs->msgs = NULL;
	errs->nr = 0;
}

int agent_config_load(const char *path, struct agent_config **out,
		      struct agent_config_errors *errs)
{
	struct ctx c = { .path = path, .errs = errs };
	struct agent_config *cfg;
	config_setting_t *root;
	config_t *lc;
	FILE *f;
	int lvl;

	*out = NULL;
	f = fopen(path, "r");
	if (!f) {
		int err = errno;

		err_at(&c, NULL, "cannot read: %s", strerror(err));
		return -err;
	}
	fclose(f);

	cfg = calloc(1, sizeof(*cfg));
	lc = calloc(1, sizeof(*lc));
	if (!cfg || !lc) {
		free(cfg);
		free(lc);
		err_at(&c, NULL, "out of memory");
		return -ENOMEM;
	}
	config_init(lc);
	cfg->priv = lc;
	cfg->path = strdup(path);
	if (!config_read_file(lc, path)) {
		char msg[1024 + PATH_MAX];

		if (config_error_line(lc))
			fmt_what(msg, sizeof(msg), "%s:%d: %s",
				 config_error_file(lc) ?: path,
				 config_error_line(lc), config_error_text(lc));
		else
			fmt_what(msg, sizeof(msg), "%s: %s", path,
				 config_error_text(lc));
		add_error(errs, msg);
		agent_config_free(cfg);
		return -EINVAL;
	}
	root = config_root_setting(lc);
	check_keys(&c, root, "top level", (const char *const[]){ "log_level",
		   "catalog", "drain_timeout", "metrics", "backends",
		   "archive_sets", "release", "stager", "indexer", NULL });

	cfg->log_level = LOG_INFO;
	lvl = get_enum(&c, root, "log_level", "top level", log_levels);
	if (lvl >= 0)
		cfg->log_level = LOG_ERR + lvl;
	if (get_string(&c, root, "catalog", "top level", true, &cfg->catalog))
		path_is_absolute(&c, root, "catalog", "top level", cfg->catalog);
	cfg->drain_timeout = 30;
	get_number(&c, root, "drain_timeout", "top level", UNIT_DURATION, 0,
		   3600, &cfg->drain_timeout);
	load_metrics(&c, root, cfg);
	load_backends(&c, root, cfg);
	load_sets(&c, root, cfg);
	load_release(&c, root, cfg);
	load_stager(&c, root, cfg);
	load_indexer(&c, root, cfg);

	if (errs->nr) {
		agent_config_free(cfg);
		return -EINVAL;
	}
	*out = cfg;
	return 0;
}

/* ---- matching ---- */

static bool xattr_matches(const struct agent_set_conf *set,
			  const struct agent_file_facts *f)
{
	char buf[4096];
	ssize_t len;

	if (!f->get_xattr)
		return false;
	len = f->get_xattr(f->xattr_arg, set->xattr_name, buf, sizeof(buf));
	if (len < 0)
		return false;
	if (!set->xattr_value)
		return true;
	return (size_t)len == strlen(set->xattr_value) &&
	       !memcmp(buf, set->xattr_value, (size_t)len);
}

static bool set_matches(const struct agent_set_conf *set,
			const struct agent_file_facts *f)
{
	size_t i;

	if (set->nr_paths) {
		bool any = false;

		for (i = 0; i < set->nr_paths && !any; i++)
			any = !fnmatch(set->paths[i], f->path, 0);
		if (!any)
			return false;
	}
	if (set->has_size_min && f->size < set->size_min)
		return false;
	if (set->has_size_max && f->size > set->size_max)
		return false;
	if (set->has_uid && f->uid != set->uid)
		return false;
	if (set->has_gid && f->gid != set->gid)
		return false;
	if (set->min_age && f->change_age < set->min_age)
		return false;
	if (set->xattr_name && !xattr_matches(set, f))
		return false;
	return true;
}

const struct agent_set_conf *
agent_config_match_set(const struct agent_config *cfg,
		       const struct agent_file_facts *facts)
{
	size_t i;

	for (i = 0; i < cfg->nr_sets; i++) {
		if (set_matches(&cfg->sets[i], facts))
			return &cfg->sets[i];
	}
	return NULL;
}
