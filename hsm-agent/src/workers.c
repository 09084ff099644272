// SPDX-License-Identifier: GPL-2.0
/*
 * workers.c: the helpers the four workers share (workers.h) and the
 * first of them, the indexer.
 *
 * The indexer runs one pass of the seq index walker (indexers/walker.h)
 * per step, the catalog its store, so the catalog's inode rows follow the
 * filesystem.  The walker's change hook hands it every row it writes,
 * with the row as it was; from the pair it makes the agent's file events:
 *
 *   no row before, a file now          CHANGED (created)
 *   data_version moved                 CHANGED
 *   online -> offline or partial       RELEASED
 *   offline or partial -> online       STAGED
 *   only the path changed              RENAMED
 *   the row removed                    DELETED
 *
 * Directories get rows (the walker needs them) but no events.  Events of
 * a pass are collected and published (agent_publish()) once the pass
 * returns, so the other workers see only rows that are committed; a batch
 * that failed is walked again by the next pass and its events come again:
 * every consumer looks at the file before it acts.
 *
 * Between passes it sleeps indexer.interval_ms (default 1 s).  That is a
 * poll of the filesystem's committed seq, deliberately: the kernel offers
 * no notification of a new seq, a pass over an unchanged filesystem is
 * one STATFS_MORE and one empty WALK_INODES, and a change is seen within
 * the interval plus the kernel's commit delay.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "backends.h"
#include "log.h"
#include "store.h"
#include "walker.h"
#include "workers.h"

/* ---- shared helpers ---- */

void wk_fs_init(struct wk_fs *fs)
{
	fs->mnt_fd = -1;
	fs->fsid[0] = 0;
}

long wk_fs_try(const char *mount, struct wk_fs *fs, char *why, size_t len)
{
	struct agent_fs_info info;
	int fd;

	if (fs->mnt_fd >= 0)
		return 0;
	agent_fs_probe(mount, &info);
	if (!info.is_scoutfs) {
		wk_fmt(why, len, "waiting for the filesystem: %s", info.reason);
		return WK_FS_RETRY_MS;
	}
	fd = open(mount, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		int err = errno;

		wk_fmt(why, len, "%s: %s", mount, strerror(err));
		return -err;
	}
	fs->mnt_fd = fd;
	snprintf(fs->fsid, sizeof(fs->fsid), "%016llx",
		 (unsigned long long)info.fsid);
	return 0;
}

long wk_fs_open(struct agent_worker *w, struct wk_fs *fs)
{
	char why[512];
	long ms = wk_fs_try(agent_mount(w->agent), fs, why, sizeof(why));

	if (ms)
		agent_worker_set_state(w, "%s", why);
	return ms;
}

void wk_fs_close(struct wk_fs *fs)
{
	if (fs->mnt_fd >= 0)
		close(fs->mnt_fd);
	wk_fs_init(fs);
}

int wk_catalog_open(const struct agent_config *cfg, struct hsm_catalog **out,
		    char *err, size_t len)
{
	int ret = hsm_catalog_open(cfg->catalog, HSM_CATALOG_CREATE, out, err,
				   len);

	if (!ret)
		hsm_catalog_set_max_attempts(*out, HSM_CATALOG_DEFAULT_MAX_ATTEMPTS);
	return ret;
}

static int ino_path(struct wk_fs *fs, uint64_t ino, char *path)
{
	union {
		struct scoutfs_ioctl_ino_path_result r;
		char buf[sizeof(struct scoutfs_ioctl_ino_path_result) + PATH_MAX];
	} res;
	struct scoutfs_ioctl_ino_path args;

	memset(&args, 0, sizeof(args));
	args.ino = ino;
	args.result_ptr = (uintptr_t)&res;
	args.result_bytes = sizeof(res);
	if (ioctl(fs->mnt_fd, SCOUTFS_IOC_INO_PATH, &args) < 0)
		return -errno;
	if (res.r.path_bytes == 0 || res.r.path_bytes > PATH_MAX)
		return -EIO;
	memcpy(path, res.r.path, res.r.path_bytes);
	path[res.r.path_bytes - 1] = 0;
	return 0;
}

