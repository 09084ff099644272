// SPDX-License-Identifier: GPL-2.0
/*
 * walker.c: one incremental pass over a scoutfs mount's meta_seq index
 * into the catalog's inode rows.
 *
 * Why meta_seq alone: every inode change writes the inode item, and that
 * stamps meta_seq with the transaction's seq (kmod/src/inode.c); content
 * changes stamp data_seq as well, so the inodes with a new data_seq are a
 * subset of those with a new meta_seq.  Walking data_seq too would look
 * every written file up twice.  The stored data_seq cursor advances with
 * the meta_seq one (the catalog keeps both for the agent).
 *
 * The window: a pass reads the last committed seq E (STATFS_MORE) and
 * walks positions (S, E] where S is the seq the catalog stored with the
 * last batch it committed (the first run starts at 0).  WALK_INODES only
 * returns committed positions, and an inode changed after E moves to a
 * seq above E, so it is walked by a later pass: nothing is missed and
 * nothing is walked before it is stable.  One inode has one position in
 * the index, so the index itself folds many changes of an inode into one
 * entry.
 *
 * A batch of walked inodes is resolved: the row's path if it still leads
 * to the inode, else INO_PATH's first link (see index_row.h; ENOENT: no
 * links left, the inode is gone), fstatat/openat on that path under the
 * mount root, checked to be the same inode (a rename in between retries
 * with INO_PATH), then fstat and
 * STAT_MORE give size, mtime, data_version, seqs and online/offline
 * blocks.  No export operations exist to open an inode by number, so the
 * path is how it is reached.
 *
 * What the index cannot say: a deleted inode leaves it, and a renamed
 * directory's descendants keep their positions.  Both show as a change
 * of a directory (the parent of a removed entry, the renamed directory
 * itself), and directories have rows, so a pass collects, from the
 * directories it walks that the catalog already had:
 *   - the paths of changed directories, whose entries' rows are each
 *     checked with one fstatat (a name that no longer leads to that inode
 *     makes the inode resolved again: gone, or found under its new name);
 *   - the old paths of directories renamed or gone, every row beneath
 *     which is resolved again.
 * The catalog has no query by path, so these are answered together by
 * one ordered walk of the catalog's rows after the index walk (another
 * only if that finds directories renamed or gone in turn): the cost is
 * one read of the rows per pass with directory changes, plus a stat per
 * entry of a changed directory and a lookup per row of a renamed tree,
 * never a scan of the namespace.  A first run into an empty catalog has
 * nothing to check.  Renames and deletes that happened while no indexer
 * ran are reconciled the same way: the rows still say where things were.
 *
 * The results of a window go through the coalescer (coalesce.h) and are
 * written in one catalog batch together with the new resume seq: after
 * the window's last entry at seq s, the stored seq is s - 1 (entries at
 * s may remain) or E when the walk is exhausted.  Until a pass's
 * directory checks are done the stored seq stays below the first
 * directory that asked for them, and the rows of renamed or removed
 * directories (whose old paths the checks need) are written only in the
 * pass's last batch: a kill at any point loses at most work that the
 * restart walks and checks again; every step is idempotent.  Inodes seen
 * twice in a window (walked, and named by a check) are resolved once.
 * Windows that grow past a bound (a renamed tree) are flushed early
 * without advancing the seq.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "coalesce.h"
#include "format.h"
#include "ioctl.h"
#include "walker.h"

#define LOOKUP_RETRIES 8
#define FLUSH_FACTOR 8		/* early flush at batch * this inodes */

struct work {
	uint64_t ino;
	uint64_t seq;
};

struct strvec {
	char **v;
	size_t nr;
	size_t max;
};

