// SPDX-License-Identifier: GPL-2.0
/*
 * store_catalog.c: store.h over the catalog's inode rows
 * (hsm_catalog_inode_*, hsm_catalog_fs_*, batches).  The only file of the
 * indexer that calls catalog.h; it translates rows field by field (the
 * row kind is the type bits of mode, the state enums map one to one) and
 * turns "no row to delete" into success, since the walker deletes what
 * it last saw and may repeat a delete after a restart.
 *
 * idx_store_foreach_under() filters the ordered walk of every row of the
 * filesystem: the catalog has no query by path.  The walker calls it
 * once per pass at most (walker.c), never per directory.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "catalog.h"
#include "store.h"

struct idx_store {
	struct hsm_catalog *cat;
	bool is_owned;
	struct hsm_catalog_inode ci;	/* scratch */
	struct idx_row row;		/* scratch */
	char err[HSM_ERROR_MAX];
};

int idx_store_open(const char *path, bool create, struct idx_store **out,
		   char *err, size_t errlen)
{
	struct idx_store *st;
	int ret;

	st = calloc(1, sizeof(*st));
	if (!st) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	ret = hsm_catalog_open(path, create ? HSM_CATALOG_CREATE : 0,
			       &st->cat, err, errlen);
	if (ret) {
		free(st);
		return ret;
	}
	st->is_owned = true;
	*out = st;
	return 0;
}

int idx_store_wrap(struct hsm_catalog *cat, struct idx_store **out)
{
	struct idx_store *st = calloc(1, sizeof(*st));

	if (!st)
		return -ENOMEM;
	st->cat = cat;
	*out = st;
	return 0;
}

void idx_store_close(struct idx_store *st)
{
	if (!st)
		return;
	if (st->is_owned)
		hsm_catalog_close(st->cat);
	free(st);
}

const char *idx_store_error(const struct idx_store *st)
{
	return st->err[0] ? st->err : hsm_catalog_error(st->cat);
}

static int cat_ret(struct idx_store *st, int ret)
{
	st->err[0] = '\0';
	return ret;
}

int idx_store_fs(struct idx_store *st, const char *fsid, const char *mount,
		 uint64_t *meta_seq, uint64_t *data_seq)
{
	struct hsm_catalog_fs fs;
	int ret;

	ret = hsm_catalog_fs_upsert(st->cat, fsid, mount);
	if (!ret)
		ret = hsm_catalog_fs_get(st->cat, fsid, &fs);
	if (!ret) {
		*meta_seq = fs.meta_seq;
		*data_seq = fs.data_seq;
	}
	return cat_ret(st, ret);
}

int idx_store_begin(struct idx_store *st)
{
	return cat_ret(st, hsm_catalog_batch_begin(st->cat));
}

int idx_store_end(struct idx_store *st, bool is_commit)
{
	int ret = hsm_catalog_batch_end(st->cat, is_commit);

	/* a rollback asked for is not a failure */
	if (!is_commit && ret == -ECANCELED)
		ret = 0;
	return cat_ret(st, ret);
}

int idx_store_set_seqs(struct idx_store *st, const char *fsid,
		       uint64_t meta_seq, uint64_t data_seq)
{
	return cat_ret(st, hsm_catalog_fs_set_seqs(st->cat, fsid, meta_seq,
						   data_seq));
}

static enum hsm_inode_state to_cat_state(enum idx_state s)
{
	return s == IDX_STATE_OFFLINE ? HSM_INODE_OFFLINE :
	       s == IDX_STATE_PARTIAL ? HSM_INODE_PARTIAL : HSM_INODE_ONLINE;
}

static enum idx_state from_cat_state(enum hsm_inode_state s)
{
	return s == HSM_INODE_OFFLINE ? IDX_STATE_OFFLINE :
	       s == HSM_INODE_PARTIAL ? IDX_STATE_PARTIAL : IDX_STATE_ONLINE;
}

