/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _SCOUTFS_TRANS_H_
#define _SCOUTFS_TRANS_H_

int scoutfs_trans_setup(struct super_block *sb);
void scoutfs_trans_destroy(struct super_block *sb);
int scoutfs_trans_hold_flags(struct super_block *sb, bool use_reserve);
void scoutfs_trans_release(struct super_block *sb);
u64 scoutfs_trans_seq(struct super_block *sb);
int scoutfs_trans_commit(struct super_block *sb);
void scoutfs_trans_read_only(struct super_block *sb, const char *what, int err);
int scoutfs_fsync(struct file *file, loff_t start, loff_t end, int datasync);

#endif
