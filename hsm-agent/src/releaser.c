// SPDX-License-Identifier: GPL-2.0
/*
 * releaser.c: the releaser worker, which frees data blocks of archived
 * files when the data device fills.
 *
 * Every release.interval it reads the mount's usage (statvfs: used data
 * blocks over all of them).  Once usage reaches release.high_watermark
 * percent it releases until usage is down to release.low_watermark, over
 * as many passes as that takes (files archived meanwhile become
 * candidates of the next pass), and then waits for the high mark again.
 * A pass:
 *
 *  1. Candidates are the catalog's inode rows of regular files that are
 *     online.  Each is opened by inode and looked at now: fully online
 *     (STAT_MORE), its archive set (agent_config_match_set()) neither
 *     never_archive nor norelease, without the release.pin_xattr xattr,
 *     not staged within release.min_residence (the stager's note), and
 *     hsm_catalog_release_is_safe() at the data_version STAT_MORE just
 *     gave: copies 1..N of its set all valid and verified at that
 *     version.  Anything else is skipped (and counted by reason).
 *  2. They are ordered: "lru" by access time, oldest first; "weighted"
 *     (SAM's releaser) by size_weight * size / largest size +
 *     age_weight * access age / oldest access age, highest first.
 *  3. Each is released, with the data_version that was checked, so the
 *     kernel refuses (ESTALE) if the file changed since: it is skipped.
 *     The set's keep_first_kib (else release.keep_first_kib), rounded up
 *     to the 4 KiB block, stays online.  Releases stop once the blocks
 *     freed bring usage to the low watermark; a syncfs then makes the
 *     frees visible to the next statvfs.
 *
 * `scoutfs-hsm release --dry-run` (GET /release, releaser_request())
 * makes steps 1 and 2 now, in the HTTP server's thread with its own mount
 * fd and catalog connection (struct rl_sel, rl_choose(): the same code as
 * a pass), and answers the candidates in order, which of them a pass
 * would release to reach the low watermark, and the copies that make each
 * safe; it releases nothing.  `scoutfs-hsm release` (POST /release) asks
 * for one pass now, down to the low watermark even below the high one;
 * the status says when it is done and how it went (forced_done,
 * forced_ok, forced_result).
 *
 * Nothing else releases data, and a file without a verified copy at its
 * current data_version is never released.  The pass steps aside while
 * the stager has waiting readers.  The status shows the usage against
 * the marks and the last pass: candidates, releases, bytes, and the
 * files skipped by reason.
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
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "log.h"
#include "workers.h"

#define BLOCK 4096ULL
#define HSM_DRY_RUN_COPIES 16	/* copies listed per dry-run candidate */

enum rl_skip {
	RL_SKIP_NO_SET = 0,
	RL_SKIP_PINNED,
	RL_SKIP_RESIDENCE,
	RL_SKIP_NOT_SAFE,
	RL_SKIP_CHANGED,
	RL_SKIP_SMALL,
	RL_SKIP_GONE,
	RL_SKIP_NR,
};

static const char *const skip_names[] = {
	"no_archive_set", "pinned", "min_residence", "no_verified_copy",
	"changed", "within_keep_first", "gone",
};

struct rl_cand {
	uint64_t ino;
	uint64_t dv;
	uint64_t size;
	uint64_t keep;		/* bytes kept online */
	time_t atime;
	double score;
	char *path;
};

/*
 * One choice of candidates: the releaser's pass and a dry run
 * (releaser_request(), in the HTTP server's thread) each have their own,
 * with their own mount fd and catalog connection, and share every line
 * of the choosing (rl_choose()).
 */
struct rl_sel {
	struct wk_fs fs;
	struct hsm_catalog *cat;
	struct rl_cand *cands;
	size_t nr_cands, max_cands;
	uint64_t skips[RL_SKIP_NR];
};

