/* SPDX-License-Identifier: GPL-2.0 */
/*
 * config.h: the hsm-agent configuration, as read from one libconfig file
 * (hsm-agent.conf.example documents every setting).
 *
 * agent_config_load() parses the file with libconfig, checks every setting
 * (type, range, unknown names, references between sections, duplicate
 * names) and either returns a complete struct agent_config or a list of
 * errors, each "FILE:LINE: problem".  Nothing here opens a backend, the
 * catalog or the filesystem: a configuration that loads can still fail
 * to start (an S3 server that does not answer), but only for reasons
 * outside the file.
 *
 * Strings point into the libconfig tree, which the struct keeps alive
 * until agent_config_free().  The backend structs (struct hsm_s3_config,
 * struct hsm_tape_config) are filled so that they can be handed to
 * hsm_s3_backend_create() and hsm_tape_create() as they are.
 */
#ifndef SCOUTFS_HSM_AGENT_CONFIG_H
#define SCOUTFS_HSM_AGENT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "backend_s3.h"
#include "backend_tape.h"

#define AGENT_MAX_COPIES 4
#define AGENT_NAME_MAX 64

enum agent_backend_type {
	AGENT_BACKEND_DIR = 0,
	AGENT_BACKEND_S3,
	AGENT_BACKEND_TAPE,
};

struct agent_backend_conf {
	const char *name;
	enum agent_backend_type type;
	unsigned int line;
	/* concurrency: archive and stage transfers at once on this backend */
	unsigned int archive_workers;
	unsigned int stage_workers;
	/* bytes per second over all of this backend's transfers, 0: no cap */
	uint64_t bandwidth;
	/* AGENT_BACKEND_DIR */
	const char *dir_root;
	/* AGENT_BACKEND_S3 */
	struct hsm_s3_config s3;
	/*
	 * S3: files smaller than pack_threshold (0: none) are packed into
	 * shared objects (pack.h) of at most pack_max_files files and
	 * pack_max_bytes bytes, put at the latest pack_delay seconds after
	 * the first file went in.
	 */
	uint64_t pack_threshold;
	unsigned int pack_max_files;
	uint64_t pack_max_bytes;
	uint64_t pack_delay;
	/* AGENT_BACKEND_TAPE; tape.volumes points at tape_volumes */
	struct hsm_tape_config tape;
	struct hsm_tape_volume_config *tape_volumes;
};

struct agent_copy_conf {
	const char *backend_name;
	unsigned int backend;	/* index into agent_config.backends */
	uint64_t age;		/* seconds since the last change */
};

struct agent_set_conf {
	const char *name;
	unsigned int line;
	/* match: every condition given must hold (AND) */
	const char **paths;	/* fnmatch(3) globs, any of them (OR) */
	size_t nr_paths;
	bool has_size_min, has_size_max;
	uint64_t size_min, size_max;	/* inclusive */
	bool has_uid, has_gid;
	uid_t uid;
	gid_t gid;
	const char *xattr_name;		/* NULL: no xattr condition */
	const char *xattr_value;	/* NULL: the xattr must exist */
	uint64_t min_age;		/* seconds since change, 0: none */
	/* what to do with matching files */
	bool never_archive;
	struct agent_copy_conf copies[AGENT_MAX_COPIES];
	unsigned int nr_copies;
	bool norelease;			/* pinned: never released */
	bool has_keep_first_kib;	/* else release.keep_first_kib */
	uint64_t keep_first_kib;
};

enum agent_release_order {
	AGENT_RELEASE_WEIGHTED = 0,	/* SAM: size and access-age weights */
	AGENT_RELEASE_LRU,		/* least recently accessed first */
};

struct agent_release_conf {
	unsigned int high_watermark;	/* percent of the data device */
	unsigned int low_watermark;
	enum agent_release_order order;
	double size_weight;
	double age_weight;
	uint64_t min_residence;		/* seconds after a stage */
	const char *pin_xattr;		/* NULL: no per-file pins */
	uint64_t keep_first_kib;
	uint64_t interval;		/* seconds between usage checks */
};

enum agent_storm_action {
	AGENT_STORM_QUEUE = 0,	/* beyond the limits, waiters queue */
	AGENT_STORM_EAGAIN,	/* beyond the limits, waiters get EAGAIN */
};

struct agent_stager_conf {
	uint64_t timeout;		/* seconds a reader may wait */
	unsigned int retries;		/* per copy */
	uint64_t retry_backoff_ms;
	unsigned int max_queued;	/* recall-storm guard */
	uint64_t window;		/* seconds */
	uint64_t window_bytes;		/* staged per window, 0: no limit */
	enum agent_storm_action storm_action;
	/* ms between DATA_WAITING polls (the ioctl has no blocking form) */
	uint64_t poll_ms;
	/* where a copy is spooled and verified before any of it is staged */
	const char *spool_dir;
};

struct agent_indexer_conf {
	uint64_t interval_ms;		/* between passes over meta_seq */
};

struct agent_metrics_conf {
	const char *socket;		/* NULL: the default for the mount */
	const char *address;		/* loopback only; NULL: no TCP */
	unsigned int port;		/* 0: no TCP listener */
};

struct agent_config {
	char *path;			/* the file it came from */
	int log_level;			/* syslog(3) LOG_* */
	const char *catalog;
	uint64_t drain_timeout;		/* seconds SIGTERM waits for work */
	struct agent_metrics_conf metrics;
	struct agent_backend_conf *backends;
	size_t nr_backends;
	struct agent_set_conf *sets;
	size_t nr_sets;
	struct agent_release_conf release;
	struct agent_stager_conf stager;
	struct agent_indexer_conf indexer;
	void *priv;			/* the libconfig tree */
};

/* Errors from a load, each "FILE:LINE: problem" (or "FILE: problem"). */
struct agent_config_errors {
	char **msgs;
	size_t nr;
};

/*
 * Load and check path.  0 and *out, or -EINVAL (-ENOENT... for a file
 * that cannot be read) with every problem found in errs.  errs must be
 * freed with agent_config_errors_free() either way.
 */
int agent_config_load(const char *path, struct agent_config **out,
		      struct agent_config_errors *errs);
void agent_config_free(struct agent_config *cfg);
void agent_config_errors_free(struct agent_config_errors *errs);

/* Index of the backend called name, or -1. */
int agent_config_backend_index(const struct agent_config *cfg,
			       const char *name);

/* "dir", "s3", "tape" */
const char *agent_backend_type_name(enum agent_backend_type type);

/*
 * What an archive set is matched against.  path is relative to the mount
 * and starts with "/".  get_xattr returns the value's length, or -ENODATA
 * when the file has no such xattr (may be NULL when no set needs one).
 */
struct agent_file_facts {
	const char *path;
	uint64_t size;
	uid_t uid;
	gid_t gid;
	uint64_t change_age;	/* seconds since the last change (ctime) */
	ssize_t (*get_xattr)(void *arg, const char *name, char *buf,
			     size_t len);
	void *xattr_arg;
};

/* The first set that matches, or NULL: the file is never archived. */
const struct agent_set_conf *
agent_config_match_set(const struct agent_config *cfg,
		       const struct agent_file_facts *facts);

/* "1K" "64M" "10G" "2T" or plain bytes; 0 or -EINVAL / -ERANGE. */
int agent_parse_size(const char *s, uint64_t *out);
/* "30s" "10m" "2h" "7d" "1w" or plain seconds; 0 or -EINVAL / -ERANGE. */
int agent_parse_duration(const char *s, uint64_t *out);

#endif
