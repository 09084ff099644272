/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _SCOUTFS_TRANS_H_
#define _SCOUTFS_TRANS_H_

struct super_block;
struct scoutfs_sb_info;

int scoutfs_trans_setup(struct super_block *sb);
void scoutfs_trans_destroy(struct super_block *sb);
/*
 * A task's hold, on the stack of the operation (in its lock set);
 * current->journal_info points at it while the task holds (trans.c).
 */
struct scoutfs_trans_task {
	unsigned int magic;
	unsigned int nofs;		/* memalloc_nofs_save() of the hold */
	struct scoutfs_sb_info *sbi;
	unsigned long changes;		/* items changed in this hold */
};

int scoutfs_trans_hold_flags(struct super_block *sb, bool use_reserve,
			     struct scoutfs_trans_task *tt);
void scoutfs_trans_release(struct super_block *sb,
			   struct scoutfs_trans_task *tt);
bool scoutfs_trans_held(struct super_block *sb);
void scoutfs_trans_note_change(struct super_block *sb);
void scoutfs_trans_failed_part_way(struct super_block *sb, const char *what,
				   u64 ino, int err);
u64 scoutfs_trans_seq(struct super_block *sb);
int scoutfs_trans_commit(struct super_block *sb);
void scoutfs_trans_read_only(struct super_block *sb, const char *what, int err);
int scoutfs_fsync(struct file *file, loff_t start, loff_t end, int datasync);

#endif
