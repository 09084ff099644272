// SPDX-License-Identifier: GPL-2.0
/*
 * archiver.c: the archiver worker, which makes the copies the archive
 * sets ask for.
 *
 * Planning.  The files to look at come from the indexer's CHANGED (and
 * RENAMED) events and, at the first step, from every catalog inode row
 * (so copies missing when the agent last stopped are made).  Looking at
 * a file: open it by inode (workers.h), fstat and STAT_MORE; a file with
 * offline blocks is not archived (its data is not all here); the first
 * archive set that matches (agent_config_match_set() on its path, size,
 * owner, group, xattrs and age since its last change) decides; no set, a
 * never_archive set or a set without copies: nothing to do.  Each of the
 * set's copies that is not valid at the file's current data_version is
 * due once the file has not changed (ctime) for that copy's age.  When
 * one is due, the file version is recorded in the catalog and an archive
 * request queued for it; the catalog keeps one queued request per file
 * version, and running it makes every copy that is due then; copies that
 * come due later (a longer age) get a request of their own when they do.
 * Files with copies not yet due stay in an in-memory list with the time
 * to look again; the step sleeps until the first of them (or an event).
 * Rows with no set whose age condition might still come true are looked
 * at again then too.  The list is rebuilt from the catalog at the next
 * start, so nothing depends on it surviving.
 *
 * Running.  Requests are claimed from the catalog (queued before they
 * are acted on: a kill at any point leaves a request to claim again and,
 * at start, hsm_catalog_recover_copies()/recover() settle copies left
 * 'writing').  For each copy: copy_begin (intent), the backend's put()
 * reading the file (O_NOATIME, so archiving does not make files look
 * recently used to the releaser), then STAT_MORE again: if data_version
 * moved, or the bytes read are not the file's size, the copy is deleted
 * from the backend and marked bad, and the request fails for good: the
 * file's new version is planned afresh, so the copy is retried once the
 * file has been quiet for the copy's age.  Otherwise the copy is recorded
 * (location, checksum: the catalog refuses a checksum that disagrees
 * with another copy of the same version), read back in full by the
 * backend's verify(), and only then made valid.  A backend that says a
 * copy is not committed yet (tape before its file mark) leaves it
 * 'writing' for recovery to settle.  Failures of the backend fail the
 * request retryably (the catalog bounds the attempts), the archiver waits
 * AR_BACKOFF_MS before its next claim and plans the file again after
 * AR_RETRY_S, so a request that ran out of attempts is queued anew.
 *
 * Concurrency.  A step claims up to as many requests as its pool has
 * threads (transfers.h: the largest archive_workers of the backends) and
 * runs them at once, each on a pool thread with its own catalog
 * connection and backend instances; each put holds one of its backend's
 * archive_workers slots, so no backend has more transfers at once than
 * it allows, and the reads of all of them together keep the backend's
 * bandwidth cap (wk_pace()).  The backends' own parallelism (S3 parts)
 * applies within one transfer.
 *
 * Small files.  A copy to a backend that packs (S3) of a file below its
 * pack_threshold is not put alone: archiver_pack.c reads it into that
 * backend's open pack and holds its request until the pack is put and
 * committed (pack_max_files, pack_max_bytes, or pack_delay after its
 * first file, whichever comes first).
 *
 * Between files the archiver steps aside while the stager has waiting
 * readers.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <stdarg.h>

#include <json-c/json.h>

#include "archiver.h"
#include "log.h"

#define AR_REQUESTS_PER_STEP 64
#define AR_BACKOFF_MS 5000	/* after a backend failure, before the next claim */

