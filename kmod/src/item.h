/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _SCOUTFS_ITEM_H_
#define _SCOUTFS_ITEM_H_

#include "format.h"
#include "libscoutfs/btree.h"

int scoutfs_item_lookup(struct super_block *sb, const struct scoutfs_key *key,
			void *val, int val_size);
int scoutfs_item_next(struct super_block *sb, const struct scoutfs_key *key,
		      const struct scoutfs_key *last, struct scoutfs_key *found,
		      void *val, int val_size);
int scoutfs_item_prev(struct super_block *sb, const struct scoutfs_key *key,
		      const struct scoutfs_key *first,
		      struct scoutfs_key *found, void *val, int val_size);
int scoutfs_item_create(struct super_block *sb, const struct scoutfs_key *key,
			const void *val, int val_len);
int scoutfs_item_update(struct super_block *sb, const struct scoutfs_key *key,
			const void *val, int val_len);
int scoutfs_item_force(struct super_block *sb, const struct scoutfs_key *key,
		       const void *val, int val_len);
int scoutfs_item_delete(struct super_block *sb, const struct scoutfs_key *key);
int scoutfs_item_iterate(struct super_block *sb,
			 const struct scoutfs_key *start,
			 const struct scoutfs_key *end,
			 scoutfs_btree_iter_cb cb, void *arg);


int scoutfs_item_write_log(struct super_block *sb);
void scoutfs_item_log_size(struct super_block *sb, u64 *nr_items, u64 *bytes);
u64 scoutfs_item_log_blocks_needed(struct super_block *sb, u64 nr_items,
				   u64 bytes);
int scoutfs_item_setup(struct super_block *sb);
void scoutfs_item_destroy(struct super_block *sb);

#endif