int wk_open_ino(struct wk_fs *fs, uint64_t ino, const char *hint, int flags,
		char *path, struct stat *st)
{
	int tries, fd, ret;

	while (hint && hint[0] == '/')
		hint++;
	for (tries = 0; tries < 8; tries++) {
		if (tries == 0 && hint && hint[0]) {
			snprintf(path, PATH_MAX, "%s", hint);
		} else {
			ret = ino_path(fs, ino, path);
			if (ret)
				return ret;
		}
		fd = openat(fs->mnt_fd, path, flags | O_NOFOLLOW | O_NONBLOCK |
			    O_NOCTTY | O_CLOEXEC);
		if (fd < 0) {
			if (errno == ENOENT || errno == ENOTDIR ||
			    errno == ELOOP)
				continue;
			return -errno;
		}
		if (fstat(fd, st) == 0 && st->st_ino == ino)
			return fd;
		close(fd);
	}
	return -EAGAIN;
}

int wk_stat_more(int fd, struct scoutfs_ioctl_stat_more *sm)
{
	memset(sm, 0, sizeof(*sm));
	return ioctl(fd, SCOUTFS_IOC_STAT_MORE, sm) < 0 ? -errno : 0;
}

static ssize_t fd_xattr(void *arg, const char *name, char *buf, size_t len)
{
	ssize_t ret = fgetxattr(*(int *)arg, name, buf, len);

	if (ret < 0)
		return errno == ENODATA || errno == ENOTSUP ? -ENODATA : -errno;
	return ret;
}

const struct agent_set_conf *wk_match_set(const struct agent_config *cfg,
					  int fd, const char *path,
					  const struct stat *st)
{
	char full[PATH_MAX + 1];
	struct agent_file_facts f;
	time_t now = time(NULL);

	while (path[0] == '/')
		path++;
	snprintf(full, sizeof(full), "/%s", path);
	memset(&f, 0, sizeof(f));
	f.path = full;
	f.size = st->st_size;
	f.uid = st->st_uid;
	f.gid = st->st_gid;
	f.change_age = now > st->st_ctime ? (uint64_t)(now - st->st_ctime) : 0;
	f.get_xattr = fd_xattr;
	f.xattr_arg = &fd;
	return agent_config_match_set(cfg, &f);
}

bool wk_has_xattr(int fd, const char *name)
{
	return name && name[0] && fgetxattr(fd, name, NULL, 0) >= 0;
}

struct hsm_backend *wk_backend(struct wk_backends *b,
			       const struct agent_config *cfg,
			       const char *name, char *err, size_t len)
{
	int i = agent_config_backend_index(cfg, name);
	int ret;

	if (i < 0) {
		snprintf(err, len, "backend '%s' is not in the configuration",
			 name);
		return NULL;
	}
	if (b->nr < cfg->nr_backends) {
		struct hsm_backend **nb = realloc(b->be, cfg->nr_backends *
						  sizeof(*nb));

		if (!nb) {
			snprintf(err, len, "out of memory");
			return NULL;
		}
		memset(nb + b->nr, 0, (cfg->nr_backends - b->nr) * sizeof(*nb));
		b->be = nb;
		b->nr = cfg->nr_backends;
	}
	if (!b->be[i]) {
		char why[HSM_ERROR_MAX + 64] = "";

		ret = agent_backend_open(&cfg->backends[i], &b->be[i], why,
					 sizeof(why));
		if (ret) {
			snprintf(err, len, "backend '%s': %s", name,
				 why[0] ? why : strerror(-ret));
			b->be[i] = NULL;
			return NULL;
		}
	}
	return b->be[i];
}

void wk_backends_close(struct wk_backends *b)
{
	size_t i;

	for (i = 0; i < b->nr; i++)
		hsm_backend_destroy(b->be[i]);
	free(b->be);
	b->be = NULL;
	b->nr = 0;
}

