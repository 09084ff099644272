/* SPDX-License-Identifier: GPL-2.0 */
/*
 * agent.h: the hsm-agent core and the interface its workers implement.
 *
 * One agent runs per mounted filesystem.  The core (agent.c) owns
 * everything that is not policy: the configuration and its reloads, the
 * one-agent-per-filesystem lock, signals, systemd notification, the
 * metrics/status server and the worker threads.  The policies live in
 * workers, one thread each:
 *
 *   indexer   follows meta_seq/data_seq into the catalog (indexers/) and
 *             publishes what changed as agent_file_event (agent_publish())
 *   archiver  turns changed files that match an archive set into archive
 *             requests in the catalog and runs them on the backends
 *   releaser  watches the data device against the watermarks and releases
 *             files whose copies are all valid at their data_version
 *   stager    serves readers waiting on released data (DATA_WAITING),
 *             before any other work, with the recall-storm guard
 *
 * The contract between the core and a worker (struct agent_worker_ops):
 *
 *  - init() runs once in the main thread before any thread starts: it
 *    registers the worker's metrics by name (so they exist, at 0, from the
 *    first scrape) and allocates its state.  A failure stops the start.
 *  - step() runs in the worker's thread and does one bounded pass of work
 *    (one batch of requests, one usage check), then returns how many
 *    milliseconds it wants to sleep: AGENT_STEP_IDLE sleeps until woken,
 *    0 runs again at once.  A negative errno is counted in
 *    scoutfs_hsm_worker_errors_total{worker=NAME} and retried after a
 *    backoff.  The thread sleeps between steps on a condition variable, so
 *    agent_worker_wake() (a new file event, a new waiter, a reload) starts
 *    the next step at once without polling.  Long steps check
 *    agent_worker_stopping() between items and return early.
 *  - the configuration a step sees (cfg) stays valid for the whole step.
 *    After a SIGHUP that loaded, the worker's next step first gets
 *    reload(old, new) in its own thread, so a worker never sees a
 *    configuration change in the middle of a step.
 *  - event() is the indexer hook: agent_publish() calls every worker's
 *    event() in the publisher's thread; it only queues and wakes.
 *  - status() adds the worker's part to the status JSON (any thread; the
 *    worker locks what it reads).
 *  - request() answers a command of `scoutfs-hsm` sent to the agent's
 *    HTTP server (method "GET" or "POST", url such as "/release"): a JSON
 *    answer (with "error" when it failed), or NULL when the url is not
 *    the worker's.  It runs in the server's thread with cfg held for it,
 *    so it opens what it needs itself (a catalog connection, the mount)
 *    and only pokes the worker's thread through its locked state and
 *    agent_worker_wake().
 *  - on SIGTERM the core sets stopping and wakes every worker; the thread
 *    finishes its current step, calls stop() and exits.  The core waits
 *    drain_timeout for all of them.  Work not finished by then is
 *    abandoned: every request lives in the catalog before it is acted on,
 *    so the next start picks it up.
 *  - fini() frees the worker's state, in the main thread, after its
 *    thread has been joined.
 *
 * Nothing in the core touches the filesystem except through
 * agent_fs_probe(), which workers call when they need the mount, so the
 * core (configuration, signals, lock, metrics, status) runs and is tested
 * on any directory; the status says whether MOUNT is a scoutfs mount.
 */
#ifndef SCOUTFS_HSM_AGENT_AGENT_H
#define SCOUTFS_HSM_AGENT_AGENT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "metrics.h"

struct json_object;
struct agent;
struct agent_worker;

#define AGENT_STEP_IDLE (-(1L << 40))	/* step(): sleep until woken */
#define AGENT_WORKER_STATE_MAX 256

/* What the indexer tells the other workers about one file. */
enum agent_file_event_kind {
	AGENT_EV_CHANGED = 0,	/* created, or data_version moved */
	AGENT_EV_RELEASED,
	AGENT_EV_STAGED,
	AGENT_EV_RENAMED,
	AGENT_EV_DELETED,
};

struct agent_file_event {
	enum agent_file_event_kind kind;
	uint64_t ino;
	uint64_t data_version;
	uint64_t size;
	const char *path;	/* below the mount, "/..."; NULL if unknown */
};

struct agent_worker_ops {
	const char *name;
	int (*init)(struct agent_worker *w);
	long (*step)(struct agent_worker *w, const struct agent_config *cfg);
	void (*reload)(struct agent_worker *w, const struct agent_config *old,
		       const struct agent_config *cfg);
	void (*event)(struct agent_worker *w, const struct agent_file_event *ev);
	void (*status)(struct agent_worker *w, struct json_object *o);
	struct json_object *(*request)(struct agent_worker *w,
				       const struct agent_config *cfg,
				       const char *method, const char *url);
	void (*stop)(struct agent_worker *w);
	void (*fini)(struct agent_worker *w);
};

struct agent_cfg_ref;

struct agent_worker {
	const struct agent_worker_ops *ops;
	struct agent *agent;
	void *priv;			/* the worker's own */
	/* core-private below */
	pthread_t thread;
	bool started;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool woken;
	bool stopping;
	bool done;
	char state[AGENT_WORKER_STATE_MAX];
	struct agent_cfg_ref *cfg;	/* the configuration of its last step */
	struct agent_metric *steps;
	struct agent_metric *errors;
};

/* Workers: the four of workers.c, started in this order. */
extern const struct agent_worker_ops agent_indexer_ops;
extern const struct agent_worker_ops agent_archiver_ops;
extern const struct agent_worker_ops agent_releaser_ops;
extern const struct agent_worker_ops agent_stager_ops;

void agent_worker_wake(struct agent_worker *w);
bool agent_worker_stopping(struct agent_worker *w);
/* One line for the status: what the worker is doing or waiting for. */
void agent_worker_set_state(struct agent_worker *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

struct agent_metrics *agent_get_metrics(struct agent *a);
const char *agent_mount(const struct agent *a);
/* The indexer hook: every worker's event(), then wake it. */
void agent_publish(struct agent *a, const struct agent_file_event *ev);

/* What agent_fs_probe() found at the mount point. */
struct agent_fs_info {
	bool is_scoutfs;
	uint64_t fsid;		/* when is_scoutfs */
	char reason[256];	/* why not, when !is_scoutfs */
};
/* Look at the mount now (an open, fstatfs and STATFS_MORE). */
void agent_fs_probe(const char *mount, struct agent_fs_info *info);

/* ---- the core, for main.c ---- */

struct agent_options {
	const char *config_path;
	const char *mount;
};

/* Run until SIGTERM/SIGINT; returns the process exit status. */
int agent_main(const struct agent_options *opts);

/* agent_escape_path(), agent_default_socket() */
#include "agent_socket.h"

#endif
