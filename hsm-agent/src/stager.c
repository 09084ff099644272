// SPDX-License-Identifier: GPL-2.0
/*
 * stager.c: the stager worker, which serves readers waiting on released
 * data.
 *
 * Finding waiters.  The kernel lists the tasks blocked on offline blocks
 * with DATA_WAITING (kmod/src/ioctl.h); it has no blocking or pollable
 * form, so the stager polls it every stager.poll_ms (default 100 ms: one
 * ioctl that walks an in-memory tree, nothing when nobody waits).  Each
 * listing is grouped by inode; a file first seen waiting starts its
 * clock, which stager.timeout bounds.
 *
 * Staging one file.  It is opened by inode (the catalog's row names it,
 * else INO_PATH), STAT_MORE gives its data_version, and the catalog's
 * valid, verified copies of exactly that version are tried in copy
 * order.  A copy is read whole with the backend's get() into an unlinked
 * spool file (O_TMPFILE in stager.spool_dir), which verifies its checksum
 * at the end; only a copy that passed is staged, from the spool, in 1 MiB
 * aligned pieces (STAGE with that data_version: the kernel refuses if the
 * file changed, and leaves blocks already online alone, so a kept first
 * part is no harm).  Staging straight from the backend would be one pass
 * less, but a reader woken by the first staged block would read bytes
 * whose checksum is not checked yet.  A corrupt copy (-EBADMSG) goes to
 * the next copy at once; other failures are retried stager.retries times
 * on that copy, stager.retry_backoff_ms apart, then the next copy is
 * tried.  When every copy failed, when there is no valid copy of the
 * file's version, or when the timeout passes, the waiting readers get
 * EIO through DATA_WAIT_ERR and the log says which file and why.
 * Nothing waits forever.
 *
 * Priority: while files have waiting readers the archiver and releaser
 * step aside between their items (workers.h), so stages run first.
 *
 * Recall-storm guard: files beyond stager.max_queued waiting at once, or
 * past stager.window_bytes staged for readers in the current
 * stager.window, are held back (storm_action "queue", the default: they
 * wait, their timeout running, and are served in the order they came
 * once the limits allow; a SIGHUP with larger limits lets them through at
 * once) or given EAGAIN at once ("eagain").  The stage that crosses
 * window_bytes is allowed; the next one is held.  Prestages are not
 * counted: they are asked for explicitly, and run only when no reader
 * waits.
 *
 * Order.  The files let through are taken in the order their readers
 * started to wait, SG_ORDER_MAX at a time, and each such group is staged
 * in read order (stage_order.h: by backend, tape volume and position on
 * it, from the catalog's first valid copy of the inode's version), so the
 * readers of many files on one volume cost one forward pass over it, not
 * a locate per file in the order they asked.  A group runs in batches of
 * as many files at once as the largest stage_workers of the backends (a
 * pool of threads, each with its own catalog connection and backend
 * instances: transfers.h), and a batch holds at most its backend's
 * stage_workers files of each backend, so with one drive the files of a
 * volume are read one after the other in position order.  Each copy's get
 * holds one of its backend's stage_workers slots, and all of a backend's
 * gets together keep its bandwidth cap.  The recall-storm guard's window
 * is looked at between batches, so a batch may pass window_bytes by up to
 * its other stages.  A successful stage is noted for the releaser's
 * min_residence.
 *
 * Prestage (`scoutfs-hsm stage --list`, cli/hsm_stage.c): the command
 * queues one stage request per file in the catalog, in the order it
 * sorted them (by backend, then tape volume and position); the stager
 * claims them (highest priority, then oldest first: that order) one at a
 * time, only when no reader waits, and lists DATA_WAITING again after
 * each, so waiting readers always come first (a prestage under way
 * finishes its one file).  Each is staged as above (from the spool,
 * verified, with fallback to the next copy) and its request completed, or
 * failed with the reason, which the command prints; nobody is given an
 * error.  A request claimed when the agent is killed is queued again by
 * the catalog's recovery at the next start.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "log.h"
#include "stage_order.h"
#include "transfers.h"
#include "workers.h"

#define SG_CHUNK (1024 * 1024)
#define SG_LIST_NR 256
#define SG_DWO_ALL (SCOUTFS_IOC_DWO_READ | SCOUTFS_IOC_DWO_WRITE | \
		    SCOUTFS_IOC_DWO_CHANGE_SIZE)

struct sg_wait {
	uint64_t ino;
	uint64_t since_ms;	/* first seen waiting */
	bool seen;
	bool served;		/* staged or given an error this step */
};

