// SPDX-License-Identifier: GPL-2.0
/*
 * agent.c: the hsm-agent core: start, main loop, reload, drain.
 *
 * agent.h describes the worker contract; this file implements the side of
 * it that is the same for every worker.  The life of an agent:
 *
 *  1. SIGHUP, SIGTERM and SIGINT are blocked before any thread exists, so
 *     every thread inherits the mask and the main thread alone takes them,
 *     from a signalfd, in its poll loop (no async signal handlers).
 *  2. The configuration is loaded; any error: each one is logged as
 *     FILE:LINE: problem and the agent exits 1 without touching anything.
 *  3. The mount is looked at (agent_fs_probe()) to name the lock: the
 *     fsid for a scoutfs mount, the device and inode of the directory
 *     otherwise.  agent_lock.c takes it; a second agent exits 1 naming the pid
 *     of the first.
 *  4. The catalog and every backend are opened once and closed again
 *     (backends.c), so a missing archive directory, unusable credentials
 *     or an S3 server that does not answer stop the start with their
 *     reason.  Metrics are registered by name, the workers are
 *     initialised, the HTTP server (http.c) starts on the unix socket (and
 *     a loopback port if configured), the worker threads start, then
 *     READY=1 goes to systemd.
 *  5. The main loop polls the signalfd and the lock socket.  SIGHUP loads
 *     the file again: on any error the running configuration stays and the
 *     errors are logged; a file that changes the catalog or the metrics
 *     listeners is refused too (those need a restart), and so is one with
 *     a backend that cannot be opened.  A good file is
 *     published as a new reference-counted generation: each worker picks
 *     it up at its next step (reload() first), the old one is freed when
 *     its last worker lets go.
 *  6. SIGTERM/SIGINT: STOPPING=1, every worker is told to stop and woken,
 *     and the core waits up to drain_timeout for them; the exit status is
 *     0 either way (abandoned work stays queued in the catalog, and a
 *     warning names the workers that did not finish).
 *
 * The metrics/status HTTP thread reads the configuration through the same
 * references and worker states under each worker's lock.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/sysmacros.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <systemd/sd-daemon.h>

#include "agent.h"
#include "format.h"
#include "http.h"
#include "ioctl.h"
#include "agent_lock.h"
#include "backends.h"
#include "log.h"
#include "transfers.h"

#define AGENT_MAX_WORKERS 8
#define AGENT_BACKOFF_MIN_MS 1000
#define AGENT_BACKOFF_MAX_MS 60000

struct agent_cfg_ref {
	struct agent_config *cfg;
	atomic_int refs;
	uint64_t generation;
	time_t loaded;
};

enum agent_state {
	AGENT_STARTING = 0,
	AGENT_RUNNING,
	AGENT_RELOADING,
	AGENT_DRAINING,
};

static const char *const state_names[] = {
	"starting", "running", "reloading", "draining",
};

struct agent {
	const char *mount;
	const char *config_path;
	pthread_mutex_t lock;		/* cur, state, generation, done_cond */
	pthread_cond_t done_cond;
	struct agent_cfg_ref *cur;
	uint64_t generation;
	enum agent_state state;
	struct agent_fs_info fs;
	char lock_id[AGENT_LOCK_ID_MAX];
	int lock_fd;
	char socket_path[108];
	struct agent_http *http;
	struct agent_metrics *metrics;
	struct agent_worker workers[AGENT_MAX_WORKERS];
	size_t nr_workers;
	time_t started;
	struct agent_metric *m_reload_ok;
	struct agent_metric *m_reload_failed;
	struct agent_metric *m_generation;
	struct agent_metric *m_uptime;
	struct agent_metric *m_events;
};

/* ---- configuration references ---- */

static struct agent_cfg_ref *cfg_get(struct agent *a)
{
	struct agent_cfg_ref *ref;

	pthread_mutex_lock(&a->lock);
	ref = a->cur;
	atomic_fetch_add(&ref->refs, 1);
	pthread_mutex_unlock(&a->lock);
	return ref;
}

static void cfg_put(struct agent_cfg_ref *ref)
{
	if (ref && atomic_fetch_sub(&ref->refs, 1) == 1) {
		agent_config_free(ref->cfg);
		free(ref);
	}
}