static int archiver_init(struct agent_worker *w)
{
	struct agent_metrics *m = agent_get_metrics(w->agent);
	struct archiver *ar = calloc(1, sizeof(*ar));

	if (!ar)
		return -ENOMEM;
	ar->w = w;
	wk_fs_init(&ar->fs);
	pthread_mutex_init(&ar->lock, NULL);
	pthread_mutex_init(&ar->pend_lock, NULL);
	pthread_mutex_init(&ar->pack_lock, NULL);
	ar->m_queue = agent_metric_get(m, AGENT_METRIC_GAUGE,
				       "scoutfs_hsm_queue_depth",
				       "Requests queued, by kind.", "queue",
				       "archive", NULL);
	ar->m_copies = agent_metric_get(m, AGENT_METRIC_COUNTER,
					"scoutfs_hsm_archived_copies_total",
					"Archive copies made and verified.",
					NULL);
	ar->m_bytes = agent_metric_get(m, AGENT_METRIC_COUNTER,
				       "scoutfs_hsm_archived_bytes_total",
				       "Bytes of verified archive copies.",
				       NULL);
	ar->m_failed = agent_metric_get(m, AGENT_METRIC_COUNTER,
					"scoutfs_hsm_archive_failures_total",
					"Archive copies that failed.", NULL);
	ar->m_discarded = agent_metric_get(m, AGENT_METRIC_COUNTER,
					   "scoutfs_hsm_archive_discarded_total",
					   "Copies discarded because the file changed while it was copied.",
					   NULL);
	ar->m_packs = agent_metric_get(m, AGENT_METRIC_COUNTER,
				       "scoutfs_hsm_archive_packs_total",
				       "Packs of small files put and committed.",
				       NULL);
	w->priv = ar;
	return 0;
}

static void ar_push_ev(struct archiver *ar, uint64_t ino)
{
	if (ar->nr_evq == ar->max_evq) {
		size_t max = ar->max_evq ? ar->max_evq * 2 : 64;
		uint64_t *n = realloc(ar->evq, max * sizeof(*n));

		if (!n)
			return;	/* the next start's scan finds it */
		ar->evq = n;
		ar->max_evq = max;
	}
	ar->evq[ar->nr_evq++] = ino;
}

static void archiver_event(struct agent_worker *w,
			   const struct agent_file_event *ev)
{
	struct archiver *ar = w->priv;

	if (ev->kind != AGENT_EV_CHANGED && ev->kind != AGENT_EV_RENAMED)
		return;
	pthread_mutex_lock(&ar->lock);
	ar_push_ev(ar, ev->ino);
	pthread_mutex_unlock(&ar->lock);
}

void ar_pend(struct archiver *ar, uint64_t ino, time_t due)
{
	size_t i;

	pthread_mutex_lock(&ar->pend_lock);
	for (i = 0; i < ar->nr_pend; i++) {
		if (ar->pend[i].ino == ino) {
			ar->pend[i].due = due;
			goto out;
		}
	}
	if (ar->nr_pend == ar->max_pend) {
		size_t max = ar->max_pend ? ar->max_pend * 2 : 64;
		struct ar_pending *n = realloc(ar->pend, max * sizeof(*n));

		if (!n)
			goto out;
		ar->pend = n;
		ar->max_pend = max;
	}
	ar->pend[ar->nr_pend].ino = ino;
	ar->pend[ar->nr_pend].due = due;
	ar->nr_pend++;
out:
	pthread_mutex_unlock(&ar->pend_lock);
}

void ar_count_copy(struct archiver *ar, const char *backend, uint64_t bytes)
{
	agent_metric_add(ar->m_copies, 1);
	agent_metric_add(ar->m_bytes, bytes);
	wk_count_archive(ar->w, backend, bytes);
	pthread_mutex_lock(&ar->lock);
	ar->archived++;
	ar->bytes += bytes;
	pthread_mutex_unlock(&ar->lock);
}

void ar_count_discarded(struct archiver *ar)
{
	agent_metric_add(ar->m_discarded, 1);
	pthread_mutex_lock(&ar->lock);
	ar->discarded++;
	pthread_mutex_unlock(&ar->lock);
}

void ar_set_error(struct archiver *ar, const char *fmt, ...)
{
	char buf[sizeof(ar->last_error)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&ar->lock);
	memcpy(ar->last_error, buf, sizeof(buf));
	pthread_mutex_unlock(&ar->lock);
	agent_warn("archiver: %s", buf);
}

/* Which of set's copies (bit c-1 for copy c) are valid at dv. */
static int valid_copies(struct archiver *ar, struct hsm_catalog *cat,
			uint64_t ino, uint64_t dv, unsigned int *mask)
{
	struct hsm_catalog_copy copies[AGENT_MAX_COPIES * 4];
	size_t nr = 0, i;
	int ret;

	*mask = 0;
	ret = hsm_catalog_copy_list_valid(cat, ar->fs.fsid, ino, dv, copies,
					  sizeof(copies) / sizeof(copies[0]),
					  &nr);
	if (ret)
		return ret;
	for (i = 0; i < nr && i < sizeof(copies) / sizeof(copies[0]); i++)
		if (copies[i].copy_num >= 1 &&
		    copies[i].copy_num <= AGENT_MAX_COPIES)
			*mask |= 1U << (copies[i].copy_num - 1);
	return 0;
}