/*
 * A file whose readers were just given an error (or staged): the kernel
 * lists their waits until each reader has run, so the next listing may
 * still show them; they are not served twice within SG_SETTLE_MS.
 */
#define SG_RECENT 64
#define SG_SETTLE_MS 1000

struct stager {
	struct { uint64_t ino, at_ms; } recent[SG_RECENT];
	unsigned int next_recent;
	struct wk_fs fs;
	struct wk_thread main;	/* the worker thread's catalog, backends */
	struct hsm_catalog *cat;	/* == main.cat */
	struct wk_pool *pool;	/* stage_workers stages at once */
	struct scoutfs_ioctl_data_waiting_entry *ents;
	struct sg_wait *waits;
	size_t nr_waits, max_waits;
	struct sg_job *jobs;	/* SG_ORDER_MAX, allocated at the first wait */
	uint64_t window_start_ms;
	pthread_mutex_t lock;	/* below, for status; window_bytes */
	uint64_t window_bytes;
	uint64_t staged, bytes, failed, timeouts, refused;
	uint64_t prestaged, prestage_failed;
	uint64_t waiting, oldest_ms;
	char last_error[HSM_ERROR_MAX + PATH_MAX];
	struct agent_metric *m_staged, *m_bytes, *m_failed, *m_queue,
			    *m_oldest;
};

static int stager_init(struct agent_worker *w)
{
	struct agent_metrics *m = agent_get_metrics(w->agent);
	struct stager *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->ents = calloc(SG_LIST_NR, sizeof(*s->ents));
	if (!s->ents) {
		free(s);
		return -ENOMEM;
	}
	wk_fs_init(&s->fs);
	pthread_mutex_init(&s->lock, NULL);
	s->m_staged = agent_metric_get(m, AGENT_METRIC_COUNTER,
				       "scoutfs_hsm_staged_files_total",
				       "Files staged for waiting readers.", NULL);
	s->m_bytes = agent_metric_get(m, AGENT_METRIC_COUNTER,
				      "scoutfs_hsm_staged_bytes_total",
				      "Bytes staged.", NULL);
	s->m_failed = agent_metric_get(m, AGENT_METRIC_COUNTER,
				       "scoutfs_hsm_stage_failures_total",
				       "Files whose readers were given an error.",
				       NULL);
	s->m_queue = agent_metric_get(m, AGENT_METRIC_GAUGE,
				      "scoutfs_hsm_queue_depth",
				      "Requests queued, by kind.", "queue",
				      "stage", NULL);
	s->m_oldest = agent_metric_get(m, AGENT_METRIC_GAUGE,
				       "scoutfs_hsm_oldest_waiter_seconds",
				       "Age of the oldest reader waiting for a stage, 0 when none.",
				       NULL);
	w->priv = s;
	return 0;
}

static struct sg_wait *sg_find(struct stager *s, uint64_t ino)
{
	size_t i;

	for (i = 0; i < s->nr_waits; i++)
		if (s->waits[i].ino == ino)
			return &s->waits[i];
	return NULL;
}

/* Read every waiter the kernel lists into s->waits. */
static int sg_list(struct stager *s)
{
	struct scoutfs_ioctl_data_waiting args;
	uint64_t now = wk_now_ms();
	size_t i;
	int n;

	for (i = 0; i < s->nr_waits; i++)
		s->waits[i].seen = false;
	memset(&args, 0, sizeof(args));
	args.ents_ptr = (uintptr_t)s->ents;
	args.ents_nr = SG_LIST_NR;
	do {
		n = ioctl(s->fs.mnt_fd, SCOUTFS_IOC_DATA_WAITING, &args);
		if (n < 0)
			return -errno;
		for (i = 0; i < (size_t)n; i++) {
			struct sg_wait *wt = sg_find(s, s->ents[i].ino);

			if (!wt) {
				if (s->nr_waits == s->max_waits) {
					size_t max = s->max_waits ?
						     s->max_waits * 2 : 16;
					struct sg_wait *nw = realloc(s->waits,
						max * sizeof(*nw));

					if (!nw)
						return -ENOMEM;
					s->waits = nw;
					s->max_waits = max;
				}
				wt = &s->waits[s->nr_waits++];
				wt->ino = s->ents[i].ino;
				wt->since_ms = now;
				wt->served = false;
			}
			wt->seen = true;
		}
		if (n > 0) {
			args.after_ino = s->ents[n - 1].ino;
			args.after_iblock = s->ents[n - 1].iblock;
		}
	} while (n == SG_LIST_NR);
	/* readers that went away (killed, or served) */
	for (i = 0; i < s->nr_waits;) {
		if (!s->waits[i].seen)
			s->waits[i] = s->waits[--s->nr_waits];
		else
			i++;
	}
	return 0;
}

