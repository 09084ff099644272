// SPDX-License-Identifier: GPL-2.0
/*
 * archiver_pack.c: the archiver's packs of small files (pack.h), so that
 * a site with millions of 4 KiB files does not pay one S3 PUT each.
 *
 * Each backend that packs (an S3 backend with pack_threshold > 0) has at
 * most one open pack.  A copy of a file below the threshold is begun in
 * the catalog as any copy is ('writing', no location: the intent), then
 * the file is read into the open pack at once and STAT_MORE'd again: a
 * file whose data_version moved while it was read is dropped from the
 * pack there and then (the copy deleted, the file planned anew), the
 * others stay.  The request is held, running, until the pack is done.
 *
 * A pack is put when it reaches pack_max_files or would pass
 * pack_max_bytes (by whichever pool thread fills it, with that thread's
 * catalog and backend), when pack_delay has passed since its first file
 * (by the worker thread, between steps: a lone small file is not held
 * longer), and on reload and stop.  Putting is hsm_pack_put() (one PUT,
 * then one GET that checks every member's checksum) and hsm_pack_commit()
 * (one catalog batch: the pack's row and every member that passed and
 * whose file is still at the data_version it was read at, asked again of
 * the filesystem now; a member whose file changed meanwhile is dropped
 * from the commit and retried, the rest commit).  Then every held request
 * whose members are all settled is completed, or failed with the worst
 * reason (retryable for a failed put or verify, for good for a change, so
 * the new version is planned).
 *
 * Recycling: a pack object is deleted only once none of its members is
 * live (the catalog's count, kept by triggers: a member's copy marked bad
 * or deleted, for any reason, no longer holds the object); the archiver
 * looks for such packs when idle, every AR_RECYCLE_S, and deleting a
 * member location never deletes the object (backend_s3.c).
 *
 * Kill-safety follows from the order: the object exists before any row
 * names it, and the rows naming it commit in one batch; a kill before
 * that batch leaves the copies 'writing' without a location (recovery
 * deletes them and queues the files again) and the object unreferenced,
 * for a listing to find.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archiver.h"
#include "log.h"

static const struct agent_backend_conf *pack_conf(const struct agent_config *cfg,
						  const char *backend)
{
	int i = agent_config_backend_index(cfg, backend);

	return i < 0 ? NULL : &cfg->backends[i];
}

bool ar_pack_wants(const struct agent_config *cfg, const char *backend,
		   uint64_t size)
{
	const struct agent_backend_conf *b = pack_conf(cfg, backend);

	return b && b->type == AGENT_BACKEND_S3 && b->pack_threshold &&
	       size < b->pack_threshold;
}

/* The open pack slot of backend; NULL when out of memory.  pack_lock. */
static struct ar_open_pack *pack_slot(struct archiver *ar,
				      const char *backend)
{
	struct ar_open_pack *n;
	size_t i;

	for (i = 0; i < ar->nr_packs; i++)
		if (strcmp(ar->packs[i].backend, backend) == 0)
			return &ar->packs[i];
	n = realloc(ar->packs, (ar->nr_packs + 1) * sizeof(*n));
	if (!n)
		return NULL;
	ar->packs = n;
	n = &ar->packs[ar->nr_packs++];
	memset(n, 0, sizeof(*n));
	snprintf(n->backend, sizeof(n->backend), "%s", backend);
	return n;
}

/* Keep the worst outcome of a held request's parts.  pack_lock. */
static void held_note(struct ar_held *h, int res, const char *why)
{
	if (res > h->res) {
		h->res = res;
		snprintf(h->why, sizeof(h->why), "%s", why);
	}
}

/* Drop one reference; the last finishes the request.  pack_lock. */
static void held_drop(struct archiver *ar, struct hsm_catalog *cat,
		      struct ar_held *h)
{
	time_t now = time(NULL);

	if (--h->refs)
		return;
	if (h->res == AR_OK) {
		hsm_catalog_request_complete(cat, h->req_id);
		/* copies with a longer age: look again when they are due */
		ar_pend(ar, h->ino, now);
	} else {
		agent_metric_add(ar->m_failed, 1);
		pthread_mutex_lock(&ar->lock);
		ar->failed++;
		pthread_mutex_unlock(&ar->lock);
		ar_set_error(ar, "%s", h->why);
		hsm_catalog_request_fail(cat, h->req_id, h->why,
					 h->res == AR_RETRY);
		ar_pend(ar, h->ino, h->res == AR_GIVE_UP ? now :
			now + AR_RETRY_S);
	}
	free(h);
}