struct idx_walker {
	int mnt_fd;
	char mount[PATH_MAX];
	char fsid[17];
	struct idx_store *store;
	struct idx_walker_opts opts;
	struct idx_coalesce *co;
	struct scoutfs_ioctl_walk_inodes_entry *ents;
	struct work *work;
	size_t nr_work;
	size_t max_work;
	struct scoutfs_ioctl_ino_path_result *ip_res;
	uint64_t window_end;
	uint64_t cap_seq;	/* the stored seq stays <= this (checks due) */
	uint64_t rows_at_start;	/* catalog rows when the pass began */
	struct idx_coalesce *late;	/* renamed/removed dirs: last batch */
	struct strvec dirs;	/* paths whose entries to check */
	struct strvec prefixes;	/* old paths whose subtrees to resolve */
	struct strvec done_dirs;	/* sorted: checked this pass */
	struct strvec done_prefixes;	/* sorted: resolved this pass */
	struct strvec cur_dirs;	/* sorted: the round being scanned */
	struct strvec cur_prefixes;
	struct idx_coalesce_stats base;	/* both coalescers' counts at pass start */
	struct idx_pass_stats *st;
	struct idx_row old;	/* scratch: a row as the catalog has it */
	struct idx_row new;	/* scratch: a row as the filesystem has it */
	char err[IDX_ERROR_MAX];
};

#define IP_RES_BYTES (sizeof(struct scoutfs_ioctl_ino_path_result) + PATH_MAX)