static void sg_wait_err(struct stager *s, uint64_t ino, int err)
{
	struct scoutfs_ioctl_data_wait_err args;

	memset(&args, 0, sizeof(args));
	args.ino = ino;
	args.offset = 0;
	args.count = UINT64_MAX;
	args.op = SG_DWO_ALL;
	args.err = err;
	if (ioctl(s->fs.mnt_fd, SCOUTFS_IOC_DATA_WAIT_ERR, &args) < 0)
		agent_warn("stager: DATA_WAIT_ERR for inode %llu: %s",
			   (unsigned long long)ino, strerror(errno));
}

struct sg_writer {
	int fd;			/* the file staged into */
	int spool;		/* the copy, read whole and verified first */
	uint64_t dv;
	uint64_t size;
	uint64_t got;		/* bytes of the copy spooled */
	uint64_t deadline_ms;
	const struct agent_config *cfg;	/* for the backend's cap */
	const char *backend;
	uint64_t start_ms;	/* of this copy's get */
	char *buf;
	char why[256];
};

/* get()'s writer: the copy's bytes into the spool file */
static int sg_write(void *arg, const void *buf, size_t len)
{
	struct sg_writer *wr = arg;
	const char *p = buf;
	size_t got = len;
	ssize_t n;

	if (wk_now_ms() > wr->deadline_ms) {
		wk_fmt(wr->why, sizeof(wr->why), "the stage timeout passed");
		return -ETIMEDOUT;
	}
	if (wr->got + len > wr->size) {
		wk_fmt(wr->why, sizeof(wr->why),
		       "the copy is longer than the file (%llu bytes)",
		       (unsigned long long)wr->size);
		return -EIO;
	}
	while (len) {
		n = pwrite(wr->spool, p, len, (off_t)wr->got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int err = n < 0 ? errno : ENOSPC;

			wk_fmt(wr->why, sizeof(wr->why), "spool file: %s",
			       strerror(err));
			return -err;
		}
		wr->got += n;
		p += n;
		len -= n;
	}
	/*
	 * The backend's bandwidth cap over all its transfers (transfers.h):
	 * holding back the next read of the answer slows the sender too.
	 */
	wk_pace(wr->cfg, wr->backend, got);
	return 0;
}

/* The verified copy from the spool into the file's offline blocks. */
static int sg_stage_spool(struct sg_writer *wr)
{
	struct scoutfs_ioctl_stage args;
	uint64_t off = 0;
	ssize_t n;
	long got;

	while (off < wr->size) {
		size_t len = wr->size - off > SG_CHUNK ? SG_CHUNK :
			     (size_t)(wr->size - off);

		if (wk_now_ms() > wr->deadline_ms) {
			wk_fmt(wr->why, sizeof(wr->why), "the stage timeout passed");
			return -ETIMEDOUT;
		}
		n = pread(wr->spool, wr->buf, len, (off_t)off);
		if (n != (ssize_t)len) {
			wk_fmt(wr->why, sizeof(wr->why), "spool file: %s",
			       n < 0 ? strerror(errno) : "short read");
			return -EIO;
		}
		memset(&args, 0, sizeof(args));
		args.data_version = wr->dv;
		args.buf_ptr = (uintptr_t)wr->buf;
		args.offset = off;
		args.length = (int32_t)len;
		got = ioctl(wr->fd, SCOUTFS_IOC_STAGE, &args);
		if (got < 0) {
			int err = errno;

			wk_fmt(wr->why, sizeof(wr->why), "STAGE at %llu: %s",
			       (unsigned long long)off,
			       err == ESTALE ? "the file changed (ESTALE)" :
			       strerror(err));
			return -err;
		}
		if ((size_t)got != len) {
			wk_fmt(wr->why, sizeof(wr->why),
			       "STAGE at %llu: %ld of %zu bytes",
			       (unsigned long long)off, got, len);
			return -EIO;
		}
		off += len;
	}
	return 0;
}