void ar_held_put(struct archiver *ar, struct hsm_catalog *cat,
		 struct ar_held *held, int res, const char *why)
{
	pthread_mutex_lock(&ar->pack_lock);
	held_note(held, res, why);
	held_drop(ar, cat, held);
	pthread_mutex_unlock(&ar->pack_lock);
}

/* hsm_pack_commit()'s question, asked of the filesystem at commit. */
static bool pack_member_same(void *arg, const struct hsm_pack_member *m)
{
	struct archiver *ar = arg;
	const struct ar_held *h = m->cookie;
	struct scoutfs_ioctl_stat_more sm;
	char path[PATH_MAX];
	struct stat st;
	bool same;
	int fd;

	fd = wk_open_ino(&ar->fs, m->ino, h->path, O_RDONLY | O_NOATIME, path,
			 &st);
	if (fd < 0)
		return false;
	same = !wk_stat_more(fd, &sm) && sm.data_version == m->data_version &&
	       !sm.offline_blocks;
	close(fd);
	return same;
}

/* Put and commit op's pack, settle its members, empty it.  pack_lock. */
static void pack_flush(struct archiver *ar, struct hsm_catalog *cat,
		       struct wk_backends *bes, const struct agent_config *cfg,
		       struct ar_open_pack *op)
{
	struct hsm_pack *p = &op->pack;
	char why[HSM_ERROR_MAX + 256] = "";
	char err[HSM_ERROR_MAX + 128];
	struct hsm_put_result res;
	struct hsm_backend *be;
	uint64_t start = wk_now_ms();
	int64_t pack_id = 0;
	size_t i, nr_ok = 0;
	int ret = -EIO;

	if (!op->is_open)
		return;
	be = p->nr ? wk_backend(bes, cfg, op->backend, err, sizeof(err)) :
	     NULL;
	if (p->nr && !be) {
		wk_fmt(why, sizeof(why), "pack for '%s': %s", op->backend,
		       err);
	} else if (p->nr) {
		wk_transfer_begin(cfg, op->backend, WK_ARCHIVE);
		ret = hsm_pack_put(p, be, &res);
		wk_transfer_end(op->backend, WK_ARCHIVE);
		if (ret) {
			wk_count_backend_error(ar->w, op->backend);
			wk_fmt(why, sizeof(why), "pack of %zu files to '%s': %s",
			       p->nr, op->backend, hsm_backend_error(be));
		}
	}
	if (p->nr && !ret) {
		ret = hsm_pack_commit(cat, op->backend, p, &res,
				      pack_member_same, ar, &pack_id);
		if (ret)
			wk_fmt(why, sizeof(why), "pack %s on '%s': catalog: %s",
			       res.location, op->backend,
			       hsm_catalog_error(cat));
		if (ret || !pack_id)
			be->ops->del(be, res.location);	/* nobody names it */
	}
	for (i = 0; i < p->nr; i++) {
		struct hsm_pack_member *m = &p->members[i];
		struct ar_held *h = m->cookie;
		char mwhy[HSM_ERROR_MAX + 256];

		if (ret) {
			/* put or commit failed: the copy is written again */
			hsm_catalog_copy_mark_bad(cat, m->copy_id);
			held_note(h, AR_RETRY, why);
		} else if (m->outcome == HSM_PACK_COMMITTED) {
			nr_ok++;
			ar_count_copy(ar, op->backend, m->length);
		} else if (m->outcome == HSM_PACK_CHANGED) {
			ar_count_discarded(ar);
			wk_fmt(mwhy, sizeof(mwhy), "%s changed while it was packed for copy %u on '%s': not committed, retried once the file is quiet",
			       h->path, m->copy_num, op->backend);
			held_note(h, AR_GIVE_UP, mwhy);
		} else {
			wk_count_backend_error(ar->w, op->backend);
			wk_fmt(mwhy, sizeof(mwhy), "%s: copy %u in pack %s on '%s' failed its verify",
			       h->path, m->copy_num, res.location,
			       op->backend);
			held_note(h, AR_RETRY, mwhy);
		}
	}
	if (!ret && pack_id) {
		agent_metric_add(ar->m_packs, 1);
		pthread_mutex_lock(&ar->lock);
		ar->packs_put++;
		ar->packed_files += nr_ok;
		pthread_mutex_unlock(&ar->lock);
		agent_info("archived %zu small files in one pack %s on '%s' (%llu bytes, %zu not committed) in %llu ms",
			   nr_ok, res.location, op->backend,
			   (unsigned long long)res.bytes, p->nr - nr_ok,
			   (unsigned long long)(wk_now_ms() - start));
	}
	for (i = 0; i < p->nr; i++)
		held_drop(ar, cat, p->members[i].cookie);
	hsm_pack_reset(p);
	op->is_open = false;
}