struct releaser {
	struct rl_sel sel;
	struct agent_metric *used, *high, *low, *m_released, *m_bytes,
			    *m_stale;
	_Atomic double used_ratio;	/* -1 until measured */
	pthread_mutex_t lock;		/* below, for status */
	uint64_t passes, released, bytes, stale;
	uint64_t last_released, last_candidates;
	uint64_t skips[RL_SKIP_NR];
	uint64_t force_done;	/* the last `scoutfs-hsm release` served */
	char force_msg[256];	/* ... and how it went */
	bool force_ok;
	_Atomic uint64_t force_asked;	/* ... and the last one asked */
	time_t next_stuck_note;	/* "nothing to release" at most every 10 min */
	/* past the high mark, not yet at the low (the dry run reads it too) */
	atomic_bool releasing;
};

static int releaser_init(struct agent_worker *w)
{
	struct agent_metrics *m = agent_get_metrics(w->agent);
	struct releaser *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	wk_fs_init(&r->sel.fs);
	atomic_init(&r->force_asked, 0);
	pthread_mutex_init(&r->lock, NULL);
	atomic_init(&r->used_ratio, -1.0);
	r->used = agent_metric_get(m, AGENT_METRIC_GAUGE,
				   "scoutfs_hsm_data_used_ratio",
				   "Fraction of the filesystem's data blocks in use (statvfs).",
				   NULL);
	r->high = agent_metric_get(m, AGENT_METRIC_GAUGE,
				   "scoutfs_hsm_release_watermark_ratio",
				   "Release watermarks as fractions of the data device.",
				   "mark", "high", NULL);
	r->low = agent_metric_get(m, AGENT_METRIC_GAUGE,
				  "scoutfs_hsm_release_watermark_ratio",
				  "Release watermarks as fractions of the data device.",
				  "mark", "low", NULL);
	r->m_released = agent_metric_get(m, AGENT_METRIC_COUNTER,
					 "scoutfs_hsm_release_files_total",
					 "Files released.", NULL);
	r->m_bytes = agent_metric_get(m, AGENT_METRIC_COUNTER,
				      "scoutfs_hsm_release_bytes_total",
				      "Bytes released.", NULL);
	r->m_stale = agent_metric_get(m, AGENT_METRIC_COUNTER,
				      "scoutfs_hsm_release_stale_total",
				      "Releases the kernel refused because the file changed (ESTALE).",
				      NULL);
	w->priv = r;
	return 0;
}

static void rl_clear(struct rl_sel *r)
{
	size_t i;

	for (i = 0; i < r->nr_cands; i++)
		free(r->cands[i].path);
	r->nr_cands = 0;
}

static void rl_sel_fini(struct rl_sel *r)
{
	rl_clear(r);
	free(r->cands);
	r->cands = NULL;
	r->max_cands = 0;
	hsm_catalog_close(r->cat);
	r->cat = NULL;
	wk_fs_close(&r->fs);
}

static int rl_scan_row(void *arg, const struct hsm_catalog_inode *row)
{
	struct wk_inos *s = arg;

	if (!S_ISREG(row->mode) || row->state != HSM_INODE_ONLINE ||
	    !row->size)
		return 0;
	return wk_inos_add(s, row->ino);
}