/*
 * Plan one inode: queue its archive request when a copy is due, remember
 * when to look again when one will be.  0, or a catalog error.
 */
static int ar_plan(struct archiver *ar, const struct agent_config *cfg,
		   uint64_t ino)
{
	struct scoutfs_ioctl_stat_more sm;
	struct hsm_catalog_inode row;
	struct hsm_catalog_file file;
	const struct agent_set_conf *set;
	char path[PATH_MAX];
	struct stat st;
	time_t now = time(NULL), next = 0;
	unsigned int mask, c;
	bool due = false;
	int64_t req;
	size_t i;
	int fd, ret;

	ret = hsm_catalog_inode_get(ar->cat, ar->fs.fsid, ino, &row);
	if (ret == -ENOENT)
		return 0;
	if (ret)
		return ret;
	if (!S_ISREG(row.mode))
		return 0;
	fd = wk_open_ino(&ar->fs, ino, row.path, O_RDONLY | O_NOATIME, path,
			 &st);
	if (fd < 0)
		return 0;	/* gone: the indexer removes its row */
	if (!S_ISREG(st.st_mode) || wk_stat_more(fd, &sm) ||
	    sm.offline_blocks) {
		close(fd);
		return 0;
	}
	set = wk_match_set(cfg, fd, path, &st);
	close(fd);
	if (!set) {
		/* a set whose age condition is not met yet may match later */
		for (i = 0; i < cfg->nr_sets; i++) {
			time_t t = st.st_ctime + (time_t)cfg->sets[i].min_age;

			if (cfg->sets[i].min_age && t > now &&
			    (!next || t < next))
				next = t;
		}
		if (next)
			ar_pend(ar, ino, next);
		return 0;
	}
	if (set->never_archive || !set->nr_copies)
		return 0;
	ret = valid_copies(ar, ar->cat, ino, sm.data_version, &mask);
	if (ret)
		return ret;
	for (c = 0; c < set->nr_copies; c++) {
		time_t t = st.st_ctime + (time_t)set->copies[c].age;

		if (mask & (1U << c))
			continue;
		if (t <= now)
			due = true;
		else if (!next || t < next)
			next = t;
	}
	if (next)
		ar_pend(ar, ino, next);
	if (!due)
		return 0;
	memset(&file, 0, sizeof(file));
	snprintf(file.fsid, sizeof(file.fsid), "%s", ar->fs.fsid);
	file.ino = ino;
	file.data_version = sm.data_version;
	file.size = st.st_size;
	file.mtime_sec = st.st_mtim.tv_sec;
	wk_fmt(file.path, sizeof(file.path), "/%s", path);
	ret = hsm_catalog_file_record(ar->cat, &file);
	if (!ret)
		ret = hsm_catalog_request_enqueue(ar->cat, HSM_REQ_ARCHIVE,
						  file.id,
						  HSM_REQ_PRIORITY_DEFAULT,
						  &req);
	if (!ret)
		agent_debug("archiver: queued request %lld for %s (set '%s', data_version %llu)",
			    (long long)req, file.path, set->name,
			    (unsigned long long)sm.data_version);
	return ret;
}

/*
 * The put's reader: the file's bytes, each read first waiting for its
 * turn on the backend's bandwidth timeline (transfers.h), which all the
 * backend's transfers share.
 */