static bool pack_has_ino(const struct hsm_pack *p, uint64_t ino)
{
	size_t i;

	for (i = 0; i < p->nr; i++)
		if (p->members[i].ino == ino)
			return true;
	return false;
}

int ar_pack_add(struct archiver *ar, struct wk_thread *t,
		const struct agent_config *cfg, const char *backend,
		unsigned int c, const struct hsm_catalog_file *file,
		int64_t copy_id, int fd, const struct stat *st,
		int64_t req_id, struct ar_held **held, char *why,
		size_t why_len)
{
	const struct agent_backend_conf *b = pack_conf(cfg, backend);
	struct ar_reader rd = { .fd = fd, .cfg = cfg, .backend = backend };
	uint64_t size = (uint64_t)st->st_size;
	struct scoutfs_ioctl_stat_more after;
	struct hsm_object_info info;
	struct ar_open_pack *op;
	int ret, res = AR_OK;

	pthread_mutex_lock(&ar->pack_lock);
	op = pack_slot(ar, backend);
	if (!op || !b) {
		hsm_catalog_copy_mark_bad(t->cat, copy_id);
		wk_fmt(why, why_len, "pack for '%s': out of memory", backend);
		res = AR_RETRY;
		goto out;
	}
	/* full, or holding another copy of this file: put it first */
	if (op->is_open &&
	    (op->pack.nr >= b->pack_max_files ||
	     hsm_pack_bytes(&op->pack) + size > b->pack_max_bytes ||
	     pack_has_ino(&op->pack, file->ino)))
		pack_flush(ar, t->cat, &t->be, cfg, op);
	if (!op->is_open) {
		hsm_pack_init(&op->pack, file->fsid);
		op->is_open = true;
		op->opened_ms = wk_now_ms();
	}
	if (!*held) {
		*held = calloc(1, sizeof(**held));
		if (!*held) {
			hsm_catalog_copy_mark_bad(t->cat, copy_id);
			wk_fmt(why, why_len, "pack for '%s': out of memory",
			       backend);
			res = AR_RETRY;
			goto out;
		}
		(*held)->req_id = req_id;
		(*held)->ino = file->ino;
		(*held)->refs = 1;	/* the request's run */
		snprintf((*held)->path, sizeof((*held)->path), "%s",
			 file->path);
	}
	memset(&info, 0, sizeof(info));
	snprintf(info.fsid, sizeof(info.fsid), "%s", file->fsid);
	info.ino = file->ino;
	info.data_version = file->data_version;
	info.size = size;
	info.mtime_sec = st->st_mtim.tv_sec;
	info.path = file->path;
	info.copy_num = c;
	ret = lseek(fd, 0, SEEK_SET) < 0 ? -errno : 0;
	if (!ret)
		ret = hsm_pack_add(&op->pack, &info, ar_read, &rd, copy_id,
				   *held);
	if (ret) {
		wk_fmt(why, why_len, "%s: reading it for a pack on '%s': %s",
		       file->path, backend, strerror(-ret));
		if (ret == -EIO) {
			/* shorter or longer than its size: it is changing */
			hsm_catalog_copy_mark_deleted(t->cat, copy_id);
			res = AR_GIVE_UP;
		} else {
			hsm_catalog_copy_mark_bad(t->cat, copy_id);
			res = AR_RETRY;
		}
		goto out;
	}
	ret = wk_stat_more(fd, &after);
	if (ret || after.data_version != file->data_version) {
		hsm_pack_drop(&op->pack, op->pack.nr - 1);
		hsm_catalog_copy_mark_deleted(t->cat, copy_id);
		ar_count_discarded(ar);
		wk_fmt(why, why_len, "%s changed while it was read for a pack (data_version %llu -> %llu): copy %u discarded, retried once the file is quiet",
		       file->path, (unsigned long long)file->data_version,
		       (unsigned long long)after.data_version, c);
		res = AR_GIVE_UP;
		goto out;
	}
	(*held)->refs++;	/* the pack's member */
	agent_debug("archiver: %s (data_version %llu) into the pack for '%s' (%zu files, %llu bytes)",
		    file->path, (unsigned long long)file->data_version,
		    backend, op->pack.nr,
		    (unsigned long long)hsm_pack_bytes(&op->pack));
	if (op->pack.nr >= b->pack_max_files ||
	    hsm_pack_bytes(&op->pack) >= b->pack_max_bytes)
		pack_flush(ar, t->cat, &t->be, cfg, op);
out:
	pthread_mutex_unlock(&ar->pack_lock);
	return res;
}