static int set_err(struct idx_walker *w, int ret, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int set_err(struct idx_walker *w, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(w->err, sizeof(w->err), fmt, ap);
	va_end(ap);
	return ret;
}

const char *idx_walker_error(const struct idx_walker *w)
{
	return w->err;
}

const char *idx_walker_fsid(const struct idx_walker *w)
{
	return w->fsid;
}

static void strvec_clear(struct strvec *sv)
{
	size_t i;

	for (i = 0; i < sv->nr; i++)
		free(sv->v[i]);
	sv->nr = 0;
}

static void strvec_free(struct strvec *sv)
{
	strvec_clear(sv);
	free(sv->v);
	sv->v = NULL;
	sv->max = 0;
}

static int strvec_add(struct strvec *sv, const char *str)
{
	char **nv;
	size_t max;

	if (sv->nr == sv->max) {
		max = sv->max ? sv->max * 2 : 64;
		nv = realloc(sv->v, max * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		sv->v = nv;
		sv->max = max;
	}
	sv->v[sv->nr] = strdup(str);
	if (!sv->v[sv->nr])
		return -ENOMEM;
	sv->nr++;
	return 0;
}

static int cmp_str_ptr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sort and drop duplicates. */
static void strvec_sort(struct strvec *sv)
{
	size_t i, n = 0;

	if (!sv->nr)
		return;	/* v may be NULL, which qsort() must not get */
	qsort(sv->v, sv->nr, sizeof(*sv->v), cmp_str_ptr);
	for (i = 0; i < sv->nr; i++) {
		if (n && strcmp(sv->v[n - 1], sv->v[i]) == 0)
			free(sv->v[i]);
		else
			sv->v[n++] = sv->v[i];
	}
	sv->nr = n;
}

/* In a sorted strvec: str, or its first len bytes. */
static bool strvec_has(const struct strvec *sv, const char *str, size_t len)
{
	size_t lo = 0, hi = sv->nr;
	int c;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		c = strncmp(sv->v[mid], str, len);
		if (c == 0 && sv->v[mid][len] != '\0')
			c = 1;
		if (c == 0)
			return true;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* Move src's strings to the end of dst and sort dst. */
static int strvec_merge(struct strvec *dst, struct strvec *src)
{
	size_t i;

	for (i = 0; i < src->nr; i++)
		if (strvec_add(dst, src->v[i]))
			return -ENOMEM;
	strvec_clear(src);
	strvec_sort(dst);
	return 0;
}

/* Whether path or one of its ancestors is in the sorted prefixes. */
static bool under_prefix(const struct strvec *sv, const char *path,
			 bool is_self_too)
{
	const char *p;

	if (!sv->nr)
		return false;
	for (p = strchr(path, '/'); p; p = strchr(p + 1, '/'))
		if (strvec_has(sv, path, p - path))
			return true;
	return is_self_too && strvec_has(sv, path, strlen(path));
}

int idx_walker_open(const char *mount, struct idx_store *store,
		    const struct idx_walker_opts *opts,
		    struct idx_walker **out, char *err, size_t errlen)
{
	struct scoutfs_ioctl_statfs_more sfm;
	struct idx_walker *w;
	struct statfs sfs;
	struct stat st;
	int ret;

	w = calloc(1, sizeof(*w));
	if (!w) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	w->mnt_fd = -1;
	w->store = store;
	if (opts)
		w->opts = *opts;
	if (!w->opts.batch)
		w->opts.batch = IDX_WALK_BATCH_DEFAULT;
	if (w->opts.batch > SCOUTFS_IOC_WALK_INODES_MAX_ENTRIES)
		w->opts.batch = SCOUTFS_IOC_WALK_INODES_MAX_ENTRIES;
	snprintf(w->mount, sizeof(w->mount), "%s", mount);

	w->mnt_fd = open(mount, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (w->mnt_fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", mount, strerror(-ret));
		goto fail;
	}
	if (fstatfs(w->mnt_fd, &sfs) || sfs.f_type != SCOUTFS_SUPER_MAGIC ||
	    fstat(w->mnt_fd, &st) || st.st_ino != SCOUTFS_ROOT_INO) {
		ret = -ENOTTY;
		snprintf(err, errlen, "%s: not the root of a scoutfs mount",
			 mount);
		goto fail;
	}
	if (ioctl(w->mnt_fd, SCOUTFS_IOC_STATFS_MORE, &sfm) < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: STATFS_MORE: %s", mount,
			 strerror(-ret));
		goto fail;
	}
	snprintf(w->fsid, sizeof(w->fsid), "%016llx",
		 (unsigned long long)sfm.fsid);

	w->co = idx_coalesce_create();
	w->late = idx_coalesce_create();
	w->ents = calloc(w->opts.batch, sizeof(*w->ents));
	w->ip_res = malloc(IP_RES_BYTES);
	if (!w->co || !w->late || !w->ents || !w->ip_res) {
		ret = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	*out = w;
	return 0;
fail:
	idx_walker_close(w);
	return ret;
}

void idx_walker_close(struct idx_walker *w)
{
	if (!w)
		return;
	if (w->mnt_fd >= 0)
		close(w->mnt_fd);
	idx_coalesce_destroy(w->co);
	idx_coalesce_destroy(w->late);
	strvec_free(&w->dirs);
	strvec_free(&w->prefixes);
	strvec_free(&w->done_dirs);
	strvec_free(&w->done_prefixes);
	strvec_free(&w->cur_dirs);
	strvec_free(&w->cur_prefixes);
	free(w->ents);
	free(w->work);
	free(w->ip_res);
	free(w);
}

static int push_work(struct idx_walker *w, uint64_t ino, uint64_t seq)
{
	struct work *nw;
	size_t max;

	if (w->nr_work == w->max_work) {
		max = w->max_work ? w->max_work * 2 : 1024;
		nw = realloc(w->work, max * sizeof(*nw));
		if (!nw)
			return set_err(w, -ENOMEM, "out of memory");
		w->work = nw;
		w->max_work = max;
	}
	w->work[w->nr_work].ino = ino;
	w->work[w->nr_work].seq = seq;
	w->nr_work++;
	return 0;
}

/* The first link of ino: 0, -ENOENT (no links: gone), or an error. */
static int first_path(struct idx_walker *w, uint64_t ino, char *path)
{
	struct scoutfs_ioctl_ino_path args;

	memset(&args, 0, sizeof(args));
	args.ino = ino;
	args.result_ptr = (uintptr_t)w->ip_res;
	args.result_bytes = IP_RES_BYTES;
	if (ioctl(w->mnt_fd, SCOUTFS_IOC_INO_PATH, &args) < 0) {
		if (errno == ENOENT)
			return -ENOENT;
		return set_err(w, -errno, "INO_PATH of inode %llu: %s",
			       (unsigned long long)ino, strerror(errno));
	}
	if (w->ip_res->path_bytes == 0 || w->ip_res->path_bytes > PATH_MAX)
		return set_err(w, -EIO, "INO_PATH of inode %llu: bad length %u",
			       (unsigned long long)ino, w->ip_res->path_bytes);
	memcpy(path, w->ip_res->path, w->ip_res->path_bytes);
	path[w->ip_res->path_bytes - 1] = '\0';
	return 0;
}

/*
 * The inode as the filesystem has it now: 0 with row filled, 1 for an
 * inode that gets no row (symlink, device, fifo, socket), -ENOENT when
 * it has no links, else an error.  hint (may be NULL) is the path the
 * catalog's row has: while it still leads to the inode it is kept, which
 * saves the INO_PATH walk up the tree for a file changed in place.
 */
static int lookup(struct idx_walker *w, uint64_t ino, const char *hint,
		  struct idx_row *row)
{
	struct scoutfs_ioctl_stat_more stm;
	struct stat st;
	int tries;
	int fd;
	int ret;

	for (tries = 0; tries < LOOKUP_RETRIES; tries++) {
		if (tries == 0 && hint && hint[0]) {
			snprintf(row->path, sizeof(row->path), "%s", hint);
		} else {
			ret = first_path(w, ino, row->path);
			if (ret)
				return ret;
		}
		if (fstatat(w->mnt_fd, row->path, &st, AT_SYMLINK_NOFOLLOW)) {
			if (errno == ENOENT || errno == ENOTDIR)
				continue;	/* renamed or removed since */
			return set_err(w, -errno, "%s/%s: %s", w->mount,
				       row->path, strerror(errno));
		}
		if (st.st_ino != ino)
			continue;
		if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
			return 1;
		fd = openat(w->mnt_fd, row->path, O_RDONLY | O_NOFOLLOW |
			    O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
		if (fd < 0) {
			if (errno == ENOENT || errno == ENOTDIR ||
			    errno == ELOOP)
				continue;
			return set_err(w, -errno, "%s/%s: %s", w->mount,
				       row->path, strerror(errno));
		}
		if (fstat(fd, &st) || st.st_ino != ino ||
		    (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))) {
			close(fd);
			continue;
		}
		if (ioctl(fd, SCOUTFS_IOC_STAT_MORE, &stm) < 0) {
			ret = -errno;
			close(fd);
			return set_err(w, ret, "%s/%s: STAT_MORE: %s",
				       w->mount, row->path, strerror(-ret));
		}
		close(fd);
		row->ino = ino;
		row->kind = S_ISDIR(st.st_mode) ? IDX_KIND_DIR : IDX_KIND_FILE;
		row->state = idx_state_of(stm.online_blocks,
					  stm.offline_blocks);
		row->data_version = stm.data_version;
		row->size = st.st_size;
		row->mtime_sec = st.st_mtim.tv_sec;
		row->mtime_nsec = st.st_mtim.tv_nsec;
		row->mode = st.st_mode;
		row->uid = st.st_uid;
		row->gid = st.st_gid;
		row->meta_seq = stm.meta_seq;
		row->data_seq = stm.data_seq;
		return 0;
	}
	return set_err(w, -EAGAIN,
		       "inode %llu: its path kept changing under %d lookups",
		       (unsigned long long)ino, LOOKUP_RETRIES);
}

/* A directory's checks are due: hold the stored seq below it. */
static void hold_seq(struct idx_walker *w, uint64_t seq)
{
	if (seq && seq - 1 < w->cap_seq)
		w->cap_seq = seq - 1;
}

static int want_entries(struct idx_walker *w, const char *path, uint64_t seq)
{
	if (strvec_has(&w->done_dirs, path, strlen(path)) ||
	    under_prefix(&w->done_prefixes, path, true))
		return 0;
	hold_seq(w, seq);
	if (strvec_add(&w->dirs, path))
		return set_err(w, -ENOMEM, "out of memory");
	return 0;
}

static int want_subtree(struct idx_walker *w, const char *path, uint64_t seq)
{
	if (under_prefix(&w->done_prefixes, path, true))
		return 0;
	hold_seq(w, seq);
	if (strvec_add(&w->prefixes, path))
		return set_err(w, -ENOMEM, "out of memory");
	return 0;
}

/*
 * One round's catalog walk: rows beneath a renamed or removed directory
 * are resolved again; rows of entries of a changed directory are if
 * their name no longer leads to them.
 */
static int scan_row(void *arg, const struct idx_row *row)
{
	struct idx_walker *w = arg;
	const char *slash;
	struct stat st;

	if (under_prefix(&w->cur_prefixes, row->path, false))
		return push_work(w, row->ino, 0);
	slash = strrchr(row->path, '/');
	if (!strvec_has(&w->cur_dirs, row->path, slash ? slash - row->path : 0))
		return 0;
	if (fstatat(w->mnt_fd, row->path, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    st.st_ino == row->ino)
		return 0;
	return push_work(w, row->ino, 0);
}

static int resolve(struct idx_walker *w, const struct work *wk)
{
	struct idx_coalesce *co = w->co;
	struct idx_event ev;
	bool in_catalog;
	bool was_dir;
	int ret;

	if (idx_coalesce_contains(w->co, wk->ino) ||
	    idx_coalesce_contains(w->late, wk->ino)) {
		w->st->merged++;
		return 0;
	}
	/* the root has no link to name it and no row; its entries do */
	if (wk->ino == SCOUTFS_ROOT_INO)
		return w->rows_at_start ? want_entries(w, "", wk->seq) : 0;

	ret = idx_store_get(w->store, w->fsid, wk->ino, &w->old);
	if (ret && ret != -ENOENT)
		return set_err(w, ret, "catalog: %s",
			       idx_store_error(w->store));
	in_catalog = ret == 0;
	was_dir = in_catalog && w->old.kind == IDX_KIND_DIR;

	w->st->looked_up++;
	ret = lookup(w, wk->ino, in_catalog ? w->old.path : NULL, &w->new);
	if (ret < 0 && ret != -ENOENT)
		return ret;

	memset(&ev, 0, sizeof(ev));
	ev.ino = wk->ino;
	ev.in_catalog = in_catalog;
	if (ret == 0) {
		ev.type = IDX_EV_UPDATE;
		ev.seq = w->new.meta_seq;
		ev.row = w->new;
	} else {
		/* gone, or a symlink or special file now: no row */
		ev.type = IDX_EV_REMOVE;
		ev.seq = w->window_end > wk->seq ? w->window_end : wk->seq;
	}

	/* a directory renamed or gone: everything beneath its old path */
	if (was_dir && (ev.type == IDX_EV_REMOVE ||
			w->new.kind != IDX_KIND_DIR ||
			strcmp(w->old.path, w->new.path) != 0)) {
		ret = want_subtree(w, w->old.path, wk->seq);
		if (ret)
			return ret;
		co = w->late;
	} else if (was_dir) {
		ret = want_entries(w, w->new.path, wk->seq);
		if (ret)
			return ret;
	}
	ret = idx_coalesce_add(co, &ev);
	return ret ? set_err(w, ret, "out of memory") : 0;
}

/* Tell opts.change about one operation: the row before and after. */
static int report_change(struct idx_walker *w, const struct idx_op *op)
{
	bool had;
	int ret;

	ret = idx_store_get(w->store, w->fsid, op->ino, &w->old);
	if (ret && ret != -ENOENT)
		return ret;
	had = ret == 0;
	if (had || op->type == IDX_OP_UPSERT)
		w->opts.change(w->opts.change_arg, had ? &w->old : NULL,
			       op->type == IDX_OP_UPSERT ? op->row : NULL);
	return 0;
}

static int apply_op(void *arg, const struct idx_op *op)
{
	struct idx_walker *w = arg;
	int ret;

	if (w->opts.change) {
		ret = report_change(w, op);
		if (ret)
			return ret;
	}
	if (op->type == IDX_OP_UPSERT)
		return idx_store_upsert(w->store, w->fsid, op->row);
	return idx_store_delete(w->store, w->fsid, op->ino);
}

/*
 * Write the window's results, with has_seq the new resume seq, and with
 * is_last the deferred rows of renamed and removed directories.
 */
static int commit(struct idx_walker *w, bool has_seq, uint64_t seq,
		  bool is_last)
{
	struct idx_coalesce_stats cs, ls;
	int ret;

	if (has_seq && !is_last && seq > w->cap_seq)
		seq = w->cap_seq;
	ret = idx_store_begin(w->store);
	if (ret)
		goto fail;
	ret = idx_coalesce_drain(w->co, apply_op, w);
	if (!ret && is_last)
		ret = idx_coalesce_drain(w->late, apply_op, w);
	if (!ret && has_seq)
		ret = idx_store_set_seqs(w->store, w->fsid, seq, seq);
	if (ret) {
		idx_store_end(w->store, false);
		goto fail;
	}
	ret = idx_store_end(w->store, true);
	if (ret)
		goto fail;
	idx_coalesce_stats(w->co, &cs);
	idx_coalesce_stats(w->late, &ls);
	w->st->upserts = cs.upserts + ls.upserts - w->base.upserts;
	w->st->deletes = cs.deletes + ls.deletes - w->base.deletes;
	w->st->cancelled = cs.cancelled + ls.cancelled - w->base.cancelled;
	w->st->batches++;
	return 0;
fail:
	idx_coalesce_reset(w->co);
	idx_coalesce_reset(w->late);
	return set_err(w, ret, "catalog: %s", idx_store_error(w->store));
}

static double now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Resolve the work list, committing (without a new seq) when it grows. */
static int resolve_work(struct idx_walker *w)
{
	size_t i;
	int ret;

	for (i = 0; i < w->nr_work; i++) {
		ret = resolve(w, &w->work[i]);
		if (ret)
			return ret;
		if (idx_coalesce_count(w->co) >=
		    (size_t)w->opts.batch * FLUSH_FACTOR) {
			ret = commit(w, false, 0, false);
			if (ret)
				return ret;
		}
	}
	w->nr_work = 0;
	return 0;
}

/*
 * The directory checks the index walk asked for, in rounds: one catalog
 * walk answers every request of a round; resolving what it found may ask
 * for more (a removed directory inside a changed one).
 */
static int check_dirs(struct idx_walker *w)
{
	int ret;

	while (w->dirs.nr || w->prefixes.nr) {
		strvec_clear(&w->cur_dirs);
		strvec_clear(&w->cur_prefixes);
		if (strvec_merge(&w->cur_dirs, &w->dirs) ||
		    strvec_merge(&w->cur_prefixes, &w->prefixes))
			return set_err(w, -ENOMEM, "out of memory");
		w->st->dirs_checked += w->cur_dirs.nr + w->cur_prefixes.nr;
		w->nr_work = 0;
		ret = idx_store_foreach(w->store, w->fsid, scan_row, w);
		if (ret < 0)
			return w->err[0] ? ret :
			       set_err(w, ret, "catalog: %s",
				       idx_store_error(w->store));
		if (strvec_merge(&w->done_dirs, &w->cur_dirs) ||
		    strvec_merge(&w->done_prefixes, &w->cur_prefixes))
			return set_err(w, -ENOMEM, "out of memory");
		ret = resolve_work(w);
		if (ret)
			return ret;
	}
	return 0;
}

int idx_walker_pass(struct idx_walker *w, struct idx_pass_stats *st)
{
	struct scoutfs_ioctl_statfs_more sfm;
	struct scoutfs_ioctl_walk_inodes walk;
	struct idx_coalesce_stats ls;
	uint64_t stored, data_stored, cursor;
	double start = now_sec();
	bool is_exhausted;
	size_t i;
	int nr;
	int ret;

	memset(st, 0, sizeof(*st));
	w->st = st;
	w->err[0] = '\0';
	idx_coalesce_reset(w->co);
	idx_coalesce_reset(w->late);
	idx_coalesce_stats(w->co, &w->base);
	idx_coalesce_stats(w->late, &ls);
	w->base.upserts += ls.upserts;
	w->base.deletes += ls.deletes;
	w->base.cancelled += ls.cancelled;
	w->cap_seq = UINT64_MAX;
	strvec_clear(&w->dirs);
	strvec_clear(&w->prefixes);
	strvec_clear(&w->done_dirs);
	strvec_clear(&w->done_prefixes);

	ret = idx_store_fs(w->store, w->fsid, w->mount, &stored, &data_stored);
	if (!ret)
		ret = idx_store_count(w->store, w->fsid, &w->rows_at_start);
	if (ret)
		return set_err(w, ret, "catalog: %s",
			       idx_store_error(w->store));
	if (ioctl(w->mnt_fd, SCOUTFS_IOC_STATFS_MORE, &sfm) < 0)
		return set_err(w, -errno, "%s: STATFS_MORE: %s", w->mount,
			       strerror(errno));
	w->window_end = sfm.committed_seq;
	st->first_seq = stored;
	st->last_seq = sfm.committed_seq;
	if (stored >= sfm.committed_seq)
		goto out;

	memset(&walk, 0, sizeof(walk));
	walk.index = SCOUTFS_IOC_WALK_INODES_META_SEQ;
	walk.first.major = stored ? stored + 1 : 0;
	walk.last.major = w->window_end;
	walk.last.ino = UINT64_MAX;
	walk.entries_ptr = (uintptr_t)w->ents;

	do {
		walk.nr_entries = w->opts.batch;
		nr = ioctl(w->mnt_fd, SCOUTFS_IOC_WALK_INODES, &walk);
		if (nr < 0)
			return set_err(w, -errno, "%s: WALK_INODES: %s",
				       w->mount, strerror(errno));
		st->walked += nr;
		w->nr_work = 0;
		for (i = 0; i < (size_t)nr; i++) {
			ret = push_work(w, w->ents[i].ino, w->ents[i].major);
			if (ret)
				return ret;
		}
		ret = resolve_work(w);
		if (ret)
			return ret;
		is_exhausted = (unsigned int)nr < w->opts.batch;
		if (is_exhausted) {
			/* the checks and the last batch complete the pass */
			break;
		}
		cursor = w->ents[nr - 1].major - 1;
		if (cursor < stored)
			cursor = stored;
		ret = commit(w, true, cursor, false);
		if (ret)
			return ret;
		if (w->opts.progress)
			w->opts.progress(w->opts.progress_arg, st,
					 cursor < w->cap_seq ? cursor :
					 w->cap_seq);
		walk.first = w->ents[nr - 1];
		if (++walk.first.ino == 0)
			walk.first.major++;
	} while (!is_exhausted);

	ret = check_dirs(w);
	if (ret)
		return ret;
	ret = commit(w, true, w->window_end, true);
	if (ret)
		return ret;
	if (w->opts.progress)
		w->opts.progress(w->opts.progress_arg, st, w->window_end);
out:
	st->seconds = now_sec() - start;
	return 0;
}
