/* SPDX-License-Identifier: GPL-2.0 */
/*
 * index_row.h: what the indexer knows about one inode, the form it hands
 * to the catalog (store.h maps it onto the catalog's inode rows).
 *
 * Rows exist for regular files (what the HSM archives) and directories
 * (the indexer needs their paths to notice renames and removals beneath
 * them); symlinks and special files carry no data to archive and get no
 * row.  path is one link of the inode, relative to the mount root: the
 * one the row already had while it still leads to the inode, else the
 * first INO_PATH lists (lowest parent inode, then directory position), so
 * a file with several hard links has one row under one of its names.
 */
#ifndef SCOUTFS_INDEXERS_INDEX_ROW_H
#define SCOUTFS_INDEXERS_INDEX_ROW_H

#include <limits.h>
#include <stdint.h>

enum idx_kind {
	IDX_KIND_FILE = 0,
	IDX_KIND_DIR,
};

enum idx_state {
	IDX_STATE_ONLINE = 0,	/* no offline blocks */
	IDX_STATE_OFFLINE,	/* released: only offline blocks */
	IDX_STATE_PARTIAL,	/* both online and offline blocks */
};

struct idx_row {
	uint64_t ino;
	enum idx_kind kind;
	enum idx_state state;
	uint64_t data_version;
	uint64_t size;
	int64_t mtime_sec;
	uint32_t mtime_nsec;
	uint32_t mode;		/* st_mode: type and permissions */
	uint32_t uid;
	uint32_t gid;
	uint64_t meta_seq;
	uint64_t data_seq;
	char path[PATH_MAX];
};

/* The state STAT_MORE's block counts describe. */
static inline enum idx_state idx_state_of(uint64_t online_blocks,
					  uint64_t offline_blocks)
{
	if (!offline_blocks)
		return IDX_STATE_ONLINE;
	return online_blocks ? IDX_STATE_PARTIAL : IDX_STATE_OFFLINE;
}

static inline const char *idx_state_name(enum idx_state s)
{
	return s == IDX_STATE_ONLINE ? "online" :
	       s == IDX_STATE_OFFLINE ? "offline" : "partial";
}

#endif
