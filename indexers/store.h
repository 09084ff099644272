/* SPDX-License-Identifier: GPL-2.0 */
/*
 * store.h: the indexer's view of the catalog, the one adapter between the
 * walker and hsm-agent/lib/catalog.h.  The walker calls only these, so a
 * change in the catalog's inode-row interface changes store_catalog.c
 * and nothing else.
 *
 * Rows are per filesystem (fsid, the STATFS_MORE fsid as 16 hex digits)
 * and keyed by inode number.  Every call returns 0 or a negative errno
 * with the reason in idx_store_error().  Reads see committed rows and the
 * open batch's own changes.
 */
#ifndef SCOUTFS_INDEXERS_STORE_H
#define SCOUTFS_INDEXERS_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "index_row.h"

struct idx_store;
struct hsm_catalog;

/* Open (with create: create a missing catalog) the catalog at path. */
int idx_store_open(const char *path, bool create, struct idx_store **out,
		   char *err, size_t errlen);
/* A store over a catalog handle the caller opened and keeps (the agent). */
int idx_store_wrap(struct hsm_catalog *cat, struct idx_store **out);
void idx_store_close(struct idx_store *st);
const char *idx_store_error(const struct idx_store *st);

/*
 * Register the filesystem (or update its mount path) and read how far
 * the indexer has walked it: 0/0 for a filesystem never indexed.
 */
int idx_store_fs(struct idx_store *st, const char *fsid, const char *mount,
		 uint64_t *meta_seq, uint64_t *data_seq);

/* One transaction for many calls; end(false) rolls it back. */
int idx_store_begin(struct idx_store *st);
int idx_store_end(struct idx_store *st, bool is_commit);

/* The resume point, stored in the open batch with the rows it covers. */
int idx_store_set_seqs(struct idx_store *st, const char *fsid,
		       uint64_t meta_seq, uint64_t data_seq);
int idx_store_upsert(struct idx_store *st, const char *fsid,
		     const struct idx_row *row);
/* Deleting a row that is not there is not an error. */
int idx_store_delete(struct idx_store *st, const char *fsid, uint64_t ino);
/* -ENOENT without a row. */
int idx_store_get(struct idx_store *st, const char *fsid, uint64_t ino,
		  struct idx_row *out);
int idx_store_count(struct idx_store *st, const char *fsid, uint64_t *count);

/* Return non-zero to stop; that value is returned. */
typedef int (*idx_store_fn)(void *arg, const struct idx_row *row);
/* Every row of the filesystem. */
int idx_store_foreach(struct idx_store *st, const char *fsid,
		      idx_store_fn fn, void *arg);
/*
 * The rows beneath directory path dir ("" is the root): with
 * is_direct_only its entries, else its whole subtree.
 */
int idx_store_foreach_under(struct idx_store *st, const char *fsid,
			    const char *dir, bool is_direct_only,
			    idx_store_fn fn, void *arg);

#endif
