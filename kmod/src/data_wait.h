/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _SCOUTFS_DATA_WAIT_H_
#define _SCOUTFS_DATA_WAIT_H_

#include <linux/rbtree.h>
#include <linux/wait.h>
#include "ioctl.h"

struct scoutfs_data_waiter {
	struct rb_node node;	/* in sbi->dw_tree, by (ino, iblock, address) */
	wait_queue_head_t wq;	/* this waiter's own: wakes only it */
	u64 ino;
	u64 iblock;
	u8 op;			/* SCOUTFS_IOC_DWO_* */
	bool woken;
	int err;
};

void scoutfs_data_wait_setup(struct super_block *sb);
int scoutfs_data_wait(struct super_block *sb, u64 ino, u64 iblock, u8 op,
		      int (*still_offline)(void *arg), void *arg);
void scoutfs_data_wait_wake(struct super_block *sb, u64 ino, u64 start,
			    u64 end);
int scoutfs_data_wait_set_err(struct super_block *sb, u64 ino, u64 start,
			      u64 end, u8 op_mask, int err);
int scoutfs_data_wait_list(struct super_block *sb, u64 after_ino,
			   u64 after_iblock,
			   struct scoutfs_ioctl_data_waiting_entry *ents,
			   int nr);

#endif