ssize_t ar_read(void *arg, void *buf, size_t len)
{
	struct ar_reader *r = arg;
	const struct agent_backend_conf *b = NULL;
	int bi = agent_config_backend_index(r->cfg, r->backend);
	ssize_t n;

	if (bi >= 0)
		b = &r->cfg->backends[bi];
	if (b && b->bandwidth) {
		/* a quarter second of the cap at a time */
		if (len > b->bandwidth / 4 + 1)
			len = b->bandwidth / 4 + 1;
		wk_pace(r->cfg, r->backend, len);
	}
	do {
		n = read(r->fd, buf, len);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	r->bytes += n;
	return n;
}

/* Remove a copy that must not count from its backend and the catalog. */
static void ar_discard(struct hsm_catalog *cat, struct hsm_backend *be,
		       int64_t copy_id, const char *location)
{
	int ret = be->ops->del(be, location);

	if (!ret || ret == -ENOENT)
		hsm_catalog_copy_mark_deleted(cat, copy_id);
	else
		hsm_catalog_copy_mark_bad(cat, copy_id);	/* recycled */
}

/*
 * Make copy c (1-based) of the open file on thread t.  AR_OK, or
 * AR_RETRY/AR_GIVE_UP with why filled.  A copy that goes into a pack
 * returns AR_OK with *held taking the request until the pack commits.
 */
static int ar_copy(struct archiver *ar, struct wk_thread *t,
		   struct hsm_catalog *cat, const struct agent_config *cfg,
		   const struct agent_set_conf *set, unsigned int c,
		   const struct hsm_catalog_file *file, int fd,
		   const struct stat *st, int64_t req_id,
		   struct ar_held **held, char *why, size_t why_len)
{
	const char *bname = set->copies[c - 1].backend_name;
	struct scoutfs_ioctl_stat_more after;
	struct hsm_object_info info;
	struct hsm_put_result res;
	struct ar_reader rd = { .fd = fd, .cfg = cfg, .backend = bname };
	struct hsm_backend *be;
	char err[HSM_ERROR_MAX + 128];
	int64_t copy_id;
	int ret;

	be = wk_backend(&t->be, cfg, bname, err, sizeof(err));
	if (!be) {
		wk_fmt(why, why_len, "%s", err);
		return AR_RETRY;
	}
	ret = hsm_catalog_copy_begin(cat, file->id, c, bname, &copy_id);
	if (ret == -EEXIST)
		return AR_OK;	/* being written (not committed yet) or valid */
	if (ret) {
		wk_fmt(why, why_len, "catalog: %s", hsm_catalog_error(cat));
		return AR_RETRY;
	}
	if (hsm_backend_can_pack(be) &&
	    ar_pack_wants(cfg, bname, (uint64_t)st->st_size))
		return ar_pack_add(ar, t, cfg, bname, c, file, copy_id, fd, st,
				   req_id, held, why, why_len);
	memset(&info, 0, sizeof(info));
	snprintf(info.fsid, sizeof(info.fsid), "%s", file->fsid);
	info.ino = file->ino;
	info.data_version = file->data_version;
	info.size = st->st_size;
	info.mtime_sec = st->st_mtim.tv_sec;
	info.path = file->path;
	info.copy_num = c;
	memset(&res, 0, sizeof(res));
	if (lseek(fd, 0, SEEK_SET) < 0) {
		wk_fmt(why, why_len, "%s: lseek: %s", file->path,
			 strerror(errno));
		hsm_catalog_copy_mark_bad(cat, copy_id);
		return AR_RETRY;
	}
	/* one of the backend's archive_workers slots for the transfer */
	wk_transfer_begin(cfg, bname, WK_ARCHIVE);
	ret = be->ops->put(be, &info, ar_read, &rd, &res);
	wk_transfer_end(bname, WK_ARCHIVE);
	if (ret) {
		wk_fmt(why, why_len, "copy %u to '%s': %s", c, bname,
			 hsm_backend_error(be));
		hsm_catalog_copy_mark_bad(cat, copy_id);
		return AR_RETRY;
	}
	/* the copy counts only if the file did not change while it was read */
	ret = wk_stat_more(fd, &after);
	if (ret || after.data_version != file->data_version ||
	    res.bytes != (uint64_t)st->st_size) {
		if (ret)
			wk_fmt(why, why_len, "%s: STAT_MORE: %s", file->path,
				 strerror(-ret));
		else
			wk_fmt(why, why_len, "%s changed while copy %u was made (data_version %llu -> %llu, %llu of %llu bytes): copy discarded, retried once the file is quiet",
				 file->path, c,
				 (unsigned long long)file->data_version,
				 (unsigned long long)after.data_version,
				 (unsigned long long)res.bytes,
				 (unsigned long long)st->st_size);
		ar_discard(cat, be, copy_id, res.location);
		ar_count_discarded(ar);
		return AR_GIVE_UP;
	}
	ret = hsm_backend_committed(be, res.location);
	if (ret < 0) {
		wk_fmt(why, why_len, "copy %u to '%s' was lost: %s", c, bname,
			 hsm_backend_error(be));
		hsm_catalog_copy_mark_bad(cat, copy_id);
		return AR_RETRY;
	}
	if (hsm_catalog_copy_written(cat, copy_id, res.location,
				     &res.checksum)) {
		wk_fmt(why, why_len, "copy %u of %s: catalog: %s", c,
			 file->path, hsm_catalog_error(cat));
		ar_discard(cat, be, copy_id, res.location);
		return AR_RETRY;
	}
	if (ret == 0)
		return AR_OK;	/* not committed yet: recovery settles it */
	ret = be->ops->verify(be, res.location);
	if (ret) {
		wk_count_backend_error(ar->w, bname);
		wk_fmt(why, why_len, "copy %u of %s on '%s' failed its verify: %s",
			 c, file->path, bname, hsm_backend_error(be));
		ar_discard(cat, be, copy_id, res.location);
		return AR_RETRY;
	}
	ret = hsm_catalog_copy_verified(cat, copy_id);
	if (ret) {
		wk_fmt(why, why_len, "copy %u of %s: catalog: %s", c,
			 file->path, hsm_catalog_error(cat));
		return AR_RETRY;
	}
	agent_info("archived %s (data_version %llu, %llu bytes) as copy %u on '%s'",
		   file->path, (unsigned long long)file->data_version,
		   (unsigned long long)res.bytes, c, bname);
	ar_count_copy(ar, bname, res.bytes);
	return AR_OK;
}

/* One claimed request, run on a pool thread. */
struct ar_job {
	struct archiver *ar;
	const struct agent_config *cfg;
	struct hsm_catalog_request req;
	int ret;		/* 0, 1 to back off (a backend failed) */
};

/* Run one claimed request: 0, 1 to back off (a backend failed). */
static int ar_run(struct archiver *ar, struct wk_thread *t,
		  const struct agent_config *cfg,
		  const struct hsm_catalog_request *req)
{
	struct agent_worker *w = ar->w;
	struct scoutfs_ioctl_stat_more sm;
	struct hsm_catalog_file file;
	const struct agent_set_conf *set;
	struct hsm_catalog *cat;
	struct ar_held *held = NULL;
	char path[PATH_MAX];
	char why[HSM_ERROR_MAX + PATH_MAX] = "";
	struct stat st;
	time_t now = time(NULL);
	unsigned int mask, c;
	int fd, ret, res = AR_OK;

	cat = wk_thread_catalog(t, cfg, why, sizeof(why));
	if (!cat) {
		/* the request stays running: recovery or the lease frees it */
		ar_set_error(ar, "%s", why);
		return 1;
	}
	ret = hsm_catalog_file_get(cat, req->file_id, &file);
	if (ret) {
		hsm_catalog_request_fail(cat, req->id, hsm_catalog_error(cat),
					 false);
		return 0;
	}
	agent_worker_set_state(w, "archiving %s", file.path);
	fd = wk_open_ino(&ar->fs, file.ino, file.path, O_RDONLY | O_NOATIME,
			 path, &st);
	if (fd < 0) {
		wk_fmt(why, sizeof(why), "%s (inode %llu): %s", file.path,
			 (unsigned long long)file.ino, strerror(-fd));
		hsm_catalog_request_fail(cat, req->id, why, fd != -ENOENT);
		return 0;
	}
	wk_fmt(file.path, sizeof(file.path), "/%s", path);
	ret = wk_stat_more(fd, &sm);
	if (ret || sm.data_version != file.data_version || sm.offline_blocks) {
		wk_fmt(why, sizeof(why), "%s: data_version %llu is not the queued %llu (or it has offline blocks): a newer version is planned instead",
			 file.path, (unsigned long long)sm.data_version,
			 (unsigned long long)file.data_version);
		close(fd);
		hsm_catalog_request_fail(cat, req->id, why, false);
		ar_pend(ar, file.ino, now);
		return 0;
	}
	set = wk_match_set(cfg, fd, path, &st);
	if (!set || set->never_archive || !set->nr_copies) {
		close(fd);
		hsm_catalog_request_complete(cat, req->id);
		return 0;
	}
	ret = valid_copies(ar, cat, file.ino, file.data_version, &mask);
	for (c = 1; !ret && c <= set->nr_copies && res == AR_OK; c++) {
		if (mask & (1U << (c - 1)))
			continue;
		if (st.st_ctime + (time_t)set->copies[c - 1].age > now)
			continue;	/* not due yet: planned for later */
		if (agent_worker_stopping(w)) {
			res = AR_RETRY;
			wk_fmt(why, sizeof(why), "the agent is stopping");
			break;
		}
		res = ar_copy(ar, t, cat, cfg, set, c, &file, fd, &st, req->id,
			      &held, why, sizeof(why));
	}
	close(fd);
	if (ret) {
		wk_fmt(why, sizeof(why), "%s", hsm_catalog_error(cat));
		res = AR_RETRY;
	}
	if (held) {
		/* a pack holds the request: whoever is last finishes it */
		ar_held_put(ar, cat, held, res, why);
		return res == AR_RETRY && !ret ? 1 : 0;
	}
	if (ret) {
		hsm_catalog_request_fail(cat, req->id, why, true);
		return ret;
	}
	if (res == AR_OK) {
		hsm_catalog_request_complete(cat, req->id);
		/* copies with a longer age: look again when they are due */
		ar_pend(ar, file.ino, now);
		return 0;
	}
	agent_metric_add(ar->m_failed, 1);
	pthread_mutex_lock(&ar->lock);
	ar->failed++;
	pthread_mutex_unlock(&ar->lock);
	ar_set_error(ar, "%s", why);
	hsm_catalog_request_fail(cat, req->id, why, res == AR_RETRY);
	/*
	 * Changed: plan the new version now.  A backend failure: the
	 * request is queued again (until its attempts run out) and the file
	 * is planned again in a minute, so a request that failed for good is
	 * queued anew; the caller backs off before its next claim.
	 */
	ar_pend(ar, file.ino, res == AR_GIVE_UP ? now : now + AR_RETRY_S);
	return res == AR_RETRY ? 1 : 0;
}

static void ar_job_run(struct wk_thread *t, void *arg)
{
	struct ar_job *job = arg;

	job->ret = ar_run(job->ar, t, job->cfg, &job->req);
}

static struct hsm_backend *ar_lookup(void *arg, const char *name)
{
	void **a = arg;
	struct archiver *ar = a[0];
	const struct agent_config *cfg = a[1];
	char err[HSM_ERROR_MAX + 128];

	return wk_backend(&ar->be, cfg, name, err, sizeof(err));
}

static int ar_scan_row(void *arg, const struct hsm_catalog_inode *row)
{
	struct wk_inos *s = arg;

	if (!S_ISREG(row->mode) || row->state != HSM_INODE_ONLINE)
		return 0;
	return wk_inos_add(s, row->ino);
}

/* First step: settle what a previous run left, look at every row. */
static int ar_start(struct agent_worker *w, struct archiver *ar,
		    const struct agent_config *cfg)
{
	struct hsm_catalog_recovery rec = { 0 };
	struct wk_inos scan = { 0 };
	void *la[2] = { ar, (void *)cfg };
	time_t now = time(NULL);
	size_t i;
	int ret;

	agent_worker_set_state(w, "recovering the catalog's unfinished work");
	ret = hsm_catalog_recover_copies(ar->cat, ar_lookup, la, &rec);
	if (!ret)
		ret = hsm_catalog_recover(ar->cat, &rec);
	if (ret) {
		ar_set_error(ar, "catalog recovery: %s",
			     hsm_catalog_error(ar->cat));
		return ret;
	}
	if (rec.requests_requeued || rec.copies_abandoned ||
	    rec.copies_committed || rec.copies_retried || rec.requests_failed)
		agent_notice("archiver: recovered %u requests, %u failed; copies: %u abandoned, %u committed, %u to write again",
			     rec.requests_requeued, rec.requests_failed,
			     rec.copies_abandoned, rec.copies_committed,
			     rec.copies_retried);
	ret = hsm_catalog_inode_foreach(ar->cat, ar->fs.fsid, ar_scan_row,
					&scan);
	if (ret == -ENOENT)
		ret = 0;	/* the indexer has not registered the fs yet */
	for (i = 0; !ret && i < scan.nr; i++)
		ar_pend(ar, scan.inos[i], now);
	free(scan.inos);
	if (ret) {
		ar_set_error(ar, "catalog scan: %s", hsm_catalog_error(ar->cat));
		return ret;
	}
	ar->started = true;
	return 0;
}

static void ar_update_queue(struct archiver *ar)
{
	uint64_t n = 0, r = 0;

	hsm_catalog_request_count(ar->cat, HSM_REQ_ARCHIVE, HSM_REQ_QUEUED, &n);
	hsm_catalog_request_count(ar->cat, HSM_REQ_ARCHIVE, HSM_REQ_RUNNING,
				  &r);
	agent_metric_set(ar->m_queue, (double)(n + r));
	pthread_mutex_lock(&ar->lock);
	ar->queued_now = n + r;
	pthread_mutex_unlock(&ar->lock);
}

/*
 * Claim up to AR_REQUESTS_PER_STEP requests, a pool's size at a time, and
 * run each batch at once.  *n: how many were claimed; *is_backoff when a
 * backend failed.  0, or the catalog's errno of a failed claim.
 */
static int ar_claim_and_run(struct agent_worker *w, struct archiver *ar,
			    const struct agent_config *cfg, int *n,
			    bool *is_backoff)
{
	unsigned int size = wk_pool_size(ar->pool);
	void *args[WK_POOL_MAX];
	struct ar_job *jobs;
	bool is_empty = false;
	size_t nr, i;
	int ret = 0;

	*n = 0;
	*is_backoff = false;
	jobs = calloc(size, sizeof(*jobs));
	if (!jobs)
		return -ENOMEM;
	while (*n < AR_REQUESTS_PER_STEP && !is_empty && !ret &&
	       !*is_backoff) {
		for (nr = 0; nr < size && *n < AR_REQUESTS_PER_STEP; nr++) {
			if (agent_worker_stopping(w) || wk_stage_waiting()) {
				is_empty = true;
				break;
			}
			memset(&jobs[nr], 0, sizeof(jobs[nr]));
			ret = hsm_catalog_request_claim(ar->cat, HSM_REQ_ARCHIVE,
							&jobs[nr].req);
			if (ret == -ENOENT) {
				ret = 0;
				is_empty = true;
				break;
			}
			if (ret) {
				ar_set_error(ar, "claiming a request: %s",
					     hsm_catalog_error(ar->cat));
				break;
			}
			jobs[nr].ar = ar;
			jobs[nr].cfg = cfg;
			args[nr] = &jobs[nr];
			(*n)++;
		}
		if (!nr)
			break;
		if (nr > 1)
			agent_worker_set_state(w, "archiving %zu files at once",
					       nr);
		wk_pool_run(ar->pool, ar_job_run, args, nr);
		for (i = 0; i < nr; i++)
			if (jobs[i].ret == 1)
				*is_backoff = true;
	}
	free(jobs);
	return ret;
}

static long archiver_step(struct agent_worker *w, const struct agent_config *cfg)
{
	struct archiver *ar = w->priv;
	char err[512] = "";
	time_t now, next = 0;
	uint64_t *evs;
	size_t nr, i;
	bool is_backoff;
	long ms, pms;
	int ret, n;

	ar->cfg = cfg;
	pthread_mutex_lock(&ar->lock);
	ar->nr_sets = cfg->nr_sets;
	pthread_mutex_unlock(&ar->lock);
	ms = wk_fs_open(w, &ar->fs);
	if (ms)
		return ms;
	if (!ar->cat) {
		ret = wk_catalog_open(cfg, &ar->cat, err, sizeof(err));
		if (ret) {
			agent_worker_set_state(w, "catalog %s: %s", cfg->catalog,
					       err[0] ? err : strerror(-ret));
			return ret;
		}
	}
	if (!ar->started) {
		ret = ar_start(w, ar, cfg);
		if (ret)
			return ret;
	}
	if (wk_stage_waiting()) {
		agent_worker_set_state(w, "paused: the stager serves waiting readers first");
		return WK_YIELD_MS;
	}

	pthread_mutex_lock(&ar->lock);
	evs = ar->evq;
	nr = ar->nr_evq;
	ar->evq = NULL;
	ar->nr_evq = ar->max_evq = 0;
	pthread_mutex_unlock(&ar->lock);
	now = time(NULL);
	for (i = 0; i < nr; i++)
		ar_pend(ar, evs[i], now);
	free(evs);

	/* plan what is due (entries may be re-added for later) */
	for (i = 0; i < ar->nr_pend;) {
		uint64_t ino = ar->pend[i].ino;

		if (ar->pend[i].due > now) {
			i++;
			continue;
		}
		ar->pend[i] = ar->pend[--ar->nr_pend];
		ret = ar_plan(ar, cfg, ino);
		if (ret) {
			ar_pend(ar, ino, now + 10);
			ar_set_error(ar, "planning inode %llu: %s",
				     (unsigned long long)ino,
				     hsm_catalog_error(ar->cat));
		}
		/* ar_plan may have appended an entry for later: fine */
	}

	if (!ar->pool) {
		ret = wk_pool_start(wk_pool_threads(cfg, WK_ARCHIVE), &ar->pool);
		if (ret) {
			agent_worker_set_state(w, "starting %u transfer threads: %s",
					       wk_pool_threads(cfg, WK_ARCHIVE),
					       strerror(-ret));
			return ret;
		}
	}
	ret = ar_claim_and_run(w, ar, cfg, &n, &is_backoff);
	pms = ar_pack_flush_due(ar, cfg, agent_worker_stopping(w));
	ar_update_queue(ar);
	if (ret)
		return ret;
	if (is_backoff) {
		agent_worker_set_state(w, "backing off %d s after a failed copy: %s",
				       AR_BACKOFF_MS / 1000, ar->last_error);
		return AR_BACKOFF_MS;
	}
	if (n == AR_REQUESTS_PER_STEP || wk_stage_waiting())
		return wk_stage_waiting() ? WK_YIELD_MS : 0;
	ar_pack_recycle(ar, cfg);

	pthread_mutex_lock(&ar->pend_lock);
	for (i = 0; i < ar->nr_pend; i++)
		if (!next || ar->pend[i].due < next)
			next = ar->pend[i].due;
	nr = ar->nr_pend;
	pthread_mutex_unlock(&ar->pend_lock);
	now = time(NULL);
	if (next) {
		ms = next > now ? (long)(next - now) * 1000 : 0;
		if (pms >= 0 && pms < ms)
			ms = pms;
		agent_worker_set_state(w, "idle: %zu files have copies due later (the next in %lld s)",
				       nr, (long long)(next - now));
		return ms;
	}
	if (pms >= 0) {
		agent_worker_set_state(w, "idle: small files wait in a pack (put in %ld ms at the latest)",
				       pms);
		return pms;
	}
	agent_worker_set_state(w, "idle: every copy due is made");
	return AGENT_STEP_IDLE;
}

static void archiver_reload(struct agent_worker *w,
			    const struct agent_config *old,
			    const struct agent_config *cfg)
{
	struct archiver *ar = w->priv;

	(void)cfg;
	/* what the old backends hold goes out with the old configuration */
	if (ar->cat)
		ar_pack_flush_due(ar, old, true);
	wk_backends_close(&ar->be);
	/* archive_workers may have changed: a new pool at the next step */
	wk_pool_stop(ar->pool);
	ar->pool = NULL;
	ar->cfg = NULL;
	/* sets may have changed: look at every file again */
	ar->started = false;
}

/* In the worker's thread, once stopping: nothing stays in a pack. */
static void archiver_stop(struct agent_worker *w)
{
	struct archiver *ar = w->priv;

	if (ar->cat && ar->cfg)
		ar_pack_flush_due(ar, ar->cfg, true);
}

static void archiver_status(struct agent_worker *w, struct json_object *o)
{
	struct archiver *ar = w->priv;

	pthread_mutex_lock(&ar->lock);
	json_object_object_add(o, "archive_sets",
			       json_object_new_uint64(ar->nr_sets));
	json_object_object_add(o, "queued", json_object_new_uint64(ar->queued_now));
	json_object_object_add(o, "copies_made",
			       json_object_new_uint64(ar->archived));
	json_object_object_add(o, "bytes", json_object_new_uint64(ar->bytes));
	json_object_object_add(o, "failures", json_object_new_uint64(ar->failed));
	json_object_object_add(o, "discarded_changed",
			       json_object_new_uint64(ar->discarded));
	json_object_object_add(o, "packs_put",
			       json_object_new_uint64(ar->packs_put));
	json_object_object_add(o, "packed_files",
			       json_object_new_uint64(ar->packed_files));
	json_object_object_add(o, "last_error", ar->last_error[0] ?
			       json_object_new_string(ar->last_error) : NULL);
	pthread_mutex_unlock(&ar->lock);
}

static void archiver_fini(struct agent_worker *w)
{
	struct archiver *ar = w->priv;

	if (!ar)
		return;
	wk_pool_stop(ar->pool);
	ar_packs_free(ar);
	wk_backends_close(&ar->be);
	hsm_catalog_close(ar->cat);
	wk_fs_close(&ar->fs);
	free(ar->evq);
	free(ar->pend);
	pthread_mutex_destroy(&ar->pack_lock);
	pthread_mutex_destroy(&ar->pend_lock);
	pthread_mutex_destroy(&ar->lock);
	free(ar);
	w->priv = NULL;
}

const struct agent_worker_ops agent_archiver_ops = {
	.name = "archiver",
	.init = archiver_init,
	.step = archiver_step,
	.reload = archiver_reload,
	.event = archiver_event,
	.status = archiver_status,
	.stop = archiver_stop,
	.fini = archiver_fini,
};