/* An unlinked file in dir for one copy; fd or -errno. */
static int sg_spool_open(const char *dir)
{
	char tmpl[PATH_MAX];
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

	if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR))
		return fd >= 0 ? fd : -errno;
	/* a filesystem without O_TMPFILE: create and unlink at once */
	snprintf(tmpl, sizeof(tmpl), "%s/.hsm-stage-XXXXXX", dir);
	fd = mkostemp(tmpl, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	unlink(tmpl);
	return fd;
}

/* Sleep ms, or less when stopping or past deadline; false if cut short. */
static bool sg_sleep(struct agent_worker *w, uint64_t ms, uint64_t deadline)
{
	uint64_t end = wk_now_ms() + ms;

	while (wk_now_ms() < end) {
		struct timespec ts = { 0, 20 * 1000000L };

		if (agent_worker_stopping(w) || wk_now_ms() > deadline)
			return false;
		nanosleep(&ts, NULL);
	}
	return true;
}

/*
 * Stage ino for its waiting readers: 0 staged, else the readers were
 * given an error (or the agent is stopping: -EINTR, they keep waiting
 * for the next start).  With req, a prestage (`scoutfs-hsm stage
 * --list`): the request is completed or failed with the reason instead,
 * and nobody is given an error.
 */
static int sg_stage(struct agent_worker *w, struct stager *s,
		    struct wk_thread *th, const struct agent_config *cfg,
		    const struct sg_wait *wt,
		    const struct hsm_catalog_request *req)
{
	const struct agent_stager_conf *sc = &cfg->stager;
	struct hsm_catalog_copy copies[16];
	struct scoutfs_ioctl_stat_more sm;
	struct hsm_catalog_inode row;
	struct sg_writer wr;
	char path[PATH_MAX] = "";
	char why[HSM_ERROR_MAX + 256] = "";
	char err[HSM_ERROR_MAX + 128];
	struct stat st;
	uint64_t start = wk_now_ms();
	uint64_t deadline = wt->since_ms + sc->timeout * 1000;
	unsigned int tries = sc->retries + 1, t;
	struct hsm_catalog *cat;
	size_t nr = 0, i;
	int fd, ret = -EIO;

	memset(&wr, 0, sizeof(wr));
	wr.fd = -1;
	wr.spool = -1;
	cat = wk_thread_catalog(th, cfg, why, sizeof(why));
	if (!cat) {
		fd = -1;
		goto fail;
	}
	if (hsm_catalog_inode_get(cat, s->fs.fsid, wt->ino, &row))
		row.path[0] = 0;
	fd = wk_open_ino(&s->fs, wt->ino, row.path, O_RDWR | O_NOATIME, path,
			 &st);
	if (fd < 0) {
		wk_fmt(why, sizeof(why), "cannot open it: %s", strerror(-fd));
		goto fail;
	}
	ret = wk_stat_more(fd, &sm);
	if (ret) {
		wk_fmt(why, sizeof(why), "STAT_MORE: %s", strerror(-ret));
		goto fail;
	}
	if (!sm.offline_blocks) {
		close(fd);
		if (req)
			hsm_catalog_request_complete(cat, req->id);
		return 0;	/* staged meanwhile: its readers have woken */
	}
	agent_worker_set_state(w, req ? "prestaging /%s (scoutfs-hsm stage --list)" :
			       "staging /%s for its waiting readers", path);
	ret = hsm_catalog_copy_list_valid(cat, s->fs.fsid, wt->ino,
					  sm.data_version, copies,
					  sizeof(copies) / sizeof(copies[0]),
					  &nr);
	if (ret) {
		wk_fmt(why, sizeof(why), "catalog: %s",
			 hsm_catalog_error(cat));
		goto fail;
	}
	if (!nr) {
		ret = -ENOENT;
		wk_fmt(why, sizeof(why), "the catalog has no valid copy of data_version %llu",
			 (unsigned long long)sm.data_version);
		goto fail;
	}
	if (nr > sizeof(copies) / sizeof(copies[0]))
		nr = sizeof(copies) / sizeof(copies[0]);
	wr.buf = malloc(SG_CHUNK);
	if (!wr.buf) {
		ret = -ENOMEM;
		wk_fmt(why, sizeof(why), "out of memory");
		goto fail;
	}
	wr.spool = sg_spool_open(sc->spool_dir);
	if (wr.spool < 0) {
		ret = wr.spool;
		wk_fmt(why, sizeof(why), "spool file in %s: %s", sc->spool_dir,
		       strerror(-ret));
		goto fail;
	}
	wr.fd = fd;
	wr.dv = sm.data_version;
	wr.size = st.st_size;
	wr.deadline_ms = deadline;
	for (i = 0; i < nr; i++) {
		const struct hsm_catalog_copy *cp = &copies[i];

		for (t = 0; t < tries; t++) {
			struct hsm_backend *be;

			if (agent_worker_stopping(w)) {
				free(wr.buf);
				close(wr.spool);
				close(fd);
				return -EINTR;
			}
			if (wk_now_ms() > deadline) {
				ret = -ETIMEDOUT;
				wk_fmt(why + strlen(why), sizeof(why) - strlen(why),
					 "%sthe stage timeout (%llu s) passed",
					 why[0] ? "; " : "",
					 (unsigned long long)sc->timeout);
				goto fail;
			}
			if (t && !sg_sleep(w, sc->retry_backoff_ms, deadline))
				continue;	/* checked at the loop's top */
			be = wk_backend(&th->be, cfg, cp->backend, err, sizeof(err));
			if (!be) {
				wk_fmt(why, sizeof(why), "copy %u: %s",
					 cp->copy_num, err);
				continue;
			}
			wr.got = 0;
			wr.why[0] = 0;
			wr.start_ms = wk_now_ms();
			wr.cfg = cfg;
			wr.backend = cp->backend;
			if (ftruncate(wr.spool, 0)) {
				ret = -errno;
				wk_fmt(why, sizeof(why), "spool file: %s",
				       strerror(-ret));
				goto fail;
			}
			/* one of the backend's stage_workers slots */
			wk_transfer_begin(cfg, cp->backend, WK_STAGE);
			ret = be->ops->get(be, cp->location, 0, UINT64_MAX,
					   sg_write, &wr);
			wk_transfer_end(cp->backend, WK_STAGE);
			if (!ret && wr.got != wr.size) {
				ret = -EIO;
				wk_fmt(wr.why, sizeof(wr.why),
				       "the copy has %llu bytes, the file %llu",
				       (unsigned long long)wr.got,
				       (unsigned long long)wr.size);
			}
			if (!ret) {
				/* verified: now, and only now, into the file */
				ret = sg_stage_spool(&wr);
				if (!ret)
					goto staged;
				wk_fmt(why, sizeof(why), "copy %u on '%s': %s",
				       cp->copy_num, cp->backend, wr.why);
				goto fail;	/* the file, not the copy */
			}
			wk_fmt(why, sizeof(why), "copy %u on '%s': %s",
			       cp->copy_num, cp->backend,
			       wr.why[0] ? wr.why : hsm_backend_error(be));
			agent_warn("stager: /%s: %s", path, why);
			wk_count_backend_error(w, cp->backend);
			if (ret == -EBADMSG)
				break;	/* corrupt: the next copy */
			if (ret == -ETIMEDOUT)
				goto fail;
		}
	}
	ret = -EIO;
fail:
	if (fd >= 0)
		close(fd);
	if (wr.spool >= 0)
		close(wr.spool);
	free(wr.buf);
	if (req) {
		if (cat && hsm_catalog_request_fail(cat, req->id, why, false))
			agent_warn("stager: catalog: %s", hsm_catalog_error(cat));
		pthread_mutex_lock(&s->lock);
		s->prestage_failed++;
		pthread_mutex_unlock(&s->lock);
		agent_err("stager: prestage of /%s (inode %llu) failed: %s",
			  path, (unsigned long long)wt->ino, why);
		return ret;
	}
	sg_wait_err(s, wt->ino, -EIO);
	agent_metric_add(s->m_failed, 1);
	pthread_mutex_lock(&s->lock);
	s->failed++;
	if (ret == -ETIMEDOUT)
		s->timeouts++;
	wk_fmt(s->last_error, sizeof(s->last_error), "/%s (inode %llu): %s",
		 path, (unsigned long long)wt->ino, why);
	pthread_mutex_unlock(&s->lock);
	agent_err("stager: readers of /%s (inode %llu) get EIO: %s", path,
		  (unsigned long long)wt->ino, why);
	return ret;
staged:
	close(fd);
	close(wr.spool);
	free(wr.buf);
	wk_note_staged(wt->ino);
	agent_metric_add(s->m_staged, 1);
	agent_metric_add(s->m_bytes, wr.size);
	wk_count_stage(w, copies[i].backend, wr.size);
	if (req && hsm_catalog_request_complete(cat, req->id))
		agent_warn("stager: catalog: %s", hsm_catalog_error(cat));
	pthread_mutex_lock(&s->lock);
	if (!req)
		s->window_bytes += wr.size;	/* readers' recalls only */
	s->staged++;
	s->bytes += wr.size;
	if (req)
		s->prestaged++;
	pthread_mutex_unlock(&s->lock);
	agent_info("%s /%s (%llu bytes, data_version %llu) from copy %u on '%s' in %llu ms",
		   req ? "prestaged" : "staged", path, (unsigned long long)wr.size,
		   (unsigned long long)wr.dv, copies[i].copy_num,
		   copies[i].backend,
		   (unsigned long long)(wk_now_ms() - start));
	return 0;
}