static void to_cat(struct hsm_catalog_inode *ci, const struct idx_row *row)
{
	ci->ino = row->ino;
	ci->data_version = row->data_version;
	ci->size = row->size;
	ci->mtime_sec = row->mtime_sec;
	ci->mtime_nsec = row->mtime_nsec;
	ci->mode = row->mode;
	ci->uid = row->uid;
	ci->gid = row->gid;
	ci->meta_seq = row->meta_seq;
	ci->data_seq = row->data_seq;
	ci->state = to_cat_state(row->state);
	snprintf(ci->path, sizeof(ci->path), "%s", row->path);
}

static void from_cat(struct idx_row *row, const struct hsm_catalog_inode *ci)
{
	row->ino = ci->ino;
	row->kind = S_ISDIR(ci->mode) ? IDX_KIND_DIR : IDX_KIND_FILE;
	row->state = from_cat_state(ci->state);
	row->data_version = ci->data_version;
	row->size = ci->size;
	row->mtime_sec = ci->mtime_sec;
	row->mtime_nsec = ci->mtime_nsec;
	row->mode = ci->mode;
	row->uid = ci->uid;
	row->gid = ci->gid;
	row->meta_seq = ci->meta_seq;
	row->data_seq = ci->data_seq;
	snprintf(row->path, sizeof(row->path), "%s", ci->path);
}

int idx_store_upsert(struct idx_store *st, const char *fsid,
		     const struct idx_row *row)
{
	to_cat(&st->ci, row);
	return cat_ret(st, hsm_catalog_inode_upsert(st->cat, fsid, &st->ci));
}

int idx_store_delete(struct idx_store *st, const char *fsid, uint64_t ino)
{
	int ret = hsm_catalog_inode_delete(st->cat, fsid, ino);

	return cat_ret(st, ret == -ENOENT ? 0 : ret);
}

int idx_store_get(struct idx_store *st, const char *fsid, uint64_t ino,
		  struct idx_row *out)
{
	int ret = hsm_catalog_inode_get(st->cat, fsid, ino, &st->ci);

	if (!ret)
		from_cat(out, &st->ci);
	return cat_ret(st, ret);
}

int idx_store_count(struct idx_store *st, const char *fsid, uint64_t *count)
{
	return cat_ret(st, hsm_catalog_inode_count(st->cat, fsid, count));
}

struct foreach_ctx {
	struct idx_store *st;
	idx_store_fn fn;
	void *arg;
	const char *dir;
	size_t dir_len;
	bool is_filtered;
	bool is_direct_only;
};

static bool is_under(const struct foreach_ctx *c, const char *path)
{
	const char *rest = path;

	if (c->dir_len) {
		if (strncmp(path, c->dir, c->dir_len) != 0 ||
		    path[c->dir_len] != '/')
			return false;
		rest = path + c->dir_len + 1;
	}
	if (!*rest)
		return false;
	return !c->is_direct_only || !strchr(rest, '/');
}

static int foreach_cb(void *arg, const struct hsm_catalog_inode *ci)
{
	struct foreach_ctx *c = arg;

	if (c->is_filtered && !is_under(c, ci->path))
		return 0;
	from_cat(&c->st->row, ci);
	return c->fn(c->arg, &c->st->row);
}

int idx_store_foreach(struct idx_store *st, const char *fsid,
		      idx_store_fn fn, void *arg)
{
	struct foreach_ctx c = { .st = st, .fn = fn, .arg = arg };

	return cat_ret(st, hsm_catalog_inode_foreach(st->cat, fsid,
						     foreach_cb, &c));
}

int idx_store_foreach_under(struct idx_store *st, const char *fsid,
			    const char *dir, bool is_direct_only,
			    idx_store_fn fn, void *arg)
{
	struct foreach_ctx c = {
		.st = st, .fn = fn, .arg = arg, .dir = dir,
		.dir_len = strlen(dir), .is_filtered = true,
		.is_direct_only = is_direct_only,
	};

	return cat_ret(st, hsm_catalog_inode_foreach(st->cat, fsid,
						     foreach_cb, &c));
}