void wk_count_archive(struct agent_worker *w, const char *backend,
		      uint64_t bytes)
{
	struct agent_metrics *m = agent_get_metrics(w->agent);

	agent_metric_add(agent_metric_get(m, AGENT_METRIC_COUNTER,
					  "scoutfs_hsm_archive_files_total",
					  "Archive copies made and verified, by backend.",
					  "backend", backend, NULL), 1);
	agent_metric_add(agent_metric_get(m, AGENT_METRIC_COUNTER,
					  "scoutfs_hsm_archive_bytes_total",
					  "Bytes archived, by backend.",
					  "backend", backend, NULL), bytes);
}

void wk_count_stage(struct agent_worker *w, const char *backend,
		    uint64_t bytes)
{
	struct agent_metrics *m = agent_get_metrics(w->agent);

	agent_metric_add(agent_metric_get(m, AGENT_METRIC_COUNTER,
					  "scoutfs_hsm_stage_files_total",
					  "Files staged back online, by backend.",
					  "backend", backend, NULL), 1);
	agent_metric_add(agent_metric_get(m, AGENT_METRIC_COUNTER,
					  "scoutfs_hsm_stage_bytes_total",
					  "Bytes staged, by backend.",
					  "backend", backend, NULL), bytes);
}

void wk_count_backend_error(struct agent_worker *w, const char *backend)
{
	agent_metric_add(agent_metric_get(agent_get_metrics(w->agent),
					  AGENT_METRIC_COUNTER,
					  "scoutfs_hsm_backend_errors_total",
					  "Failed backend operations, by backend.",
					  "backend", backend, NULL), 1);
}

static atomic_uint stage_waiting;

void wk_set_stage_waiting(unsigned int nr)
{
	atomic_store(&stage_waiting, nr);
}

unsigned int wk_stage_waiting(void)
{
	return atomic_load(&stage_waiting);
}

/* a small table: files staged recently, pruned as entries age */
#define STAGED_MAX 4096
static pthread_mutex_t staged_lock = PTHREAD_MUTEX_INITIALIZER;
static struct { uint64_t ino; time_t at; } staged[STAGED_MAX];
static size_t nr_staged;

void wk_note_staged(uint64_t ino)
{
	time_t now = time(NULL);
	size_t i, oldest = 0;

	pthread_mutex_lock(&staged_lock);
	for (i = 0; i < nr_staged; i++) {
		if (staged[i].ino == ino)
			break;
		if (staged[i].at < staged[oldest].at)
			oldest = i;
	}
	if (i == nr_staged) {
		if (nr_staged < STAGED_MAX)
			nr_staged++;
		else
			i = oldest;
	}
	staged[i].ino = ino;
	staged[i].at = now;
	pthread_mutex_unlock(&staged_lock);
}

bool wk_staged_within(uint64_t ino, uint64_t secs)
{
	time_t now = time(NULL);
	bool within = false;
	size_t i;

	pthread_mutex_lock(&staged_lock);
	for (i = 0; i < nr_staged; i++) {
		if (staged[i].ino == ino) {
			within = (uint64_t)(now - staged[i].at) < secs;
			break;
		}
	}
	pthread_mutex_unlock(&staged_lock);
	return within;
}

int wk_inos_add(struct wk_inos *l, uint64_t ino)
{
	if (l->nr == l->max) {
		size_t max = l->max ? l->max * 2 : 256;
		uint64_t *n = realloc(l->inos, max * sizeof(*n));

		if (!n)
			return -ENOMEM;
		l->inos = n;
		l->max = max;
	}
	l->inos[l->nr++] = ino;
	return 0;
}