static bool sg_recent(struct stager *s, uint64_t ino)
{
	uint64_t now = wk_now_ms();
	unsigned int i;

	for (i = 0; i < SG_RECENT; i++)
		if (s->recent[i].ino == ino && now - s->recent[i].at_ms < SG_SETTLE_MS)
			return true;
	return false;
}

static void sg_note_recent(struct stager *s, uint64_t ino)
{
	s->recent[s->next_recent].ino = ino;
	s->recent[s->next_recent].at_ms = wk_now_ms();
	s->next_recent = (s->next_recent + 1) % SG_RECENT;
}

static int cmp_since(const void *a, const void *b)
{
	const struct sg_wait *x = a, *y = b;

	if (x->since_ms != y->since_ms)
		return x->since_ms < y->since_ms ? -1 : 1;
	return x->ino < y->ino ? -1 : x->ino > y->ino;
}

/*
 * One queued prestage request, when no reader waits: 1 when one was run
 * (the step lists DATA_WAITING again at once), 0 when none is queued.
 */
static int sg_prestage_one(struct agent_worker *w, struct stager *s,
			   const struct agent_config *cfg)
{
	struct hsm_catalog_request req;
	struct hsm_catalog_file file;
	struct sg_wait wt;
	int ret;

	ret = hsm_catalog_request_claim(s->cat, HSM_REQ_STAGE, &req);
	if (ret == -ENOENT)
		return 0;
	if (ret) {
		agent_warn("stager: catalog: %s", hsm_catalog_error(s->cat));
		return 0;
	}
	ret = hsm_catalog_file_get(s->cat, req.file_id, &file);
	if (ret || strcmp(file.fsid, s->fs.fsid)) {
		hsm_catalog_request_fail(s->cat, req.id, ret ?
					 "the catalog has no such file version" :
					 "the file is on another filesystem",
					 false);
		return 1;
	}
	memset(&wt, 0, sizeof(wt));
	wt.ino = file.ino;
	wt.since_ms = wk_now_ms();
	sg_stage(w, s, &s->main, cfg, &wt, &req);
	return 1;
}