/* Look at one row now; 0 and a candidate added, or a skip reason. */
static int rl_consider(struct rl_sel *r, const struct agent_config *cfg,
		       uint64_t ino)
{
	const struct agent_release_conf *rc = &cfg->release;
	struct scoutfs_ioctl_stat_more sm;
	struct hsm_catalog_inode row;
	const struct agent_set_conf *set;
	struct rl_cand *c;
	char path[PATH_MAX];
	struct stat st;
	uint64_t keep, kib;
	bool safe = false;
	int fd, ret;

	if (hsm_catalog_inode_get(r->cat, r->fs.fsid, ino, &row))
		return RL_SKIP_GONE;
	fd = wk_open_ino(&r->fs, ino, row.path, O_RDONLY | O_NOATIME, path,
			 &st);
	if (fd < 0)
		return RL_SKIP_GONE;
	if (!S_ISREG(st.st_mode) || wk_stat_more(fd, &sm) ||
	    sm.offline_blocks) {
		close(fd);
		return RL_SKIP_GONE;
	}
	set = wk_match_set(cfg, fd, path, &st);
	if (!set || set->never_archive || !set->nr_copies) {
		close(fd);
		return RL_SKIP_NO_SET;
	}
	if (set->norelease || wk_has_xattr(fd, rc->pin_xattr)) {
		close(fd);
		return RL_SKIP_PINNED;
	}
	close(fd);
	if (rc->min_residence && wk_staged_within(ino, rc->min_residence))
		return RL_SKIP_RESIDENCE;
	kib = set->has_keep_first_kib ? set->keep_first_kib : rc->keep_first_kib;
	keep = (kib * 1024 + BLOCK - 1) / BLOCK * BLOCK;
	if ((uint64_t)st.st_size <= keep)
		return RL_SKIP_SMALL;
	ret = hsm_catalog_release_is_safe(r->cat, r->fs.fsid, ino,
					  sm.data_version, set->nr_copies,
					  &safe);
	if (ret || !safe)
		return RL_SKIP_NOT_SAFE;
	if (r->nr_cands == r->max_cands) {
		size_t max = r->max_cands ? r->max_cands * 2 : 64;
		struct rl_cand *n = realloc(r->cands, max * sizeof(*n));

		if (!n)
			return RL_SKIP_GONE;
		r->cands = n;
		r->max_cands = max;
	}
	c = &r->cands[r->nr_cands];
	c->path = strdup(path);
	if (!c->path)
		return RL_SKIP_GONE;
	c->ino = ino;
	c->dv = sm.data_version;
	c->size = st.st_size;
	c->keep = keep;
	c->atime = st.st_atime;
	c->score = 0;
	r->nr_cands++;
	return -1;
}

static int cmp_score(const void *a, const void *b)
{
	const struct rl_cand *x = a, *y = b;

	if (x->score != y->score)
		return x->score < y->score ? 1 : -1;
	return x->ino < y->ino ? -1 : x->ino > y->ino;
}

static int cmp_atime(const void *a, const void *b)
{
	const struct rl_cand *x = a, *y = b;

	if (x->atime != y->atime)
		return x->atime < y->atime ? -1 : 1;
	return x->ino < y->ino ? -1 : x->ino > y->ino;
}

static void rl_order(struct rl_sel *r, const struct agent_release_conf *rc)
{
	time_t now = time(NULL);
	double max_size = 1, max_age = 1;
	size_t i;

	if (!r->nr_cands)
		return;	/* qsort() of no array: cands may be NULL */
	if (rc->order == AGENT_RELEASE_LRU) {
		qsort(r->cands, r->nr_cands, sizeof(*r->cands), cmp_atime);
		return;
	}
	for (i = 0; i < r->nr_cands; i++) {
		double age = now > r->cands[i].atime ?
			     (double)(now - r->cands[i].atime) : 0;

		if ((double)r->cands[i].size > max_size)
			max_size = (double)r->cands[i].size;
		if (age > max_age)
			max_age = age;
	}
	for (i = 0; i < r->nr_cands; i++) {
		struct rl_cand *c = &r->cands[i];
		double age = now > c->atime ? (double)(now - c->atime) : 0;

		c->score = rc->size_weight * (double)c->size / max_size +
			   rc->age_weight * age / max_age;
	}
	qsort(r->cands, r->nr_cands, sizeof(*r->cands), cmp_score);
}