static struct agent_cfg_ref *cfg_new(struct agent_config *cfg, uint64_t gen)
{
	struct agent_cfg_ref *ref = calloc(1, sizeof(*ref));

	if (!ref)
		return NULL;
	ref->cfg = cfg;
	atomic_init(&ref->refs, 1);
	ref->generation = gen;
	ref->loaded = time(NULL);
	return ref;
}

/* ---- helpers shared with workers ---- */

struct agent_metrics *agent_get_metrics(struct agent *a)
{
	return a->metrics;
}

const char *agent_mount(const struct agent *a)
{
	return a->mount;
}

void agent_worker_wake(struct agent_worker *w)
{
	pthread_mutex_lock(&w->lock);
	w->woken = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

bool agent_worker_stopping(struct agent_worker *w)
{
	bool s;

	pthread_mutex_lock(&w->lock);
	s = w->stopping;
	pthread_mutex_unlock(&w->lock);
	return s;
}

void agent_worker_set_state(struct agent_worker *w, const char *fmt, ...)
{
	char buf[AGENT_WORKER_STATE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&w->lock);
	if (strcmp(buf, w->state)) {
		memcpy(w->state, buf, sizeof(buf));
		agent_debug("%s: %s", w->ops->name, buf);
	}
	pthread_mutex_unlock(&w->lock);
}

void agent_publish(struct agent *a, const struct agent_file_event *ev)
{
	size_t i;

	agent_metric_add(a->m_events, 1);
	for (i = 0; i < a->nr_workers; i++) {
		struct agent_worker *w = &a->workers[i];

		if (w->ops->event) {
			w->ops->event(w, ev);
			agent_worker_wake(w);
		}
	}
}

void agent_fs_probe(const char *mount, struct agent_fs_info *info)
{
	struct scoutfs_ioctl_statfs_more sfm;
	struct statfs st;
	int fd;

	memset(info, 0, sizeof(*info));
	fd = open(mount, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(info->reason, sizeof(info->reason), "%s: %s", mount,
			 strerror(errno));
		return;
	}
	if (fstatfs(fd, &st)) {
		snprintf(info->reason, sizeof(info->reason), "%s: statfs: %s",
			 mount, strerror(errno));
	} else if (st.f_type != SCOUTFS_SUPER_MAGIC) {
		snprintf(info->reason, sizeof(info->reason),
			 "%s is not a scoutfs mount (filesystem magic 0x%llx)",
			 mount, (unsigned long long)st.f_type);
	} else if (ioctl(fd, SCOUTFS_IOC_STATFS_MORE, &sfm)) {
		snprintf(info->reason, sizeof(info->reason),
			 "%s: STATFS_MORE: %s", mount, strerror(errno));
	} else {
		info->is_scoutfs = true;
		info->fsid = sfm.fsid;
	}
	close(fd);
}

/* ---- worker threads ---- */

static void deadline_after(struct timespec *ts, long ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static void *worker_thread(void *arg)
{
	struct agent_worker *w = arg;
	struct agent *a = w->agent;
	long backoff = AGENT_BACKOFF_MIN_MS;

	for (;;) {
		struct agent_cfg_ref *ref;
		struct timespec until;
		long ms;

		pthread_mutex_lock(&w->lock);
		w->woken = false;
		if (w->stopping) {
			pthread_mutex_unlock(&w->lock);
			break;
		}
		pthread_mutex_unlock(&w->lock);

		ref = cfg_get(a);
		if (ref != w->cfg) {
			if (w->cfg && w->ops->reload)
				w->ops->reload(w, w->cfg->cfg, ref->cfg);
			cfg_put(w->cfg);
			w->cfg = ref;
		} else {
			cfg_put(ref);
		}

		ms = w->ops->step(w, w->cfg->cfg);
		agent_metric_add(w->steps, 1);
		if (ms < 0 && ms != AGENT_STEP_IDLE) {
			agent_metric_add(w->errors, 1);
			agent_warn("%s: %s; trying again in %ld ms", w->ops->name,
				   strerror((int)-ms), backoff);
			ms = backoff;
			backoff = backoff * 2 > AGENT_BACKOFF_MAX_MS ?
				  AGENT_BACKOFF_MAX_MS : backoff * 2;
		} else {
			backoff = AGENT_BACKOFF_MIN_MS;
		}

		pthread_mutex_lock(&w->lock);
		if (ms != AGENT_STEP_IDLE)
			deadline_after(&until, ms);
		while (!w->woken && !w->stopping) {
			if (ms == AGENT_STEP_IDLE)
				pthread_cond_wait(&w->cond, &w->lock);
			else if (pthread_cond_timedwait(&w->cond, &w->lock,
							&until) == ETIMEDOUT)
				break;
		}
		pthread_mutex_unlock(&w->lock);
	}

	if (w->ops->stop)
		w->ops->stop(w);
	pthread_mutex_lock(&a->lock);
	pthread_mutex_lock(&w->lock);
	w->done = true;
	pthread_mutex_unlock(&w->lock);
	pthread_cond_broadcast(&a->done_cond);
	pthread_mutex_unlock(&a->lock);
	return NULL;
}

static int worker_setup(struct agent *a, const struct agent_worker_ops *ops)
{
	struct agent_worker *w = &a->workers[a->nr_workers];
	pthread_condattr_t ca;
	int ret;

	memset(w, 0, sizeof(*w));
	w->ops = ops;
	w->agent = a;
	pthread_mutex_init(&w->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cond, &ca);
	pthread_condattr_destroy(&ca);
	snprintf(w->state, sizeof(w->state), "starting");
	w->steps = agent_metric_get(a->metrics, AGENT_METRIC_COUNTER,
				    "scoutfs_hsm_worker_steps_total",
				    "Passes of work each worker has made.",
				    "worker", ops->name, NULL);
	w->errors = agent_metric_get(a->metrics, AGENT_METRIC_COUNTER,
				     "scoutfs_hsm_worker_errors_total",
				     "Passes of work that failed, by worker.",
				     "worker", ops->name, NULL);
	a->nr_workers++;
	ret = ops->init ? ops->init(w) : 0;
	if (ret) {
		agent_err("%s: cannot start: %s", ops->name, strerror(-ret));
		a->nr_workers--;
		pthread_cond_destroy(&w->cond);
		pthread_mutex_destroy(&w->lock);
	}
	return ret;
}

static void workers_fini(struct agent *a)
{
	while (a->nr_workers) {
		struct agent_worker *w = &a->workers[--a->nr_workers];

		if (w->ops->fini)
			w->ops->fini(w);
		cfg_put(w->cfg);
		pthread_cond_destroy(&w->cond);
		pthread_mutex_destroy(&w->lock);
	}
}

/* ---- metrics and status ---- */

static void register_backend_metrics(struct agent *a,
				     const struct agent_config *cfg)
{
	size_t i;

	for (i = 0; i < cfg->nr_backends; i++) {
		const char *b = cfg->backends[i].name;

		agent_metric_get(a->metrics, AGENT_METRIC_COUNTER,
				 "scoutfs_hsm_archive_files_total",
				 "Archive copies made and verified, by backend.",
				 "backend", b, NULL);
		agent_metric_get(a->metrics, AGENT_METRIC_COUNTER,
				 "scoutfs_hsm_archive_bytes_total",
				 "Bytes archived, by backend.",
				 "backend", b, NULL);
		agent_metric_get(a->metrics, AGENT_METRIC_COUNTER,
				 "scoutfs_hsm_stage_files_total",
				 "Files staged back online, by backend.",
				 "backend", b, NULL);
		agent_metric_get(a->metrics, AGENT_METRIC_COUNTER,
				 "scoutfs_hsm_stage_bytes_total",
				 "Bytes staged, by backend.", "backend", b, NULL);
		agent_metric_get(a->metrics, AGENT_METRIC_COUNTER,
				 "scoutfs_hsm_backend_errors_total",
				 "Failed backend operations, by backend.",
				 "backend", b, NULL);
	}
}

static void register_core_metrics(struct agent *a)
{
	struct agent_metric *m;

	m = agent_metric_get(a->metrics, AGENT_METRIC_GAUGE,
			     "scoutfs_hsm_agent_start_time_seconds",
			     "When the agent started, seconds since the epoch.",
			     NULL);
	agent_metric_set(m, (double)a->started);
	a->m_uptime = agent_metric_get(a->metrics, AGENT_METRIC_GAUGE,
				       "scoutfs_hsm_agent_uptime_seconds",
				       "Seconds since the agent started.", NULL);
	a->m_generation = agent_metric_get(a->metrics, AGENT_METRIC_GAUGE,
					   "scoutfs_hsm_config_generation",
					   "Configuration generation in use (1 at start, +1 per successful reload).",
					   NULL);
	a->m_reload_ok = agent_metric_get(a->metrics, AGENT_METRIC_COUNTER,
					  "scoutfs_hsm_config_reloads_total",
					  "SIGHUP reloads of the configuration, by result.",
					  "result", "ok", NULL);
	a->m_reload_failed = agent_metric_get(a->metrics, AGENT_METRIC_COUNTER,
					      "scoutfs_hsm_config_reloads_total",
					      "SIGHUP reloads of the configuration, by result.",
					      "result", "failed", NULL);
	a->m_events = agent_metric_get(a->metrics, AGENT_METRIC_COUNTER,
				       "scoutfs_hsm_file_events_total",
				       "File events the indexer published to the workers.",
				       NULL);
	agent_metric_get(a->metrics, AGENT_METRIC_COUNTER,
			 "scoutfs_hsm_release_files_total",
			 "Files released.", NULL);
	agent_metric_get(a->metrics, AGENT_METRIC_COUNTER,
			 "scoutfs_hsm_release_bytes_total",
			 "Bytes released.", NULL);
	for (const char *const *q = (const char *const[]){ "stage", "archive",
	     "release", NULL }; *q; q++)
		agent_metric_get(a->metrics, AGENT_METRIC_GAUGE,
				 "scoutfs_hsm_queue_depth",
				 "Requests queued, by kind.", "queue", *q, NULL);
	agent_metric_get(a->metrics, AGENT_METRIC_GAUGE,
			 "scoutfs_hsm_oldest_waiter_seconds",
			 "Age of the oldest reader waiting for a stage, 0 when none.",
			 NULL);
}

static void add_str(struct json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, v ? json_object_new_string(v) : NULL);
}

static struct json_object *config_json(const struct agent_cfg_ref *ref)
{
	const struct agent_config *cfg = ref->cfg;
	struct json_object *o = json_object_new_object();
	struct json_object *bes = json_object_new_array();
	struct json_object *sets = json_object_new_array();
	struct json_object *rel = json_object_new_object();
	struct json_object *stg = json_object_new_object();
	size_t i;
	unsigned int c;

	add_str(o, "path", cfg->path);
	json_object_object_add(o, "generation",
			       json_object_new_uint64(ref->generation));
	json_object_object_add(o, "loaded_at",
			       json_object_new_int64(ref->loaded));
	add_str(o, "log_level", agent_log_level_name(cfg->log_level));
	add_str(o, "catalog", cfg->catalog);
	for (i = 0; i < cfg->nr_backends; i++) {
		const struct agent_backend_conf *b = &cfg->backends[i];
		struct json_object *bo = json_object_new_object();

		add_str(bo, "name", b->name);
		add_str(bo, "type", agent_backend_type_name(b->type));
		json_object_object_add(bo, "archive_workers",
				       json_object_new_int((int)b->archive_workers));
		json_object_object_add(bo, "stage_workers",
				       json_object_new_int((int)b->stage_workers));
		/* the most transfers seen at once (transfers.h) */
		json_object_object_add(bo, "archive_peak",
				       json_object_new_int((int)wk_transfer_peak(
					       b->name, WK_ARCHIVE)));
		json_object_object_add(bo, "stage_peak",
				       json_object_new_int((int)wk_transfer_peak(
					       b->name, WK_STAGE)));
		json_object_array_add(bes, bo);
	}
	for (i = 0; i < cfg->nr_sets; i++) {
		const struct agent_set_conf *s = &cfg->sets[i];
		struct json_object *so = json_object_new_object();
		struct json_object *co = json_object_new_array();

		add_str(so, "name", s->name);
		json_object_object_add(so, "never_archive",
				       json_object_new_boolean(s->never_archive));
		for (c = 0; c < s->nr_copies; c++)
			json_object_array_add(co, json_object_new_string(
				s->copies[c].backend_name));
		json_object_object_add(so, "copies", co);
		json_object_array_add(sets, so);
	}
	json_object_object_add(o, "backends", bes);
	json_object_object_add(o, "archive_sets", sets);
	json_object_object_add(rel, "high_watermark",
			       json_object_new_int((int)cfg->release.high_watermark));
	json_object_object_add(rel, "low_watermark",
			       json_object_new_int((int)cfg->release.low_watermark));
	add_str(rel, "order", cfg->release.order == AGENT_RELEASE_LRU ?
		"lru" : "weighted");
	json_object_object_add(o, "release", rel);
	json_object_object_add(stg, "timeout_s",
			       json_object_new_uint64(cfg->stager.timeout));
	json_object_object_add(stg, "max_queued",
			       json_object_new_int64(cfg->stager.max_queued));
	add_str(stg, "storm_action", cfg->stager.storm_action ==
		AGENT_STORM_EAGAIN ? "eagain" : "queue");
	json_object_object_add(o, "stager", stg);
	return o;
}

static struct json_object *status_json(struct agent *a)
{
	struct json_object *o = json_object_new_object();
	struct json_object *fs = json_object_new_object();
	struct json_object *ws = json_object_new_array();
	struct agent_cfg_ref *ref = cfg_get(a);
	enum agent_state state;
	char fsid[32];
	size_t i;

	pthread_mutex_lock(&a->lock);
	state = a->state;
	pthread_mutex_unlock(&a->lock);
	add_str(o, "state", state_names[state]);
	json_object_object_add(o, "pid", json_object_new_int((int)getpid()));
	add_str(o, "mount", a->mount);
	json_object_object_add(o, "started_at", json_object_new_int64(a->started));
	json_object_object_add(o, "uptime_s",
			       json_object_new_int64(time(NULL) - a->started));
	add_str(o, "lock", a->lock_id);
	add_str(o, "socket", a->socket_path);
	json_object_object_add(fs, "scoutfs",
			       json_object_new_boolean(a->fs.is_scoutfs));
	if (a->fs.is_scoutfs) {
		snprintf(fsid, sizeof(fsid), "%016llx",
			 (unsigned long long)a->fs.fsid);
		add_str(fs, "fsid", fsid);
	} else {
		add_str(fs, "reason", a->fs.reason);
	}
	json_object_object_add(o, "filesystem", fs);
	json_object_object_add(o, "config", config_json(ref));
	for (i = 0; i < a->nr_workers; i++) {
		struct agent_worker *w = &a->workers[i];
		struct json_object *wo = json_object_new_object();

		add_str(wo, "name", w->ops->name);
		pthread_mutex_lock(&w->lock);
		add_str(wo, "state", w->done ? "stopped" : w->state);
		pthread_mutex_unlock(&w->lock);
		if (w->ops->status)
			w->ops->status(w, wo);
		json_object_array_add(ws, wo);
	}
	json_object_object_add(o, "workers", ws);
	json_object_object_add(o, "metrics", agent_metrics_json(a->metrics));
	cfg_put(ref);
	return o;
}

/* A worker's answer to a command (its request() op), or NULL. */
static struct json_object *worker_request(struct agent *a, const char *method,
					  const char *url)
{
	struct json_object *o = NULL;
	struct agent_cfg_ref *ref = cfg_get(a);
	size_t i;

	for (i = 0; !o && i < a->nr_workers; i++)
		if (a->workers[i].ops->request)
			o = a->workers[i].ops->request(&a->workers[i], ref->cfg,
						       method, url);
	cfg_put(ref);
	return o;
}

static char *http_answer(void *arg, const char *method, const char *url,
			 const char **ctype, size_t *len, unsigned int *status)
{
	struct agent *a = arg;
	bool is_post = !strcmp(method, "POST");
	struct json_object *o;
	char *body;

	agent_metric_set(a->m_uptime, (double)(time(NULL) - a->started));
	if (!is_post && !strcmp(url, "/metrics")) {
		*ctype = "text/plain; version=0.0.4; charset=utf-8";
		return agent_metrics_render(a->metrics, len);
	}
	if (!is_post && (!strcmp(url, "/status") || !strcmp(url, "/")))
		o = status_json(a);
	else
		o = worker_request(a, method, url);
	if (!o && is_post) {
		*status = 405;
		return strdup("POST only to a command: /release\n");
	}
	if (!o)
		return NULL;
	body = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
						     JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	if (body) {
		size_t n = strlen(body);
		char *nl = realloc(body, n + 2);

		if (nl) {
			body = nl;
			body[n++] = '\n';
			body[n] = 0;
		}
		*len = n;
	}
	*ctype = "application/json";
	return body;
}

/* ---- reload and drain ---- */

static void notify_status(struct agent *a, const char *extra)
{
	struct agent_cfg_ref *ref = cfg_get(a);

	sd_notifyf(0, "%sSTATUS=running on %s: %zu backends, %zu archive sets, configuration generation %llu",
		   extra, a->mount, ref->cfg->nr_backends, ref->cfg->nr_sets,
		   (unsigned long long)ref->generation);
	cfg_put(ref);
}

static bool str_changed(const char *a, const char *b)
{
	if (!a || !b)
		return a != b;
	return strcmp(a, b) != 0;
}

static void reload(struct agent *a)
{
	struct agent_config_errors errs = { 0 };
	struct agent_cfg_ref *old, *ref;
	struct agent_config *cfg = NULL;
	const char *why = NULL;
	size_t i;

	sd_notify(0, "RELOADING=1\nSTATUS=reloading the configuration");
	pthread_mutex_lock(&a->lock);
	a->state = AGENT_RELOADING;
	pthread_mutex_unlock(&a->lock);
	agent_notice("SIGHUP: reloading %s", a->config_path);

	if (agent_config_load(a->config_path, &cfg, &errs)) {
		for (i = 0; i < errs.nr; i++)
			agent_err("%s", errs.msgs[i]);
		why = "it has errors";
	} else {
		old = cfg_get(a);
		if (str_changed(old->cfg->catalog, cfg->catalog))
			why = "'catalog' changed, which needs a restart";
		else if (str_changed(old->cfg->metrics.socket, cfg->metrics.socket) ||
			 str_changed(old->cfg->metrics.address, cfg->metrics.address) ||
			 old->cfg->metrics.port != cfg->metrics.port)
			why = "'metrics' changed, which needs a restart";
		cfg_put(old);
		if (!why && agent_backends_check(cfg))
			why = "a backend cannot be used (see above)";
	}
	agent_config_errors_free(&errs);

	if (why) {
		agent_config_free(cfg);
		agent_metric_add(a->m_reload_failed, 1);
		agent_err("reload refused: %s; keeping the running configuration (generation %llu)",
			  why, (unsigned long long)a->generation);
	} else {
		ref = cfg_new(cfg, a->generation + 1);
		if (!ref) {
			agent_config_free(cfg);
			agent_metric_add(a->m_reload_failed, 1);
			agent_err("reload refused: out of memory");
		} else {
			pthread_mutex_lock(&a->lock);
			old = a->cur;
			a->cur = ref;
			a->generation = ref->generation;
			pthread_mutex_unlock(&a->lock);
			cfg_put(old);
			agent_log_set_level(cfg->log_level);
			register_backend_metrics(a, cfg);
			agent_metric_add(a->m_reload_ok, 1);
			agent_metric_set(a->m_generation, (double)ref->generation);
			for (i = 0; i < a->nr_workers; i++)
				agent_worker_wake(&a->workers[i]);
			agent_notice("reloaded %s: configuration generation %llu",
				     a->config_path,
				     (unsigned long long)ref->generation);
		}
	}
	pthread_mutex_lock(&a->lock);
	a->state = AGENT_RUNNING;
	pthread_mutex_unlock(&a->lock);
	notify_status(a, "READY=1\n");
}

/* true when every worker finished within the timeout */
static bool drain(struct agent *a, uint64_t timeout_s)
{
	struct timespec until;
	bool all = false;
	size_t i, left;

	sd_notifyf(0, "STOPPING=1\nSTATUS=draining (up to %llu s)",
		   (unsigned long long)timeout_s);
	agent_notice("stopping: draining the workers (up to %llu s)",
		     (unsigned long long)timeout_s);
	pthread_mutex_lock(&a->lock);
	a->state = AGENT_DRAINING;
	pthread_mutex_unlock(&a->lock);
	for (i = 0; i < a->nr_workers; i++) {
		struct agent_worker *w = &a->workers[i];

		pthread_mutex_lock(&w->lock);
		w->stopping = true;
		pthread_cond_signal(&w->cond);
		pthread_mutex_unlock(&w->lock);
	}
	deadline_after(&until, (long)timeout_s * 1000);
	pthread_mutex_lock(&a->lock);
	for (;;) {
		left = 0;
		for (i = 0; i < a->nr_workers; i++) {
			pthread_mutex_lock(&a->workers[i].lock);
			left += a->workers[i].started && !a->workers[i].done;
			pthread_mutex_unlock(&a->workers[i].lock);
		}
		if (!left) {
			all = true;
			break;
		}
		if (pthread_cond_timedwait(&a->done_cond, &a->lock, &until) ==
		    ETIMEDOUT)
			break;
	}
	pthread_mutex_unlock(&a->lock);
	for (i = 0; i < a->nr_workers; i++) {
		struct agent_worker *w = &a->workers[i];

		if (!w->started)
			continue;
		if (w->done) {
			pthread_join(w->thread, NULL);
			w->started = false;
		} else {
			agent_warn("%s did not finish within %llu s: abandoned (its requests stay queued in the catalog)",
				   w->ops->name, (unsigned long long)timeout_s);
		}
	}
	return all;
}

/* ---- start ---- */

static int make_socket_dir(const char *sock)
{
	char dir[108];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", sock);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = 0;
	/* the default lives in /run/scoutfs-hsm/<mount>/: make both levels */
	if (!strncmp(dir, AGENT_RUN_DIR "/", strlen(AGENT_RUN_DIR) + 1)) {
		if (mkdir(AGENT_RUN_DIR, 0755) && errno != EEXIST)
			return -errno;
		if (mkdir(dir, 0755) && errno != EEXIST)
			return -errno;
	}
	return 0;
}

static int lock_filesystem(struct agent *a)
{
	struct stat st;
	pid_t holder;
	int ret;

	if (a->fs.is_scoutfs) {
		snprintf(a->lock_id, sizeof(a->lock_id), "fsid-%016llx",
			 (unsigned long long)a->fs.fsid);
	} else {
		if (stat(a->mount, &st))
			return -errno;
		snprintf(a->lock_id, sizeof(a->lock_id), "dev-%u:%u-ino-%llu",
			 major(st.st_dev), minor(st.st_dev),
			 (unsigned long long)st.st_ino);
	}
	ret = agent_lock_take(a->lock_id, &a->lock_fd, &holder);
	if (ret == -EBUSY) {
		if (holder)
			agent_err("another hsm-agent (pid %d) already runs for the filesystem at %s (%s); refusing to start",
				  (int)holder, a->mount, a->lock_id);
		else
			agent_err("another hsm-agent already runs for the filesystem at %s (%s); refusing to start",
				  a->mount, a->lock_id);
	} else if (ret) {
		agent_err("cannot take the agent lock %s: %s", a->lock_id,
			  strerror(-ret));
	}
	return ret;
}

static int start_http(struct agent *a, const struct agent_config *cfg)
{
	char err[512] = "";
	int ret;

	if (cfg->metrics.socket) {
		snprintf(a->socket_path, sizeof(a->socket_path), "%s",
			 cfg->metrics.socket);
	} else if (agent_default_socket(a->mount, a->socket_path,
					sizeof(a->socket_path))) {
		agent_err("the default metrics socket for %s is too long; set metrics.socket",
			  a->mount);
		return -ENAMETOOLONG;
	}
	ret = make_socket_dir(a->socket_path);
	if (ret) {
		agent_err("%s: cannot make its directory: %s", a->socket_path,
			  strerror(-ret));
		return ret;
	}
	ret = agent_http_start(a->socket_path, cfg->metrics.address,
			       cfg->metrics.port, http_answer, a, &a->http,
			       err, sizeof(err));
	if (ret)
		agent_err("metrics: %s", err[0] ? err : strerror(-ret));
	return ret;
}

int agent_main(const struct agent_options *opts)
{
	static const struct agent_worker_ops *const worker_ops[] = {
		&agent_indexer_ops, &agent_archiver_ops,
		&agent_releaser_ops, &agent_stager_ops,
	};
	struct agent_config_errors errs = { 0 };
	struct agent_config *cfg = NULL;
	struct agent a = { .lock_fd = -1 };
	char mount[PATH_MAX];
	char conf[PATH_MAX];
	sigset_t mask;
	int sfd = -1, rc = 1;
	bool drained = true;
	size_t i;

	agent_log_init();
	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (sfd < 0) {
		agent_err("signalfd: %s", strerror(errno));
		return 1;
	}

	/* absolute, so messages and reloads name the same file */
	if (!realpath(opts->config_path, conf))
		snprintf(conf, sizeof(conf), "%s", opts->config_path);
	if (agent_config_load(conf, &cfg, &errs)) {
		for (i = 0; i < errs.nr; i++)
			agent_err("%s", errs.msgs[i]);
		agent_err("%s: %zu error%s; refusing to start", conf,
			  errs.nr, errs.nr == 1 ? "" : "s");
		agent_config_errors_free(&errs);
		close(sfd);
		return 1;
	}
	agent_log_set_level(cfg->log_level);
	if (!realpath(opts->mount, mount)) {
		agent_err("%s: %s", opts->mount, strerror(errno));
		agent_config_free(cfg);
		close(sfd);
		return 1;
	}

	a.mount = mount;
	a.config_path = conf;
	a.started = time(NULL);
	a.generation = 1;
	pthread_mutex_init(&a.lock, NULL);
	{
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&a.done_cond, &ca);
		pthread_condattr_destroy(&ca);
	}
	a.cur = cfg_new(cfg, 1);
	a.metrics = agent_metrics_new();
	if (!a.cur || !a.metrics) {
		agent_err("out of memory");
		if (!a.cur)
			agent_config_free(cfg);
		goto out;
	}

	agent_fs_probe(mount, &a.fs);
	if (!a.fs.is_scoutfs)
		agent_warn("%s; the workers that need the filesystem wait for it",
			   a.fs.reason);
	if (lock_filesystem(&a))
		goto out;

	if (agent_catalog_check(cfg) || agent_backends_check(cfg)) {
		agent_err("refusing to start");
		goto out;
	}

	register_core_metrics(&a);
	register_backend_metrics(&a, cfg);
	agent_metric_set(a.m_generation, 1);
	for (i = 0; i < sizeof(worker_ops) / sizeof(worker_ops[0]); i++) {
		if (worker_setup(&a, worker_ops[i]))
			goto out;
	}
	/* after the workers' init: the status reads every worker's state */
	if (start_http(&a, cfg))
		goto out;
	for (i = 0; i < a.nr_workers; i++) {
		struct agent_worker *w = &a.workers[i];
		int err = pthread_create(&w->thread, NULL, worker_thread, w);

		if (err) {
			agent_err("%s: cannot start its thread: %s",
				  w->ops->name, strerror(err));
			goto out;
		}
		w->started = true;
	}

	pthread_mutex_lock(&a.lock);
	a.state = AGENT_RUNNING;
	pthread_mutex_unlock(&a.lock);
	agent_notice("running on %s (%s): %zu backends, %zu archive sets; metrics and status on %s%s",
		     mount, a.fs.is_scoutfs ? "scoutfs" : "not scoutfs",
		     cfg->nr_backends, cfg->nr_sets, a.socket_path,
		     cfg->metrics.port ? " and TCP" : "");
	notify_status(&a, "READY=1\n");

	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = sfd, .events = POLLIN },
			{ .fd = a.lock_fd, .events = POLLIN },
		};
		struct signalfd_siginfo si;

		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			agent_err("poll: %s", strerror(errno));
			break;
		}
		if (pfd[1].revents)
			agent_lock_serve(a.lock_fd);
		if (!(pfd[0].revents & POLLIN))
			continue;
		if (read(sfd, &si, sizeof(si)) != sizeof(si))
			continue;
		if (si.ssi_signo == SIGHUP) {
			reload(&a);
			continue;
		}
		agent_notice("%s received", strsignal((int)si.ssi_signo));
		break;
	}
	rc = 0;
out:
	if (a.nr_workers && a.workers[0].started) {
		struct agent_cfg_ref *ref = cfg_get(&a);

		drained = drain(&a, ref->cfg->drain_timeout);
		cfg_put(ref);
	}
	agent_http_stop(a.http);
	if (drained) {
		workers_fini(&a);
		agent_metrics_free(a.metrics);
		cfg_put(a.cur);
		pthread_cond_destroy(&a.done_cond);
		pthread_mutex_destroy(&a.lock);
	}
	if (a.lock_fd >= 0)
		close(a.lock_fd);
	close(sfd);
	if (rc == 0)
		agent_notice("stopped%s", drained ? "" : " (work abandoned, see above)");
	return rc;
}