/* One file with waiting readers, staged on a pool thread. */
struct sg_job {
	struct stager *s;
	struct agent_worker *w;
	const struct agent_config *cfg;
	struct sg_wait *wt;
	struct hsm_stage_key key;
	int ret;
};

/* waits put in read order together (a group, above) */
#define SG_ORDER_MAX 256

static void sg_job_run(struct wk_thread *t, void *arg)
{
	struct sg_job *job = arg;

	job->ret = sg_stage(job->w, job->s, t, job->cfg, job->wt, NULL);
}

/* Where ino's first copy is read from, by the indexer's data_version. */
static void sg_order_key(struct stager *s, uint64_t ino,
			 struct hsm_stage_key *key)
{
	struct hsm_catalog_inode row;
	struct hsm_catalog_copy cp;
	size_t nr = 0;

	if (hsm_catalog_inode_get(s->cat, s->fs.fsid, ino, &row) ||
	    hsm_catalog_copy_list_valid(s->cat, s->fs.fsid, ino,
					row.data_version, &cp, 1, &nr) || !nr)
		hsm_stage_key_set(key, ino, NULL);
	else
		hsm_stage_key_set(key, ino, &cp);
}

static int cmp_job(const void *a, const void *b)
{
	const struct sg_job *x = a, *y = b;

	return hsm_stage_key_cmp(&x->key, &y->key);
}

