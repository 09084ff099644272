/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _SCOUTFS_OPTIONS_H_
#define _SCOUTFS_OPTIONS_H_

#include <linux/types.h>
#include <linux/seqlock.h>

struct super_block;
struct seq_file;
struct dentry;
struct attribute_group;

/*
 * Mount options (options.c).  metadev_path and quorum_slot_nr are fixed
 * for the life of the mount; the others can be changed through sysfs
 * and are read with scoutfs_options_read().
 */
struct scoutfs_mount_options {
	char *metadev_path;
	int quorum_slot_nr;		/* -1: not a quorum member */
	u64 data_prealloc_blocks;
	bool data_prealloc_contig_only;
	unsigned int orphan_scan_delay_ms;
};

int scoutfs_options_parse(struct super_block *sb, char *options);
void scoutfs_options_read(struct super_block *sb,
			  struct scoutfs_mount_options *opts);
int scoutfs_options_show(struct seq_file *seq, struct dentry *root);

extern const struct attribute_group scoutfs_options_group;

#endif