/* Release one candidate: 0, -ESTALE (changed), or another error. */
static int rl_release(struct rl_sel *r, const struct rl_cand *c)
{
	struct scoutfs_ioctl_release args;
	char path[PATH_MAX];
	struct stat st;
	int fd, ret = 0;

	fd = wk_open_ino(&r->fs, c->ino, c->path, O_RDONLY | O_NOATIME, path,
			 &st);
	if (fd < 0)
		return fd;
	memset(&args, 0, sizeof(args));
	args.offset = c->keep;
	args.length = ((uint64_t)st.st_size + BLOCK - 1) / BLOCK * BLOCK -
		      c->keep;
	args.data_version = c->dv;
	if (args.length && ioctl(fd, SCOUTFS_IOC_RELEASE, &args) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/* The mount's data usage now: 0, st and *used (a fraction), or -errno. */
static int rl_usage(const char *mount, struct statvfs *st, double *used)
{
	if (statvfs(mount, st))
		return -errno;
	*used = st->f_blocks ? (double)(st->f_blocks - st->f_bfree) /
			       (double)st->f_blocks : 0;
	return 0;
}

/* Blocks to free to bring usage down to the low watermark (at least 1). */
static uint64_t rl_target(const struct statvfs *st,
			  const struct agent_release_conf *rc)
{
	double t = (double)(st->f_blocks - st->f_bfree) -
		   (double)st->f_blocks * rc->low_watermark / 100.0;

	return t > 1 ? (uint64_t)t : 1;
}

/* The blocks releasing c frees. */
static uint64_t rl_freed(const struct rl_cand *c)
{
	return (c->size + BLOCK - 1) / BLOCK - c->keep / BLOCK;
}

/*
 * Open what sel needs (the mount, a catalog connection): 0, or a wait in
 * ms (> 0: not a scoutfs mount) or -errno, with the reason in why.
 */
static long rl_sel_open(struct rl_sel *sel, const struct agent_config *cfg,
			const char *mount, char *why, size_t len)
{
	char err[512] = "";
	long ms = wk_fs_try(mount, &sel->fs, why, len);
	int ret;

	if (ms)
		return ms;
	if (!sel->cat) {
		ret = wk_catalog_open(cfg, &sel->cat, err, sizeof(err));
		if (ret) {
			wk_fmt(why, len, "catalog %s: %s", cfg->catalog,
			       err[0] ? err : strerror(-ret));
			return ret;
		}
	}
	return 0;
}

/*
 * A pass's choice, now: sel->cands the candidates in release order and
 * sel->skips the files skipped by reason.  0, or -errno and why.
 */
static int rl_choose(struct agent_worker *w, struct rl_sel *sel,
		     const struct agent_config *cfg, char *why, size_t len)
{
	struct wk_inos scan = { 0 };
	size_t i;
	int ret;

	memset(sel->skips, 0, sizeof(sel->skips));
	rl_clear(sel);
	ret = hsm_catalog_inode_foreach(sel->cat, sel->fs.fsid, rl_scan_row,
					&scan);
	if (ret && ret != -ENOENT) {
		free(scan.inos);
		wk_fmt(why, len, "catalog: %s", hsm_catalog_error(sel->cat));
		return ret;
	}
	for (i = 0; i < scan.nr && !agent_worker_stopping(w); i++) {
		int skip = rl_consider(sel, cfg, scan.inos[i]);

		if (skip >= 0)
			sel->skips[skip]++;
	}
	free(scan.inos);
	rl_order(sel, &cfg->release);
	return 0;
}

/*
 * What `scoutfs-hsm release` asked is done (ok: the pass ran, or there was
 * nothing to release): msg says how it went.
 */
static void rl_force_done(struct releaser *r, uint64_t asked, bool ok,
			  const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void rl_force_done(struct releaser *r, uint64_t asked, bool ok,
			  const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&r->lock);
	if (asked > r->force_done) {
		r->force_done = asked;
		r->force_ok = ok;
		va_start(ap, fmt);
		vsnprintf(r->force_msg, sizeof(r->force_msg), fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&r->lock);
}

static long releaser_step(struct agent_worker *w, const struct agent_config *cfg)
{
	struct releaser *r = w->priv;
	struct rl_sel *sel = &r->sel;
	const struct agent_release_conf *rc = &cfg->release;
	uint64_t asked = atomic_load(&r->force_asked);
	uint64_t target, freed = 0, released = 0, bytes = 0, stale = 0;
	bool forced, one_pass = false;
	struct statvfs st;
	char why[768] = "";
	double used = 0;
	size_t i;
	long ms;
	int ret;

	pthread_mutex_lock(&r->lock);
	forced = asked > r->force_done;
	pthread_mutex_unlock(&r->lock);
	agent_metric_set(r->high, rc->high_watermark / 100.0);
	agent_metric_set(r->low, rc->low_watermark / 100.0);
	ret = rl_usage(agent_mount(w->agent), &st, &used);
	if (ret) {
		agent_worker_set_state(w, "statvfs %s: %s",
				       agent_mount(w->agent), strerror(-ret));
		if (forced)
			rl_force_done(r, asked, false, "statvfs %s: %s",
				      agent_mount(w->agent), strerror(-ret));
		return ret;
	}
	atomic_store(&r->used_ratio, used);
	agent_metric_set(r->used, used);
	if (used * 100 >= rc->high_watermark)
		r->releasing = true;
	else if (used * 100 <= rc->low_watermark)
		r->releasing = false;
	else if (forced && !r->releasing) {
		/* one pass: the marks rule again after it */
		agent_notice("releaser: asked to release now (scoutfs-hsm release): %.1f%% used, one pass down to the low watermark (%u%%)",
			     used * 100, rc->low_watermark);
		r->releasing = true;
		one_pass = true;
	}
	if (!r->releasing) {
		agent_worker_set_state(w, "%.1f%% used (high watermark %u%%, low %u%%): nothing to release",
				       used * 100, rc->high_watermark,
				       rc->low_watermark);
		if (forced)
			rl_force_done(r, asked, true, "%.1f%% used, at or below the low watermark (%u%%): nothing to release",
				      used * 100, rc->low_watermark);
		return (long)rc->interval * 1000;
	}
	ms = rl_sel_open(sel, cfg, agent_mount(w->agent), why, sizeof(why));
	if (ms) {
		agent_worker_set_state(w, "%.1f%% used, above the high watermark (%u%%), but %s",
				       used * 100, rc->high_watermark, why);
		if (forced)
			rl_force_done(r, asked, false, "%s", why);
		if (one_pass)
			r->releasing = false;
		return ms > 0 ? (long)rc->interval * 1000 : ms;
	}
	if (wk_stage_waiting()) {
		agent_worker_set_state(w, "%.1f%% used: paused, the stager serves waiting readers first",
				       used * 100);
		if (one_pass)
			r->releasing = false;	/* asked again next step */
		return WK_YIELD_MS;
	}
	agent_worker_set_state(w, "%.1f%% used, releasing down to the low watermark (%u%%): choosing files",
			       used * 100, rc->low_watermark);

	ret = rl_choose(w, sel, cfg, why, sizeof(why));
	if (ret) {
		agent_worker_set_state(w, "%s", why);
		if (forced)
			rl_force_done(r, asked, false, "%s", why);
		if (one_pass)
			r->releasing = false;
		return ret;
	}
	target = rl_target(&st, rc);
	for (i = 0; i < sel->nr_cands && freed < target; i++) {
		const struct rl_cand *c = &sel->cands[i];

		if (agent_worker_stopping(w) || wk_stage_waiting())
			break;
		ret = rl_release(sel, c);
		if (ret == -ESTALE) {
			stale++;
			sel->skips[RL_SKIP_CHANGED]++;
			agent_metric_add(r->m_stale, 1);
			agent_info("releaser: /%s changed since its copies were checked (ESTALE): skipped",
				   c->path);
			continue;
		}
		if (ret) {
			agent_warn("releaser: release of /%s: %s", c->path,
				   strerror(-ret));
			continue;
		}
		freed += rl_freed(c);
		bytes += c->size - c->keep;
		released++;
		agent_metric_add(r->m_released, 1);
		agent_metric_add(r->m_bytes, (double)(c->size - c->keep));
		agent_info("released /%s (data_version %llu, %llu bytes%s)",
			   c->path, (unsigned long long)c->dv,
			   (unsigned long long)(c->size - c->keep),
			   c->keep ? ", its first blocks kept" : "");
	}
	if (released)
		syncfs(sel->fs.mnt_fd);
	if (one_pass)
		r->releasing = false;

	pthread_mutex_lock(&r->lock);
	r->passes++;
	r->released += released;
	r->bytes += bytes;
	r->stale += stale;
	r->last_released = released;
	r->last_candidates = sel->nr_cands;
	memcpy(r->skips, sel->skips, sizeof(r->skips));
	pthread_mutex_unlock(&r->lock);
	if (forced)
		rl_force_done(r, asked, true, "released %llu files (%llu bytes) of %zu candidates, from %.1f%% used toward the low watermark (%u%%)",
			      (unsigned long long)released,
			      (unsigned long long)bytes, sel->nr_cands,
			      used * 100, rc->low_watermark);
	if (freed < target)
		agent_worker_set_state(w, "%.1f%% used: released %llu files (%llu bytes) of %zu candidates, not enough to reach the low watermark (%u%%)",
				       used * 100, (unsigned long long)released,
				       (unsigned long long)bytes, sel->nr_cands,
				       rc->low_watermark);
	else
		agent_worker_set_state(w, "%.1f%% used: released %llu files (%llu bytes) toward the low watermark (%u%%)",
				       used * 100, (unsigned long long)released,
				       (unsigned long long)bytes,
				       rc->low_watermark);
	if (freed < target && released == 0 &&
	    time(NULL) >= r->next_stuck_note) {
		r->next_stuck_note = time(NULL) + 600;
		agent_notice("releaser: %.1f%% used, above the low watermark after passing the high one, and no file can be released (%zu candidates)",
			     used * 100, sel->nr_cands);
	}
	return (long)rc->interval * 1000;
}

/* One candidate of a dry run, with the copies that make it safe. */
static struct json_object *rl_cand_json(struct rl_sel *sel,
					const struct rl_cand *c, time_t now,
					bool release)
{
	struct json_object *o = json_object_new_object();
	struct json_object *cps = json_object_new_array();
	struct hsm_catalog_copy copies[HSM_DRY_RUN_COPIES];
	size_t nr = 0, i;

	json_object_object_add(o, "path", json_object_new_string(c->path));
	json_object_object_add(o, "ino", json_object_new_uint64(c->ino));
	json_object_object_add(o, "data_version", json_object_new_uint64(c->dv));
	json_object_object_add(o, "size", json_object_new_uint64(c->size));
	json_object_object_add(o, "release_bytes",
			       json_object_new_uint64(c->size - c->keep));
	json_object_object_add(o, "keep_bytes", json_object_new_uint64(c->keep));
	json_object_object_add(o, "atime", json_object_new_int64(c->atime));
	json_object_object_add(o, "access_age_s", json_object_new_int64(
			       now > c->atime ? now - c->atime : 0));
	json_object_object_add(o, "weight", json_object_new_double(c->score));
	json_object_object_add(o, "release", json_object_new_boolean(release));
	if (hsm_catalog_copy_list_valid(sel->cat, sel->fs.fsid, c->ino, c->dv,
					copies, HSM_DRY_RUN_COPIES, &nr))
		nr = 0;
	for (i = 0; i < nr && i < HSM_DRY_RUN_COPIES; i++) {
		struct json_object *cp = json_object_new_object();

		json_object_object_add(cp, "copy",
				       json_object_new_int((int)copies[i].copy_num));
		json_object_object_add(cp, "backend",
				       json_object_new_string(copies[i].backend));
		json_object_object_add(cp, "location",
				       json_object_new_string(copies[i].location));
		json_object_object_add(cp, "verified_at",
				       json_object_new_int64(copies[i].verified));
		json_object_array_add(cps, cp);
	}
	json_object_object_add(o, "copies", cps);
	return o;
}

/*
 * GET /release: the dry run, the choice a pass would make now (the same
 * rl_choose()) and which of its candidates it would release to reach the
 * low watermark; nothing is released.  POST /release: a pass now, down to
 * the low watermark even when usage is below the high one; its outcome
 * shows in the status (forced_done, forced_result).
 */
static struct json_object *releaser_request(struct agent_worker *w,
					    const struct agent_config *cfg,
					    const char *method, const char *url)
{
	const struct agent_release_conf *rc = &cfg->release;
	struct releaser *r = w->priv;
	struct json_object *o, *cands, *sk;
	struct rl_sel sel;
	struct statvfs st;
	uint64_t target, freed = 0;
	char why[768] = "";
	time_t now = time(NULL);
	double used = 0;
	bool now_releasing;
	size_t i;
	long ms;
	int ret;

	if (strcmp(url, "/release"))
		return NULL;
	o = json_object_new_object();
	if (!strcmp(method, "POST")) {
		uint64_t asked = atomic_fetch_add(&r->force_asked, 1) + 1;

		json_object_object_add(o, "asked", json_object_new_uint64(asked));
		agent_worker_wake(w);
		return o;
	}
	memset(&sel, 0, sizeof(sel));
	wk_fs_init(&sel.fs);
	ret = rl_usage(agent_mount(w->agent), &st, &used);
	if (ret) {
		wk_fmt(why, sizeof(why), "statvfs %s: %s", agent_mount(w->agent),
		       strerror(-ret));
		goto err;
	}
	ms = rl_sel_open(&sel, cfg, agent_mount(w->agent), why, sizeof(why));
	if (ms)
		goto err;
	if (rl_choose(w, &sel, cfg, why, sizeof(why)))
		goto err;
	now_releasing = used * 100 >= rc->high_watermark || r->releasing;
	target = used * 100 > rc->low_watermark ? rl_target(&st, rc) : 0;
	json_object_object_add(o, "used_percent",
			       json_object_new_double(used * 100));
	json_object_object_add(o, "high_watermark",
			       json_object_new_int((int)rc->high_watermark));
	json_object_object_add(o, "low_watermark",
			       json_object_new_int((int)rc->low_watermark));
	json_object_object_add(o, "order", json_object_new_string(
			       rc->order == AGENT_RELEASE_LRU ? "lru" : "weighted"));
	json_object_object_add(o, "releasing_now",
			       json_object_new_boolean(now_releasing));
	json_object_object_add(o, "blocks_to_free",
			       json_object_new_uint64(target));
	cands = json_object_new_array();
	for (i = 0; i < sel.nr_cands; i++) {
		bool rel = freed < target;

		if (rel)
			freed += rl_freed(&sel.cands[i]);
		json_object_array_add(cands, rl_cand_json(&sel, &sel.cands[i],
							  now, rel));
	}
	json_object_object_add(o, "candidates", cands);
	sk = json_object_new_object();
	for (i = 0; i < RL_SKIP_NR; i++)
		json_object_object_add(sk, skip_names[i],
				       json_object_new_uint64(sel.skips[i]));
	json_object_object_add(o, "skipped", sk);
	rl_sel_fini(&sel);
	return o;
err:
	rl_sel_fini(&sel);
	json_object_object_add(o, "error", json_object_new_string(why));
	return o;
}

static void releaser_status(struct agent_worker *w, struct json_object *o)
{
	struct releaser *r = w->priv;
	double used = atomic_load(&r->used_ratio);
	struct json_object *sk = json_object_new_object();
	int i;

	json_object_object_add(o, "used_percent", used < 0 ? NULL :
			       json_object_new_double(used * 100));
	pthread_mutex_lock(&r->lock);
	json_object_object_add(o, "passes", json_object_new_uint64(r->passes));
	json_object_object_add(o, "released_files",
			       json_object_new_uint64(r->released));
	json_object_object_add(o, "released_bytes",
			       json_object_new_uint64(r->bytes));
	json_object_object_add(o, "stale", json_object_new_uint64(r->stale));
	json_object_object_add(o, "last_pass_candidates",
			       json_object_new_uint64(r->last_candidates));
	json_object_object_add(o, "last_pass_released",
			       json_object_new_uint64(r->last_released));
	for (i = 0; i < RL_SKIP_NR; i++)
		json_object_object_add(sk, skip_names[i],
				       json_object_new_uint64(r->skips[i]));
	json_object_object_add(o, "forced_done",
			       json_object_new_uint64(r->force_done));
	json_object_object_add(o, "forced_ok",
			       json_object_new_boolean(r->force_ok));
	json_object_object_add(o, "forced_result", r->force_msg[0] ?
			       json_object_new_string(r->force_msg) : NULL);
	pthread_mutex_unlock(&r->lock);
	json_object_object_add(o, "last_pass_skipped", sk);
}

static void releaser_fini(struct agent_worker *w)
{
	struct releaser *r = w->priv;

	if (!r)
		return;
	rl_sel_fini(&r->sel);
	pthread_mutex_destroy(&r->lock);
	free(r);
	w->priv = NULL;
}

const struct agent_worker_ops agent_releaser_ops = {
	.name = "releaser",
	.init = releaser_init,
	.step = releaser_step,
	.status = releaser_status,
	.request = releaser_request,
	.fini = releaser_fini,
};