/* Stage the files of jobs at once (nr <= the pool's size). */
static void sg_run_batch(struct stager *s, struct sg_job *jobs, size_t nr)
{
	void *args[WK_POOL_MAX];
	size_t i;

	for (i = 0; i < nr; i++)
		args[i] = &jobs[i];
	wk_pool_run(s->pool, sg_job_run, args, nr);
	for (i = 0; i < nr; i++) {
		if (jobs[i].ret != -EINTR) {
			jobs[i].wt->served = true;
			sg_note_recent(s, jobs[i].wt->ino);
		}
	}
}

/*
 * Stage a group of files in read order, in batches of at most the pool's
 * size holding at most stage_workers files of each backend (a sorted
 * group has each backend's files together).  Once the recall-storm
 * guard's window_bytes is used up the rest stay waiting, held back at the
 * next step.  How many ran.
 */
static size_t sg_run_group(struct stager *s, const struct agent_config *cfg,
			   struct sg_job *jobs, size_t nr)
{
	uint64_t limit = cfg->stager.window_bytes;
	size_t i = 0, j, run;

	qsort(jobs, nr, sizeof(*jobs), cmp_job);
	while (i < nr) {
		if (i && limit && s->window_bytes >= limit)
			break;
		for (j = i, run = 0; j < nr && j - i < wk_pool_size(s->pool); j++) {
			if (j > i && strcmp(jobs[j].key.backend,
					    jobs[j - 1].key.backend))
				run = 0;
			if (run == wk_backend_limit(cfg, jobs[j].key.backend,
						    WK_STAGE))
				break;
			run++;
		}
		sg_run_batch(s, &jobs[i], j - i);
		i = j;
	}
	return i;
}

static long stager_step(struct agent_worker *w, const struct agent_config *cfg)
{
	struct sg_job *jobs;
	size_t nr_jobs = 0;
	const struct agent_stager_conf *sc = &cfg->stager;
	struct stager *s = w->priv;
	char err[512] = "";
	uint64_t now, oldest = 0;
	size_t i, served = 0;
	long ms;
	int ret;

	ms = wk_fs_open(w, &s->fs);
	if (ms)
		return ms;
	if (!s->cat) {
		s->cat = wk_thread_catalog(&s->main, cfg, err, sizeof(err));
		if (!s->cat) {
			agent_worker_set_state(w, "%s", err);
			return -EIO;
		}
	}
	if (!s->pool) {
		ret = wk_pool_start(wk_pool_threads(cfg, WK_STAGE), &s->pool);
		if (ret) {
			agent_worker_set_state(w, "starting %u stage threads: %s",
					       wk_pool_threads(cfg, WK_STAGE),
					       strerror(-ret));
			return ret;
		}
	}
	ret = sg_list(s);
	if (ret) {
		agent_worker_set_state(w, "DATA_WAITING: %s", strerror(-ret));
		wk_set_stage_waiting(0);
		return ret;
	}
	wk_set_stage_waiting((unsigned int)s->nr_waits);
	now = wk_now_ms();
	if (now - s->window_start_ms >= sc->window * 1000) {
		s->window_start_ms = now;
		s->window_bytes = 0;
	}
	if (s->nr_waits)
		qsort(s->waits, s->nr_waits, sizeof(*s->waits), cmp_since);
	if (s->nr_waits && !s->jobs) {
		s->jobs = calloc(SG_ORDER_MAX, sizeof(*s->jobs));
		if (!s->jobs)
			return -ENOMEM;
	}
	jobs = s->jobs;
	for (i = 0; i < s->nr_waits; i++) {
		struct sg_wait *wt = &s->waits[i];
		bool held = i >= sc->max_queued ||
			    (sc->window_bytes && s->window_bytes >= sc->window_bytes);

		if (agent_worker_stopping(w))
			break;
		if (sg_recent(s, wt->ino)) {
			wt->served = true;
			continue;
		}
		if (held && sc->storm_action == AGENT_STORM_EAGAIN) {
			sg_wait_err(s, wt->ino, -EAGAIN);
			wt->served = true;
			/* its refused waits may be listed once more: not staged */
			sg_note_recent(s, wt->ino);
			pthread_mutex_lock(&s->lock);
			s->refused++;
			pthread_mutex_unlock(&s->lock);
			agent_notice("stager: recall-storm guard: readers of inode %llu get EAGAIN",
				     (unsigned long long)wt->ino);
			continue;
		}
		if (held) {
			if (wk_now_ms() > wt->since_ms + sc->timeout * 1000) {
				sg_wait_err(s, wt->ino, -EIO);
				wt->served = true;
				sg_note_recent(s, wt->ino);
				agent_err("stager: readers of inode %llu get EIO: held back by the recall-storm guard past the stage timeout",
					  (unsigned long long)wt->ino);
			}
			continue;
		}
		jobs[nr_jobs].s = s;
		jobs[nr_jobs].w = w;
		jobs[nr_jobs].cfg = cfg;
		jobs[nr_jobs].wt = wt;
		sg_order_key(s, wt->ino, &jobs[nr_jobs].key);
		if (++nr_jobs == SG_ORDER_MAX) {
			served += sg_run_group(s, cfg, jobs, nr_jobs);
			nr_jobs = 0;
		}
	}
	if (nr_jobs)
		served += sg_run_group(s, cfg, jobs, nr_jobs);
	/* a reader that waits again after this is a new wait */
	for (i = 0; i < s->nr_waits;) {
		if (s->waits[i].served)
			s->waits[i] = s->waits[--s->nr_waits];
		else
			i++;
	}
	now = wk_now_ms();
	for (i = 0; i < s->nr_waits; i++)
		if (now - s->waits[i].since_ms > oldest)
			oldest = now - s->waits[i].since_ms;
	agent_metric_set(s->m_queue, (double)s->nr_waits);
	agent_metric_set(s->m_oldest, oldest / 1000.0);
	pthread_mutex_lock(&s->lock);
	s->waiting = s->nr_waits;
	s->oldest_ms = oldest;
	pthread_mutex_unlock(&s->lock);
	if (served)
		return 0;	/* list again at once: more may be waiting */
	/* prestages only when no reader waits, one between listings */
	if (!s->nr_waits && !agent_worker_stopping(w) &&
	    sg_prestage_one(w, s, cfg))
		return 0;
	wk_set_stage_waiting(s->nr_waits ? (unsigned int)s->nr_waits : 0);
	agent_worker_set_state(w, s->nr_waits ?
			       "%zu files with waiting readers held back by the recall-storm guard" :
			       "idle: no reader waits (DATA_WAITING polled every %zu ms)",
			       s->nr_waits ? s->nr_waits : (size_t)sc->poll_ms);
	return (long)sc->poll_ms;
}