uint64_t wk_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void wk_fmt(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

/* ---- indexer ---- */

struct ix_event {
	struct agent_file_event ev;
	char *path;
};

struct indexer {
	struct wk_fs fs;
	struct hsm_catalog *cat;
	struct idx_store *store;
	struct idx_walker *walker;
	struct ix_event *evs;
	size_t nr_evs, max_evs;
	bool oom;
	pthread_mutex_t lock;		/* the counters below, for status */
	uint64_t passes, walked, upserts, deletes;
	uint64_t at_seq;
	uint64_t events[AGENT_EV_DELETED + 1];
	struct agent_metric *m_passes, *m_rows, *m_ev[AGENT_EV_DELETED + 1];
};

static const char *const ev_names[] = {
	"changed", "released", "staged", "renamed", "deleted",
};

static void ix_add(struct indexer *ix, enum agent_file_event_kind kind,
		   const struct idx_row *r)
{
	struct ix_event *e;

	if (ix->nr_evs == ix->max_evs) {
		size_t max = ix->max_evs ? ix->max_evs * 2 : 64;
		struct ix_event *n = realloc(ix->evs, max * sizeof(*n));

		if (!n) {
			ix->oom = true;
			return;
		}
		ix->evs = n;
		ix->max_evs = max;
	}
	e = &ix->evs[ix->nr_evs];
	memset(e, 0, sizeof(*e));
	if (asprintf(&e->path, "/%s", r->path) < 0) {
		ix->oom = true;
		return;
	}
	e->ev.kind = kind;
	e->ev.ino = r->ino;
	e->ev.data_version = r->data_version;
	e->ev.size = r->size;
	e->ev.path = e->path;
	ix->nr_evs++;
}

/* the walker's hook: old (NULL: new) and new (NULL: removed) rows */
static void ix_change(void *arg, const struct idx_row *old,
		      const struct idx_row *row)
{
	struct indexer *ix = arg;

	if (!row) {
		if (old->kind == IDX_KIND_FILE)
			ix_add(ix, AGENT_EV_DELETED, old);
		return;
	}
	if (row->kind != IDX_KIND_FILE)
		return;
	if (!old || old->kind != IDX_KIND_FILE ||
	    old->data_version != row->data_version)
		ix_add(ix, AGENT_EV_CHANGED, row);
	else if (old->state == IDX_STATE_ONLINE &&
		 row->state != IDX_STATE_ONLINE)
		ix_add(ix, AGENT_EV_RELEASED, row);
	else if (old->state != IDX_STATE_ONLINE &&
		 row->state == IDX_STATE_ONLINE)
		ix_add(ix, AGENT_EV_STAGED, row);
	else if (strcmp(old->path, row->path))
		ix_add(ix, AGENT_EV_RENAMED, row);
}

static int indexer_init(struct agent_worker *w)
{
	struct agent_metrics *m = agent_get_metrics(w->agent);
	struct indexer *ix = calloc(1, sizeof(*ix));
	int i;

	if (!ix)
		return -ENOMEM;
	wk_fs_init(&ix->fs);
	pthread_mutex_init(&ix->lock, NULL);
	ix->m_passes = agent_metric_get(m, AGENT_METRIC_COUNTER,
					"scoutfs_hsm_index_passes_total",
					"Passes of the indexer over meta_seq.",
					NULL);
	ix->m_rows = agent_metric_get(m, AGENT_METRIC_COUNTER,
				      "scoutfs_hsm_index_inodes_walked_total",
				      "Inodes the indexer's passes walked.",
				      NULL);
	for (i = 0; i <= AGENT_EV_DELETED; i++)
		ix->m_ev[i] = agent_metric_get(m, AGENT_METRIC_COUNTER,
					       "scoutfs_hsm_index_events_total",
					       "File events the indexer published, by kind.",
					       "kind", ev_names[i], NULL);
	w->priv = ix;
	return 0;
}

static void ix_close(struct indexer *ix)
{
	idx_walker_close(ix->walker);
	ix->walker = NULL;
	idx_store_close(ix->store);
	ix->store = NULL;
	hsm_catalog_close(ix->cat);
	ix->cat = NULL;
	wk_fs_close(&ix->fs);
}

static int ix_open(struct agent_worker *w, struct indexer *ix,
		   const struct agent_config *cfg)
{
	struct idx_walker_opts opts = { 0 };
	char err[512] = "";
	int ret;

	ret = wk_catalog_open(cfg, &ix->cat, err, sizeof(err));
	if (ret) {
		agent_worker_set_state(w, "catalog %s: %s", cfg->catalog,
				       err[0] ? err : strerror(-ret));
		return ret;
	}
	ret = idx_store_wrap(ix->cat, &ix->store);
	if (ret) {
		agent_worker_set_state(w, "catalog store: %s", strerror(-ret));
		return ret;
	}
	opts.change = ix_change;
	opts.change_arg = ix;
	ret = idx_walker_open(agent_mount(w->agent), ix->store, &opts,
			      &ix->walker, err, sizeof(err));
	if (ret) {
		agent_worker_set_state(w, "walker: %s",
				       err[0] ? err : strerror(-ret));
		return ret;
	}
	return 0;
}

static long indexer_step(struct agent_worker *w, const struct agent_config *cfg)
{
	struct indexer *ix = w->priv;
	struct idx_pass_stats st;
	uint64_t counts[AGENT_EV_DELETED + 1] = { 0 };
	long ms;
	size_t i;
	int ret;

	if (!ix->walker) {
		ms = wk_fs_open(w, &ix->fs);
		if (ms)
			return ms;
		ret = ix_open(w, ix, cfg);
		if (ret) {
			ix_close(ix);
			return ret;
		}
	}
	memset(&st, 0, sizeof(st));
	ret = idx_walker_pass(ix->walker, &st);
	/* what was committed is published, even when the pass failed later */
	for (i = 0; i < ix->nr_evs; i++) {
		struct ix_event *e = &ix->evs[i];

		agent_debug("indexer: %s %s (inode %llu, data_version %llu)",
			    ev_names[e->ev.kind], e->path,
			    (unsigned long long)e->ev.ino,
			    (unsigned long long)e->ev.data_version);
		agent_publish(w->agent, &e->ev);
		agent_metric_add(ix->m_ev[e->ev.kind], 1);
		counts[e->ev.kind]++;
		free(e->path);
	}
	ix->nr_evs = 0;
	agent_metric_add(ix->m_passes, 1);
	agent_metric_add(ix->m_rows, (double)st.walked);
	pthread_mutex_lock(&ix->lock);
	ix->passes++;
	ix->walked += st.walked;
	ix->upserts += st.upserts;
	ix->deletes += st.deletes;
	if (!ret)
		ix->at_seq = st.last_seq;
	for (i = 0; i <= AGENT_EV_DELETED; i++)
		ix->events[i] += counts[i];
	pthread_mutex_unlock(&ix->lock);
	if (ix->oom) {
		ix->oom = false;
		agent_warn("indexer: out of memory collecting file events; some were not published");
	}
	if (ret) {
		agent_worker_set_state(w, "pass failed: %s",
				       idx_walker_error(ix->walker));
		agent_warn("indexer: %s", idx_walker_error(ix->walker));
		ix_close(ix);
		return ret;
	}
	agent_worker_set_state(w, "indexed to seq %llu; last pass walked %llu inodes, %llu rows written, %llu removed",
			       (unsigned long long)st.last_seq,
			       (unsigned long long)st.walked,
			       (unsigned long long)st.upserts,
			       (unsigned long long)st.deletes);
	return (long)cfg->indexer.interval_ms;
}

static void indexer_status(struct agent_worker *w, struct json_object *o)
{
	struct indexer *ix = w->priv;
	struct json_object *ev = json_object_new_object();
	int i;

	pthread_mutex_lock(&ix->lock);
	json_object_object_add(o, "passes", json_object_new_uint64(ix->passes));
	json_object_object_add(o, "indexed_seq",
			       json_object_new_uint64(ix->at_seq));
	json_object_object_add(o, "inodes_walked",
			       json_object_new_uint64(ix->walked));
	for (i = 0; i <= AGENT_EV_DELETED; i++)
		json_object_object_add(ev, ev_names[i],
				       json_object_new_uint64(ix->events[i]));
	pthread_mutex_unlock(&ix->lock);
	json_object_object_add(o, "events", ev);
}

static void indexer_fini(struct agent_worker *w)
{
	struct indexer *ix = w->priv;
	size_t i;

	if (!ix)
		return;
	ix_close(ix);
	for (i = 0; i < ix->nr_evs; i++)
		free(ix->evs[i].path);
	free(ix->evs);
	pthread_mutex_destroy(&ix->lock);
	free(ix);
	w->priv = NULL;
}

const struct agent_worker_ops agent_indexer_ops = {
	.name = "indexer",
	.init = indexer_init,
	.step = indexer_step,
	.status = indexer_status,
	.fini = indexer_fini,
};
