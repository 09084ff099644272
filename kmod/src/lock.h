/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _SCOUTFS_LOCK_H_
#define _SCOUTFS_LOCK_H_

#include "format.h"
#include "trans.h"

/*
 * Lock modes, as the cluster will grant them between mounts: READ shares
 * with READ; WRITE excludes every other mount; WRITE_ONLY shares with
 * other WRITE_ONLY holders (index items that every mount adds and
 * removes without reading them).
 */
enum scoutfs_lock_mode {
	SCOUTFS_LOCK_READ = 1,
	SCOUTFS_LOCK_WRITE,
	SCOUTFS_LOCK_WRITE_ONLY,
	SCOUTFS_LOCK_NR_MODES,
};

/* Inodes are locked in groups of this many consecutive numbers. */
#define SCOUTFS_LOCK_INODE_GROUP_SHIFT	10

struct scoutfs_lock;

int scoutfs_lock_ino(struct super_block *sb, enum scoutfs_lock_mode mode,
		     u64 ino, struct scoutfs_lock **lock_ret);
int scoutfs_lock_zone(struct super_block *sb, enum scoutfs_lock_mode mode,
		      u8 zone, struct scoutfs_lock **lock_ret);
void scoutfs_unlock(struct super_block *sb, struct scoutfs_lock *lock,
		    enum scoutfs_lock_mode mode);
bool scoutfs_lock_is_held(struct super_block *sb,
			  const struct scoutfs_key *key, bool is_change);

/*
 * What one change needs: write locks on up to four inodes, write-only
 * locks on the zones every inode change touches (the seq indexes, the
 * orphans, the .srch. index), then a transaction hold.
 */
#define SCOUTFS_LOCK_SET_INODES		4
#define SCOUTFS_LOCK_SET_MAX		(SCOUTFS_LOCK_SET_INODES + 4)

struct scoutfs_lock_set {
	int nr;
	struct scoutfs_lock *locks[SCOUTFS_LOCK_SET_MAX];
	enum scoutfs_lock_mode modes[SCOUTFS_LOCK_SET_MAX];
	struct scoutfs_trans_task task;	/* the hold (trans.h) */
};

/* flags for scoutfs_lock_hold() */
#define SCOUTFS_HOLD_RESERVED	(1U << 0)	/* frees space: may use the reserve */

int scoutfs_lock_hold(struct super_block *sb, struct scoutfs_lock_set *set,
		      unsigned int flags, u64 ino0, u64 ino1, u64 ino2,
		      u64 ino3);
void scoutfs_lock_release(struct super_block *sb,
			  struct scoutfs_lock_set *set);
void scoutfs_lock_release_ret(struct super_block *sb,
			      struct scoutfs_lock_set *set, int ret,
			      const char *what, u64 ino);

int scoutfs_lock_setup(struct super_block *sb);
void scoutfs_lock_destroy(struct super_block *sb);

#endif