static void stager_reload(struct agent_worker *w, const struct agent_config *old,
			  const struct agent_config *cfg)
{
	struct stager *s = w->priv;

	(void)old;
	(void)cfg;
	wk_backends_close(&s->main.be);
	/* stage_workers may have changed: a new pool at the next step */
	wk_pool_stop(s->pool);
	s->pool = NULL;
}

static void stager_status(struct agent_worker *w, struct json_object *o)
{
	struct stager *s = w->priv;

	pthread_mutex_lock(&s->lock);
	json_object_object_add(o, "waiting_files",
			       json_object_new_uint64(s->waiting));
	json_object_object_add(o, "oldest_wait_s",
			       json_object_new_double(s->oldest_ms / 1000.0));
	json_object_object_add(o, "staged_files",
			       json_object_new_uint64(s->staged));
	json_object_object_add(o, "staged_bytes",
			       json_object_new_uint64(s->bytes));
	json_object_object_add(o, "failures", json_object_new_uint64(s->failed));
	json_object_object_add(o, "timeouts", json_object_new_uint64(s->timeouts));
	json_object_object_add(o, "refused_eagain",
			       json_object_new_uint64(s->refused));
	json_object_object_add(o, "prestaged_files",
			       json_object_new_uint64(s->prestaged));
	json_object_object_add(o, "prestage_failures",
			       json_object_new_uint64(s->prestage_failed));
	json_object_object_add(o, "last_error", s->last_error[0] ?
			       json_object_new_string(s->last_error) : NULL);
	pthread_mutex_unlock(&s->lock);
}

static void stager_stop(struct agent_worker *w)
{
	(void)w;
	wk_set_stage_waiting(0);
}

static void stager_fini(struct agent_worker *w)
{
	struct stager *s = w->priv;

	if (!s)
		return;
	wk_pool_stop(s->pool);
	wk_backends_close(&s->main.be);
	hsm_catalog_close(s->main.cat);
	wk_fs_close(&s->fs);
	free(s->waits);
	free(s->ents);
	free(s->jobs);
	pthread_mutex_destroy(&s->lock);
	free(s);
	w->priv = NULL;
}

const struct agent_worker_ops agent_stager_ops = {
	.name = "stager",
	.init = stager_init,
	.step = stager_step,
	.reload = stager_reload,
	.status = stager_status,
	.stop = stager_stop,
	.fini = stager_fini,
};