long ar_pack_flush_due(struct archiver *ar, const struct agent_config *cfg,
		       bool is_all)
{
	uint64_t now = wk_now_ms();
	long next = -1;
	size_t i;

	pthread_mutex_lock(&ar->pack_lock);
	for (i = 0; i < ar->nr_packs; i++) {
		struct ar_open_pack *op = &ar->packs[i];
		const struct agent_backend_conf *b = pack_conf(cfg, op->backend);
		uint64_t due;

		if (!op->is_open)
			continue;
		due = op->opened_ms + (b ? b->pack_delay * 1000 : 0);
		if (is_all || !op->pack.nr || now >= due) {
			pack_flush(ar, ar->cat, &ar->be, cfg, op);
			continue;
		}
		if (next < 0 || (long)(due - now) < next)
			next = (long)(due - now);
	}
	pthread_mutex_unlock(&ar->pack_lock);
	return next;
}

/*
 * The recycler's rule for packs: an object is deleted only once the
 * catalog says none of its members is live (the triggers' count), then
 * the pack is marked deleted.  A delete that fails is tried again at the
 * next pass; -ENOENT means it is gone already.
 */
void ar_pack_recycle(struct archiver *ar, const struct agent_config *cfg)
{
	struct hsm_catalog_pack dead[AR_RECYCLE_PAGE];
	char err[HSM_ERROR_MAX + 128];
	time_t now = time(NULL);
	size_t b, i, nr;

	if (ar->recycled_at && now - ar->recycled_at < AR_RECYCLE_S)
		return;
	ar->recycled_at = now;
	for (b = 0; b < cfg->nr_backends; b++) {
		const struct agent_backend_conf *bc = &cfg->backends[b];
		struct hsm_backend *be;

		if (bc->type != AGENT_BACKEND_S3)
			continue;
		if (hsm_catalog_pack_list_dead(ar->cat, bc->name, 0, dead,
					       AR_RECYCLE_PAGE, &nr) || !nr)
			continue;
		be = wk_backend(&ar->be, cfg, bc->name, err, sizeof(err));
		if (!be)
			continue;
		for (i = 0; i < nr; i++) {
			int ret = be->ops->del(be, dead[i].location);

			if (ret && ret != -ENOENT) {
				agent_warn("archiver: deleting pack %s on '%s', none of whose %llu files is live: %s",
					   dead[i].location, bc->name,
					   (unsigned long long)dead[i].members,
					   hsm_backend_error(be));
				break;
			}
			if (hsm_catalog_pack_mark_deleted(ar->cat, dead[i].id))
				break;
			agent_info("deleted pack %s on '%s': none of its %llu files is live",
				   dead[i].location, bc->name,
				   (unsigned long long)dead[i].members);
		}
	}
}

void ar_packs_free(struct archiver *ar)
{
	size_t i;

	/* stop() put them all; anything left is recovered at the next start */
	for (i = 0; i < ar->nr_packs; i++)
		hsm_pack_reset(&ar->packs[i].pack);
	free(ar->packs);
	ar->packs = NULL;
	ar->nr_packs = 0;
}
